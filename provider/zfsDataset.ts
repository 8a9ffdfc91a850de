/**
 * ZfsDataset: one ZFS file system, created empty or cloned from a snapshot, with the properties the user manages.
 *
 * Follows zfs-create(8), zfs-clone(8), zfs-get(8), zfs-set(8), zfs-inherit(8), zfs-destroy(8), zfs-jail(8) and
 * zfsprops(7) (OpenZFS 2.4 as in FreeBSD 15.0). Commands run as root through the connection's `become`:
 * - check: zod schema (names, typed property values, `@` in `origin`, same pool for clone and origin). No SSH.
 * - create: `zfs get` first. Absent: `zfs create [-p] -o k=v … NAME`, or `zfs clone [-p] -o k=v … SNAP NAME`, with every
 *   property in that one command (a `jailed=on` dataset's `mountpoint` cannot be set from the host afterwards, so both
 *   go together), then read back. Present with the same origin and every managed property set locally to the wanted
 *   value: adopted. Otherwise refused with the differences, unless `takeOver` (then `zfs set` as in update; a
 *   different origin is always refused).
 * - read: `zfs get -H -p -o property,value,source <managed>,origin,guid,type,mountpoint NAME`. "dataset does not
 *   exist" ⇒ empty id; any other failure throws (a flaky link never drops the resource). A managed property whose
 *   source is not `local`, or whose value differs, shows in the state's `properties` as the host has it (absent when
 *   not local), so `pulumi refresh` reports drift and the next `up` sets it back.
 * - update: `zfs set jailed=off` first when jailed turns off; `zfs set k=v …` for changed properties; `zfs inherit k`
 *   for each property removed from the inputs; `zfs set jailed=on` last when jailed turns on. Changing or inheriting
 *   `mountpoint` while the dataset stays jailed is refused before any command (zfs refuses it from the host).
 * - delete: never `-R`. `zfs list -H -o name -t filesystem,volume,snapshot -r NAME`, and when that shows snapshots
 *   `zfs get -H -o name,value clones -t snapshot -r NAME`: children or snapshots refuse the delete unless
 *   `destroyChildren` (then `zfs destroy -r`); clones outside the dataset always refuse it. A dataset marked `data` is
 *   kept (and the CLI output says so) unless `destroyData`. `data` datasets carry the user property `enjailed:data=on`
 *   (set at create, or on adoption). A dataset whose only descendants are such data (and their snapshots) is kept too,
 *   with a message, rather than failing the destroy: it cannot go without them. `destroyChildren` refuses while a
 *   descendant carries the mark
 *   (`zfs get -H -o name,value -r -t filesystem,volume enjailed:data NAME`), so a parent's `-r` never takes data along.
 *   "dataset does not exist" is success.
 * Id: the dataset name. Replaced (delete first: the name collides) when `name`, `origin` or `connection.host` changes.
 * A preview with an unknown host shows a replacement that apply may not perform.
 */
import { dynamic } from "@pulumi/pulumi";
import type { CustomResourceOptions, Input, Output } from "@pulumi/pulumi";
import { z } from "zod";
import { adoptionRefused, describeDifferences } from "./lib/adopt";
import { checkWith } from "./lib/check";
import { configureFrom } from "./lib/config";
import { connectionSchema } from "./lib/connection";
import type { ConnectionArgs, ConnectionInputs } from "./lib/connection";
import { diffWith } from "./lib/diff";
import type { DiffPolicy } from "./lib/diff";
import { partialFailure, problem } from "./lib/errors";
import { RemoteCommandError, run } from "./lib/exec";
import { inputKeys } from "./lib/inputs";
import type { PulumiInputs } from "./lib/inputs";
import { raw, sh } from "./lib/sh";
import type { RawFragment } from "./lib/sh";

// ── schema ──────────────────────────────────────────────────────────────────

/** A dataset name below a pool: components of letters, digits, `_ . : -`, separated by `/`. */
const DATASET = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)+$/;
const SNAPSHOT = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*@[A-Za-z0-9_.:-]+$/;
/** A property name (native or user: `com.example:backup`). */
const PROPERTY = /^[a-z][a-z0-9_.:-]*$/;
/** A size as zfs parses it: `10G`, `1.5T`, `512K`, `100M`, `1024`. */
const SIZE = /^(\d+(\.\d+)?)([KMGTPEZ](i?B)?|B)?$/i;

function onOff() {
  return z.enum(["on", "off"]);
}

