import fc from "fast-check";
import {
  createCommand,
  deleteBlockers,
  getCommand,
  keptDataBelow,
  observedProperties,
  parseZfsGet,
  sameZfsValue,
  sizeBytes,
  updateCommands,
  zfsDatasetProvider,
  zfsDatasetSchema,
} from "../../provider/zfsDataset";
import type { ZfsDatasetInputs, ZfsDatasetState } from "../../provider/zfsDataset";
import { UNKNOWN } from "../../provider/lib/inputs";

const connection = { host: "192.0.2.10", hostKey: "SHA256:" + "A".repeat(43) };

function inputs(over: Record<string, unknown> = {}): ZfsDatasetInputs {
  return zfsDatasetSchema().parse({ connection, name: "zroot/usr/jail/bhyve/vm", ...over });
}

async function check(news: Record<string, unknown>) {
  return zfsDatasetProvider.check!({} as ZfsDatasetInputs, { connection, ...news } as ZfsDatasetInputs);
}

describe("ZfsDataset", () => {
  describe("commands", () => {
    it("create: the seed's dataset in one zfs create with quoted properties", () => {
      expect(createCommand(inputs({ properties: { jailed: "on" } }))).toBe("zfs create -o 'jailed=on' 'zroot/usr/jail/bhyve/vm'");
    });

    it("create: -p and every property in one command, sorted", () => {
      expect(createCommand(inputs({ createParents: true, properties: { mountpoint: "/vm", jailed: "on", compression: "lz4" } })))
        .toBe("zfs create -p -o 'compression=lz4' -o 'jailed=on' -o 'mountpoint=/vm' 'zroot/usr/jail/bhyve/vm'");
    });

    it("create: clones from origin", () => {
      expect(createCommand(inputs({ name: "zroot/usr/jail/bhyve", origin: "zroot/usr/jail/15.0@skel" })))
        .toBe("zfs clone 'zroot/usr/jail/15.0@skel' 'zroot/usr/jail/bhyve'");
    });

    it("read: asks for managed properties plus origin, guid, type, mountpoint and the data mark", () => {
      expect(getCommand("zroot/a", { quota: "1G", jailed: "on" }))
        .toBe("zfs get -H -p -o property,value,source 'jailed,quota,origin,guid,type,mountpoint,enjailed:data' 'zroot/a'");
    });

    it("parses zfs get -H output, keeping sources with spaces", () => {
      const got = parseZfsGet("jailed\ton\tlocal\nmountpoint\t/usr/jail/bhyve/vm\tinherited from zroot/usr\norigin\t-\t-\n");
      expect(got.get("mountpoint")).toEqual({ value: "/usr/jail/bhyve/vm", source: "inherited from zroot/usr" });
      expect(got.get("jailed")).toEqual({ value: "on", source: "local" });
      expect(got.size).toBe(3);
    });
  });

  describe("drift", () => {
    it("compares sizes by bytes (zfs get -p prints bytes)", () => {
      expect(sizeBytes("10G")).toBe(10 * 1024 ** 3);
      expect(sizeBytes("1.5K")).toBe(1536);
      expect(sameZfsValue("quota", "10G", "10737418240")).toBe(true);
      expect(sameZfsValue("quota", "none", "0")).toBe(true);
      expect(sameZfsValue("recordsize", "128K", "131072")).toBe(true);
      expect(sameZfsValue("quota", "10G", "0")).toBe(false);
      expect(sameZfsValue("compression", "lz4", "off")).toBe(false);
    });

    it("a managed property no longer set locally drops out of the state; a changed one shows the host's value", () => {
      const got = parseZfsGet("jailed\ton\tlocal\ncompression\toff\tinherited from zroot\nquota\t10737418240\tlocal\natime\toff\tlocal\n");
      expect(observedProperties({ jailed: "on", compression: "lz4", quota: "10G", atime: "on" }, got))
        .toEqual({ jailed: "on", quota: "10G", atime: "off" });
    });
  });

  describe("update commands", () => {
    it("sets changed properties in one zfs set and inherits removed ones", () => {
      expect(updateCommands("zroot/a", { compression: "lz4", atime: "off" }, { compression: "zstd", quota: "5G" })).toEqual([
        "zfs set 'compression=zstd' 'quota=5G' 'zroot/a'",
        "zfs inherit 'atime' 'zroot/a'",
      ]);
    });

    it("sets mountpoint before jailed=on, and jailed=off before mountpoint", () => {
      expect(updateCommands("zroot/a", {}, { jailed: "on", mountpoint: "/vm" })).toEqual([
        "zfs set 'mountpoint=/vm' 'zroot/a'",
        "zfs set jailed=on 'zroot/a'",
      ]);
      expect(updateCommands("zroot/a", { jailed: "on", mountpoint: "/vm" }, { jailed: "off", mountpoint: "/x" })).toEqual([
        "zfs set jailed=off 'zroot/a'",
        "zfs set 'mountpoint=/x' 'zroot/a'",
      ]);
    });

    it("fails a mountpoint change while the dataset stays jailed, before any command", () => {
      expect(() => updateCommands("zroot/a", { jailed: "on", mountpoint: "/vm" }, { jailed: "on", mountpoint: "/x" }))
        .toThrow(/^mountpoint cannot change while jailed=on/);
    });

    it("no change, no command", () => {
      expect(updateCommands("zroot/a", { quota: "1G" }, { quota: "1G" })).toEqual([]);
    });
  });

  describe("delete safety", () => {
    it("refuses children and snapshots unless destroyChildren, listing them", () => {
      const listed = "zroot/a\nzroot/a/b\nzroot/a@s1\n";
      expect(deleteBlockers("zroot/a", listed, "", false)).toEqual([
        "it has children or snapshots (set destroyChildren to run zfs destroy -r): zroot/a/b, zroot/a@s1",
      ]);
      expect(deleteBlockers("zroot/a", listed, "", true)).toEqual([]);
    });

    it("keeps a parent whose only descendants are kept data (and their snapshots), not one with anything else", () => {
      const marked = "zroot/a\t-\nzroot/a/vm\ton\nzroot/a/vm/disk0\t-\n";
      expect(keptDataBelow("zroot/a", "zroot/a\nzroot/a/vm\nzroot/a/vm/disk0\nzroot/a/vm@daily\n", marked)).toEqual(["zroot/a/vm"]);
      expect(keptDataBelow("zroot/a", "zroot/a\nzroot/a/vm\nzroot/a/other\n", marked + "zroot/a/other\t-\n")).toBeUndefined();
      expect(keptDataBelow("zroot/a", "zroot/a\nzroot/a/vm\nzroot/a@s1\n", marked)).toBeUndefined();
      expect(keptDataBelow("zroot/a", "zroot/a\n", "zroot/a\ton\n")).toBeUndefined();
    });

    it("always refuses clones outside the dataset (never -R)", () => {
      const clones = "zroot/a@s1\tzroot/other,zroot/a/inner\nzroot/a@s2\t\n";
      expect(deleteBlockers("zroot/a", "zroot/a\nzroot/a@s1\n", clones, true)).toEqual([
        "clones outside it depend on its snapshots (enjailed never runs zfs destroy -R): zroot/other (clone of zroot/a@s1)",
      ]);
    });
  });

  describe("check", () => {
    it("accepts the seed's datasets", async () => {
      expect((await check({ name: "zroot/usr/jail/bhyve", origin: "zroot/usr/jail/15.0@skel" })).failures).toEqual([]);
      const r = await check({ name: "zroot/usr/jail/bhyve/vm", properties: { jailed: "on", "com.example:backup": "daily" }, data: true });
      expect(r.failures).toEqual([]);
      expect(r.inputs?.destroyChildren).toBe(false);
    });

    it("fails an invalid dataset name", async () => {
      expect((await check({ name: "zroot/my jail" })).failures).toEqual([
        { property: "name", reason: 'must be a dataset name like zroot/jails/web (pool/child, no spaces), got "zroot/my jail"' },
      ]);
    });

    it("fails an origin without @", async () => {
      expect((await check({ name: "zroot/a", origin: "zroot/usr/jail/15.0" })).failures).toEqual([
        { property: "origin", reason: 'must be a snapshot like zroot/usr/jail/15.0@skel, got "zroot/usr/jail/15.0"' },
      ]);
    });

    it("fails an origin in another pool", async () => {
      expect((await check({ name: "zroot/a", origin: "tank/b@s" })).failures?.[0]?.property).toBe("origin");
    });

    it("reports properties.quota, not the whole object", async () => {
      expect((await check({ name: "zroot/a", properties: { quota: "ten gigs" } })).failures).toEqual([
        { property: "properties.quota", reason: 'must be a ZFS size such as 10G or none, got "ten gigs"' },
      ]);
    });

    it("fails typed values: compression, recordsize, mountpoint, canmount", async () => {
      const r = await check({ name: "zroot/a", properties: { compression: "brotli", recordsize: "100K", mountpoint: "rel", canmount: "yes" } });
      expect(r.failures?.map((f) => f.property).sort()).toEqual(["properties.canmount", "properties.compression", "properties.mountpoint", "properties.recordsize"]);
    });

    it("fails a property value with a newline and a bad property name", async () => {
      const r = await check({ name: "zroot/a", properties: { "com.example:x": "a\nb", "Bad Name": "x" } });
      expect(r.failures?.map((f) => f.property).sort()).toEqual(["properties.Bad Name", "properties.com.example:x"]);
    });

    it("ignores issues on preview unknowns", async () => {
      expect((await check({ name: UNKNOWN, properties: { quota: UNKNOWN } })).failures).toEqual([]);
    });

    it("recordsize accepts exactly the powers of two from 512 to 16M (property)", () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 32 * 1024 * 1024 }), (n) => {
        const ok = zfsDatasetSchema().shape.properties.safeParse({ recordsize: String(n) }).success;
        expect(ok).toBe(n >= 512 && n <= 16 * 1024 * 1024 && (n & (n - 1)) === 0);
      }));
    });
  });

  describe("diff", () => {
    const state = (): ZfsDatasetState => ({ ...inputs(), guid: "1", mountpoint: "/x", originSnapshot: "", onDelete: "destroy" });

    it("ignores __provider and computed outputs", async () => {
      expect(await zfsDatasetProvider.diff!("x", { ...state(), __provider: "a" } as never, { ...inputs(), __provider: "b" } as never))
        .toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    });

    it("properties update in place; name, origin and host replace, deleting first", async () => {
      expect(await zfsDatasetProvider.diff!("x", state(), inputs({ properties: { compression: "zstd" } })))
        .toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      expect(await zfsDatasetProvider.diff!("x", state(), inputs({ name: "zroot/b" })))
        .toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: true });
      expect((await zfsDatasetProvider.diff!("x", state(), inputs({ origin: "zroot/s@1" }))).replaces).toEqual(["origin"]);
      expect((await zfsDatasetProvider.diff!("x", state(), inputs({ connection: { ...connection, host: "h2" } }))).replaces).toEqual(["connection"]);
    });

    it("an unknown name during preview is a replacement", async () => {
      expect((await zfsDatasetProvider.diff!("x", state(), { ...inputs(), name: UNKNOWN })).replaces).toEqual(["name"]);
    });
  });
});

