/**
 * `run()`: the one way provider code executes a command on a host.
 *
 * - Transport: SSH through a per-process pool (below), or the local /bin/sh when `connection.transport` is `local`.
 * - Escalation: unless the login user is root, `become` wraps the command once, already quoted:
 *   doas → `doas sh -c '<command>'`, sudo → `sudo -n sh -c '<command>'`, none → the command as is. A refusal by
 *   doas or sudo throws a `RemoteCommandError` whose summary names the method and the rule to add.
 * - Exit codes: anything not 0 and not in `allowExitCodes` throws `RemoteCommandError` (message: STYLE.md §3.8).
 *   Dial, authentication and host-key failures throw `ConnectionError` (`connecting to user@host:port: <cause>`).
 * - Pool: one SSH connection per (host, port, user, hostKey, proxy, credentials) per provider process, kept on
 *   `globalThis[Symbol.for("enjailed.sshPool")]` so the separately serialized providers of every resource type share
 *   it. At most 8 channels run at once per connection (sshd's MaxSessions defaults to 10); the rest queue. A
 *   connection idle for 2 seconds is closed so the provider process can exit.
 * - Drops: if the connection dies while a command runs, an `idempotent` command (a read) is retried once on a fresh
 *   connection; any other command fails with a `ConnectionError` saying its outcome is unknown (re-read, then
 *   decide). A command whose channel never opened did not run and is retried either way.
 * - ssh2 and node builtins are reached with `require()` inside functions, never captured by the closure serializer.
 */
import type { Client, ClientChannel, ConnectConfig } from "ssh2";
import type { Duplex } from "stream";
import { describeTarget, fingerprintOf, hostKeyMatches, parseHostKey } from "./connection";
import type { ConnectionInputs } from "./connection";
import { credentialSources } from "./config";
import type { CredentialSources } from "./config";
import { commandDetails, commandFailure } from "./errors";
import { localIsRoot, runLocalCommand } from "./local";
import type { RawOutcome } from "./local";
import { quote } from "./sh";

/** Options of one {@link run}. */
export interface RunOptions {
  /** Run as root through `connection.become`. @default true */
  become?: boolean;
  /** Exit codes besides 0 that are not failures (the caller inspects `exitCode`). @default [] */
  allowExitCodes?: number[];
  /** Text fed to the command's standard input; the place for secrets, which never go on the command line. */
  stdin?: string;
  /** Seconds before the command is abandoned. @default - connection.commandTimeoutSeconds, else no limit */
  timeoutSeconds?: number;
  /** The command only reads, so it may be retried once after a dropped connection. @default false */
  idempotent?: boolean;
}

/** A finished command. `command` is as the caller wrote it, before escalation wrapping. */
export interface RunResult {
  command: string;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** `user@host:port`, or `local`. */
  target: string;
}

/**
 * Pulumi's closure serializer turns classes into ES5-style constructor functions that call `Error` as a plain
 * function, which builds a separate object and leaves `this` with no message (the engine then printed `{}`). So the
 * error classes below build a real `Error`, give it their prototype and return it: `message`, `instanceof` and
 * `name` are right in the native class and in the serialized copy alike.
 */
function realError<T extends Error>(prototype: T, name: string, message: string, options: ErrorOptions | undefined, fields: object): T {
  // In the serialized copy the class's prototype does not chain to Error.prototype either: mend that once.
  if (!Object.prototype.isPrototypeOf.call(Error.prototype, prototype)) Object.setPrototypeOf(prototype, Error.prototype);
  const e = new Error(message, options);
  Object.setPrototypeOf(e, prototype);
  Object.defineProperty(e, "name", { value: name, enumerable: false, writable: true, configurable: true });
  return Object.assign(e, fields) as T;
}