function quotaSize() {
  return z.string().regex(new RegExp(`^none$|${SIZE.source}`, "i"), "must be a ZFS size such as 10G or none");
}

/** @internal Bytes of a zfs size string (`10G` = 10 × 2^30), or undefined when it is not one. */
export function sizeBytes(s: string): number | undefined {
  const m = SIZE.exec(s);
  if (!m) return undefined;
  const unit = (m[3] ?? "").charAt(0).toUpperCase();
  const power = unit === "" || unit === "B" ? 0 : "KMGTPEZ".indexOf(unit) + 1;
  return Math.round(Number(m[1]) * 1024 ** power);
}

const COMPRESSION = /^(on|off|lzjb|zle|lz4|gzip|gzip-[1-9]|zstd|zstd-([1-9]|1[0-9])|zstd-fast|zstd-fast-([1-9]|10|20|30|40|50|60|70|80|90|100|500|1000))$/;

/** The properties enjailed knows the values of. Others pass through with a name check. */
export function zfsPropertiesSchema() {
  return z
    .object({
      /** Managed from inside a jail (zfs-jail(8)); cannot be mounted on the host while on. */
      jailed: onOff().optional(),
      /** Where the dataset mounts: an absolute path, `none` or `legacy`. Set it together with or before `jailed=on`. */
      mountpoint: z
        .string()
        .regex(/^(none|legacy|\/[^\n\t]*)$/, "must be an absolute path, none or legacy")
        .optional(),
      /** Whether it can be mounted: `on`, `off` or `noauto` (not by `zfs mount -a`). */
      canmount: z.enum(["on", "off", "noauto"]).optional(),
      /** Limit on the space the dataset and its descendants use (`10G`, `none`). */
      quota: quotaSize().optional(),
      /** Limit on the space the dataset itself uses (`10G`, `none`). */
      refquota: quotaSize().optional(),
      /** Space guaranteed to the dataset and its descendants (`10G`, `none`). */
      reservation: quotaSize().optional(),
      /** Compression: `on`, `off`, `lz4`, `zstd`, `zstd-N` (1–19), `zstd-fast[-N]`, `gzip[-N]`, `zle`, `lzjb`. */
      compression: z.string().regex(COMPRESSION, "must be a zfsprops(7) compression value such as lz4, zstd or zstd-3").optional(),
      /** Suggested block size: a power of two from 512 to 16M (`128K`). */
      recordsize: z
        .string()
        .refine((s) => {
          const n = sizeBytes(s);
          return n !== undefined && n >= 512 && n <= 16 * 1024 ** 2 && (n & (n - 1)) === 0;
        }, "must be a power of two from 512 to 16M, such as 128K")
        .optional(),
      /** Update access times on read. */
      atime: onOff().optional(),
      /** Refuse writes. */
      readonly: onOff().optional(),
    })
    .catchall(z.string().regex(/^[^\n\t\u0000]*$/, "must not contain a newline, tab or NUL").max(8192))
    .superRefine((props, ctx) => {
      for (const key of Object.keys(props)) {
        if (!PROPERTY.test(key)) {
          ctx.addIssue({ code: "custom", path: [key], message: "is not a ZFS property name (lower case, digits, _ . : -; user properties look like com.example:backup)" });
        }
        if (key === "zoned") ctx.addIssue({ code: "custom", path: [key], message: "is called jailed on FreeBSD" });
      }
    });
}