// ── provider methods against a scripted in-memory zfs ──────────────────────────────────────────────────────────────
// tests/helpers/fakeHost.ts (an in-process SSH server) did not exist when this was written; `run` is replaced by a
// small zfs(8) model that answers the exact command lines the provider sends, and records them.

jest.mock("../../provider/lib/exec", () => {
  const actual = jest.requireActual("../../provider/lib/exec");
  return { ...actual, run: jest.fn() };
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const exec = require("../../provider/lib/exec") as typeof import("../../provider/lib/exec");

/** Split a command line built by `sh` into words (single quotes, `'\''`). */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === "\\") {
      cur = (cur ?? "") + line[++i];
    } else if (c === " ") {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? "") + c;
    }
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

interface FakeDs { local: Map<string, string>; origin: string; guid: string; snapshot: boolean }

class FakeZfs {
  datasets = new Map<string, FakeDs>();
  commands: string[] = [];
  private nextGuid = 1000;
  failNext?: { exitCode: number; stderr: string };

  add(name: string, local: Record<string, string> = {}, origin = "-"): void {
    this.datasets.set(name, { local: new Map(Object.entries(local)), origin, guid: String(this.nextGuid++), snapshot: name.includes("@") });
  }

  private bytes(v: string): string {
    const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(v);
    if (v === "none") return "0";
    if (!m) return v;
    return String(Math.round(Number(m[1]) * 1024 ** " KMGT".indexOf((m[2] || " ").toUpperCase())));
  }

