/**
 * A scripted SSH host for provider tests: an in-process ssh2 `Server` with a host key generated at test time,
 * answering every `exec` from a reply function and recording what it received. Follows the shape of
 * pulumi-command's test server and ssh2's own tests.
 *
 * - The client key: one ed25519 key pair per test process, written to a temporary file and installed as the
 *   provider's `enjailed:sshKeyFile` through `configureFrom`, so `run()` authenticates exactly as in production.
 * - `connection` targets 127.0.0.1 on a random port, user `root` (no escalation wrapping, so `commands` are exactly
 *   what provider code built), pinned to the fixture host key's fingerprint, `dialErrorLimit: 1`.
 * - A reply may `drop` the connection instead of answering (the connection ends before an exit status is sent).
 */
import { mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { createHash } from "crypto";
import { Server, utils } from "ssh2";
import type { Connection, ServerChannel } from "ssh2";
import { configureFrom } from "../../provider/lib/config";
import { connectionSchema } from "../../provider/lib/connection";
import type { ConnectionInputs } from "../../provider/lib/connection";

/** What the fake host answers to one command. */
export interface Reply {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** End the SSH connection instead of answering. */
  drop?: boolean;
}

export interface FakeHostOptions {
  /** Login user the host accepts, and the one in `connection`. @default "root" */
  user?: string;
  /** The public key the host accepts. @default the test process's client key */
  authorizedKey?: string;
  /** Extra connection fields (for example `become`). */
  connection?: Record<string, unknown>;
}

export interface FakeHost {
  /** host 127.0.0.1, the random port, the pinned fixture fingerprint, defaults filled. */
  connection: ConnectionInputs;
  /** Every exec, in order, exactly as received. */
  commands: string[];
  /** The stdin each exec received, in the same order. */
  stdins: string[];
  /** SSH connections accepted so far. */
  readonly connections: number;
  /** The host key as an OpenSSH public key line, and its SHA256 fingerprint. */
  hostKeyLine: string;
  hostKeyFingerprint: string;
  close(): Promise<void>;
}

let clientKey: { privateKey: string; publicKey: string; file: string } | undefined;

/** The test process's client key pair (generated once), its file installed as `enjailed:sshKeyFile`. */
export function testClientKey(): { privateKey: string; publicKey: string; file: string } {
  if (clientKey === undefined) {
    const pair = utils.generateKeyPairSync("ed25519");
    const dir = mkdtempSync(join(tmpdir(), "enjailed-fakehost-"));
    const file = join(dir, "client_ed25519");
    writeFileSync(file, pair.private, { mode: 0o600 });
    clientKey = { privateKey: pair.private, publicKey: pair.public, file };
  }
  configureFrom({ config: { get: (k: string) => (k === "enjailed:sshKeyFile" ? clientKey!.file : undefined) } });
  return clientKey;
}

/** A fresh ed25519 public key line that no test client holds. */
export function strangerPublicKey(): string {
  return utils.generateKeyPairSync("ed25519").public;
}

/** Start a fake host that answers with `reply(command, stdin)`. */
export async function startFakeHost(
  reply: (command: string, stdin: string) => Reply | Promise<Reply>,
  options: FakeHostOptions = {},
): Promise<FakeHost> {
  const client = testClientKey();
  const user = options.user ?? "root";
  const hostPair = utils.generateKeyPairSync("ed25519");
  const hostParsed = utils.parseKey(hostPair.public);
  if (hostParsed instanceof Error) throw hostParsed;
  const hostKeyFingerprint = `SHA256:${createHash("sha256").update(hostParsed.getPublicSSH()).digest("base64").replace(/=+$/, "")}`;
  const allowed = utils.parseKey(options.authorizedKey ?? client.publicKey);
  if (allowed instanceof Error) throw allowed;

  const commands: string[] = [];
  const stdins: string[] = [];
  const live = new Set<Connection>();
  let connections = 0;

  const server = new Server({ hostKeys: [hostPair.private] }, (conn: Connection) => {
    connections++;
    live.add(conn);
    conn.on("close", () => live.delete(conn));
    conn.on("error", () => undefined);
    conn.on("authentication", (ctx) => {
      if (ctx.method === "publickey" && ctx.username === user && ctx.key.algo === allowed.type
        && ctx.key.data.equals(allowed.getPublicSSH())) {
        if (ctx.signature === undefined || ctx.blob === undefined) return ctx.accept();
        if (allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      }
      return ctx.reject(["publickey"]);
    });
    conn.on("ready", () => {
      conn.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (acceptExec, _reject, info) => {
          const stream: ServerChannel = acceptExec();
          const index = commands.push(info.command) - 1;
          stdins.push("");
          const input: Buffer[] = [];
          stream.on("data", (d: Buffer) => input.push(d));
          stream.on("error", () => undefined);
          stream.on("end", () => {
            const stdin = Buffer.concat(input).toString("utf8");
            stdins[index] = stdin;
            void (async () => {
              const r = await reply(info.command, stdin);
              if (r.delayMs !== undefined) await new Promise((res) => setTimeout(res, r.delayMs));
              if (r.drop === true) {
                conn.end();
                return;
              }
              if (r.stderr !== undefined) stream.stderr.write(r.stderr);
              if (r.stdout !== undefined) stream.write(r.stdout);
              stream.exit(r.exitCode ?? 0);
              stream.end();
            })();
          });
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake host: no TCP address");

  const connection = connectionSchema().parse({
    host: "127.0.0.1",
    port: address.port,
    user,
    hostKey: hostKeyFingerprint,
    dialErrorLimit: 1,
    perDialTimeout: 10,
    ...options.connection,
  });
  return {
    connection,
    commands,
    stdins,
    get connections() {
      return connections;
    },
    hostKeyLine: hostPair.public,
    hostKeyFingerprint,
    close: () => new Promise<void>((resolve) => {
      for (const c of live) c.end();
      server.close(() => resolve());
    }),
  };
}
