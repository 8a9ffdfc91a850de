/**
 * JailConf: one jail's configuration file, `/etc/jail.conf.d/<name>.conf`, owned whole (mode 0644, root:wheel).
 *
 * Follows jail.conf(5) and jail(8) of FreeBSD 15.0; the syntax lives in ./jailConfSyntax.ts (renderer and reader).
 * rc.d/jail reads `/etc/jail.conf.d/<name>.conf` on its own (`jail -f`), so globals in /etc/jail.conf do not apply and
 * every parameter the jail needs is in this one file, inside one `<name> { … }` block.
 *
 * Rendering (byte-stable, reads like a hand-written file): `$variables` sorted by name; `host.*` and `path`; `depend`;
 * a `# keep-sorted start/end` block of flags and numbers (allow.*, devfs_ruleset, enforce_statfs, mount.*, vnet, …)
 * sorted byte-wise by line; interfaces, addresses and `zfs.dataset`; exec settings; start commands; stop commands;
 * extra parameters. Lists render as `name = "a";` then `name += "b";`. `true` renders `name;`, `false` the `no`-prefixed
 * flag (`allow.nomount;`). Every string is double-quoted; in inputs `$x`/`${x}` are jail.conf references and `$$` is a
 * literal dollar sign (rendered `\$`).
 *
 * Lifecycle (commands run as root through the connection's `become`):
 * - check: zod schema plus cross-field rules (zfs-jail(8): `zfs.dataset` needs `allow.mount`, `allow.mount.zfs` and
 *   `enforce_statfs` below 2; jail(8): `allow.mount*` need `enforce_statfs` below 2, `vnet.interface` needs `vnet`,
 *   a jail needs `persist` or `exec.start`; every `${ref}` must name a variable, `name` or a parameter this file sets;
 *   a variable may not share a parameter's name). No SSH.
 * - create: read the file. Missing: `mkdir -p /etc/jail.conf.d`, then an atomic write. Present with the same meaning
 *   and 0644 root:wheel: adopted as is (no write). Present and different (or unparsable, or another mode or owner):
 *   refused with the differences, unless `takeOver`, which writes over it keeping the previous content as
 *   `<file>.orig` (not matched by rc.d/jail's `*.conf`).
 * - read: read and parse the file. Gone ⇒ empty id. Same meaning as the rendering of the recorded inputs ⇒ nothing
 *   changes (whitespace, comments, quoting and order are not drift). Otherwise the state's `content` becomes what the
 *   host has, and the next `up` shows an update that rewrites the file. A mode or owner other than 0644 root:wheel is
 *   drift too (state `ownership`).
 * - update: atomic write of the new rendering.
 * - delete: refuses while the jail runs (`jls -j NAME jid` exits 0) unless `deleteWhileRunning`; then removes the file
 *   (already gone is success).
 * Id: the file's path. Replaced when `name` or `connection.host` changes (create-before-delete: the paths differ, or
 * the hosts do). `read` compares meaning: the expanded parameters of the jail, not bytes.
 */
import { dynamic } from "@pulumi/pulumi";
import type { CustomResourceOptions, Input, Output } from "@pulumi/pulumi";
import { z } from "zod";
import { adoptionRefused } from "./lib/adopt";
import { checkWith } from "./lib/check";
import { configureFrom } from "./lib/config";
import type { CheckFailure } from "./lib/check";
import { connectionSchema } from "./lib/connection";
import type { ConnectionArgs } from "./lib/connection";
import { diffWith } from "./lib/diff";
import type { DiffPolicy } from "./lib/diff";
import { problem } from "./lib/errors";
import { run } from "./lib/exec";
import { readRemoteFile, removeRemoteFile, writeRemoteFile } from "./lib/files";
import { isUnknown } from "./lib/inputs";
import { inputKeys } from "./lib/inputs";
import type { PulumiInputs } from "./lib/inputs";
import { sh } from "./lib/sh";
import { jailMeaning, meaningDifferences, parseJailConf, parseTemplate, renderJailBlock, templateRefs } from "./jailConfSyntax";
import type { Meaning, RenderEntry, RenderSection } from "./jailConfSyntax";

// ── schema ──────────────────────────────────────────────────────────────────

/** A jail.conf string value: no newline or NUL; `$x`/`${x}` are references, `$$` a literal dollar sign. */
function template() {
  return z.string().superRefine((s, ctx) => {
    if (/[\n\r\u0000]/.test(s)) {
      ctx.addIssue({ code: "custom", message: "must not contain a newline, carriage return or NUL" });
      return;
    }
    try {
      parseTemplate(s);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: (e as Error).message });
    }
  });
}

