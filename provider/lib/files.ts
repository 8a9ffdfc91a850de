/**
 * Remote file primitives over {@link run}, written for FreeBSD's base tools and portable to any POSIX userland
 * (they use only sh, ls, cat, mktemp, chown, chmod, mv, cp, rm, and lockf(1) for locks).
 *
 * - read:   `missing`, `unreadable` (exists but cannot be read: a directory, permissions) and `file` are distinct
 *           outcomes; a broken connection throws instead, so callers never mistake a flaky link for a missing file.
 * - write:  content goes on stdin (never the command line) into a temporary `.enjailed.XXXXXX` file in the same
 *           directory, which gets owner and mode and is then renamed over the target: readers see the old file or the
 *           new one, never half of one. The dot-prefixed temporary name is skipped by globs such as /etc/rc.d/*.
 * - remove: `removed` or `absent`.
 * - lock:   `lockf -k -t <seconds> <lockPath> /bin/sh -c <command>`, for files that several resources edit.
 */
import { run } from "./exec";
import type { RunOptions, RunResult } from "./exec";
import type { ConnectionInputs } from "./connection";
import { sh } from "./sh";

/** What {@link readRemoteFile} found. `mode` is four octal digits such as "0644". */
export type RemoteFile =
  | { kind: "missing" }
  | { kind: "unreadable"; reason: string }
  | { kind: "file"; content: string; mode: string; owner: string; group: string };

/** Options of {@link writeRemoteFile}. */
export interface WriteOptions {
  /** Permission bits, octal. @default "0644" */
  mode?: string;
  /** Owner. @default "root" */
  owner?: string;
  /** Group. @default "wheel" */
  group?: string;
  /**
   * Before the first overwrite, keep the previous content at `backupPath`. An existing backup is never replaced, so
   * it keeps what was there before enjailed. Mind globs: a backup in /etc/rc.d/ would be run by rc(8).
   * @default false
   */
  keepPrevious?: boolean;
  /** Where {@link keepPrevious} puts the previous content. @default `${path}.orig` */
  backupPath?: string;
}

/** Read a file as root: its content, mode, owner and group, or why not. */
export async function readRemoteFile(conn: ConnectionInputs, path: string): Promise<RemoteFile> {
  const p = sh`${path}`;
  const script = [
    `p=${p}`,
    `if [ ! -e "$p" ]; then if [ -L "$p" ]; then echo 'a symbolic link to nothing' >&2; exit 3; fi; echo missing; exit 0; fi`,
    `if [ ! -f "$p" ]; then echo 'not a regular file' >&2; exit 3; fi`,
    `meta=$(ls -ldL -- "$p") || exit 3`,
    `printf 'file %s\\n' "$meta"`,
    `exec cat -- "$p"`,
  ].join("\n");
  const r = await run(conn, script, { allowExitCodes: [1, 2, 3], idempotent: true });
  if (r.exitCode !== 0) return { kind: "unreadable", reason: r.stderr.trim() || `exit code ${r.exitCode}` };
  if (r.stdout === "missing\n") return { kind: "missing" };
  const nl = r.stdout.indexOf("\n");
  const meta = filesParseLs(r.stdout.slice(0, nl < 0 ? undefined : nl));
  if (nl < 0 || meta === undefined) return { kind: "unreadable", reason: `unexpected output from ls: ${JSON.stringify(r.stdout.slice(0, 200))}` };
  return { kind: "file", content: r.stdout.slice(nl + 1), ...meta };
}

/** @internal Parse `file <ls -ld line>` into mode, owner and group. */
export function filesParseLs(line: string): { mode: string; owner: string; group: string } | undefined {
  const m = /^file ([-dlcbps])([-r][-w][-xsS])([-r][-w][-xsS])([-r][-w][-xtT])\S*\s+\d+\s+(\S+)\s+(\S+)/.exec(line);
  if (m === null) return undefined;
  const triad = (t: string): number => (t[0] === "r" ? 4 : 0) + (t[1] === "w" ? 2 : 0) + (/[xst]/.test(t[2] ?? "") ? 1 : 0);
  const special = (/[sS]/.test(m[2]![2]!) ? 4 : 0) + (/[sS]/.test(m[3]![2]!) ? 2 : 0) + (/[tT]/.test(m[4]![2]!) ? 1 : 0);
  const mode = `${special}${triad(m[2]!)}${triad(m[3]!)}${triad(m[4]!)}`;
  return { mode, owner: m[5]!, group: m[6]! };
}

/** Write `content` atomically as root: temporary file in the same directory, owner and mode set, then rename. */
export async function writeRemoteFile(
  conn: ConnectionInputs, path: string, content: string, options: WriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? "0644";
  if (!/^[0-7]{3,4}$/.test(mode)) throw new Error(`writing file (${path}): mode ${JSON.stringify(mode)} is not octal such as "0644"`);
  const owner = `${options.owner ?? "root"}:${options.group ?? "wheel"}`;
  const backup = options.keepPrevious === true ? (options.backupPath ?? `${path}.orig`) : undefined;
  const lines = [
    "set -e",
    sh`p=${path}`,
    `d=$(dirname -- "$p")`,
    `t=$(mktemp "$d/.enjailed.XXXXXX")`,
    `trap 'rm -f -- "$t"' EXIT`,
    ...(backup === undefined ? [] : [sh`b=${backup}`, `if [ -f "$p" ] && [ ! -e "$b" ]; then cp -p -- "$p" "$b"; fi`]),
    `cat > "$t"`,
    sh`chown ${owner} "$t"`,
    sh`chmod ${mode} "$t"`,
    `mv -f -- "$t" "$p"`,
    `trap - EXIT`,
  ];
  await run(conn, lines.join("\n"), { stdin: content });
}

/** Remove a file as root. */
export async function removeRemoteFile(conn: ConnectionInputs, path: string): Promise<"removed" | "absent"> {
  const r = await run(conn, [
    sh`p=${path}`,
    `if [ -e "$p" ] || [ -L "$p" ]; then rm -f -- "$p" && echo removed; else echo absent; fi`,
  ].join("\n"));
  return r.stdout.trim() === "removed" ? "removed" : "absent";
}

/**
 * Run `command` while holding an exclusive lockf(1) lock on `lockPath` (kept, `-k`, so lock order holds). Waits up to
 * `options.timeoutSeconds` (default 120) for the lock; a timeout fails with lockf's exit code 75 (EX_TEMPFAIL).
 */
export function withRemoteLock<T = RunResult>(
  conn: ConnectionInputs, lockPath: string, command: string, options: RunOptions = {},
): Promise<RunResult> {
  const wait = options.timeoutSeconds ?? 120;
  const { timeoutSeconds: _ignored, ...rest } = options;
  void _ignored;
  const line = sh`lockf -k -t ${wait} ${lockPath} /bin/sh -c ${command}`;
  const limit = conn.commandTimeoutSeconds;
  return run(conn, line, limit === undefined ? rest : { ...rest, timeoutSeconds: wait + limit });
}