  private effective(name: string, prop: string): { value: string; source: string } {
    const ds = this.datasets.get(name) as FakeDs;
    const own = ds.local.get(prop);
    if (own !== undefined) return { value: ["quota", "refquota", "recordsize"].includes(prop) ? this.bytes(own) : own, source: "local" };
    if (prop === "origin") return { value: ds.origin, source: "-" };
    if (prop === "guid") return { value: ds.guid, source: "-" };
    if (prop === "type") return { value: ds.snapshot ? "snapshot" : "filesystem", source: "-" };
    const inheritable = prop !== "quota" && prop !== "refquota";
    for (let p = name.slice(0, name.lastIndexOf("/")); inheritable && p.includes("/") || (inheritable && p !== "" && this.datasets.has(p)); p = p.slice(0, Math.max(0, p.lastIndexOf("/")))) {
      const v = this.datasets.get(p)?.local.get(prop);
      if (v !== undefined) {
        return { value: prop === "mountpoint" ? v + name.slice(p.length) : v, source: `inherited from ${p}` };
      }
      if (!p.includes("/")) break;
    }
    const defaults: Record<string, string> = { jailed: "off", compression: "off", quota: "0", atime: "on", canmount: "on", recordsize: "131072", mountpoint: `/${name}` };
    return { value: defaults[prop] ?? "-", source: defaults[prop] === undefined ? "-" : "default" };
  }

