/**
 * The transport (provider/lib/) through the real Pulumi engine over real SSH, against the lab:
 * - preview works with no route to the host (check and diff never open SSH);
 * - one SSH connection per provider process, however many resources and resource types share it;
 * - doas, sudo and none, and escalation refused by the host;
 * - a wrong pinned host key and a wrong client key are refused, with clear messages, before anything changes;
 * - no private key material and no passphrase in the state file;
 * - a connection dropped mid-read during refresh recovers; a failed read fails the refresh instead of forgetting.
 *
 * Program: tests/acceptance/programs/transport (a parent dataset, N children, optionally a JailConf), compiled by
 * `npm run build`. The tests that need the lab's session log, fault injection or a chosen escalation start their own
 * lab; the others use acquireTarget(), so they also run against a real host named by ENJAILED_TEST_HOST.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { createServer } from "net";
import { engineFailure, openStack } from "../helpers/engine";
import type { TestStack } from "../helpers/engine";
import { fingerprint, startLab } from "../lab/lab";
import type { Escalation, Lab, LabSession } from "../lab/lab";
import { acquireTarget, stackConfig } from "./target";
import type { Target, TargetConnection } from "./target";

const minutes = 60_000;
jest.setTimeout(10 * minutes);

const PROGRAM = "tests/acceptance/programs/transport";
/** Parent of every dataset these tests create; on a real host point it somewhere disposable. */
const PARENT = process.env.ENJAILED_TEST_ZFS_PARENT ?? "zroot/usr/jail";
const tag = (): string => randomBytes(3).toString("hex");
const resourceType = (t: string): string => `pulumi-nodejs:dynamic/enjailed:${t}`;

// ── helpers ─────────────────────────────────────────────────────────────────

/** Stack config for the connection (the key file goes separately: some tests pass it through the environment). */
function connectionConfig(c: TargetConnection, become: TargetConnection["become"] = c.become): Record<string, string> {
  return stackConfig(c, { become });
}

function labTarget(lab: Lab): TargetConnection {
  const c = lab.connection;
  return { host: c.host, port: c.port, user: c.user, hostKey: c.hostKey, become: c.become };
}