export function zfsDatasetSchema() {
  return z
    .object({
      /** How to reach the FreeBSD host. Changing `host` replaces the dataset; the other fields update in place. */
      connection: connectionSchema(),
      /**
       * The dataset's full name, for example `zroot/usr/jail/bhyve/vm`. Changing it replaces the dataset.
       */
      name: z.string().regex(DATASET, "must be a dataset name like zroot/jails/web (pool/child, no spaces)").max(255),
      /**
       * Snapshot to clone from, for example `zroot/usr/jail/15.0@skel`; in the same pool. Changing it replaces the
       * dataset.
       * @default - an empty file system is created
       */
      origin: z.string().regex(SNAPSHOT, "must be a snapshot like zroot/usr/jail/15.0@skel").optional(),
      /**
       * Properties as zfsprops(7) names them; set locally at create and kept so. Removing one runs `zfs inherit`.
       * @default {}
       */
      properties: zfsPropertiesSchema().default({}),
      /**
       * Create missing parent datasets (`-p`).
       * @default false
       */
      createParents: z.boolean().default(false),
      /**
       * Let delete run `zfs destroy -r` on a dataset that has children or snapshots (never `-R`).
       * @default false
       */
      destroyChildren: z.boolean().default(false),
      /**
       * The dataset holds data that must outlive the stack (a VM dataset): delete keeps it unless `destroyData`.
       * @default false
       */
      data: z.boolean().default(false),
      /**
       * Opt in to destroying a `data` dataset on delete.
       * @default false
       */
      destroyData: z.boolean().default(false),
      /**
       * Take over an existing dataset whose managed properties differ (they are set to the inputs), instead of
       * refusing. A dataset with a different origin is always refused.
       * @default false
       */
      takeOver: z.boolean().default(false),
    })
    .superRefine((d, ctx) => {
      if (d.origin !== undefined && d.origin.split("/")[0]?.split("@")[0] !== d.name.split("/")[0]) {
        ctx.addIssue({ code: "custom", path: ["origin"], message: `must be in the same pool as ${d.name} (zfs clone works within a pool)` });
      }
    });
}

// ── types ───────────────────────────────────────────────────────────────────

export type ZfsProperties = z.output<ReturnType<typeof zfsPropertiesSchema>>;
export type ZfsDatasetInputs = z.output<ReturnType<typeof zfsDatasetSchema>>;
export type ZfsDatasetArgs = PulumiInputs<Omit<z.input<ReturnType<typeof zfsDatasetSchema>>, "connection">> & {
  connection: Input<ConnectionArgs>;
};

export interface ZfsDatasetState extends ZfsDatasetInputs {
  /** The dataset's guid; stable for its lifetime. */
  guid: string;
  /** Effective mountpoint (`zfs get mountpoint`), local or inherited. */
  mountpoint: string;
  /** The snapshot it was cloned from, or `""`. */
  originSnapshot: string;
  /** What delete will do: `destroy`, or `keep` for a `data` dataset without `destroyData`. */
  onDelete: "destroy" | "keep";
}

// ── diff policy ─────────────────────────────────────────────────────────────

const DIFF: DiffPolicy<ZfsDatasetInputs> = {
  keys: inputKeys(zfsDatasetSchema),
  replaceOn: ["name", "origin"],
  replaceIf: { connection: (o: { host?: unknown }, n: { host?: unknown }) => o.host !== n.host },
  deleteBeforeReplace: true,
};

// ── pure helpers ────────────────────────────────────────────────────────────

/** Properties whose values compare as sizes. An array, not a Set: Pulumi's closure serializer mangles Sets. */
const SIZE_PROPS = ["quota", "refquota", "reservation", "refreservation", "recordsize", "volsize", "volblocksize", "special_small_blocks"];

/** @internal True when zfs's `-p` value `actual` is what `wanted` asks for. */
export function sameZfsValue(property: string, wanted: string, actual: string): boolean {
  if (wanted === actual) return true;
  if (SIZE_PROPS.includes(property)) {
    const w = wanted.toLowerCase() === "none" ? 0 : sizeBytes(wanted);
    const a = actual === "none" || actual === "-" ? 0 : sizeBytes(actual);
    return w !== undefined && a !== undefined && w === a;
  }
  if (property === "mountpoint") return wanted.replace(/\/+$/, "") === actual.replace(/\/+$/, "");
  return false;
}

function setOptions(properties: Record<string, string>): (string | RawFragment)[] {
  return Object.keys(properties).sort().flatMap((k) => [raw("-o"), `${k}=${properties[k] as string}`]);
}

/**
 * User property that marks a `data` dataset on the host, so that a parent's `destroyChildren` (zfs destroy -r) never
 * takes it along: delete refuses while a descendant carries it.
 */
const DATA_MARK = "enjailed:data";

/** @internal `zfs create` or `zfs clone`, with every property (and the data mark) in the one command. */
export function createCommand(i: ZfsDatasetInputs): string {
  const props = { ...(i.properties as Record<string, string>), ...(i.data ? { [DATA_MARK]: "on" } : {}) };
  const words = [...(i.createParents ? [raw("-p")] : []), ...setOptions(props)];
  return i.origin === undefined ? sh`zfs create ${[...words, i.name]}` : sh`zfs clone ${[...words, i.origin, i.name]}`;
}