  reply(line: string): { exitCode: number; stdout: string; stderr: string } {
    this.commands.push(line);
    if (this.failNext) {
      const f = this.failNext;
      this.failNext = undefined;
      return { ...f, stdout: "" };
    }
    const w = words(line);
    const missing = (n: string) => ({ exitCode: 1, stdout: "", stderr: `cannot open '${n}': dataset does not exist\n` });
    const ok = (stdout = "") => ({ exitCode: 0, stdout, stderr: "" });
    const [cmd, sub, ...rest] = w;
    if (cmd !== "zfs") return { exitCode: 127, stdout: "", stderr: `${cmd}: not found` };
    const name = rest[rest.length - 1] as string;
    const opts = (args: string[]) => {
      const o: Record<string, string> = {};
      for (let i = 0; i < args.length; i++) if (args[i] === "-o") { const [k, ...v] = (args[++i] as string).split("="); o[k as string] = v.join("="); }
      return o;
    };
    switch (sub) {
      case "get": {
        if (!this.datasets.has(name)) return missing(name);
        if (rest.includes("-r") && rest.includes("enjailed:data")) {
          const below = [...this.datasets.keys()].filter((d) => (d === name || d.startsWith(`${name}/`)) && !d.includes("@"));
          return ok(below.map((d) => `${d}\t${this.datasets.get(d)?.local.get("enjailed:data") ?? "-"}\n`).join(""));
        }
        if (rest.includes("clones")) {
          const snaps = [...this.datasets.keys()].filter((d) => d.startsWith(`${name}@`) || (d.startsWith(`${name}/`) && d.includes("@")));
          return ok(snaps.map((s) => `${s}\t${[...this.datasets].filter(([, d]) => d.origin === s).map(([n]) => n).join(",")}\n`).join(""));
        }
        const props = (rest[rest.length - 2] as string).split(",");
        return ok(props.map((p) => { const e = this.effective(name, p); return `${p}\t${e.value}\t${e.source}\n`; }).join(""));
      }
      case "create":
      case "clone": {
        if (this.datasets.has(name)) return { exitCode: 1, stdout: "", stderr: `cannot create '${name}': dataset already exists\n` };
        const parent = name.slice(0, name.lastIndexOf("/"));
        if (!rest.includes("-p") && !this.datasets.has(parent)) return { exitCode: 1, stdout: "", stderr: `cannot create '${name}': parent does not exist\n` };
        const origin = sub === "clone" ? (rest[rest.length - 2] as string) : "-";
        if (sub === "clone" && !this.datasets.has(origin)) return missing(origin);
        this.add(name, opts(rest), origin);
        return ok();
      }
      case "set": {
        if (!this.datasets.has(name)) return missing(name);
        const ds = this.datasets.get(name) as FakeDs;
        for (const kv of rest.slice(0, -1)) { const [k, ...v] = kv.split("="); ds.local.set(k as string, v.join("=")); }
        return ok();
      }
      case "inherit": {
        if (!this.datasets.has(name)) return missing(name);
        this.datasets.get(name)?.local.delete(rest[0] as string);
        return ok();
      }
      case "list": {
        if (!this.datasets.has(name)) return missing(name);
        const all = [...this.datasets.keys()].filter((d) => d === name || d.startsWith(`${name}/`) || d.startsWith(`${name}@`)).sort();
        return ok(all.map((d) => `${d}\n`).join(""));
      }
      case "destroy": {
        if (!this.datasets.has(name)) return missing(name);
        const below = [...this.datasets.keys()].filter((d) => d.startsWith(`${name}/`) || d.startsWith(`${name}@`));
        if (below.length > 0 && !rest.includes("-r")) {
          return { exitCode: 1, stdout: "", stderr: `cannot destroy '${name}': filesystem has children\nuse '-r' to destroy the following datasets:\n${below.join("\n")}\n` };
        }
        for (const d of [name, ...below]) this.datasets.delete(d);
        return ok();
      }
      default:
        return { exitCode: 2, stdout: "", stderr: `unrecognized command '${sub}'` };
    }
  }
}