/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh ed25519 key pair in a temp dir: `{ dir, file, publicKey }`. */
function freshKey(passphrase = ""): { dir: string; file: string; publicKey: string } {
  const dir = mkdtempSync(join(tmpdir(), "enjailed-key-"));
  const file = join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", "enjailed-test", "-f", file]);
  return { dir, file, publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
}

/** Dataset names on the target below `under` (empty when `under` does not exist). */
async function datasetsUnder(exec: (cmd: string) => Promise<{ code: number; stdout: string }>, under: string): Promise<string[]> {
  const r = await exec(`zfs list -H -o name -r '${under}'`);
  return r.code === 0 ? r.stdout.split("\n").filter((l) => l !== "") : [];
}

/** Root shell inside a lab, for checks that must not go through the code under test. */
function labRoot(lab: Lab): (cmd: string) => Promise<{ code: number; stdout: string }> {
  return (cmd) => lab.rootExec(cmd);
}

/** The client ports (SSH_CONNECTION's second field) of a slice of the session log. */
function clientPorts(sessions: LabSession[]): string[] {
  return [...new Set(sessions.map((s) => s.connection.split(" ")[1] ?? s.connection))];
}

async function withLab(escalation: Escalation[]): Promise<Lab> {
  return startLab({ escalation });
}

// ── 1. preview with no route to the host ───────────────────────────────────

describe("transport: preview needs no SSH", () => {
  let lab: Lab;
  const stacks: TestStack[] = [];
  const parent = `${PARENT}/enjailed-tp-${tag()}`;

  beforeAll(async () => {
    lab = await withLab(["doas"]);
  });
  afterAll(async () => {
    for (const s of stacks) await s.remove().catch(() => undefined);
    await lab?.stop();
  });

  const unreachable = async (): Promise<Array<{ label: string; host: string; port: number }>> => [
    { label: "a closed port on 127.0.0.1", host: "127.0.0.1", port: await closedPort() },
    { label: "127.255.255.254 port 9", host: "127.255.255.254", port: 9 },
  ];

  it("fresh stack: preview against an unreachable host shows the creates and opens no connection", async () => {
    for (const u of await unreachable()) {
      const stack = await openStack(PROGRAM, {
        config: {
          ...connectionConfig({ ...labTarget(lab), host: u.host, port: u.port }),
          "enjailed:sshKeyFile": "/nonexistent/enjailed-test-key",
          parent, children: "2", jail: `tp${tag()}`,
        },
      });
      stacks.push(stack);
      const preview = await stack.preview();
      // stack + parent + 2 children + 1 JailConf
      expect({ host: u.label, changes: preview.changes }).toEqual({ host: u.label, changes: { create: 5 } });
      expect(preview.output).toContain(resourceType("ZfsDataset"));
      expect(preview.output).toContain(resourceType("JailConf"));
    }
  });

  it("after an up: preview against unreachable hosts shows the update or replace, and the host sees no session", async () => {
    const stack = await openStack(PROGRAM, {
      config: {
        ...connectionConfig(labTarget(lab)),
        "enjailed:sshKeyFile": lab.connection.privateKeyFile,
        parent, children: "2", jail: `tp${tag()}`,
      },
    });
    stacks.push(stack);
    expect((await stack.up()).changes).toEqual({ create: 5 });
    const sessionsAfterUp = (await lab.sessions()).length;

    // the same host, a closed port: the connection input changed but not its host, so each resource updates in place
    await stack.setConfig("enjailed:port", String(await closedPort()));
    expect((await stack.preview()).changes).toEqual({ same: 1, update: 4 });

    // another host: ZfsDataset and JailConf replace on a host change
    await stack.setConfig("enjailed:host", "127.255.255.254");
    await stack.setConfig("enjailed:port", "9");
    const replace = await stack.preview();
    expect(replace.changes).toEqual({ same: 1, replace: 4 });

    // back to the lab: nothing to do, and none of these previews reached it
    await stack.setConfig("enjailed:host", lab.connection.host);
    await stack.setConfig("enjailed:port", String(lab.connection.port));
    expect((await stack.preview({ expectNoChanges: true })).changes).toEqual({ same: 5 });
    expect((await lab.sessions()).length).toBe(sessionsAfterUp);
    expect((await stack.destroy()).changes).toEqual({ delete: 5 });
  });
});

// ── 2. one SSH connection per provider process ─────────────────────────────

describe("transport: one SSH connection per provider process", () => {
  let lab: Lab;
  let stack: TestStack;
  const parent = `${PARENT}/enjailed-tc-${tag()}`;
  const children = 12;

  beforeAll(async () => {
    lab = await withLab(["doas"]);
    stack = await openStack(PROGRAM, {
      config: {
        ...connectionConfig(labTarget(lab)),
        "enjailed:sshKeyFile": lab.connection.privateKeyFile,
        parent, children: String(children), jail: `tc${tag()}`,
      },
    });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("up of 1 + 12 datasets and a JailConf: every command on one connection", async () => {
    const before = (await lab.sessions()).length;
    const up = await stack.up();
    expect(up.changes).toEqual({ create: children + 3 });
    const sessions = (await lab.sessions()).slice(before);
    const ports = clientPorts(sessions);
    // eslint-disable-next-line no-console
    console.log(`up: ${sessions.length} commands over ${ports.length} SSH connection(s)`);
    expect(ports).toHaveLength(1);
    // at least a read, a create and a read back per dataset, plus the JailConf's commands
    expect(sessions.length).toBeGreaterThanOrEqual(3 * (children + 1) + 2);
    expect(await datasetsUnder(labRoot(lab), parent)).toHaveLength(children + 1);
  });

  it("destroy: a new provider process, again one connection", async () => {
    const before = (await lab.sessions()).length;
    expect((await stack.destroy()).changes).toEqual({ delete: children + 3 });
    const sessions = (await lab.sessions()).slice(before);
    // eslint-disable-next-line no-console
    console.log(`destroy: ${sessions.length} commands over ${clientPorts(sessions).length} SSH connection(s)`);
    expect(clientPorts(sessions)).toHaveLength(1);
    expect(await datasetsUnder(labRoot(lab), parent)).toEqual([]);
  });
});

// ── 3. escalation: doas, sudo, none, and refusals ──────────────────────────

describe.each([
  { tool: "doas" as const, other: "sudo" as const },
  { tool: "sudo" as const, other: "doas" as const },
])("transport: become $tool on a lab that allows only $tool", ({ tool, other }) => {
  let lab: Lab;
  const stacks: TestStack[] = [];

  beforeAll(async () => {
    lab = await withLab([tool]);
  });
  afterAll(async () => {
    for (const s of stacks) await s.remove().catch(() => undefined);
    await lab?.stop();
  });

  it(`basic: up and destroy through ${tool}`, async () => {
    const parent = `${PARENT}/enjailed-te-${tag()}`;
    const stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(labTarget(lab), tool), "enjailed:sshKeyFile": lab.connection.privateKeyFile, parent, children: "1" },
    });
    stacks.push(stack);
    const before = (await lab.sessions()).length;
    expect((await stack.up()).changes).toEqual({ create: 3 });
    const sessions = (await lab.sessions()).slice(before);
    const prefix = tool === "doas" ? "doas sh -c " : "sudo -n sh -c ";
    expect(sessions.length).toBeGreaterThan(0);
    expect(sessions.filter((s) => !s.command.startsWith(prefix)).map((s) => s.command)).toEqual([]);
    expect(await datasetsUnder(labRoot(lab), parent)).toEqual([parent, `${parent}/c0`]);
    expect((await stack.destroy()).changes).toEqual({ delete: 3 });
    expect(await datasetsUnder(labRoot(lab), parent)).toEqual([]);
  });

  it(`fails with a message naming ${other} when the host does not allow it`, async () => {
    const parent = `${PARENT}/enjailed-te-${tag()}`;
    const stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(labTarget(lab), other), "enjailed:sshKeyFile": lab.connection.privateKeyFile, parent },
    });
    stacks.push(stack);
    const output = await engineFailure(() => stack.up());
    expect(output).toContain(`creating ZFS dataset (${parent}): ${other} refused to run the command as root on ${lab.connection.user}@${lab.connection.host}:${lab.connection.port}`);
    expect(output).toContain(other === "doas" ? "doas.conf(5) needs a rule" : "sudo runs with -n and cannot ask for a password");
    expect(await datasetsUnder(labRoot(lab), parent)).toEqual([]);
  });
});