/** A command that exited with a code the caller did not allow, timed out, or was refused by doas/sudo. */
export class RemoteCommandError extends Error {
  declare readonly result: RunResult;
  /** The one-line cause, for example `command failed with exit code 1 on root@192.0.2.10:22`. */
  declare readonly summary: string;
  /** `new RemoteCommandError(result)`, or STYLE.md's `new RemoteCommandError(doing, thing, result)`. */
  constructor(result: RunResult, summary?: string, options?: ErrorOptions);
  constructor(doing: string, thing: string, result: RunResult, options?: ErrorOptions);
  constructor(a: RunResult | string, b?: string, c?: RunResult | ErrorOptions, d?: ErrorOptions) {
    const result = typeof a === "string" ? (c as RunResult) : a;
    const summary = typeof a === "string" ? commandFailure(result) : (b ?? commandFailure(result));
    const head = typeof a === "string" ? `${a} ${b ?? ""}: ${summary}` : summary;
    const message = [head, ...commandDetails(result)].join("\n");
    const options = typeof a === "string" ? d : (c as ErrorOptions | undefined);
    super(message, options);
    return realError(RemoteCommandError.prototype, "RemoteCommandError", message, options, { result, summary });
  }
}

/** The host could not be reached, refused us, presented the wrong key, or dropped a write midway. */
export class ConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    return realError(ConnectionError.prototype, "ConnectionError", message, options, {});
  }
}

/** Run `command` on the host. See the header for transport, escalation, errors and retries. */
export async function run(conn: ConnectionInputs, command: string, options: RunOptions = {}): Promise<RunResult> {
  const target = describeTarget(conn);
  const local = conn.transport === "local";
  const wantRoot = options.become ?? true;
  const method = wantRoot && conn.become !== "none" && !(local ? localIsRoot() : conn.user === "root") ? conn.become : undefined;
  const line = method === "doas" ? `doas sh -c ${quote(command)}` : method === "sudo" ? `sudo -n sh -c ${quote(command)}` : command;
  const seconds = options.timeoutSeconds ?? conn.commandTimeoutSeconds;
  const timeoutMs = seconds === undefined ? undefined : seconds * 1000;
  const raw = local
    ? await runLocalCommand(line, options.stdin, timeoutMs)
    : await runSsh(conn, line, command, options.stdin, timeoutMs, options.idempotent === true);
  const result: RunResult = { command, exitCode: raw.exitCode, stdout: raw.stdout, stderr: raw.stderr, target };
  if (raw.timedOut === true) {
    throw new RemoteCommandError(result, `command timed out after ${seconds} seconds on ${target}`);
  }
  if (method !== undefined) {
    const refusal = execEscalationRefusal(method, conn.user, result);
    if (refusal !== undefined) throw new RemoteCommandError(result, refusal);
  }
  if (result.exitCode !== 0 && !(options.allowExitCodes ?? []).includes(result.exitCode)) {
    throw new RemoteCommandError(result);
  }
  return result;
}

/** The summary for a doas/sudo refusal, or undefined when the command itself ran. */
function execEscalationRefusal(method: "doas" | "sudo", user: string, r: RunResult): string | undefined {
  const first = r.stderr.split("\n").find((l) => l.trim() !== "") ?? "";
  if (r.exitCode === 127 && new RegExp(`\\b${method}: (not found|command not found)`).test(r.stderr)) {
    return `${method} is not installed on ${r.target} (become is "${method}")`;
  }
  if (r.exitCode !== 1 || !first.startsWith(`${method}: `)) return undefined;
  const hint = method === "doas"
    ? `doas.conf(5) needs a rule such as "permit nopass ${user} as root"`
    : `sudoers(5) needs "${user} ALL=(root) NOPASSWD: ALL" or narrower; sudo runs with -n and cannot ask for a password`;
  return `${method} refused to run the command as root on ${r.target}: ${first.trim()} (${hint})`;
}

// ── the SSH pool ──────────────────────────────────────────────────────────────────────────────────────────────────