/** One string or a list of them (rendered `=` then `+=`); the provider always sees a list. */
function list() {
  return z.union([template(), z.array(template())]).transform((v) => (typeof v === "string" ? [v] : v));
}

function flag() {
  return z.boolean();
}

function count(min: number, max: number) {
  return z.number().int().min(min).max(max);
}

/** The typed jail parameters, as jail(8) names them. Every key is optional: unset means "not in the file". */
export function jailParametersSchema() {
  return z.object({
    /** The jail's root directory; absolute (`/usr/jail/${name}`). */
    path: template()
      .refine((s) => s.startsWith("/") || s.startsWith("$"), "must be an absolute path such as /usr/jail/${name}")
      .optional(),
    /** Hostname of the jail (`${name}.lab.net`). */
    "host.hostname": template().optional(),
    /** NIS domain name of the jail. */
    "host.domainname": template().optional(),
    /** Jails this one depends on: they start first and stop after it. */
    depend: list().optional(),
    /** Give the jail its own network stack (`vnet;`); `false` writes `vnet = "inherit";`. */
    vnet: flag().optional(),
    /** Host interfaces moved into the jail after `exec.created`; needs `vnet`. */
    "vnet.interface": list().optional(),
    /** IPv4 addresses of a non-VNET jail (`10.0.0.5/24`). */
    "ip4.addr": list().optional(),
    /** IPv6 addresses of a non-VNET jail. */
    "ip6.addr": list().optional(),
    /** IPv4 mode: `new`, `inherit` or `disable`. */
    ip4: z.enum(["new", "inherit", "disable"]).optional(),
    /** IPv6 mode: `new`, `inherit` or `disable`. */
    ip6: z.enum(["new", "inherit", "disable"]).optional(),
    /** ZFS datasets attached with `zfs jail` after `exec.created` (15.0+); each needs `jailed=on`. */
    "zfs.dataset": list().optional(),
    /** devfs ruleset applied to the jail's /dev (0 = none). */
    devfs_ruleset: count(0, 65535).optional(),
    /** Which mounts the jail sees: 0 all, 1 below its root, 2 (jail(8)'s default) only its root's own. */
    enforce_statfs: count(0, 2).optional(),
    /** Mount devfs on the jail's /dev. */
    "mount.devfs": flag().optional(),
    /** Mount fdescfs on the jail's /dev/fd. */
    "mount.fdescfs": flag().optional(),
    /** Mount procfs on the jail's /proc. */
    "mount.procfs": flag().optional(),
    /** fstab(5)-format file of mounts made before the jail starts. */
    "mount.fstab": template().optional(),
    /** fstab(5)-format lines mounted before the jail starts. */
    mount: list().optional(),
    /** Keep the jail alive with no processes in it. */
    persist: flag().optional(),
    /** Jail securelevel (-1 to 3). */
    securelevel: count(-1, 3).optional(),
    /** How many child jails this jail may create. */
    "children.max": count(0, 2 ** 31 - 1).optional(),
    /** Root in the jail may set the hostname. */
    "allow.set_hostname": flag().optional(),
    /** Root in the jail may use System V IPC (prefer `sysvmsg`/`sysvsem`/`sysvshm` via extra parameters). */
    "allow.sysvipc": flag().optional(),
    /** Root in the jail may use raw sockets (ping, traceroute). */
    "allow.raw_sockets": flag().optional(),
    /** Root in the jail may change system file flags. */
    "allow.chflags": flag().optional(),
    /** Root in the jail may mount jail-safe file systems; needs `enforce_statfs` below 2. */
    "allow.mount": flag().optional(),
    /** Root in the jail may mount devfs; needs `allow.mount`. */
    "allow.mount.devfs": flag().optional(),
    /** Root in the jail may mount fdescfs; needs `allow.mount`. */
    "allow.mount.fdescfs": flag().optional(),
    /** Root in the jail may mount nullfs; needs `allow.mount`. */
    "allow.mount.nullfs": flag().optional(),
    /** Root in the jail may mount procfs; needs `allow.mount`. */
    "allow.mount.procfs": flag().optional(),
    /** Root in the jail may mount tmpfs; needs `allow.mount`. */
    "allow.mount.tmpfs": flag().optional(),
    /** Root in the jail may mount ZFS datasets attached to it; needs `allow.mount` (zfs-jail(8)). */
    "allow.mount.zfs": flag().optional(),
    /** Root in the jail may administer quotas. */
    "allow.quotas": flag().optional(),
    /** The jail may use socket families beyond IPv4, IPv6, local and route. */
    "allow.socket_af": flag().optional(),
    /** Root in the jail may lock memory (mlock(2)). */
    "allow.mlock": flag().optional(),
    /** Root in the jail may bind ports below 1024. */
    "allow.reserved_ports": flag().optional(),
    /** The jail may use vmm(4), so bhyve(8) can run in it; exists when vmm.ko is loaded. */
    "allow.vmm": flag().optional(),
    /** Root in the jail may read the kernel message buffer. */
    "allow.read_msgbuf": flag().optional(),
    /** Unprivileged processes in the jail may debug their own processes. */
    "allow.unprivileged_proc_debug": flag().optional(),
    /** Run commands with a clean environment (`exec.clean;`). */
    "exec.clean": flag().optional(),
    /** File that receives the output of the commands run in the jail. */
    "exec.consolelog": template().optional(),
    /** Seconds each exec.* command may run. */
    "exec.timeout": count(0, 2 ** 31 - 1).optional(),
    /** Seconds to wait for the jail's processes to exit on stop. */
    "stop.timeout": count(0, 2 ** 31 - 1).optional(),
    /** User that runs commands inside the jail. */
    "exec.jail_user": template().optional(),
    /** User that runs commands on the host. */
    "exec.system_user": template().optional(),
    /** Look up `exec.jail_user` in the host's password database. */
    "exec.system_jail_user": flag().optional(),
    /** FIB (routing table) the commands run with. */
    "exec.fib": count(0, 65535).optional(),
    /** Host commands run before anything else, even before mounts. */
    "exec.prepare": list().optional(),
    /** Host commands run before the jail is created. */
    "exec.prestart": list().optional(),
    /** Host commands run after the jail is created, before `zfs.dataset` and `vnet.interface`. */
    "exec.created": list().optional(),
    /** Commands run inside the jail to start it (`/bin/sh /etc/rc`). */
    "exec.start": list().optional(),
    /** Host commands run after the jail has started. */
    "exec.poststart": list().optional(),
    /** Host commands run before the jail is stopped. */
    "exec.prestop": list().optional(),
    /** Commands run inside the jail to stop it (`/bin/sh /etc/rc.shutdown`). */
    "exec.stop": list().optional(),
    /** Host commands run after the jail is removed. */
    "exec.poststop": list().optional(),
    /** Host commands run last, after unmounting. */
    "exec.release": list().optional(),
  });
}

