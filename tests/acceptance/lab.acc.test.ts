// The acceptance target itself: a fresh lab by default, and a host described by ENJAILED_TEST_HOST used unchanged.
// Needs root when no ENJAILED_TEST_HOST is set (it starts labs); fails and says why otherwise.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { startLab } from "../lab/lab";
import { acquireTarget, asRoot } from "./target";

jest.setTimeout(120_000);

describe("acceptance target", () => {
  it("asRoot: wraps a command line for doas, sudo and none", () => {
    expect(asRoot("echo 'a b' > /etc/x", "doas")).toBe(`doas /bin/sh -c 'echo '\\''a b'\\'' > /etc/x'`);
    expect(asRoot("id", "sudo")).toBe(`sudo -n /bin/sh -c 'id'`);
    expect(asRoot("id", "none")).toBe("id");
  });

  it("hostExec: runs as root on the target, whatever it is", async () => {
    const target = await acquireTarget();
    try {
      expect(await target.hostExec("id -u")).toEqual({ code: 0, stdout: "0\n", stderr: "" });
      expect(existsSync(target.privateKeyFile)).toBe(true);
      expect(target.connection.hostKey).toMatch(/^ssh-ed25519 AAAA/);
    } finally {
      await target.release();
    }
  });

  it("ENJAILED_TEST_HOST: a host described by a lab.json-shaped file is used unchanged and outlives release()", async () => {
    if (process.env.ENJAILED_TEST_HOST) {
      // already pointed at a real host: the test above covered it, and this one must not start a lab next to it
      expect((await acquireTarget()).kind).toBe("real");
      return;
    }
    const lab = await startLab();
    const saved = process.env.ENJAILED_TEST_HOST;
    process.env.ENJAILED_TEST_HOST = join(lab.dir, "lab.json");
    try {
      const target = await acquireTarget();
      expect(target.kind).toBe("real");
      expect(target.connection).toEqual({
        host: lab.connection.host,
        port: lab.connection.port,
        user: "admin",
        hostKey: lab.connection.hostKey,
        become: "doas",
      });
      const pidsBefore = (await lab.sessions()).length;
      expect(await target.hostExec("printf '%s' \"$(id -un)\"")).toEqual({ code: 0, stdout: "root", stderr: "" });
      expect((await lab.sessions()).length).toBe(pidsBefore + 1);
      await target.release();
      expect(await lab.ssh("true")).toEqual({ code: 0, stdout: "", stderr: "" });
    } finally {
      if (saved === undefined) delete process.env.ENJAILED_TEST_HOST;
      else process.env.ENJAILED_TEST_HOST = saved;
      await lab.stop();
    }
  });
});
