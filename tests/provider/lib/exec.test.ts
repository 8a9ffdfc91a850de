import { createServer } from "net";
import type { AddressInfo } from "net";
import { closeSshConnections, ConnectionError, RemoteCommandError, run, sshPoolStats } from "../../../provider/lib/exec";
import { connectionSchema } from "../../../provider/lib/connection";
import { problem } from "../../../provider/lib/errors";
import { sh } from "../../../provider/lib/sh";
import { startFakeHost, strangerPublicKey } from "../../helpers/fakeHost";
import type { FakeHost, Reply } from "../../helpers/fakeHost";

const hosts: FakeHost[] = [];
async function host(reply: (command: string, stdin: string) => Reply | Promise<Reply>, options?: Parameters<typeof startFakeHost>[1]): Promise<FakeHost> {
  const h = await startFakeHost(reply, options);
  hosts.push(h);
  return h;
}

afterEach(async () => {
  await closeSshConnections();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

describe("run over SSH", () => {
  it("run: returns exit code, stdout and stderr, and records the exact command", async () => {
    const h = await host(() => ({ stdout: "out\n", stderr: "warn\n" }));
    const r = await run(h.connection, sh`zfs list -H ${"zroot/a b"}`);
    expect(r).toEqual({
      command: "zfs list -H 'zroot/a b'", exitCode: 0, stdout: "out\n", stderr: "warn\n",
      target: `root@127.0.0.1:${h.connection.port}`,
    });
    expect(h.commands).toEqual(["zfs list -H 'zroot/a b'"]);
  });

  it("run: passes stdin, never on the command line", async () => {
    const h = await host((_c, stdin) => ({ stdout: stdin.toUpperCase() }));
    const r = await run(h.connection, "tr a-z A-Z", { stdin: "secret text" });
    expect(r.stdout).toBe("SECRET TEXT");
    expect(h.stdins).toEqual(["secret text"]);
    expect(h.commands.join("")).not.toContain("secret");
  });

  it("fails run on a disallowed exit code, with the command and stderr in the message", async () => {
    const h = await host(() => ({ exitCode: 1, stderr: "cannot open 'zroot/x': dataset does not exist\n" }));
    const err = await run(h.connection, "zfs get all 'zroot/x'").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    const wrapped = problem("reading", "ZFS dataset", "zroot/x", err);
    expect(wrapped.message).toBe([
      `reading ZFS dataset (zroot/x): command failed with exit code 1 on root@127.0.0.1:${h.connection.port}`,
      "  $ zfs get all 'zroot/x'",
      "  cannot open 'zroot/x': dataset does not exist",
    ].join("\n"));
    const allowed = await run(h.connection, "zfs get all 'zroot/x'", { allowExitCodes: [1] });
    expect(allowed.exitCode).toBe(1);
  });

  it("run: a full public key line pins the host as well as a fingerprint", async () => {
    const h = await host(() => ({ stdout: "ok" }));
    const r = await run({ ...h.connection, hostKey: h.hostKeyLine }, "true");
    expect(r.stdout).toBe("ok");
  });

  it("fails run when the host presents another key, naming both fingerprints", async () => {
    const h = await host(() => ({}));
    const stranger = strangerPublicKey();
    const err = await run({ ...h.connection, hostKey: stranger }, "true").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    const pinned = (await import("../../../provider/lib/connection")).parseHostKey(stranger);
    expect((err as Error).message).toBe(
      `connecting to root@127.0.0.1:${h.connection.port}: host key ssh-ed25519 ${h.hostKeyFingerprint} does not match the pinned hostKey ssh-ed25519 ${pinned.fingerprint}`,
    );
    expect(h.commands).toEqual([]);
  });

  it("fails run when the host refuses our key", async () => {
    const h = await host(() => ({}), { authorizedKey: strangerPublicKey() });
    const err = await run(h.connection, "true").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(new RegExp(`^connecting to root@127\\.0\\.0\\.1:${h.connection.port}: authentication as "root" failed \\(tried the key file ".*client_ed25519"`));
    expect((err as Error).message).not.toMatch(/PRIVATE KEY/);
  });

  it("fails run when the user is wrong", async () => {
    const h = await host(() => ({}));
    const err = await run({ ...h.connection, user: "nobody", become: "none" }, "true").catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^connecting to nobody@127\.0\.0\.1:\d+: authentication as "nobody" failed/);
  });

  it("fails run with 'connection refused' after dialErrorLimit attempts", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const conn = connectionSchema().parse({ host: "127.0.0.1", port, hostKey: "SHA256:" + "A".repeat(43), dialErrorLimit: 2 });
    const err = await run(conn, "true").catch((e: unknown) => e);
    expect((err as Error).message).toBe(`connecting to root@127.0.0.1:${port}: connection refused (2 attempts)`);
  });

  it("run: 50 concurrent commands share ONE connection and all complete", async () => {
    let inFlight = 0;
    let peak = 0;
    const h = await host(async (command) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { stdout: command.replace(/^echo /, "") };
    });
    const before = sshPoolStats().dials;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => run(h.connection, `echo ${i}`)));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(h.connections).toBe(1);
    expect(sshPoolStats().dials - before).toBe(1);
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThan(1);
  });

  it("run: reuses the connection for later commands", async () => {
    const h = await host(() => ({ stdout: "x" }));
    await run(h.connection, "a");
    await run(h.connection, "b");
    expect(h.connections).toBe(1);
  });

  it("run: a connection dropped mid-read is re-established for an idempotent command", async () => {
    let calls = 0;
    const h = await host(() => (++calls === 1 ? { drop: true } : { stdout: "data" }));
    const r = await run(h.connection, "cat /etc/rc.conf", { idempotent: true });
    expect(r.stdout).toBe("data");
    expect(h.commands).toEqual(["cat /etc/rc.conf", "cat /etc/rc.conf"]);
    expect(h.connections).toBe(2);
  });

  it("fails run without retrying a write when the connection drops mid-command", async () => {
    const h = await host(() => ({ drop: true }));
    const err = await run(h.connection, "zfs create 'zroot/a'").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe([
      `connection to root@127.0.0.1:${h.connection.port} was lost while a command ran; it may or may not have taken effect, so it is not retried blindly`,
      "  $ zfs create 'zroot/a'",
    ].join("\n"));
    expect(h.commands).toEqual(["zfs create 'zroot/a'"]);
  });

  it("run: wraps the command once for doas and sudo, not for root or become none", async () => {
    const h = await host(() => ({ stdout: "ok" }), { user: "admin" });
    await run({ ...h.connection, become: "doas" }, sh`echo ${"it's"}`);
    await run({ ...h.connection, become: "sudo" }, "id -u");
    await run({ ...h.connection, become: "none" }, "id -u");
    await run({ ...h.connection, become: "doas" }, "id -u", { become: false });
    expect(h.commands).toEqual([
      "doas sh -c 'echo '\\''it'\\''\\'\\'''\\''s'\\'''",
      "sudo -n sh -c 'id -u'",
      "id -u",
      "id -u",
    ]);
  });

  it("fails run with a message naming doas when doas refuses", async () => {
    const h = await host(() => ({ exitCode: 1, stderr: "doas: Operation not permitted\n" }), { user: "admin" });
    const err = await run({ ...h.connection, become: "doas" }, "zfs list", { allowExitCodes: [1] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    expect((err as Error).message).toBe([
      `doas refused to run the command as root on admin@127.0.0.1:${h.connection.port}: doas: Operation not permitted (doas.conf(5) needs a rule such as "permit nopass admin as root")`,
      "  $ zfs list",
      "  doas: Operation not permitted",
    ].join("\n"));
  });

  it("fails run with a message naming sudo when sudo wants a password", async () => {
    const h = await host(() => ({ exitCode: 1, stderr: "sudo: a password is required\n" }), { user: "admin" });
    const err = await run({ ...h.connection, become: "sudo" }, "zfs list").catch((e: unknown) => e);
    expect((err as Error).message.split("\n")[0]).toBe(
      `sudo refused to run the command as root on admin@127.0.0.1:${h.connection.port}: sudo: a password is required (sudoers(5) needs "admin ALL=(root) NOPASSWD: ALL" or narrower; sudo runs with -n and cannot ask for a password)`,
    );
  });

  it("fails run after timeoutSeconds", async () => {
    const h = await host(() => ({ delayMs: 3000 }));
    const err = await run(h.connection, "sleep 3", { timeoutSeconds: 1 }).catch((e: unknown) => e);
    expect((err as Error).message.split("\n")).toEqual([
      `command timed out after 1 seconds on root@127.0.0.1:${h.connection.port}`,
      "  $ sleep 3",
    ]);
  });
});

describe("run locally", () => {
  it("run: the local transport runs through /bin/sh with the same result shape", async () => {
    const conn = connectionSchema().parse({ transport: "local", host: "this-host", become: "none" });
    const r = await run(conn, sh`printf %s ${"a'b"}; echo err >&2; exit 3`, { allowExitCodes: [3], stdin: "x" });
    expect(r).toEqual({ command: "printf %s 'a'\\''b'; echo err >&2; exit 3", exitCode: 3, stdout: "a'b", stderr: "err\n", target: "local" });
    await expect(run(conn, "cat", { stdin: "in" })).resolves.toMatchObject({ stdout: "in" });
    await expect(run(conn, "exit 4")).rejects.toThrow("command failed with exit code 4 on local\n  $ exit 4");
  });
});
