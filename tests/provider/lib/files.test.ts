import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync, readdirSync, mkdirSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { connectionSchema } from "../../../provider/lib/connection";
import { closeSshConnections } from "../../../provider/lib/exec";
import { filesParseLs, readRemoteFile, removeRemoteFile, withRemoteLock, writeRemoteFile } from "../../../provider/lib/files";
import { startFakeHost } from "../../helpers/fakeHost";

// The local transport runs these scripts through this machine's /bin/sh: the same text goes over SSH to FreeBSD.
const local = connectionSchema().parse({ transport: "local", host: "this-host", become: "none" });
const group = process.getuid?.() === 0 ? "root" : undefined;
const dir = mkdtempSync(join(tmpdir(), "enjailed-files-"));

describe("remote files (local transport)", () => {
  it("read: missing, unreadable and file are distinct", async () => {
    expect(await readRemoteFile(local, join(dir, "nope"))).toEqual({ kind: "missing" });
    mkdirSync(join(dir, "adir"));
    expect(await readRemoteFile(local, join(dir, "adir"))).toEqual({ kind: "unreadable", reason: "not a regular file" });
    symlinkSync(join(dir, "nowhere"), join(dir, "dangling"));
    expect(await readRemoteFile(local, join(dir, "dangling"))).toEqual({ kind: "unreadable", reason: "a symbolic link to nothing" });
    const p = join(dir, "it's a file; $(x)");
    writeFileSync(p, "line1\nline2\n\n", { mode: 0o640 });
    const f = await readRemoteFile(local, p);
    expect(f).toMatchObject({ kind: "file", content: "line1\nline2\n\n", mode: "0640" });
  });

  it("write: atomically, with mode, content byte for byte, no temporary file left", async () => {
    const p = join(dir, "conf file.conf");
    const content = "a = 'b';\n$(rm -rf /)\n`x`\n日本\n";
    await writeRemoteFile(local, p, content, { mode: "0600", ...(group ? { owner: "root", group } : { owner: String(process.getuid?.()), group: String(process.getgid?.()) }) });
    expect(readFileSync(p, "utf8")).toBe(content);
    expect((statSync(p).mode & 0o7777).toString(8)).toBe("600");
    expect(readdirSync(dir).filter((n) => n.startsWith(".enjailed."))).toEqual([]);
    const back = await readRemoteFile(local, p);
    expect(back).toMatchObject({ kind: "file", content, mode: "0600" });
  });

  it("write: keepPrevious keeps the content from before the first overwrite", async () => {
    const p = join(dir, "rc.conf");
    writeFileSync(p, "hand written\n");
    const owner = group ? { owner: "root", group } : { owner: String(process.getuid?.()), group: String(process.getgid?.()) };
    await writeRemoteFile(local, p, "v1\n", { keepPrevious: true, ...owner });
    await writeRemoteFile(local, p, "v2\n", { keepPrevious: true, ...owner });
    expect(readFileSync(p, "utf8")).toBe("v2\n");
    expect(readFileSync(`${p}.orig`, "utf8")).toBe("hand written\n");
  });

  it("fails write with an invalid mode", async () => {
    await expect(writeRemoteFile(local, join(dir, "x"), "", { mode: "rw" })).rejects.toThrow('writing file (' + join(dir, "x") + '): mode "rw" is not octal such as "0644"');
  });

  it("remove: removed, then absent", async () => {
    const p = join(dir, "gone");
    writeFileSync(p, "x");
    expect(await removeRemoteFile(local, p)).toBe("removed");
    expect(existsSync(p)).toBe(false);
    expect(await removeRemoteFile(local, p)).toBe("absent");
  });

  it("filesParseLs: mode bits including setuid, setgid and sticky", () => {
    expect(filesParseLs("file -rw-r--r--  1 root  wheel  12 Jan  1 00:00 /etc/x")).toEqual({ mode: "0644", owner: "root", group: "wheel" });
    expect(filesParseLs("file -rwsr-s--T. 1 a b 0 x")).toEqual({ mode: "7750", owner: "a", group: "b" });
    expect(filesParseLs("nonsense")).toBeUndefined();
  });
});

describe("withRemoteLock", () => {
  afterEach(closeSshConnections);

  it("lock: wraps the command in lockf -k with a wait limit", async () => {
    const h = await startFakeHost(() => ({ stdout: "done" }));
    try {
      const r = await withRemoteLock(h.connection, "/var/run/enjailed.rc.conf.lock", "sysrc -f /etc/rc.conf a=b", { timeoutSeconds: 30 });
      expect(r.stdout).toBe("done");
      expect(h.commands).toEqual(["lockf -k -t '30' '/var/run/enjailed.rc.conf.lock' /bin/sh -c 'sysrc -f /etc/rc.conf a=b'"]);
    } finally {
      await h.close();
    }
  });
});