/** @internal The `zfs get` that read and create use. */
export function getCommand(name: string, properties: Record<string, string>): string {
  const names = [...new Set([...Object.keys(properties).sort(), "origin", "guid", "type", "mountpoint", DATA_MARK])].join(",");
  return sh`zfs get -H -p -o property,value,source ${names} ${name}`;
}

/** @internal Parses `zfs get -H -p -o property,value,source …`. */
export function parseZfsGet(stdout: string): Map<string, { value: string; source: string }> {
  const out = new Map<string, { value: string; source: string }>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const [property, value, ...source] = line.split("\t");
    if (property !== undefined && value !== undefined) out.set(property, { value, source: source.join("\t") });
  }
  return out;
}

/**
 * @internal The managed properties as the host has them: the wanted string when the host's local value means the
 * same, the host's value when it differs, and no key when the property is not set locally.
 */
export function observedProperties(wanted: Record<string, string>, got: Map<string, { value: string; source: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, w] of Object.entries(wanted)) {
    const g = got.get(k);
    if (g === undefined || g.source !== "local") continue;
    out[k] = sameZfsValue(k, w, g.value) ? w : g.value;
  }
  return out;
}

/** @internal The commands that take the dataset from `olds` to `news` properties, in a safe order. */
export function updateCommands(name: string, olds: Record<string, string>, news: Record<string, string>): string[] {
  const wasJailed = olds.jailed === "on";
  const willBeJailed = news.jailed === "on";
  const changed = Object.keys(news).sort().filter((k) => k !== "jailed" && olds[k] !== news[k]);
  const removed = Object.keys(olds).sort().filter((k) => !(k in news));
  const mountpointTouched = changed.includes("mountpoint") || removed.includes("mountpoint");
  if (wasJailed && willBeJailed && mountpointTouched) {
    throw new Error("mountpoint cannot change while jailed=on (zfs refuses it from the host); set jailed=off in one update and the mountpoint in the next, or replace the dataset");
  }
  const cmds: string[] = [];
  if (wasJailed && !willBeJailed) cmds.push(news.jailed === "off" ? sh`zfs set jailed=off ${name}` : sh`zfs inherit jailed ${name}`);
  if (changed.length > 0) cmds.push(sh`zfs set ${changed.map((k) => `${k}=${news[k] as string}`)} ${name}`);
  for (const k of removed) if (k !== "jailed") cmds.push(sh`zfs inherit ${k} ${name}`);
  if (!wasJailed && willBeJailed) cmds.push(sh`zfs set jailed=on ${name}`);
  if (!wasJailed && !willBeJailed && olds.jailed !== news.jailed) {
    cmds.push(news.jailed === undefined ? sh`zfs inherit jailed ${name}` : sh`zfs set ${`jailed=${news.jailed}`} ${name}`);
  }
  return cmds;
}

/** @internal The command that puts the data mark where `want` says, given what `zfs get` saw; undefined when right. */
export function markCommand(name: string, want: boolean, got: { value: string; source: string } | undefined): string | undefined {
  const on = got?.value === "on" && got.source === "local";
  if (want && !on) return sh`zfs set ${`${DATA_MARK}=on`} ${name}`;
  if (!want && got?.source === "local") return sh`zfs inherit ${DATA_MARK} ${name}`;
  return undefined;
}

/**
 * @internal What a delete must refuse: children/snapshots (unless allowed), clones outside the dataset, and (with
 * destroyChildren) descendants marked data. `marked` is `zfs get -H -o name,value -r -t filesystem,volume` of the mark.
 */
export function deleteBlockers(name: string, listed: string, clones: string, destroyChildren: boolean, marked = ""): string[] {
  const inside = (d: string) => d === name || d.startsWith(`${name}/`) || d.startsWith(`${name}@`);
  const dependents = listed.split("\n").map((l) => l.trim()).filter((l) => l !== "" && l !== name);
  const problems: string[] = [];
  if (dependents.length > 0 && !destroyChildren) {
    problems.push(`it has children or snapshots (set destroyChildren to run zfs destroy -r): ${dependents.join(", ")}`);
  }
  const outside: string[] = [];
  for (const line of clones.split("\n")) {
    const [snap, list] = line.split("\t");
    if (snap === undefined || list === undefined || list === "" || list === "-") continue;
    for (const c of list.split(",")) if (c !== "" && !inside(c)) outside.push(`${c} (clone of ${snap})`);
  }
  if (outside.length > 0) problems.push(`clones outside it depend on its snapshots (enjailed never runs zfs destroy -R): ${outside.join(", ")}`);
  const data = marked.split("\n").map((l) => l.split("\t")).filter(([n, v]) => n !== undefined && n !== name && v === "on").map(([n]) => n as string);
  if (destroyChildren && data.length > 0) {
    problems.push(`descendants marked data would go with zfs destroy -r (delete them first, with destroyData): ${data.join(", ")}`);
  }
  return problems;
}

