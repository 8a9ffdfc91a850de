// The lab host's own guarantees (issue #3): real SSH with pinned keys, a real privilege boundary, isolation from the
// machine, several labs side by side, reset and stop. Needs root: without it every test fails and says why.

import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fingerprint, sshArgs, startLab } from "./lab";
import type { ExecResult, Lab } from "./lab";

jest.setTimeout(120_000);

const scratch = mkdtempSync(join(tmpdir(), "enjailed-labtest-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function ssh(lab: Lab, args: string[], command: string): ExecResult {
  try {
    const stdout = execFileSync("ssh", [...args, `${lab.connection.user}@${lab.connection.host}`, "--", command], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return { code: 0, stdout, stderr: "" };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

function freshKey(name: string): string {
  const path = join(scratch, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path]);
  return path;
}

function baseArgs(lab: Lab, key: string, knownHosts: string): string[] {
  return ["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
    "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-p", String(lab.connection.port)];
}

describe("lab", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab();
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("ssh: runs commands as the unprivileged admin user and logs each session", async () => {
    const r = await lab.ssh("id -un; id -u");
    expect(r).toEqual({ code: 0, stdout: "admin\n1001\n", stderr: "" });
    const sessions = await lab.sessions();
    const last = sessions[sessions.length - 1];
    expect(last?.command).toBe("id -un; id -u");
    expect(last?.user).toBe("admin");
  });

  it("lab.json: sessionLog is readable from the machine and holds the commands", async () => {
    await lab.ssh("echo via-session-log");
    const lines = readFileSync(lab.connection.sessionLog, "utf8").trim().split("\n");
    expect(JSON.parse(lines[lines.length - 1] as string)).toMatchObject({ user: "admin", command: "echo via-session-log" });
  });

  it("lab.json: has exactly the keys of docs/CONTRACTS.md", () => {
    const onDisk = JSON.parse(readFileSync(join(lab.dir, "lab.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(onDisk).sort()).toEqual(
      ["become", "host", "hostKey", "hostKeyFingerprint", "name", "pid", "port", "privateKeyFile", "root", "sessionLog", "user"],
    );
    expect(onDisk.host).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(onDisk.become).toBe("doas");
  });

  it("host key: ssh-keyscan sees exactly the key and fingerprint lab.json names", () => {
    const c = lab.connection;
    const scanned = execFileSync("ssh-keyscan", ["-t", "ed25519", "-p", String(c.port), c.host], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    expect(scanned).toBe(`[${c.host}]:${c.port} ${c.hostKey}`);
    expect(fingerprint(c.hostKey)).toBe(c.hostKeyFingerprint);
    const viaKeygen = execFileSync("ssh-keygen", ["-l", "-f", join(lab.dir, "host_ed25519.pub")], { encoding: "utf8" });
    expect(viaKeygen.split(" ")[1]).toBe(c.hostKeyFingerprint);
  });

  it("fails a client that does not present the lab's client key: Permission denied (publickey)", () => {
    const other = freshKey("stranger");
    const r = ssh(lab, baseArgs(lab, other, join(lab.dir, "known_hosts")), "true");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Permission denied (publickey)");
  });

  it("fails a connection whose known_hosts line holds another host key", () => {
    const wrong = freshKey("not-the-host");
    const kh = join(scratch, "wrong_known_hosts");
    writeFileSync(kh, `[${lab.connection.host}]:${lab.connection.port} ${readFileSync(`${wrong}.pub`, "utf8")}`);
    const r = ssh(lab, baseArgs(lab, lab.connection.privateKeyFile, kh), "true");
    expect(r.code).toBe(255);
    expect(r.stderr).toContain("Host key verification failed");
  });

  it("isolation: a file written to /etc/jail.conf.d through ssh + doas lands in the lab's root, not the machine's", async () => {
    const file = `enjailed-isolation-${process.pid}.conf`;
    const w = await lab.ssh(`doas /bin/sh -c 'mkdir -p /etc/jail.conf.d && cat > /etc/jail.conf.d/${file}'`, {
      input: "isolation { }\n",
    });
    expect(w).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(lab.hostPath(`/etc/jail.conf.d/${file}`), "utf8")).toBe("isolation { }\n");
    expect(readFileSync(join(lab.dir, "upper", "etc", "jail.conf.d", file), "utf8")).toBe("isolation { }\n");
    expect(existsSync(join("/etc/jail.conf.d", file))).toBe(false);
    expect((await lab.rootExec(`cat /etc/jail.conf.d/${file}`)).stdout).toBe("isolation { }\n");
  });

  it("privilege: without escalation a write under /etc fails with Permission denied", async () => {
    const r = await lab.ssh("echo x > /etc/jail.conf.d/denied.conf");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\/etc\/jail\.conf\.d\/denied\.conf: Permission denied/);
    const m = await lab.ssh("mkdir /usr/local/etc/enjailed-denied");
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/Permission denied/);
    // the simulated FreeBSD commands answer an unprivileged caller as FreeBSD does
    const jexec = await lab.ssh("jexec dns true");
    expect(jexec).toEqual({ code: 1, stdout: "", stderr: "jexec: jail_attach(1): Operation not permitted\n" });
  });

  it("privilege: doas runs commands as root", async () => {
    expect(await lab.ssh("doas id -u")).toEqual({ code: 0, stdout: "0\n", stderr: "" });
  });

  it("privilege: sudo, not configured in this lab, refuses as sudo does", async () => {
    const r = await lab.ssh("sudo -n id -u");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("sudo: a password is required\n");
  });

  it("sessions: 50 commands at once over one multiplexed connection (MaxSessions 64)", async () => {
    const c = lab.connection;
    const sock = join(scratch, "mux.sock");
    const knownHosts = join(lab.dir, "known_hosts");
    const master = spawn("ssh", [...sshArgs(c, knownHosts, ["-M", "-S", sock, "-N", "-o", "ControlPersist=no"])], {
      stdio: "ignore",
    });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(sock)).toBe(true);
      const one = (i: number): Promise<ExecResult> =>
        new Promise((resolve) => {
          execFile("ssh", [...sshArgs(c, knownHosts, ["-S", sock, "-o", "ControlMaster=no"]), "--", `sleep 1; echo ${i}`],
            (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr }));
        });
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => one(i)));
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => ({ code: 0, stdout: `${i}\n`, stderr: "" })));
      const muxed = (await lab.sessions()).filter((x) => /^sleep 1; echo \d+$/.test(x.command));
      expect(muxed).toHaveLength(50);
      expect(new Set(muxed.map((x) => x.connection)).size).toBe(1);
    } finally {
      master.kill();
    }
  });

  it("reset: returns to the starting state with the same address, port and keys", async () => {
    const before = lab.connection;
    expect((await lab.ssh("doas touch /etc/jail.conf.d/reset-me.conf")).code).toBe(0);
    await lab.reset();
    const after = lab.connection;
    expect({ ...after, pid: 0 }).toEqual({ ...before, pid: 0 });
    expect(after.pid).not.toBe(before.pid);
    const r = await lab.ssh("ls /etc/jail.conf.d/reset-me.conf");
    expect(r.code).not.toBe(0);
  });
});