/** A jail name: letters, digits, `_` and `-`; not only digits (jail(8) would read a jid); no `.` (hierarchy). */
const JAIL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;
/** A parameter name: dotted lower-case words. */
const PARAM_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
/** A variable name (without the `$`). */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function jailConfSchema() {
  return z.object({
    /** How to reach the FreeBSD host. Changing `host` replaces the file; the other fields update in place. */
    connection: connectionSchema(),
    /**
     * The jail's name as jail(8) knows it; also the file name `/etc/jail.conf.d/<name>.conf`.
     *
     * Letters, digits, `_` and `-`, not only digits, at most 63 characters. Changing it replaces the file.
     */
    name: z
      .string()
      .regex(JAIL_NAME, "must be a jail name: letters, digits, _ and -, at most 63 characters (no spaces, no .)")
      .refine((s) => !/^[0-9]+$/.test(s), "must not be only digits (jail(8) reads a number as a jid)"),
    /**
     * jail.conf variables (`$id = "6";`), by name without the `$`. Values may refer to other variables.
     * @default {}
     */
    variables: z.record(z.string().regex(VARIABLE_NAME, "must be a variable name like bridge0_ip"), template()).default({}),
    /**
     * The jail's parameters, typed. Unset keys are left out of the file.
     * @default {}
     */
    parameters: jailParametersSchema().default({}),
    /**
     * Parameters the typed set does not cover (`sysvshm`, `osrelease`, module parameters), by jail(8) name.
     * `true`/`false` render as flags, numbers bare, strings quoted, lists with `+=`.
     * @default {}
     */
    extraParameters: z
      .record(
        z.string().regex(PARAM_NAME, "must be a jail parameter name like allow.nfsd"),
        z.union([z.boolean(), z.number().int(), template(), z.array(template())]),
      )
      .default({}),
    /**
     * Remove the file even while the jail runs. Leave it off unless something else stops the jail.
     * @default false
     */
    deleteWhileRunning: z.boolean().default(false),
    /**
     * Overwrite an existing file whose meaning differs (the old content is kept beside it), instead of refusing.
     * @default false
     */
    takeOver: z.boolean().default(false),
  });
}

