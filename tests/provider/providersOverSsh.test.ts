// Layer 2 of STYLE.md §3.9: the ZfsDataset and JailConf providers over real SSH against the scripted fake host
// (tests/helpers/fakeHost.ts), logged in as a non-root user with `become: "doas"`, so the assertions see the exact
// command lines that reach the host, escalation wrapping and quoting included, which module mocks cannot show.
import { execFileSync } from "child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { closeSshConnections } from "../../provider/lib/exec";
import { jailConfProvider, jailConfSchema, renderJailConf } from "../../provider/jailConf";
import type { JailConfInputs } from "../../provider/jailConf";
import { zfsDatasetProvider, zfsDatasetSchema } from "../../provider/zfsDataset";
import type { ZfsDatasetInputs, ZfsDatasetState } from "../../provider/zfsDataset";
import { startFakeHost } from "../helpers/fakeHost";
import type { FakeHost, Reply } from "../helpers/fakeHost";

// ── helpers ─────────────────────────────────────────────────────────────────

/** POSIX single quoting, written here independently of provider/lib/sh.ts so the tests do not grade their own work. */
function q(s: string): string {
  return `'${s.split("'").join(`'\\''`)}'`;
}

/** What reaches the host for `inner` when the login user is not root and `become` is doas. */
function asRoot(inner: string): string {
  return `doas sh -c ${q(inner)}`;
}

/** The command inside `doas sh -c '…'`, or a failure when a command arrives unwrapped. */
function unwrap(command: string): string {
  const m = /^doas sh -c '([\s\S]*)'$/.exec(command);
  if (m === null) throw new Error(`fake host: not wrapped for doas: ${command}`);
  return (m[1] as string).split(`'\\''`).join("'");
}

const NOT_FOUND = (name: string): Reply => ({ exitCode: 1, stderr: `cannot open '${name}': dataset does not exist\n` });

const hosts: FakeHost[] = [];
/** A fake host that accepts `admin` (not root), so every command arrives wrapped for doas. */
async function doasHost(reply: (inner: string, stdin: string) => Reply): Promise<FakeHost> {
  const h = await startFakeHost((command, stdin) => reply(unwrap(command), stdin), { user: "admin", connection: { become: "doas" } });
  hosts.push(h);
  return h;
}

afterEach(async () => {
  await closeSshConnections();
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

function zfsInputs(h: FakeHost, over: Record<string, unknown> = {}): ZfsDatasetInputs {
  return zfsDatasetSchema().parse({ connection: h.connection, name: "zroot/jails/web", ...over });
}

function zfsState(i: ZfsDatasetInputs): ZfsDatasetState {
  return { ...i, guid: "1234", mountpoint: "/jails/web", originSnapshot: "", onDelete: "destroy" };
}

/** `zfs get -H -p -o property,value,source` output for a dataset that has `props` set locally. */
function zfsGetOutput(props: Record<string, string>, origin = "-"): string {
  const lines = Object.entries(props).map(([k, v]) => `${k}\t${v}\tlocal`);
  return [...lines, `origin\t${origin}\t-`, "guid\t1234\t-", "type\tfilesystem\t-"].join("\n") + "\n";
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof Error)) throw new Error(`expected a rejection with an Error, got ${String(e)}`);
  return e;
}

const HOSTILE = `x'; rm -rf / #$(reboot)`;

// ── ZfsDataset ──────────────────────────────────────────────────────────────