describe("transport: become none (login user without escalation)", () => {
  let lab: Lab;
  let stack: TestStack;
  const parent = `${PARENT}/enjailed-tn-${tag()}`;

  beforeAll(async () => {
    lab = await withLab(["doas"]);
    stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(labTarget(lab), "none"), "enjailed:sshKeyFile": lab.connection.privateKeyFile, parent },
    });
  });
  afterAll(async () => {
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  it("fails create with the permission error, the resource and the command; nothing changes on the host", async () => {
    const before = (await lab.sessions()).length;
    const output = await engineFailure(() => stack.up());
    expect(output).toContain(`creating ZFS dataset (${parent}): command failed with exit code 1 on ${lab.connection.user}@${lab.connection.host}:${lab.connection.port}`);
    expect(output).toContain(`  $ zfs create -o 'compression=lz4' '${parent}'`);
    expect(output).toMatch(/permission denied/i);
    const sessions = (await lab.sessions()).slice(before);
    expect(sessions.some((s) => /^(doas|sudo) /.test(s.command))).toBe(false);
    expect(await datasetsUnder(labRoot(lab), parent)).toEqual([]);
  });
});

// ── 4. host keys and client keys ───────────────────────────────────────────

describe("transport: host key and client key refusals", () => {
  let target: Target;
  const stacks: TestStack[] = [];
  const keys: string[] = [];

  beforeAll(async () => {
    target = await acquireTarget();
  });
  afterAll(async () => {
    for (const s of stacks) await s.remove().catch(() => undefined);
    for (const d of keys) rmSync(d, { recursive: true, force: true });
    await target?.release();
  });

  const hostView = (cmd: string) => target.hostExec(cmd);
  const describeTarget = (): string => `${target.connection.user}@${target.connection.host}:${target.connection.port}`;

  it("fails up on a wrong pinned host key, naming both fingerprints; nothing changes on the host", async () => {
    const wrong = freshKey();
    keys.push(wrong.dir);
    const presented = fingerprint(target.connection.hostKey);
    for (const pin of [wrong.publicKey, fingerprint(wrong.publicKey)]) {
      const parent = `${PARENT}/enjailed-tk-${tag()}`;
      const stack = await openStack(PROGRAM, {
        config: { ...connectionConfig(target.connection), "enjailed:hostKey": pin, "enjailed:sshKeyFile": target.privateKeyFile, parent },
      });
      stacks.push(stack);
      const output = await engineFailure(() => stack.up());
      const pinned = pin.startsWith("SHA256:") ? pin : `ssh-ed25519 ${fingerprint(pin)}`;
      expect(output).toContain(`creating ZFS dataset (${parent}): connecting to ${describeTarget()}: host key ssh-ed25519 ${presented} does not match the pinned hostKey ${pinned}`);
      expect(await datasetsUnder(hostView, parent)).toEqual([]);
    }
  });

  it("fails up with a foreign client key from ENJAILED_SSH_KEY_FILE, naming the key file", async () => {
    const foreign = freshKey();
    keys.push(foreign.dir);
    const parent = `${PARENT}/enjailed-tk-${tag()}`;
    const stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(target.connection), parent },
      env: { ENJAILED_SSH_KEY_FILE: foreign.file, SSH_AUTH_SOCK: "" },
    });
    stacks.push(stack);
    const output = await engineFailure(() => stack.up());
    expect(output).toContain(`creating ZFS dataset (${parent}): connecting to ${describeTarget()}: authentication as ${JSON.stringify(target.connection.user)} failed (tried the key file ${JSON.stringify(foreign.file)})`);
    expect(await datasetsUnder(hostView, parent)).toEqual([]);
  });
});