/** One live SSH connection. Plain data: every serialized copy of this module's code can use it. */
interface SshLink {
  client: Client;
  alive: boolean;
  /** Rejecters of the commands in flight, called when the connection dies. */
  pending: Set<(e: Error) => void>;
  /** The jump host's client, when connected through `proxy`. */
  jump?: Client;
}

interface PoolEntry {
  link?: Promise<SshLink>;
  active: number;
  waiters: (() => void)[];
  idleTimer?: ReturnType<typeof setTimeout>;
}

interface SshPool {
  version: 1;
  entries: Map<string, PoolEntry>;
  /** Successful SSH handshakes in this process (tests and benchmarks read it). */
  dials: number;
  maxChannels: number;
  idleMs: number;
}

function execPool(): SshPool {
  const g = globalThis as unknown as Record<symbol, SshPool | undefined>;
  const key = Symbol.for("enjailed.sshPool");
  let pool = g[key];
  if (pool === undefined) {
    const env = process.env;
    pool = {
      version: 1,
      entries: new Map(),
      dials: 0,
      maxChannels: Number(env.ENJAILED_SSH_MAX_CHANNELS) > 0 ? Number(env.ENJAILED_SSH_MAX_CHANNELS) : 8,
      idleMs: Number(env.ENJAILED_SSH_IDLE_MS) >= 0 && env.ENJAILED_SSH_IDLE_MS !== undefined && env.ENJAILED_SSH_IDLE_MS !== ""
        ? Number(env.ENJAILED_SSH_IDLE_MS) : 2000,
    };
    g[key] = pool;
  }
  return pool;
}

/** Counters of the SSH pool in this process: handshakes so far and connections open now. */
export function sshPoolStats(): { dials: number; open: number } {
  const pool = execPool();
  return { dials: pool.dials, open: [...pool.entries.values()].filter((e) => e.link !== undefined).length };
}

/** Close every pooled connection now (tests; a provider process relies on the idle timer instead). */
export async function closeSshConnections(): Promise<void> {
  const pool = execPool();
  const entries = [...pool.entries.values()];
  pool.entries.clear();
  await Promise.all(entries.map(async (e) => {
    if (e.idleTimer !== undefined) clearTimeout(e.idleTimer);
    const link = await e.link?.catch(() => undefined);
    if (link !== undefined) execCloseLink(link);
  }));
}

function execCloseLink(link: SshLink): void {
  link.alive = false;
  link.client.end();
  link.jump?.end();
}

async function runSsh(
  conn: ConnectionInputs, line: string, command: string, stdin: string | undefined, timeoutMs: number | undefined,
  idempotent: boolean,
): Promise<RawOutcome> {
  const pool = execPool();
  const creds = credentialSources(conn.agentSocketPath);
  const key = JSON.stringify([conn.host, conn.port, conn.user, conn.hostKey, conn.proxy ?? null, creds.keyFile ?? null, creds.agent ?? null]);
  for (let attempt = 0; ; attempt++) {
    let entry = pool.entries.get(key);
    if (entry === undefined) {
      entry = { active: 0, waiters: [] };
      pool.entries.set(key, entry);
    }
    await execAcquire(entry, pool.maxChannels);
    try {
      if (entry.link === undefined) {
        const made = execDial(conn, creds);
        entry.link = made;
        const owner = entry;
        made.then((link) => {
          pool.dials++;
          const forget = (): void => {
            link.alive = false;
            if (owner.link === made) owner.link = undefined;
            for (const drop of [...link.pending]) drop(execDropped(false, "the connection closed"));
          };
          link.client.on("close", forget);
          link.client.on("error", forget);
        }, () => {
          if (owner.link === made) owner.link = undefined;
        });
      }
      const link = await entry.link;
      return await execOn(link, line, stdin, timeoutMs);
    } catch (e) {
      const dropped = e as { enjailedDropped?: boolean; beforeStart?: boolean };
      if (dropped.enjailedDropped !== true) throw e;
      if (attempt === 0 && (idempotent || dropped.beforeStart === true)) continue;
      const target = describeTarget(conn);
      throw new ConnectionError(
        dropped.beforeStart === true
          ? `connecting to ${target}: could not open a session channel: ${(e as Error).message}`
          : `connection to ${target} was lost while a command ran; it may or may not have taken effect, so it is not retried blindly\n  $ ${command}`,
        { cause: e },
      );
    } finally {
      execRelease(pool, key, entry);
    }
  }
}