describe("ZfsDataset provider over SSH", () => {
  const NAME = "zroot/jails/web";
  const GET = `zfs get -H -p -o property,value,source 'compression,jailed,mountpoint,origin,guid,type,enjailed:data' '${NAME}'`;

  it("create: one zfs create with every -o, wrapped once for doas, then reads back", async () => {
    let exists = false;
    const props = { mountpoint: "/jails/web", jailed: "on", compression: "lz4" };
    const h = await doasHost((inner) => {
      if (inner.startsWith("zfs get")) return exists ? { stdout: zfsGetOutput(props) } : NOT_FOUND(NAME);
      if (inner.startsWith("zfs create")) {
        exists = true;
        return {};
      }
      return { exitCode: 127, stderr: `unexpected: ${inner}\n` };
    });
    const r = await zfsDatasetProvider.create!(zfsInputs(h, { properties: props, createParents: true }));
    expect(r.id).toBe(NAME);
    expect(h.commands).toEqual([
      asRoot(GET),
      `doas sh -c 'zfs create -p -o '\\''compression=lz4'\\'' -o '\\''jailed=on'\\'' -o '\\''mountpoint=/jails/web'\\'' '\\''${NAME}'\\'''`,
      asRoot(GET),
    ]);
    expect(h.commands[1]).toBe(asRoot(`zfs create -p -o 'compression=lz4' -o 'jailed=on' -o 'mountpoint=/jails/web' '${NAME}'`));
    expect(r.outs).toMatchObject({ guid: "1234", originSnapshot: "", properties: props, onDelete: "destroy" });
  });

  it("create: clones from origin in one zfs clone with every -o and the data mark", async () => {
    let exists = false;
    const h = await doasHost((inner) => {
      if (inner.startsWith("zfs get")) {
        return exists ? { stdout: zfsGetOutput({ jailed: "on", "enjailed:data": "on" }, "zroot/jails/base@skel") } : NOT_FOUND(NAME);
      }
      if (inner.startsWith("zfs clone")) {
        exists = true;
        return {};
      }
      return { exitCode: 127, stderr: `unexpected: ${inner}\n` };
    });
    const r = await zfsDatasetProvider.create!(zfsInputs(h, { origin: "zroot/jails/base@skel", properties: { jailed: "on" }, data: true }));
    expect(h.commands.map(unwrap).filter((c) => !c.startsWith("zfs get"))).toEqual([
      `zfs clone -o 'enjailed:data=on' -o 'jailed=on' 'zroot/jails/base@skel' '${NAME}'`,
    ]);
    expect(h.commands).toHaveLength(3);
    expect(r.outs).toMatchObject({ originSnapshot: "zroot/jails/base@skel", onDelete: "keep" });
  });

  it("create: a hostile property value reaches the host only inside single quotes", async () => {
    let exists = false;
    const props = { "com.example:note": HOSTILE };
    const h = await doasHost((inner) => {
      if (inner.startsWith("zfs get")) return exists ? { stdout: zfsGetOutput(props) } : NOT_FOUND(NAME);
      exists = true;
      return {};
    });
    const inputs = zfsInputs(h, { properties: props });
    await expect(zfsDatasetProvider.check!({} as ZfsDatasetInputs, inputs)).resolves.toMatchObject({ failures: [] });
    await zfsDatasetProvider.create!(inputs);
    const create = h.commands[1] as string;
    expect(unwrap(create)).toBe(`zfs create -o 'com.example:note=x'\\''; rm -rf / #$(reboot)' '${NAME}'`);
    expect(create).toBe(asRoot(`zfs create -o ${q(`com.example:note=${HOSTILE}`)} ${q(NAME)}`));

    // Run what the host received through the local /bin/sh, with a PATH holding only stand-ins: doas runs its
    // arguments, zfs prints each argument on its own line, and rm or reboot would leave a trip-wire file.
    const bin = mkdtempSync(join(tmpdir(), "enjailed-hostile-"));
    const tripwire = join(bin, "tripwire");
    const script = (body: string) => `#!/bin/sh\n${body}\n`;
    writeFileSync(join(bin, "doas"), script(`exec "$@"`));
    writeFileSync(join(bin, "zfs"), script(`for a in "$@"; do printf '[%s]\\n' "$a"; done`));
    writeFileSync(join(bin, "rm"), script(`echo rm >> ${q(tripwire)}`));
    writeFileSync(join(bin, "reboot"), script(`echo reboot >> ${q(tripwire)}`));
    for (const f of ["doas", "zfs", "rm", "reboot"]) chmodSync(join(bin, f), 0o755);
    symlinkSync("/bin/sh", join(bin, "sh"));
    try {
      const out = execFileSync("/bin/sh", ["-c", create], { env: { PATH: bin }, encoding: "utf8" });
      expect(out.split("\n")).toEqual(["[create]", "[-o]", `[com.example:note=${HOSTILE}]`, `[${NAME}]`, ""]);
      expect(existsSync(tripwire)).toBe(false);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("read: a dataset that does not exist gives an empty id", async () => {
    const h = await doasHost(() => NOT_FOUND(NAME));
    const i = zfsInputs(h, { properties: { compression: "lz4" } });
    await expect(zfsDatasetProvider.read!(NAME, zfsState(i))).resolves.toEqual({ id: "" });
    expect(h.commands).toEqual([
      asRoot(`zfs get -H -p -o property,value,source 'compression,origin,guid,type,mountpoint,enjailed:data' '${NAME}'`),
    ]);
  });

  it("fails read on a transient error instead of dropping the dataset", async () => {
    const h = await doasHost(() => ({ exitCode: 1, stderr: "I/O error\n" }));
    const i = zfsInputs(h, { properties: { compression: "lz4" } });
    const e = await failure(zfsDatasetProvider.read!(NAME, zfsState(i)));
    expect(e.message).toBe([
      `reading ZFS dataset (${NAME}): command failed with exit code 1 on admin@127.0.0.1:${h.connection.port}`,
      `  $ zfs get -H -p -o property,value,source 'compression,origin,guid,type,mountpoint,enjailed:data' '${NAME}'`,
      "  I/O error",
    ].join("\n"));
    expect(h.commands).toHaveLength(1);
  });

  it("fails delete of a dataset with children and snapshots, running no destroy", async () => {
    const h = await doasHost((inner) => {
      if (inner.startsWith("zfs list")) return { stdout: `${NAME}\n${NAME}/child\n${NAME}@snap\n` };
      if (inner.includes(" clones ")) return { stdout: `${NAME}@snap\t\n` };
      if (inner.includes("enjailed:data")) return { stdout: `${NAME}\t-\n${NAME}/child\t-\n` };
      return { exitCode: 127, stderr: `unexpected: ${inner}\n` };
    });
    const e = await failure(zfsDatasetProvider.delete!(NAME, zfsState(zfsInputs(h))));
    expect(e.message).toBe(
      `deleting ZFS dataset (${NAME}): it has children or snapshots (set destroyChildren to run zfs destroy -r): ${NAME}/child, ${NAME}@snap`,
    );
    expect(h.commands).toEqual([
      asRoot(`zfs list -H -o name -t filesystem,volume,snapshot -r '${NAME}'`),
      asRoot(`zfs get -H -o name,value clones -t snapshot -r '${NAME}'`),
      asRoot(`zfs get -H -o name,value -r -t filesystem,volume 'enjailed:data' '${NAME}'`),
    ]);
    expect(h.commands.map(unwrap).some((c) => c.includes("destroy"))).toBe(false);
  });

  it("delete: 'dataset does not exist' is success, without a destroy", async () => {
    const h = await doasHost(() => NOT_FOUND(NAME));
    await expect(zfsDatasetProvider.delete!(NAME, zfsState(zfsInputs(h)))).resolves.toBeUndefined();
    expect(h.commands).toEqual([asRoot(`zfs list -H -o name -t filesystem,volume,snapshot -r '${NAME}'`)]);
  });

  it("delete: destroys a plain dataset; one that vanishes before the destroy is success too", async () => {
    const h = await doasHost((inner) => (inner.startsWith("zfs list") ? { stdout: `${NAME}\n` } : NOT_FOUND(NAME)));
    await expect(zfsDatasetProvider.delete!(NAME, zfsState(zfsInputs(h)))).resolves.toBeUndefined();
    expect(h.commands).toEqual([
      asRoot(`zfs list -H -o name -t filesystem,volume,snapshot -r '${NAME}'`),
      asRoot(`zfs destroy '${NAME}'`),
    ]);
  });

  it("fails delete when zfs destroy fails for another reason, with the command and stderr", async () => {
    const h = await doasHost((inner) => (inner.startsWith("zfs list") ? { stdout: `${NAME}\n` } : { exitCode: 1, stderr: `cannot destroy '${NAME}': dataset is busy\n` }));
    const e = await failure(zfsDatasetProvider.delete!(NAME, zfsState(zfsInputs(h))));
    expect(e.message).toBe([
      `deleting ZFS dataset (${NAME}): command failed with exit code 1 on admin@127.0.0.1:${h.connection.port}`,
      `  $ zfs destroy '${NAME}'`,
      `  cannot destroy '${NAME}': dataset is busy`,
    ].join("\n"));
  });
});

// ── JailConf ────────────────────────────────────────────────────────────────

describe("JailConf provider over SSH", () => {
  const FILE = "/etc/jail.conf.d/web.conf";
  /** The atomic write lib/files.ts promises: temp file beside the target, owner and mode, then rename. */
  const WRITE = [
    "set -e",
    `p='${FILE}'`,
    `d=$(dirname -- "$p")`,
    `t=$(mktemp "$d/.enjailed.XXXXXX")`,
    `trap 'rm -f -- "$t"' EXIT`,
    `cat > "$t"`,
    `chown 'root:wheel' "$t"`,
    `chmod '0644' "$t"`,
    `mv -f -- "$t" "$p"`,
    "trap - EXIT",
  ].join("\n");
  const isRead = (inner: string) => inner.startsWith(`p='${FILE}'\nif [ ! -e "$p" ]`) && inner.endsWith(`exec cat -- "$p"`);

  function jailInputs(h: FakeHost, over: Record<string, unknown> = {}): JailConfInputs {
    return jailConfSchema().parse({
      connection: h.connection,
      name: "web",
      parameters: { path: "/usr/jail/${name}", persist: true, "exec.start": ["/bin/sh /etc/rc"] },
      ...over,
    });
  }

  it("create: writes the rendering atomically through a temp file and rename, content on stdin", async () => {
    const h = await doasHost((inner) => (isRead(inner) ? { stdout: "missing\n" } : {}));
    const i = jailInputs(h);
    const r = await jailConfProvider.create!(i);
    expect(r.id).toBe(FILE);
    expect(h.commands).toHaveLength(3);
    expect(isRead(unwrap(h.commands[0] as string))).toBe(true);
    expect(h.commands.slice(1)).toEqual([asRoot("mkdir -p /etc/jail.conf.d"), asRoot(WRITE)]);
    expect(h.stdins[2]).toBe(renderJailConf(i));
    expect(h.stdins[2]).toContain('exec.start = "/bin/sh /etc/rc";');
    expect(r.outs).toMatchObject({ file: FILE, content: renderJailConf(i), ownership: "0644 root:wheel" });
  });

  it("create: a hostile parameter value travels on stdin, never on a command line", async () => {
    const h = await doasHost((inner) => (isRead(inner) ? { stdout: "missing\n" } : {}));
    const hostile = `x'; rm -rf / #$$(reboot)`;
    const i = jailInputs(h, { parameters: { path: "/usr/jail/${name}", persist: true, "exec.start": [hostile] } });
    await jailConfProvider.create!(i);
    expect(h.commands.some((c) => c.includes("reboot") || c.includes("rm -rf /"))).toBe(false);
    expect(h.stdins[2]).toBe(renderJailConf(i));
    expect(h.stdins[2]).toContain("rm -rf / #\\$(reboot)");
  });

  it("read: a file that is gone gives an empty id", async () => {
    const h = await doasHost(() => ({ stdout: "missing\n" }));
    const i = jailInputs(h);
    const state = { ...i, file: FILE, content: renderJailConf(i), ownership: "0644 root:wheel" };
    await expect(jailConfProvider.read!(FILE, state)).resolves.toEqual({ id: "" });
    expect(h.commands).toHaveLength(1);
  });

  it("fails read when the file cannot be read, instead of dropping it", async () => {
    const h = await doasHost(() => ({ exitCode: 1, stderr: "cat: /etc/jail.conf.d/web.conf: Input/output error\n" }));
    const i = jailInputs(h);
    const state = { ...i, file: FILE, content: renderJailConf(i), ownership: "0644 root:wheel" };
    const e = await failure(jailConfProvider.read!(FILE, state));
    expect(e.message).toBe(`reading jail.conf file (${FILE}): cat: /etc/jail.conf.d/web.conf: Input/output error`);
  });

  it("fails delete while jls -j NAME jid exits 0, removing nothing", async () => {
    const h = await doasHost((inner) => (inner.startsWith("jls") ? { stdout: "7\n" } : { exitCode: 127, stderr: `unexpected: ${inner}\n` }));
    const i = jailInputs(h);
    const e = await failure(jailConfProvider.delete!(FILE, { ...i, file: FILE, content: "", ownership: "0644 root:wheel" }));
    expect(e.message).toBe(
      `deleting jail.conf file (${FILE}): jail "web" is running (jid 7); stop it first (service jail stop web) or set deleteWhileRunning`,
    );
    expect(h.commands).toEqual([asRoot("jls -j 'web' jid")]);
  });

  it("delete: removes the file once jls says the jail is not running", async () => {
    const h = await doasHost((inner) => (inner.startsWith("jls") ? { exitCode: 1, stderr: 'jls: jail "web" not found\n' } : { stdout: "removed\n" }));
    const i = jailInputs(h);
    await expect(jailConfProvider.delete!(FILE, { ...i, file: FILE, content: "", ownership: "0644 root:wheel" })).resolves.toBeUndefined();
    expect(h.commands).toEqual([
      asRoot("jls -j 'web' jid"),
      asRoot(`p='${FILE}'\nif [ -e "$p" ] || [ -L "$p" ]; then rm -f -- "$p" && echo removed; else echo absent; fi`),
    ]);
  });
});
