// The acceptance target: a fresh lab host by default, or a real FreeBSD host, unchanged, when ENJAILED_TEST_HOST names
// a JSON file of lab.json's shape (docs/CONTRACTS.md, docs/lab.md). Nothing here knows about a particular resource.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { shQuote, sshArgs, startLab } from "../lab/lab";
import type { ExecResult, LabConnection, LabOptions } from "../lab/lab";

export interface TargetConnection {
  host: string;
  port: number;
  user: string;
  hostKey: string;
  become: "doas" | "sudo" | "none";
}

export interface Target {
  kind: "lab" | "real";
  connection: TargetConnection;
  privateKeyFile: string;
  /** Runs `command` (a /bin/sh command line) as root on the target: ssh, then the target's `become`. */
  hostExec(command: string, options?: { input?: string }): Promise<ExecResult>;
  /** Stops the lab; for a real host, only removes local temporary files. */
  release(): Promise<void>;
}

/** Wraps a command line so that it runs as root through `become`. */
/**
 * Stack config for programs built on examples/connection.ts: the `enjailed:*` keys of this connection, with the key
 * file when given (the provider reads it in `configure`; it never reaches state).
 */
export function stackConfig(c: TargetConnection, options: { become?: TargetConnection["become"]; privateKeyFile?: string } = {}): Record<string, string> {
  return {
    "enjailed:host": c.host,
    "enjailed:port": String(c.port),
    "enjailed:user": c.user,
    "enjailed:hostKey": c.hostKey,
    "enjailed:become": options.become ?? c.become,
    ...(options.privateKeyFile === undefined ? {} : { "enjailed:sshKeyFile": options.privateKeyFile }),
  };
}

export function asRoot(command: string, become: TargetConnection["become"]): string {
  switch (become) {
    case "doas":
      return `doas /bin/sh -c ${shQuote(command)}`;
    case "sudo":
      return `sudo -n /bin/sh -c ${shQuote(command)}`;
    case "none":
      return command;
  }
}

function runSsh(args: string[], input?: string): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    child.stdin.on("error", () => undefined);
    child.stdin.end(input ?? "");
  });
}

async function realTarget(file: string): Promise<Target> {
  const c = JSON.parse(await readFile(file, "utf8")) as Partial<LabConnection>;
  for (const key of ["host", "port", "user", "hostKey", "privateKeyFile"] as const) {
    if (c[key] === undefined) throw new Error(`reading ENJAILED_TEST_HOST (${file}): missing ${JSON.stringify(key)}`);
  }
  const connection: LabConnection = {
    name: c.name ?? "real",
    host: c.host as string,
    port: c.port as number,
    user: c.user as string,
    privateKeyFile: resolve(c.privateKeyFile as string),
    hostKey: c.hostKey as string,
    hostKeyFingerprint: c.hostKeyFingerprint ?? "",
    become: c.become ?? "doas",
    root: c.root ?? "/",
    sessionLog: c.sessionLog ?? "",
    pid: c.pid ?? 0,
  };
  const tmp = await mkdtemp(join(tmpdir(), "enjailed-target-"));
  const knownHosts = join(tmp, "known_hosts");
  const hostPattern = connection.port === 22 ? connection.host : `[${connection.host}]:${connection.port}`;
  await writeFile(knownHosts, `${hostPattern} ${connection.hostKey}\n`);
  return {
    kind: "real",
    connection: { host: connection.host, port: connection.port, user: connection.user, hostKey: connection.hostKey, become: connection.become },
    privateKeyFile: connection.privateKeyFile,
    hostExec: (command, options = {}) =>
      runSsh([...sshArgs(connection, knownHosts), "--", asRoot(command, connection.become)], options.input),
    release: () => rm(tmp, { recursive: true, force: true }),
  };
}

/** A fresh lab (options passed through), or the real host named by ENJAILED_TEST_HOST. */
export async function acquireTarget(options: LabOptions = {}): Promise<Target> {
  const file = process.env.ENJAILED_TEST_HOST;
  if (file) return realTarget(file);
  const lab = await startLab(options);
  const c = lab.connection;
  return {
    kind: "lab",
    connection: { host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, become: c.become },
    privateKeyFile: c.privateKeyFile,
    hostExec: (command, opts = {}) => lab.ssh(asRoot(command, lab.connection.become), opts),
    release: () => lab.stop(),
  };
}
