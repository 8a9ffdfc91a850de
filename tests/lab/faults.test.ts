// Fault injection through SSH (issue #3, point 8): the rules Lab.faults writes are applied by the sim's lab-session
// (scope "session": the SSH command line) and by each simulated command (scope "command"). Needs root.

import { startLab } from "./lab";
import type { Lab } from "./lab";

jest.setTimeout(120_000);

describe("lab faults", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.stop();
  });
  afterEach(async () => {
    await lab.faults.clear();
  });

  it("failNext: the next n matching SSH commands fail with the given status and stderr, then commands run again", async () => {
    await lab.faults.failNext("^doas zfs create ", 2, { exitCode: 2, stderr: "injected failure" });
    for (const name of ["a", "b"]) {
      expect(await lab.ssh(`doas zfs create zroot/usr/fail-${name}`)).toEqual({ code: 2, stdout: "", stderr: "injected failure\n" });
    }
    expect(await lab.ssh("doas zfs create zroot/usr/fail-c")).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(await lab.faults.rules()).toEqual([]);
    const listed = await lab.ssh("zfs list -H -o name -r zroot/usr");
    expect(listed.stdout).toContain("zroot/usr/fail-c\n");
    expect(listed.stdout).not.toContain("zroot/usr/fail-a");
  });

  it("failNext: a command-scope rule hits the simulated command wherever it runs, here inside a script", async () => {
    await lab.faults.failNext("^zfs snapshot ", 1, { scope: "command", stderr: "cannot create snapshot: I/O error" });
    const r = await lab.ssh("doas /bin/sh -c 'zfs snapshot zroot/usr/jail@one; echo status=$?'");
    expect(r).toEqual({ code: 0, stdout: "status=1\n", stderr: "cannot create snapshot: I/O error\n" });
    expect(await lab.ssh("doas zfs snapshot zroot/usr/jail@two")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("dropNext: the connection dies in the middle of a command, after its first output", async () => {
    await lab.faults.dropNext("^doas zfs list", { stdout: "NAME\n", delayMs: 200 });
    const r = await lab.ssh("doas zfs list");
    expect(r.code).toBe(255);
    expect(r.stdout).toBe("NAME\n");
    expect((await lab.ssh("doas zfs list -H -o name zroot")).stdout).toBe("zroot\n");
  });

  it("dropNext afterRunning: the command takes effect, but its exit status never reaches the client", async () => {
    await lab.faults.dropNext("dropped\\.conf", { afterRunning: true });
    const r = await lab.ssh("doas touch /etc/jail.conf.d/dropped.conf");
    expect(r.code).toBe(255);
    expect(await lab.ssh("ls /etc/jail.conf.d/dropped.conf")).toEqual({ code: 0, stdout: "/etc/jail.conf.d/dropped.conf\n", stderr: "" });
  });

  it("slow: matching commands wait before they run, until cleared", async () => {
    await lab.faults.slow("^echo slow$", 1500);
    const t = Date.now();
    expect((await lab.ssh("echo slow")).stdout).toBe("slow\n");
    expect(Date.now() - t).toBeGreaterThanOrEqual(1500);
    expect(await lab.faults.rules()).toEqual([{ match: "^echo slow$", scope: "session", action: "slow", delayMs: 1500 }]);
    await lab.faults.clear();
    expect((await lab.ssh("echo slow")).stdout).toBe("slow\n");
    expect(await lab.faults.rules()).toEqual([]);
  });

  it("outOfSpace: writes to the pool fail while on", async () => {
    await lab.faults.outOfSpace(true);
    const full = await lab.ssh("doas zfs create zroot/usr/jail/full");
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/^cannot create 'zroot\/usr\/jail\/full': out of space\n$/);
    await lab.faults.outOfSpace(false);
    expect(await lab.ssh("doas zfs create zroot/usr/jail/full")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("sessions: every SSH command is logged with the user and the client's address", async () => {
    await lab.ssh("true # logged");
    const last = (await lab.sessions()).pop();
    expect(last).toMatchObject({ user: "admin", command: "true # logged" });
    expect(last?.connection).toMatch(new RegExp(`^127\\.0\\.0\\.1 \\d+ ${lab.connection.host.replace(/\./g, "\\.")} ${lab.connection.port}$`));
  });
});