// ── 5. no key material and no passphrase in state ──────────────────────────

describe("transport: credentials never reach the state file", () => {
  let target: Target;
  let stack: TestStack;
  let keyDir: string;
  const parent = `${PARENT}/enjailed-ts-${tag()}`;
  const passphrase = `pp-${randomBytes(12).toString("hex")}`;

  beforeAll(async () => {
    target = await acquireTarget();
    // the target's own key, re-encrypted with a passphrase: same key, so the host accepts it unchanged
    keyDir = mkdtempSync(join(tmpdir(), "enjailed-key-"));
    const keyFile = join(keyDir, "id_protected");
    execFileSync("cp", [target.privateKeyFile, keyFile]);
    execFileSync("chmod", ["600", keyFile]);
    execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", passphrase, "-f", keyFile]);
    stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(target.connection), "enjailed:sshKeyFile": keyFile, parent, children: "1" },
    });
  });
  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.remove().catch(() => undefined);
    if (keyDir !== undefined) rmSync(keyDir, { recursive: true, force: true });
    await target?.release();
  });

  /** Every base64 line of a PEM-style private key file. */
  const bodyLines = (file: string): string[] =>
    readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("-----"));

  it("fails without the passphrase, with a message that names the key file", async () => {
    const output = await engineFailure(() => stack.up());
    expect(output).toContain(`creating ZFS dataset (${parent}): connecting to ${target.connection.user}@${target.connection.host}:${target.connection.port}`);
    expect(output).toContain(join(keyDir, "id_protected"));
    expect(output).toMatch(/passphrase/i);
    expect(await datasetsUnder((c) => target.hostExec(c), parent)).toEqual([]);
  });

  it("up with enjailed:sshKeyPassphrase as secret config; the state file holds no key material and no passphrase", async () => {
    await stack.setConfig("enjailed:sshKeyPassphrase", passphrase, { secret: true });
    const up = await stack.up();
    expect(up.changes.create).toBe(2); // parent and child (the stack itself may exist from the failed up)
    expect(await datasetsUnder((c) => target.hostExec(c), parent)).toEqual([parent, `${parent}/c0`]);
    const text = stack.stateFileText();
    expect(text).toContain(parent); // the state file was found and holds this deployment
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).not.toContain(passphrase);
    const leaked = [...bodyLines(join(keyDir, "id_protected")), ...bodyLines(target.privateKeyFile)].filter((l) => text.includes(l));
    expect(leaked).toEqual([]);
  });
});

