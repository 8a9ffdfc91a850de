/**
 * The jump host (issue #4: "an optional jump host"), through the real Pulumi engine over real SSH, with two labs:
 * lab A is the jump host (`connection.proxy`), lab B the target.
 *
 * Set-up, and why:
 * - Credentials: `run()` authenticates to the jump host and to the target with the same credentials (key file, then
 *   agent; provider/lib/exec.ts `execDialOnce` passes one `auth` to both handshakes). So the stack uses lab B's client
 *   key, and the test appends lab B's client public key to lab A's `admin` authorized_keys (as root in lab A).
 * - Reachability: the target's host name is one only lab A can resolve (an /etc/hosts line inside lab A). The test
 *   process cannot resolve it, so a connection that reaches lab B went through lab A. (Both labs listen on 127/8
 *   addresses of the one shared loopback interface, and Linux picks 127.0.0.1 as the source address for every 127/8
 *   destination, so lab B's session log shows 127.0.0.1 whether a connection came directly or through lab A: the
 *   source address alone cannot tell them apart.)
 * - Forwarding: the lab's sshd_config says `AllowTcpForwarding no`. The first test runs against that, as shipped. The
 *   rest switch lab A to `AllowTcpForwarding local` and `LogLevel DEBUG1` (so its sshd.log names each forwarded
 *   connection) and send its sshd SIGHUP, which makes sshd re-read its configuration.
 *
 * Needs the lab (root); it does not run against ENJAILED_TEST_HOST.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { lookup } from "dns/promises";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { connect } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { engineFailure, openStack } from "../helpers/engine";
import type { TestStack } from "../helpers/engine";
import { fingerprint, startLab } from "../lab/lab";
import type { Lab } from "../lab/lab";
import { stackConfig } from "./target";

const minutes = 60_000;
jest.setTimeout(10 * minutes);

const PROGRAM = "tests/acceptance/programs/jump";
const PARENT = "zroot/usr/jail";
const tag = (): string => randomBytes(3).toString("hex");


/** Resolves once something accepts TCP connections on host:port (polls for up to 10 s). */
async function waitForListener(host: string, port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function datasetExists(lab: Lab, name: string): Promise<boolean> {
  return (await lab.rootExec(`zfs list -H -o name '${name}'`)).code === 0;
}

describe("jump host: connection.proxy through the engine", () => {
  let a: Lab; // the jump host
  let b: Lab; // the target
  const stacks: TestStack[] = [];
  const keyDirs: string[] = [];
  /** A name for lab B that only lab A resolves. */
  const targetName = `enjailed-jump-${tag()}.test`;

  const jumpDescription = (): string => `${a.connection.user}@${a.connection.host}:${a.connection.port}`;
  const targetDescription = (): string => `${b.connection.user}@${targetName}:${b.connection.port}`;

  /** Stack config: the target by its A-only name, through lab A, with lab B's client key. */
  const config = (dataset: string, proxyHostKey = a.connection.hostKey): Record<string, string> => ({
    ...stackConfig(
      { host: targetName, port: b.connection.port, user: b.connection.user, hostKey: b.connection.hostKey, become: b.connection.become },
      { privateKeyFile: b.connection.privateKeyFile },
    ),
    "enjailed:proxy": JSON.stringify({ host: a.connection.host, port: a.connection.port, user: a.connection.user, hostKey: proxyHostKey }),
    name: dataset,
  });

  const sshdLog = (lab: Lab): string => readFileSync(join(lab.dir, "sshd.log"), "utf8");

  beforeAll(async () => {
    [a, b] = await Promise.all([startLab({ escalation: ["doas"] }), startLab({ escalation: ["doas"] })]);
    const bPublicKey = readFileSync(`${b.connection.privateKeyFile}.pub`, "utf8");
    const added = await a.rootExec("cat >> /home/admin/.ssh/authorized_keys", { input: bPublicKey });
    expect(added.code).toBe(0);
    const hosts = await a.rootExec(`printf '%s %s\\n' '${b.connection.host}' '${targetName}' >> /etc/hosts`);
    expect(hosts.code).toBe(0);
  });
  afterAll(async () => {
    for (const s of stacks) await s.remove().catch(() => undefined);
    for (const d of keyDirs) rmSync(d, { recursive: true, force: true });
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("set-up: the target's name resolves in lab A and not on this machine", async () => {
    await expect(lookup(targetName)).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });
    const inA = await a.rootExec(`getent hosts '${targetName}'`);
    expect(inA.stdout.trim().split(/\s+/)).toEqual([b.connection.host, targetName]);
  });

  it("fails up while the jump host forbids TCP forwarding (the lab as shipped), naming the jump host; nothing changes", async () => {
    const dataset = `${PARENT}/enjailed-jf-${tag()}`;
    // one dial: a refused forward is otherwise retried like a network failure, up to dialErrorLimit times
    const stack = await openStack(PROGRAM, { config: { ...config(dataset), "enjailed:dialErrorLimit": "1" } });
    stacks.push(stack);
    const bBefore = (await b.sessions()).length;
    const aLog = sshdLog(a).length;
    const output = await engineFailure(() => stack.up());
    expect(output).toContain(
      `creating ZFS dataset (${dataset}): connecting to ${targetDescription()}: jump host ${jumpDescription()} could not reach ${targetName}:${b.connection.port}: Channel open failure: open failed`,
    );
    // lab A accepted the login and refused the forward
    expect(sshdLog(a).slice(aLog)).toContain(`refused local port forward: originator 127.0.0.1 port 0, target ${targetName} port ${b.connection.port}`);
    expect((await b.sessions()).length).toBe(bBefore);
    expect(await datasetExists(b, dataset)).toBe(false);
    expect(await datasetExists(a, dataset)).toBe(false);
  });

  describe("with TCP forwarding allowed on the jump host", () => {
    beforeAll(async () => {
      const edit = await a.rootExec(
        "sed -i -e 's/^AllowTcpForwarding no$/AllowTcpForwarding local/' -e 's/^LogLevel VERBOSE$/LogLevel DEBUG1/' /etc/ssh/sshd_config"
        + " && grep -E '^(AllowTcpForwarding|LogLevel) ' /etc/ssh/sshd_config",
      );
      expect(edit.stdout.split("\n").filter((l) => l !== "").sort()).toEqual(["AllowTcpForwarding local", "LogLevel DEBUG1"]);
      const logBefore = sshdLog(a).length;
      process.kill(a.connection.pid, "SIGHUP"); // sshd re-executes itself and reads its configuration again
      const deadline = Date.now() + 10_000;
      while (!sshdLog(a).slice(logBefore).includes("Server listening on")) {
        if (Date.now() > deadline) throw new Error(`lab A's sshd did not restart after SIGHUP:\n${sshdLog(a).slice(logBefore)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitForListener(a.connection.host, a.connection.port);
    });

    it("basic: up creates the dataset on B, reached only through A; A runs no command; destroy removes it", async () => {
      const dataset = `${PARENT}/enjailed-jb-${tag()}`;
      const stack = await openStack(PROGRAM, { config: config(dataset) });
      stacks.push(stack);
      const aSessions = (await a.sessions()).length;
      const bSessions = (await b.sessions()).length;
      const aLog = sshdLog(a).length;

      expect((await stack.up()).changes).toEqual({ create: 2 });
      expect(await datasetExists(b, dataset)).toBe(true);
      expect(await datasetExists(a, dataset)).toBe(false);

      // lab A: authenticated lab B's client key, forwarded one connection to the A-only name, ran no command
      const log = sshdLog(a).slice(aLog);
      const bKeyFingerprint = fingerprint(readFileSync(`${b.connection.privateKeyFile}.pub`, "utf8"));
      expect(log).toContain(`Accepted publickey for admin from 127.0.0.1 port`);
      expect(log).toContain(bKeyFingerprint);
      const forwards = log.split("\n").filter((l) => l.includes("server_request_direct_tcpip: originator"));
      expect(forwards.map((l) => l.replace(/^.*target /, "target ").trim())).toEqual([`target ${targetName} port ${b.connection.port}`]);
      expect((await a.sessions()).length).toBe(aSessions);

      // lab B: every command of the up arrived, over one connection, which the test process could not have opened
      const sessions = (await b.sessions()).slice(bSessions);
      expect(sessions.length).toBeGreaterThanOrEqual(2);
      expect(sessions.some((s) => s.command.includes(`zfs create`) && s.command.includes(dataset))).toBe(true);
      const connections = [...new Set(sessions.map((s) => s.connection))];
      expect(connections).toHaveLength(1);
      expect(connections[0]).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ ${b.connection.host.replace(/\./g, "\\.")} ${b.connection.port}$`));

      expect((await stack.destroy()).changes).toEqual({ delete: 2 });
      expect(await datasetExists(b, dataset)).toBe(false);
    });

    it("fails up on a wrong proxy.hostKey, naming the jump host; nothing reaches B", async () => {
      const keyDir = mkdtempSync(join(tmpdir(), "enjailed-key-"));
      keyDirs.push(keyDir);
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "wrong", "-f", join(keyDir, "id")]);
      const wrong = readFileSync(join(keyDir, "id.pub"), "utf8").trim();
      const dataset = `${PARENT}/enjailed-jk-${tag()}`;
      const stack = await openStack(PROGRAM, { config: config(dataset, wrong) });
      stacks.push(stack);
      const bBefore = (await b.sessions()).length;
      const aLog = sshdLog(a).length;

      const output = await engineFailure(() => stack.up());
      const mismatch = `host key ssh-ed25519 ${fingerprint(a.connection.hostKey)} does not match the pinned hostKey ssh-ed25519 ${fingerprint(wrong)}`;
      expect(output).toContain(mismatch);
      expect(sshdLog(a).slice(aLog)).not.toContain("Accepted publickey"); // refused before authentication
      expect((await b.sessions()).length).toBe(bBefore);
      expect(await datasetExists(b, dataset)).toBe(false);
      // the message must say the key belongs to the jump host, not to the target
      const line = output.split("\n").find((l) => l.includes(mismatch)) ?? "";
      expect(line).toContain(jumpDescription());
    });
  });
});