// ── types ───────────────────────────────────────────────────────────────────

export type JailParameters = z.output<ReturnType<typeof jailParametersSchema>>;
export type JailConfInputs = z.output<ReturnType<typeof jailConfSchema>>;
export type JailConfArgs = PulumiInputs<Omit<z.input<ReturnType<typeof jailConfSchema>>, "connection">> & {
  connection: Input<ConnectionArgs>;
};

export interface JailConfState extends JailConfInputs {
  /** Absolute path of the file on the host. */
  file: string;
  /** The file's content as last written, or as found on the host when `read` saw a different meaning. */
  content: string;
  /** Mode and ownership as last written or seen by `read`, `0644 root:wheel` when right. */
  ownership: string;
}

// ── diff policy ─────────────────────────────────────────────────────────────

const DIFF: DiffPolicy<JailConfInputs> = {
  keys: inputKeys(jailConfSchema),
  replaceOn: ["name"],
  replaceIf: { connection: (o: { host?: unknown }, n: { host?: unknown }) => o.host !== n.host },
  deleteBeforeReplace: false,
};

// ── pure helpers ────────────────────────────────────────────────────────────

/** Mode and ownership the file must have. */
const OWNERSHIP = "0644 root:wheel";

/** @internal Where the file lives. */
export function confPath(name: string): string {
  return `/etc/jail.conf.d/${name}.conf`;
}

type ParamKey = keyof JailParameters & string;

/** @internal Layout: which typed parameters go in which section, in order. Everything else is keep-sorted. */
export const SECTIONS: { keys: readonly ParamKey[]; align: boolean }[] = [
  { keys: ["host.hostname", "host.domainname", "path"], align: false },
  { keys: ["depend"], align: true },
  { keys: ["vnet.interface", "ip4.addr", "ip6.addr", "zfs.dataset", "mount.fstab", "mount"], align: true },
  {
    keys: ["exec.clean", "exec.consolelog", "exec.timeout", "stop.timeout", "exec.jail_user", "exec.system_user",
      "exec.system_jail_user", "exec.fib"],
    align: false,
  },
  { keys: ["exec.prepare", "exec.prestart", "exec.created", "exec.start", "exec.poststart"], align: true },
  { keys: ["exec.prestop", "exec.stop", "exec.poststop", "exec.release"], align: true },
];

function entryFor(name: string, value: unknown): RenderEntry | undefined {
  if (value === undefined) return undefined;
  if (name === "vnet" && value === false) return { name, value: "inherit" };
  return { name, value: value as RenderEntry["value"] };
}

/** @internal The file's content for `inputs`; byte-stable (depends on nothing but the values). */
export function renderJailConf(i: Pick<JailConfInputs, "name" | "variables" | "parameters" | "extraParameters">): string {
  const params = i.parameters as Record<string, unknown>;
  const placed = new Set<string>(SECTIONS.flatMap((s) => s.keys));
  const sorted = (o: Record<string, unknown>) => Object.keys(o).sort();
  const variables: RenderSection = {
    entries: sorted(i.variables).map((k) => ({ name: `$${k}`, value: i.variables[k] as string })),
  };
  const sections = SECTIONS.map((s) => ({
    align: s.align,
    entries: s.keys.flatMap((k) => entryFor(k, params[k]) ?? []),
  }));
  const flags: RenderSection = {
    keepSorted: true,
    entries: sorted(params).filter((k) => !placed.has(k)).flatMap((k) => entryFor(k, params[k]) ?? []),
  };
  const extra: RenderSection = {
    entries: sorted(i.extraParameters).flatMap((k) => entryFor(k, i.extraParameters[k]) ?? []),
  };
  const [identity, depend, ...rest] = sections as [RenderSection, RenderSection, ...RenderSection[]];
  return renderJailBlock(i.name, [variables, identity, depend, flags, ...rest, extra], [
    `${confPath(i.name)}: managed by enjailed (JailConf); changes made here show as drift`,
  ]);
}

/** @internal The meaning of a file's text for jail `name`. Throws on syntax or expansion errors. */
export function fileMeaning(text: string, name: string): Meaning {
  return jailMeaning(parseJailConf(text), name);
}