function execDropped(beforeStart: boolean, message: string): Error {
  const e = new Error(message) as Error & { enjailedDropped: boolean; beforeStart: boolean };
  e.enjailedDropped = true;
  e.beforeStart = beforeStart;
  return e;
}

async function execAcquire(entry: PoolEntry, max: number): Promise<void> {
  if (entry.idleTimer !== undefined) {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }
  if (entry.active < max) {
    entry.active++;
    return;
  }
  await new Promise<void>((resolve) => entry.waiters.push(resolve));
}

function execRelease(pool: SshPool, key: string, entry: PoolEntry): void {
  const next = entry.waiters.shift();
  if (next !== undefined) {
    next(); // the slot passes to the next command
    return;
  }
  entry.active--;
  if (entry.active > 0) return;
  entry.idleTimer = setTimeout(() => {
    if (entry.active > 0) return;
    if (pool.entries.get(key) === entry) pool.entries.delete(key);
    const link = entry.link;
    entry.link = undefined;
    link?.then(execCloseLink, () => undefined);
  }, pool.idleMs);
  entry.idleTimer.unref();
}

/** Run one command on a channel of `link`. Rejects with a "dropped" error when the connection dies first. */
function execOn(link: SshLink, line: string, stdin: string | undefined, timeoutMs: number | undefined): Promise<RawOutcome> {
  return new Promise<RawOutcome>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // No forward references between these closures: the closure serializer cannot follow them.
    const self: { drop?: (e: Error) => void } = {};
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (self.drop !== undefined) link.pending.delete(self.drop);
      f();
    };
    const drop = (e: Error): void => finish(() => reject(e));
    self.drop = drop;
    if (!link.alive) {
      drop(execDropped(true, "the connection closed"));
      return;
    }
    link.pending.add(drop);
    link.client.exec(line, (err: Error | undefined, stream: ClientChannel) => {
      if (err !== undefined && err !== null) {
        drop(execDropped(link.alive, err.message));
        return;
      }
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let exit: { code: number | null; signal?: string } | undefined;
      let timedOut = false;
      stream.on("data", (d: Buffer) => out.push(d));
      stream.stderr.on("data", (d: Buffer) => errs.push(d));
      stream.on("error", () => undefined);
      stream.on("exit", (code: number | null, signal?: string) => {
        exit = { code, signal };
      });
      stream.on("close", () => {
        if (exit === undefined && !timedOut) {
          drop(execDropped(false, "the connection closed before the command finished"));
          return;
        }
        const outcome: RawOutcome = {
          exitCode: exit?.code ?? (exit?.signal !== undefined ? 128 + execSignalNumber(exit.signal) : -1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(errs).toString("utf8"),
        };
        if (timedOut) outcome.timedOut = true;
        finish(() => resolve(outcome));
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          timedOut = true;
          try {
            stream.signal("KILL");
          } catch {
            // the server may not support signals; closing the channel is enough
          }
          stream.close();
        }, timeoutMs);
      }
      stream.end(stdin ?? "");
    });
  });
}

function execSignalNumber(signal: string): number {
  const { constants } = require("os") as typeof import("os");
  return (constants.signals as Record<string, number>)[`SIG${signal}`] ?? 127;
}