describe("lab escalation", () => {
  it("privilege: sudo works when configured, and doas then refuses", async () => {
    const lab = await startLab({ escalation: ["sudo"] });
    try {
      expect(lab.connection.become).toBe("sudo");
      expect(await lab.ssh("sudo -n id -u")).toEqual({ code: 0, stdout: "0\n", stderr: "" });
      const d = await lab.ssh("doas id -u");
      expect(d.code).toBe(1);
      expect(d.stderr).toBe("doas: Operation not permitted\n");
    } finally {
      await lab.stop();
    }
  });
});

describe("labs side by side", () => {
  it("three labs run at once with distinct addresses and ports, and a change in one is invisible in the others", async () => {
    const labs = await Promise.all([startLab(), startLab(), startLab()]);
    try {
      const endpoints = new Set(labs.map((l) => `${l.connection.host}:${l.connection.port}`));
      expect(endpoints.size).toBe(3);
      expect(new Set(labs.map((l) => l.connection.hostKey)).size).toBe(3);
      const [a, b, c] = labs as [Lab, Lab, Lab];
      expect((await a.ssh("doas /bin/sh -c 'echo a > /etc/jail.conf.d/only-a.conf'")).code).toBe(0);
      expect((await a.ssh("cat /etc/jail.conf.d/only-a.conf")).stdout).toBe("a\n");
      for (const other of [b, c]) {
        const r = await other.ssh("cat /etc/jail.conf.d/only-a.conf");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/No such file or directory/);
      }
      // a lab's client key opens no other lab
      const cross = await b.ssh("true").then(() =>
        ssh(b, baseArgs(b, a.connection.privateKeyFile, join(b.dir, "known_hosts")), "true"),
      );
      expect(cross.stderr).toContain("Permission denied (publickey)");
    } finally {
      await Promise.all(labs.map((l) => l.stop()));
    }
  });
});

describe("lab profiles", () => {
  it("profiles: each starting shape of the sim is laid (seed, no-snapshot, freebsd14, pkgbase-disabled)", async () => {
    const labs = await Promise.all(
      (["no-snapshot", "freebsd14", "pkgbase-disabled"] as const).map((profile) => startLab({ profile })),
    );
    try {
      const [noSnapshot, freebsd14, pkgbaseDisabled] = labs as [Lab, Lab, Lab];
      expect((await noSnapshot.ssh("zfs list -H -t snapshot -o name")).stdout).toBe("");
      expect((await freebsd14.ssh("zfs list -H -t snapshot -o name")).stdout).toBe("zroot/usr/jail/14.3@skel\n");
      const pkg = await pkgbaseDisabled.ssh("doas pkg -r /usr/jail/dns install -y FreeBSD-zfs");
      expect(pkg.code).not.toBe(0);
      const seedPkg = await freebsd14.ssh("doas pkg -r /usr/jail/dns install -y FreeBSD-zfs");
      expect(seedPkg.code).toBe(0);
    } finally {
      await Promise.all(labs.map((l) => l.stop()));
    }
  });
});

describe("lab without root", () => {
  it("fails to start, and says why", async () => {
    const getuid = jest.spyOn(process, "getuid").mockReturnValue(1000);
    try {
      await expect(startLab()).rejects.toThrow(/^starting lab: the lab needs root/);
    } finally {
      getuid.mockRestore();
    }
  });
});

describe("lab stop", () => {
  it("stop: ends sshd, the namespace's mounts go with it, and a temporary directory is removed", async () => {
    const lab = await startLab();
    const { pid } = lab.connection;
    const dir = lab.dir;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await lab.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(dir);
  });
});