/** @internal Cross-field rules (jail(8), zfs-jail(8)); run by `check` once every input is known. */
export function crossFieldFailures(i: JailConfInputs): CheckFailure[] {
  const p = i.parameters;
  const failures: CheckFailure[] = [];
  const statfsLow = p.enforce_statfs !== undefined && p.enforce_statfs < 2;
  const datasets = p["zfs.dataset"] ?? [];
  if (datasets.length > 0) {
    const why = "zfs-jail(8): a dataset attached to a jail is usable only with allow.mount, allow.mount.zfs and enforce_statfs below 2";
    if (p["allow.mount"] !== true) failures.push({ property: "parameters.allow.mount", reason: `must be true when zfs.dataset is set (${why})` });
    if (p["allow.mount.zfs"] !== true) failures.push({ property: "parameters.allow.mount.zfs", reason: `must be true when zfs.dataset is set (${why})` });
    if (!statfsLow) failures.push({ property: "parameters.enforce_statfs", reason: `must be 0 or 1 when zfs.dataset is set (${why})` });
  }
  for (const k of Object.keys(p) as ParamKey[]) {
    if (!k.startsWith("allow.mount.") || p[k] !== true) continue;
    if (p["allow.mount"] !== true) {
      failures.push({ property: "parameters.allow.mount", reason: `must be true when ${k} is true (jail(8): ${k} is effective only together with allow.mount)` });
    }
  }
  if ((p["allow.mount"] === true || Object.keys(p).some((k) => k.startsWith("allow.mount.") && p[k as ParamKey] === true)) && !statfsLow && datasets.length === 0) {
    failures.push({ property: "parameters.enforce_statfs", reason: "must be 0 or 1 when allow.mount is true (jail(8): mounting in a jail needs enforce_statfs below 2)" });
  }
  if (p.persist !== true && (p["exec.start"] ?? []).length === 0) {
    failures.push({ property: "parameters.exec.start", reason: "must be set unless persist is true (jail(8): a new jail needs persist or exec.start)" });
  }
  if ((p["vnet.interface"] ?? []).length > 0 && p.vnet !== true) {
    failures.push({ property: "parameters.vnet", reason: "must be true when vnet.interface is set (jail(8): interfaces can only move into a VNET jail)" });
  }
  const set = new Set<string>(["name", ...Object.keys(p), ...Object.keys(i.extraParameters)]);
  for (const k of Object.keys(i.extraParameters)) {
    if (k in jailParametersSchema().shape) failures.push({ property: `extraParameters.${k}`, reason: `is a typed parameter: set parameters.${k} instead` });
    if (k === "name") failures.push({ property: "extraParameters.name", reason: "cannot be set: the jail's name comes from the name input" });
  }
  for (const v of Object.keys(i.variables)) {
    if (set.has(v)) failures.push({ property: `variables.${v}`, reason: `has the same name as a parameter (jail.conf(5) rejects that)` });
  }
  const defined = new Set<string>([...set, ...Object.keys(i.variables)]);
  const checkRefs = (property: string, value: unknown) => {
    const strings = typeof value === "string" ? [value] : Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : [];
    for (const s of strings) {
      for (const ref of templateRefs(s)) {
        if (!defined.has(ref)) failures.push({ property, reason: `refers to \${${ref}}, which is neither a variable, name, nor a parameter this file sets` });
      }
    }
  };
  for (const [k, v] of Object.entries(i.variables)) checkRefs(`variables.${k}`, v);
  for (const [k, v] of Object.entries(p)) checkRefs(`parameters.${k}`, v);
  for (const [k, v] of Object.entries(i.extraParameters)) checkRefs(`extraParameters.${k}`, v);
  return failures;
}

// ── provider ────────────────────────────────────────────────────────────────

async function writeConf(i: JailConfInputs, content: string, keepPrevious: boolean): Promise<void> {
  await run(i.connection, sh`mkdir -p /etc/jail.conf.d`);
  await writeRemoteFile(i.connection, confPath(i.name), content, { mode: "0644", owner: "root", group: "wheel", keepPrevious });
}