/** Dial with retries: refused, unreachable and timed-out dials are retried up to `dialErrorLimit` errors. */
async function execDial(conn: ConnectionInputs, creds: CredentialSources): Promise<SshLink> {
  const target = describeTarget(conn);
  let failures = 0;
  for (;;) {
    try {
      return await execDialOnce(conn, creds);
    } catch (e) {
      const f = e as Error & { retryable?: boolean };
      if (f.retryable !== true) {
        throw e instanceof ConnectionError ? e : new ConnectionError(`connecting to ${target}: ${f.message}`, { cause: e });
      }
      failures++;
      if (conn.dialErrorLimit >= 0 && failures >= conn.dialErrorLimit) {
        const tries = failures > 1 ? ` (${failures} attempts)` : "";
        throw new ConnectionError(`connecting to ${target}: ${f.message}${tries}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (failures - 1), 2000)));
    }
  }
}

async function execDialOnce(conn: ConnectionInputs, creds: CredentialSources): Promise<SshLink> {
  const auth = execAuth(conn, creds);
  const timeoutMs = conn.perDialTimeout > 0 ? conn.perDialTimeout * 1000 : 0x7fffffff;
  let jump: Client | undefined;
  let sock: Duplex | undefined;
  if (conn.proxy !== undefined) {
    const p = conn.proxy;
    const proxyAuth = p.agentSocketPath !== undefined ? { ...auth, agent: p.agentSocketPath } : auth;
    const jumpName = `jump host ${p.user}@${p.host}:${p.port}`;
    try {
      jump = await execHandshake({ host: p.host, port: p.port, user: p.user, hostKey: p.hostKey }, proxyAuth, timeoutMs, undefined, creds);
    } catch (e) {
      // Say which hop failed: a wrong proxy.hostKey must not read as the target's key.
      const f = e as Error & { retryable?: boolean };
      throw Object.assign(new Error(`${jumpName}: ${f.message}`), { retryable: f.retryable === true });
    }
    const via = jump;
    sock = await new Promise<Duplex>((resolve, reject) => {
      via.forwardOut("127.0.0.1", 0, conn.host, conn.port, (err, stream) => {
        if (err) {
          via.end();
          // Only "connect failed" (RFC 4254 reason 2) may pass with time; a prohibited forward will not.
          const retryable = (err as Error & { reason?: number }).reason === 2;
          const why = err.message.replace(/^\(SSH\) /, "");
          reject(Object.assign(new Error(`${jumpName} could not reach ${conn.host}:${conn.port}: ${why}`), { retryable }));
        } else {
          resolve(stream);
        }
      });
    });
  }
  try {
    const client = await execHandshake(
      { host: conn.host, port: conn.port, user: conn.user, hostKey: conn.hostKey ?? "" }, auth, timeoutMs, sock, creds,
    );
    const link: SshLink = { client, alive: true, pending: new Set() };
    if (jump !== undefined) {
      link.jump = jump;
      const j = jump;
      client.on("close", () => j.end());
    }
    return link;
  } catch (e) {
    jump?.end();
    throw e;
  }
}

/** The ssh2 authentication settings: key file (config, then env) first, then the agent. Never in messages. */
function execAuth(conn: ConnectionInputs, creds: CredentialSources): Pick<ConnectConfig, "privateKey" | "passphrase" | "agent"> {
  const target = describeTarget(conn);
  const auth: Pick<ConnectConfig, "privateKey" | "passphrase" | "agent"> = {};
  if (creds.keyFile !== undefined) {
    const { readFileSync } = require("fs") as typeof import("fs");
    try {
      auth.privateKey = readFileSync(creds.keyFile);
    } catch (e) {
      throw new ConnectionError(`connecting to ${target}: cannot read the SSH key file ${JSON.stringify(creds.keyFile)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (creds.passphrase !== undefined) auth.passphrase = creds.passphrase;
    // Parse it here so a bad or locked key names its file (ssh2's own message does not).
    const { utils } = require("ssh2") as typeof import("ssh2");
    const parsed = utils.parseKey(auth.privateKey, creds.passphrase);
    if (parsed instanceof Error) {
      const hint = /passphrase|encrypted/i.test(parsed.message) ? " (set the secret stack config enjailed:sshKeyPassphrase, or ENJAILED_SSH_KEY_PASSPHRASE)" : "";
      throw new ConnectionError(`connecting to ${target}: cannot use the SSH key file ${JSON.stringify(creds.keyFile)}: ${parsed.message}${hint}`);
    }
  }
  if (creds.agent !== undefined) auth.agent = creds.agent;
  if (auth.privateKey === undefined && auth.agent === undefined) {
    throw new ConnectionError(`connecting to ${target}: no SSH credentials: set stack config enjailed:sshKeyFile, env ENJAILED_SSH_KEY_FILE, or run an SSH agent (SSH_AUTH_SOCK)`);
  }
  return auth;
}

/** One SSH handshake with host-key pinning. Rejections carry `retryable` for network-level failures. */
function execHandshake(
  t: { host: string; port: number; user: string; hostKey: string },
  auth: Pick<ConnectConfig, "privateKey" | "passphrase" | "agent">,
  timeoutMs: number,
  sock: Duplex | undefined,
  creds: CredentialSources,
): Promise<Client> {
  const { Client: SshClient } = require("ssh2") as typeof import("ssh2");
  const pinned = parseHostKey(t.hostKey);
  const describePin = pinned.kind === "key" ? `${pinned.type} ${pinned.fingerprint}` : pinned.fingerprint;
  return new Promise<Client>((resolve, reject) => {
    const client = new SshClient();
    let mismatch: string | undefined;
    let settled = false;
    const fail = (message: string, retryable: boolean): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(Object.assign(new Error(message), { retryable }));
    };
    client.on("ready", () => {
      if (settled) return;
      settled = true;
      // Small request/reply exchanges on one connection otherwise wait on Nagle + delayed ACK (~40 ms each).
      client.setNoDelay(true);
      resolve(client);
    });
    client.on("error", (err: Error & { level?: string; code?: string }) => {
      if (mismatch !== undefined) return fail(mismatch, false);
      if (err.level === "client-authentication") {
        const tried = [
          creds.keyFile !== undefined && auth.privateKey !== undefined ? `the key file ${JSON.stringify(creds.keyFile)}` : undefined,
          auth.agent !== undefined ? `the SSH agent at ${JSON.stringify(auth.agent)}` : undefined,
        ].filter((x) => x !== undefined).join(" and ");
        return fail(`authentication as ${JSON.stringify(t.user)} failed (tried ${tried})`, false);
      }
      if (err.level === "client-timeout") return fail(`timed out after ${timeoutMs / 1000} seconds waiting for the SSH handshake`, true);
      const network: Record<string, string> = {
        ECONNREFUSED: "connection refused", ECONNRESET: "connection reset", ETIMEDOUT: "connection timed out",
        EHOSTUNREACH: "host unreachable", ENETUNREACH: "network unreachable", EAI_AGAIN: "name lookup failed, temporarily",
      };
      if (err.code !== undefined && network[err.code] !== undefined) return fail(network[err.code]!, true);
      if (err.code === "ENOTFOUND") return fail(`host name ${JSON.stringify(t.host)} not found`, false);
      return fail(err.message.replace(/^\(SSH\) /, ""), false);
    });
    client.on("close", () => fail("the host closed the connection during the handshake", true));
    const config: ConnectConfig = {
      host: t.host,
      port: t.port,
      username: t.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15000,
      keepaliveCountMax: 3,
      ...auth,
      hostVerifier: (key: Buffer): boolean => {
        if (hostKeyMatches(pinned, key)) return true;
        const type = execKeyType(key);
        mismatch = `host key ${type === undefined ? "" : `${type} `}${fingerprintOf(key)} does not match the pinned hostKey ${describePin}`;
        return false;
      },
    };
    if (sock !== undefined) config.sock = sock;
    client.connect(config);
  });
}

/** The key type named at the start of an SSH public key blob (a length-prefixed string). */
function execKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n <= 0 || n > 64 || blob.length < 4 + n) return undefined;
  return blob.subarray(4, 4 + n).toString("latin1");
}