/**
 * @internal When everything below `name` is data the user keeps (datasets marked data, their children and
 * snapshots), the marked datasets; otherwise undefined. Such a parent cannot go without the data, so delete keeps it
 * too instead of failing the whole `pulumi destroy`; the next `up` adopts it again.
 */
export function keptDataBelow(name: string, listed: string, marked: string): string[] | undefined {
  const data = marked.split("\n").map((l) => l.split("\t")).filter(([n, v]) => n !== undefined && n !== name && v === "on").map(([n]) => n as string);
  const dependents = listed.split("\n").map((l) => l.trim()).filter((l) => l !== "" && l !== name);
  if (data.length === 0 || dependents.length === 0) return undefined;
  const underData = (d: string): boolean => {
    const fs = d.split("@")[0] as string;
    return data.some((k) => fs === k || fs.startsWith(`${k}/`));
  };
  return dependents.every(underData) ? data : undefined;
}

const THING = "ZFS dataset";

async function readDataset(conn: ConnectionInputs, name: string, properties: Record<string, string>) {
  const r = await run(conn, getCommand(name, properties), { allowExitCodes: [1], idempotent: true });
  if (r.exitCode === 1) {
    if (/dataset does not exist/.test(r.stderr)) return undefined;
    throw new RemoteCommandError(r);
  }
  return parseZfsGet(r.stdout);
}

function stateFrom(i: ZfsDatasetInputs, got: Map<string, { value: string; source: string }>): ZfsDatasetState {
  const origin = got.get("origin")?.value ?? "-";
  return {
    ...i,
    properties: observedProperties(i.properties as Record<string, string>, got) as ZfsProperties,
    guid: got.get("guid")?.value ?? "",
    mountpoint: got.get("mountpoint")?.value ?? "",
    originSnapshot: origin === "-" ? "" : origin,
    onDelete: i.data && !i.destroyData ? "keep" : "destroy",
  };
}

// ── provider ────────────────────────────────────────────────────────────────