// ── 6. refresh over a flaky link ───────────────────────────────────────────

describe("transport: refresh over a flaky link (read never lies)", () => {
  let lab: Lab;
  let stack: TestStack;
  const parent = `${PARENT}/enjailed-tf-${tag()}`;
  const READ = "zfs get -H -p -o property,value,source ";

  const datasetsInState = async (): Promise<string[]> =>
    ((await stack.state()).resources ?? [])
      .filter((r) => r.type === resourceType("ZfsDataset"))
      .map((r) => r.id ?? "")
      .sort();

  beforeAll(async () => {
    lab = await withLab(["doas"]);
    stack = await openStack(PROGRAM, {
      config: { ...connectionConfig(labTarget(lab)), "enjailed:sshKeyFile": lab.connection.privateKeyFile, parent, children: "2" },
    });
    expect((await stack.up()).changes).toEqual({ create: 4 });
  });
  afterAll(async () => {
    await lab?.faults.clear().catch(() => undefined);
    await stack?.remove().catch(() => undefined);
    await lab?.stop();
  });

  const all = (): string[] => [parent, `${parent}/c0`, `${parent}/c1`].sort();

  it("recovers from a connection dropped mid-read: the refresh succeeds and keeps every resource", async () => {
    await lab.faults.dropNext(READ, { stdout: "compression\tlz", delayMs: 100 });
    const before = (await lab.sessions()).length;
    expect((await stack.refresh()).changes).toEqual({ same: 4 });
    expect(await lab.faults.rules()).toEqual([]); // the drop happened
    const ports = clientPorts((await lab.sessions()).slice(before));
    expect(ports.length).toBeGreaterThanOrEqual(2); // the dropped connection, then a fresh one
    expect(await datasetsInState()).toEqual(all());
  });

  it("fails the refresh when a read fails, and forgets nothing", async () => {
    await lab.faults.failNext(READ, 1, { exitCode: 1, stderr: "internal error: Input/output error" });
    const output = await engineFailure(() => stack.refresh());
    expect(await lab.faults.rules()).toEqual([]);
    expect(await datasetsInState()).toEqual(all());
    expect(output).toMatch(/reading ZFS dataset \(zroot\/[^)]+\): command failed with exit code 1 on /);
    expect(output).toContain("internal error: Input/output error");
  });

  it("fails the refresh when the read drops again on the fresh connection, and forgets nothing", async () => {
    // only the parent's read matches (its name then the closing quote), so the second drop hits its retry
    const parentRead = `${READ}.*${parent}'`;
    await lab.faults.dropNext(parentRead, { delayMs: 50 });
    await lab.faults.dropNext(parentRead, { delayMs: 50 });
    const output = await engineFailure(() => stack.refresh());
    expect(await lab.faults.rules()).toEqual([]);
    expect(await datasetsInState()).toEqual(all());
    const c = lab.connection;
    expect(output).toContain(`reading ZFS dataset (${parent}): connection to ${c.user}@${c.host}:${c.port} was lost while a command ran`);
  });

  it("after the faults: refresh finds everything as it was", async () => {
    expect((await stack.refresh({ expectNoChanges: true })).changes).toEqual({ same: 4 });
    expect(await datasetsInState()).toEqual(all());
  });
});