describe("ZfsDataset provider (scripted zfs)", () => {
  let zfs: FakeZfs;
  const p = zfsDatasetProvider;

  beforeEach(() => {
    zfs = new FakeZfs();
    zfs.add("zroot");
    zfs.add("zroot/usr", { mountpoint: "/usr" });
    zfs.add("zroot/usr/jail");
    zfs.add("zroot/usr/jail/15.0");
    zfs.add("zroot/usr/jail/15.0@skel");
    (exec.run as jest.Mock).mockImplementation(async (_conn: unknown, command: string, options: { allowExitCodes?: number[] } = {}) => {
      const r = { command, target: "root@192.0.2.10:22", ...zfs.reply(command) };
      if (r.exitCode !== 0 && !(options.allowExitCodes ?? []).includes(r.exitCode)) throw new exec.RemoteCommandError(r);
      return r;
    });
  });

  it("create: the seed's steps, clone then jailed=on in one zfs create, each read back", async () => {
    const root = await p.create(inputs({ name: "zroot/usr/jail/bhyve", origin: "zroot/usr/jail/15.0@skel" }));
    const vm = await p.create(inputs({ name: "zroot/usr/jail/bhyve/vm", properties: { jailed: "on" }, data: true }));
    expect(zfs.commands).toEqual([
      "zfs get -H -p -o property,value,source 'origin,guid,type,mountpoint,enjailed:data' 'zroot/usr/jail/bhyve'",
      "zfs clone 'zroot/usr/jail/15.0@skel' 'zroot/usr/jail/bhyve'",
      "zfs get -H -p -o property,value,source 'origin,guid,type,mountpoint,enjailed:data' 'zroot/usr/jail/bhyve'",
      "zfs get -H -p -o property,value,source 'jailed,origin,guid,type,mountpoint,enjailed:data' 'zroot/usr/jail/bhyve/vm'",
      "zfs create -o 'enjailed:data=on' -o 'jailed=on' 'zroot/usr/jail/bhyve/vm'",
      "zfs get -H -p -o property,value,source 'jailed,origin,guid,type,mountpoint,enjailed:data' 'zroot/usr/jail/bhyve/vm'",
    ]);
    expect(root.id).toBe("zroot/usr/jail/bhyve");
    expect(root.outs).toMatchObject({ originSnapshot: "zroot/usr/jail/15.0@skel", mountpoint: "/usr/jail/bhyve", onDelete: "destroy" });
    expect(vm.outs).toMatchObject({ properties: { jailed: "on" }, mountpoint: "/usr/jail/bhyve/vm", onDelete: "keep" });
  });

  it("create: adopts an existing dataset that matches, without creating anything", async () => {
    zfs.add("zroot/a", { compression: "lz4", quota: "10G" });
    const r = await p.create(inputs({ name: "zroot/a", properties: { compression: "lz4", quota: "10G" } }));
    expect(zfs.commands.filter((c) => !c.startsWith("zfs get"))).toEqual([]);
    expect(r.outs!.properties).toEqual({ compression: "lz4", quota: "10G" });
  });

  it("fails create of an existing dataset that differs, listing the differences", async () => {
    zfs.add("zroot/a", { compression: "off" });
    await expect(p.create(inputs({ name: "zroot/a", properties: { compression: "lz4", atime: "off" } }))).rejects.toThrow(
      "creating ZFS dataset (zroot/a): it already exists and differs from the inputs; set takeOver to take it over\n"
      + '  properties.compression: want "lz4", host has "off"\n'
      + '  properties.atime: want "off", host has nothing',
    );
    expect(zfs.commands.every((c) => c.startsWith("zfs get"))).toBe(true);
  });

  it("create: takeOver sets the differing properties", async () => {
    zfs.add("zroot/a", { compression: "off" });
    const r = await p.create(inputs({ name: "zroot/a", properties: { compression: "lz4" }, takeOver: true }));
    expect(zfs.commands).toContain("zfs set 'compression=lz4' 'zroot/a'");
    expect(r.outs!.properties).toEqual({ compression: "lz4" });
  });

  it("fails create with the command and stderr in the message", async () => {
    await expect(p.create(inputs({ name: "zroot/nope/x" }))).rejects.toThrow(
      "creating ZFS dataset (zroot/nope/x): command failed with exit code 1 on root@192.0.2.10:22\n"
      + "  $ zfs create 'zroot/nope/x'\n"
      + "  cannot create 'zroot/nope/x': parent does not exist",
    );
  });

  it("fails create from a snapshot that does not exist, creating nothing", async () => {
    await expect(p.create(inputs({ name: "zroot/usr/jail/x", origin: "zroot/usr/jail/14.0@skel" }))).rejects.toThrow(/dataset does not exist/);
    expect(zfs.datasets.has("zroot/usr/jail/x")).toBe(false);
  });

  it("read: a property inherited out of band drops out of the state, so diff shows the update", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a", properties: { compression: "lz4" } }))).outs!;
    zfs.datasets.get("zroot/a")?.local.delete("compression");
    const r = await p.read!("zroot/a", outs);
    expect(r.props?.properties).toEqual({});
    expect((await p.diff!("zroot/a", r.props!, inputs({ name: "zroot/a", properties: { compression: "lz4" } }))).changes).toBe(true);
  });

  it("read: a dataset destroyed out of band gives an empty id", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a" }))).outs!;
    zfs.datasets.delete("zroot/a");
    expect(await p.read!("zroot/a", outs)).toEqual({ id: "" });
  });

  it("fails read on any other error instead of forgetting the dataset", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a" }))).outs!;
    zfs.failNext = { exitCode: 1, stderr: "internal error: I/O error" };
    await expect(p.read!("zroot/a", outs)).rejects.toThrow(/^reading ZFS dataset \(zroot\/a\): command failed with exit code 1/);
  });

  it("update: zfs set and zfs inherit in place, then read back", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a", properties: { compression: "lz4", atime: "off" } }))).outs!;
    zfs.commands = [];
    const r = await p.update!("zroot/a", outs, inputs({ name: "zroot/a", properties: { compression: "zstd" } }));
    expect(zfs.commands.slice(0, 2)).toEqual(["zfs set 'compression=zstd' 'zroot/a'", "zfs inherit 'atime' 'zroot/a'"]);
    expect(r.outs?.properties).toEqual({ compression: "zstd" });
  });

  it("delete: destroys a plain dataset; 'dataset does not exist' is success", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a" }))).outs!;
    await p.delete!("zroot/a", outs);
    expect(zfs.datasets.has("zroot/a")).toBe(false);
    expect(zfs.commands).toContain("zfs destroy 'zroot/a'");
    await expect(p.delete!("zroot/a", outs)).resolves.toBeUndefined();
  });

  it("delete: keeps a data dataset and says so", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a", data: true }))).outs!;
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    zfs.commands = [];
    await p.delete!("zroot/a", outs);
    expect(zfs.commands).toEqual([]);
    expect(zfs.datasets.has("zroot/a")).toBe(true);
    expect(log).toHaveBeenCalledWith("kept ZFS dataset zroot/a: it is marked data (set destroyData to destroy it, or run zfs destroy zroot/a by hand)");
    log.mockRestore();
  });

  it("fails delete of a dataset with children or snapshots, naming them; destroyChildren uses -r", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a" }))).outs!;
    zfs.add("zroot/a/b");
    zfs.add("zroot/a@s");
    await expect(p.delete!("zroot/a", outs)).rejects.toThrow(
      "deleting ZFS dataset (zroot/a): it has children or snapshots (set destroyChildren to run zfs destroy -r): zroot/a/b, zroot/a@s",
    );
    expect(zfs.datasets.has("zroot/a")).toBe(true);
    await p.delete!("zroot/a", { ...outs, destroyChildren: true });
    expect(zfs.commands).toContain("zfs destroy -r 'zroot/a'");
    expect(zfs.datasets.has("zroot/a/b")).toBe(false);
  });

  it("fails a parent's destroyChildren while a descendant is marked data, destroying nothing", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a", destroyChildren: true }))).outs!;
    await p.create(inputs({ name: "zroot/a/vm", data: true }));
    expect(zfs.datasets.get("zroot/a/vm")?.local.get("enjailed:data")).toBe("on");
    await expect(p.delete!("zroot/a", outs)).rejects.toThrow(
      "deleting ZFS dataset (zroot/a): descendants marked data would go with zfs destroy -r (delete them first, with destroyData): zroot/a/vm",
    );
    expect(zfs.datasets.has("zroot/a/vm")).toBe(true);
  });

  it("adopting or updating data sets or clears the data mark", async () => {
    zfs.add("zroot/a");
    const outs = (await p.create(inputs({ name: "zroot/a", data: true }))).outs!;
    expect(zfs.commands).toContain("zfs set 'enjailed:data=on' 'zroot/a'");
    await p.update!("zroot/a", outs, inputs({ name: "zroot/a", data: false }));
    expect(zfs.commands).toContain("zfs inherit 'enjailed:data' 'zroot/a'");
    expect(zfs.datasets.get("zroot/a")?.local.has("enjailed:data")).toBe(false);
  });

  it("fails delete when a clone elsewhere depends on a snapshot, even with destroyChildren", async () => {
    const outs = (await p.create(inputs({ name: "zroot/a" }))).outs!;
    zfs.add("zroot/a@s");
    zfs.add("zroot/c", {}, "zroot/a@s");
    await expect(p.delete!("zroot/a", { ...outs, destroyChildren: true })).rejects.toThrow(/zroot\/c \(clone of zroot\/a@s\)/);
    expect(zfs.datasets.has("zroot/a")).toBe(true);
  });
});