/** @internal exported for tests and the serialization check */
export const jailConfProvider: dynamic.ResourceProvider<JailConfInputs, JailConfState> = {
  async configure(req) {
    configureFrom(req);
  },

  async check(_olds, news) {
    return checkWith(jailConfSchema, news, crossFieldFailures);
  },

  async diff(_id, olds, news) {
    const d = diffWith(olds, news, DIFF);
    if (d.changes || isUnknown(news)) return d;
    // read() records what the host has in `content` when its meaning drifted: that is a change too.
    let wanted: string | undefined;
    try {
      wanted = renderJailConf(news);
    } catch {
      wanted = undefined;
    }
    const contentDrift = olds.content !== undefined && wanted !== undefined && olds.content !== wanted;
    const ownershipDrift = olds.ownership !== undefined && olds.ownership !== OWNERSHIP;
    return { ...d, changes: contentDrift || ownershipDrift };
  },

  async create(inputs) {
    const file = confPath(inputs.name);
    const content = renderJailConf(inputs);
    try {
      const found = await readRemoteFile(inputs.connection, file);
      if (found.kind === "unreadable") throw new Error(`cannot read the existing file: ${found.reason}`);
      if (found.kind === "file") {
        let differences: string[];
        try {
          differences = meaningDifferences(fileMeaning(content, inputs.name), fileMeaning(found.content, inputs.name));
        } catch (e) {
          differences = [`the existing file cannot be read as jail.conf: ${(e as Error).message}`];
        }
        const ownership = `${found.mode} ${found.owner}:${found.group}`;
        if (differences.length === 0 && ownership === OWNERSHIP) return { id: file, outs: { ...inputs, file, content, ownership } };
        if (ownership !== OWNERSHIP) differences.push(`mode and ownership: want ${JSON.stringify(OWNERSHIP)}, host has ${JSON.stringify(ownership)}`);
        if (!inputs.takeOver) throw adoptionRefused("jail.conf file", file, differences);
        await writeConf(inputs, content, true);
      } else {
        await writeConf(inputs, content, false);
      }
    } catch (e) {
      if (e instanceof Error && e.message.startsWith("creating jail.conf file")) throw e;
      throw problem("creating", "jail.conf file", file, e);
    }
    return { id: file, outs: { ...inputs, file, content, ownership: OWNERSHIP } };
  },

  async read(id, props) {
    if (props === undefined) throw new Error(`reading jail.conf file (${id}): no recorded state to compare with`);
    let found;
    try {
      found = await readRemoteFile(props.connection, id);
    } catch (e) {
      throw problem("reading", "jail.conf file", id, e);
    }
    if (found.kind === "missing") return { id: "" };
    if (found.kind === "unreadable") throw problem("reading", "jail.conf file", id, found.reason);
    const wanted = renderJailConf(props);
    let same: boolean;
    try {
      same = meaningDifferences(fileMeaning(wanted, props.name), fileMeaning(found.content, props.name)).length === 0;
    } catch {
      same = false;
    }
    const ownership = `${found.mode} ${found.owner}:${found.group}`;
    return { id, props: { ...props, file: id, content: same ? wanted : found.content, ownership } };
  },

  async update(id, _olds, news) {
    const content = renderJailConf(news);
    try {
      await writeConf(news, content, false);
    } catch (e) {
      throw problem("updating", "jail.conf file", id, e);
    }
    return { outs: { ...news, file: confPath(news.name), content, ownership: OWNERSHIP } };
  },

  async delete(id, props) {
    try {
      if (!props.deleteWhileRunning) {
        const r = await run(props.connection, sh`jls -j ${props.name} jid`, { allowExitCodes: [1], idempotent: true });
        if (r.exitCode === 0) {
          throw new Error(
            `jail ${JSON.stringify(props.name)} is running (jid ${r.stdout.trim()}); stop it first (service jail stop ${props.name}) or set deleteWhileRunning`,
          );
        }
      }
      await removeRemoteFile(props.connection, id);
    } catch (e) {
      throw problem("deleting", "jail.conf file", id, e);
    }
  },
};

// ── resource ────────────────────────────────────────────────────────────────

/** A jail's configuration file, `/etc/jail.conf.d/<name>.conf`. See the header of provider/jailConf.ts. */
export class JailConf extends dynamic.Resource {
  declare readonly name: Output<string>;
  declare readonly variables: Output<Record<string, string>>;
  declare readonly parameters: Output<JailParameters>;
  declare readonly extraParameters: Output<Record<string, boolean | number | string | string[]>>;
  /** Absolute path of the file on the host. */
  declare readonly file: Output<string>;
  /** The file's content as last written. */
  declare readonly content: Output<string>;
  /** Mode and ownership as last written or seen by refresh. */
  declare readonly ownership: Output<string>;

  constructor(name: string, args: JailConfArgs, opts?: CustomResourceOptions) {
    super(jailConfProvider, name, { file: undefined, content: undefined, ownership: undefined, ...args }, opts, "enjailed", "JailConf");
  }
}