/** @internal exported for tests and the serialization check */
export const zfsDatasetProvider: dynamic.ResourceProvider<ZfsDatasetInputs, ZfsDatasetState> = {
  async configure(req) {
    configureFrom(req);
  },

  async check(_olds, news) {
    return checkWith(zfsDatasetSchema, news);
  },

  async diff(_id, olds, news) {
    return diffWith(olds, news, DIFF);
  },

  async create(inputs) {
    const id = inputs.name;
    const wanted = inputs.properties as Record<string, string>;
    let existing;
    try {
      existing = await readDataset(inputs.connection, id, wanted);
    } catch (e) {
      throw problem("creating", THING, id, e);
    }
    if (existing !== undefined) {
      const origin = existing.get("origin")?.value ?? "-";
      const wantOrigin = inputs.origin ?? "-";
      const observed = observedProperties(wanted, existing);
      const differences = describeDifferences(
        { origin: wantOrigin, properties: wanted },
        { origin, properties: observed },
      );
      if (differences.length > 0) {
        if (!inputs.takeOver || origin !== wantOrigin) throw adoptionRefused(THING, id, differences);
        try {
          for (const cmd of updateCommands(id, observed, wanted)) await run(inputs.connection, cmd);
        } catch (e) {
          throw problem("creating", THING, id, e);
        }
      }
      const mark = markCommand(id, inputs.data, existing.get(DATA_MARK));
      try {
        if (mark !== undefined) await run(inputs.connection, mark);
      } catch (e) {
        throw problem("creating", THING, id, e);
      }
    } else {
      try {
        await run(inputs.connection, createCommand(inputs));
      } catch (e) {
        throw problem("creating", THING, id, e);
      }
    }
    let got;
    try {
      got = await readDataset(inputs.connection, id, wanted);
    } catch (e) {
      throw partialFailure(id, { ...inputs }, problem("creating", THING, id, e));
    }
    if (got === undefined) throw partialFailure(id, { ...inputs }, problem("creating", THING, id, "created, but zfs get cannot see it"));
    return { id, outs: stateFrom(inputs, got) };
  },

  async read(id, props) {
    if (props === undefined) throw new Error(`reading ${THING} (${id}): no recorded state to compare with`);
    let got;
    try {
      got = await readDataset(props.connection, id, props.properties as Record<string, string>);
    } catch (e) {
      throw problem("reading", THING, id, e);
    }
    if (got === undefined) return { id: "" };
    return { id, props: stateFrom({ ...props, name: id }, got) };
  },

  async update(id, olds, news) {
    try {
      const cmds = updateCommands(id, olds.properties as Record<string, string>, news.properties as Record<string, string>);
      if (olds.data !== news.data) {
        const mark = markCommand(id, news.data, olds.data ? { value: "on", source: "local" } : undefined);
        if (mark !== undefined) cmds.push(mark);
      }
      for (const cmd of cmds) await run(news.connection, cmd);
    } catch (e) {
      throw problem("updating", THING, id, e);
    }
    let got;
    try {
      got = await readDataset(news.connection, id, news.properties as Record<string, string>);
    } catch (e) {
      throw partialFailure(id, { ...olds, ...news }, problem("updating", THING, id, e));
    }
    if (got === undefined) throw problem("updating", THING, id, "the dataset disappeared during the update");
    return { outs: stateFrom(news, got) };
  },

  async delete(id, props) {
    if (props.data && !props.destroyData) {
      console.log(`kept ${THING} ${id}: it is marked data (set destroyData to destroy it, or run zfs destroy ${id} by hand)`);
      return;
    }
    try {
      const listed = await run(props.connection, sh`zfs list -H -o name -t filesystem,volume,snapshot -r ${id}`, { allowExitCodes: [1], idempotent: true });
      if (listed.exitCode === 1) {
        if (/dataset does not exist/.test(listed.stderr)) return;
        throw new RemoteCommandError(listed);
      }
      // Only snapshots can have clones; skip the question when there are none.
      const hasSnapshots = listed.stdout.split("\n").some((l) => l.includes("@"));
      const clones = hasSnapshots
        ? (await run(props.connection, sh`zfs get -H -o name,value clones -t snapshot -r ${id}`, { idempotent: true })).stdout
        : "";
      const hasChildren = listed.stdout.split("\n").some((l) => l.startsWith(`${id}/`));
      const marked = hasChildren
        ? (await run(props.connection, sh`zfs get -H -o name,value -r -t filesystem,volume ${DATA_MARK} ${id}`, { idempotent: true })).stdout
        : "";
      const kept = props.destroyChildren ? undefined : keptDataBelow(id, listed.stdout, marked);
      if (kept !== undefined) {
        console.log(`kept ${THING} ${id}: it still holds data that is kept (${kept.join(", ")}); to remove both, destroy with destroyData set on that dataset, or run zfs destroy -r ${id} by hand`);
        return;
      }
      const blockers = deleteBlockers(id, listed.stdout, clones, props.destroyChildren, marked);
      if (blockers.length > 0) throw new Error(blockers.join("; "));
      const r = await run(props.connection, sh`zfs destroy ${[...(props.destroyChildren ? [raw("-r")] : []), id]}`, { allowExitCodes: [1] });
      if (r.exitCode === 1 && !/dataset does not exist/.test(r.stderr)) {
        throw new RemoteCommandError(r);
      }
    } catch (e) {
      throw problem("deleting", THING, id, e);
    }
  },
};

// ── resource ────────────────────────────────────────────────────────────────

/** A ZFS file system. See the header of provider/zfsDataset.ts. */
export class ZfsDataset extends dynamic.Resource {
  declare readonly name: Output<string>;
  declare readonly origin: Output<string | undefined>;
  declare readonly properties: Output<Record<string, string>>;
  /** The dataset's guid. */
  declare readonly guid: Output<string>;
  /** Effective mountpoint, local or inherited. */
  declare readonly mountpoint: Output<string>;
  /** The snapshot it was cloned from, or `""`. */
  declare readonly originSnapshot: Output<string>;
  /** What delete will do: `destroy`, or `keep` for a `data` dataset without `destroyData`. */
  declare readonly onDelete: Output<"destroy" | "keep">;

  constructor(name: string, args: ZfsDatasetArgs, opts?: CustomResourceOptions) {
    super(
      zfsDatasetProvider,
      name,
      { guid: undefined, mountpoint: undefined, originSnapshot: undefined, onDelete: undefined, ...args },
      opts,
      "enjailed",
      "ZfsDataset",
    );
  }
}
