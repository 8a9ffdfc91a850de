// The lab host: a simulated FreeBSD 15 machine behind a real OpenSSH sshd (issue #3, docs/lab.md).
//
// One lab is one directory and one private mount namespace:
//
//   <dir>/upper, <dir>/work   overlayfs layers; the lab's root is `/` (read-only underneath) + upper
//   <dir>/root                mount point of the overlay; only populated *inside* the lab's namespace
//   <dir>/home, <dir>/roothome  bind-mounted over the lab's /home and /root (the host's stay hidden)
//   <dir>/lab.json            connection details, exactly as docs/CONTRACTS.md says
//   <dir>/lab-state.json      what is needed to restart or reset the same lab (name, address, port, ...)
//   <dir>/known_hosts         one `[host]:port ssh-ed25519 ...` line for the OpenSSH client
//   <dir>/client_ed25519      the admin user's private key; host_ed25519 the sshd host key
//   <dir>/sshd.log            the launcher's and sshd's stderr (LogLevel VERBOSE)
//   <dir>/session.log         symlink to the lab's /var/log/lab-session.log in upper/ (one JSON line per SSH command)
//
// `unshare --mount --uts --propagation private` runs launch.sh, which mounts the overlay, proc, a minimal /dev,
// fresh tmpfs on /tmp and /run, installs and initialises the simulated FreeBSD commands (freebsd-sim, built from
// tests/lab/sim), and finally execs `chroot <root> /usr/sbin/sshd -D -e`. The pid in lab.json is that sshd, so every
// mount lives exactly as long as the processes in the namespace; stop() ends them all. sshd runs every command
// through the sim's `lab-session` (ForceCommand), which logs it and applies fault rules.
//
// This file shares no code with provider/: it talks to the lab through the OpenSSH `ssh` command only.

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, openSync, closeSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

// ── types ────────────────────────────────────────────────────────────────────

/** Starting shapes of the simulated host, passed to `freebsd-sim lab-init --profile`. */
export type LabProfile = "seed" | "no-snapshot" | "freebsd14" | "pkgbase-disabled";
export const LAB_PROFILES: readonly LabProfile[] = ["seed", "no-snapshot", "freebsd14", "pkgbase-disabled"];

/** How the admin user may become root. */
export type Escalation = "doas" | "sudo";

export interface LabOptions {
  /** Lab name; picks the default directory and the loopback address. @default "default" for the CLI, random for tests */
  name?: string;
  /** Lab directory. @default a fresh temporary directory, removed by stop() */
  dir?: string;
  /** @default "seed" */
  profile?: LabProfile;
  /** Escalation tools the admin user is allowed to use, the first one goes to lab.json's `become`. @default ["doas"] */
  escalation?: Escalation[];
  /** Loopback address for sshd. @default derived from the name, 127.x.y.z */
  address?: string;
  /** TCP port for sshd. @default a free port */
  port?: number;
  /** Keep the lab running when this process exits (the CLI's `up`). @default false */
  keepRunning?: boolean;
}

/** The content of `<labdir>/lab.json` (docs/CONTRACTS.md). */
export interface LabConnection {
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyFile: string;
  hostKey: string;
  hostKeyFingerprint: string;
  become: Escalation | "none";
  root: string;
  sessionLog: string;
  pid: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One line of the sim's session log. */
export interface LabSession {
  time: string;
  user: string;
  connection: string;
  command: string;
  [key: string]: unknown;
}

/** Which line a fault rule's pattern is matched against: the SSH command line, or each simulated FreeBSD command. */
export type FaultScope = "session" | "command";

export interface FailOptions {
  /** @default 1 */
  exitCode?: number;
  /** Printed on stderr instead of running the command. */
  stderr?: string;
  /** @default "session" */
  scope?: FaultScope;
}

export interface DropOptions {
  /** Run the command to its end, then drop the connection before its exit status reaches the client. @default false */
  afterRunning?: boolean;
  /** Printed before the connection drops (mid-command output). */
  stdout?: string;
  /** Wait this long, then drop. */
  delayMs?: number;
}

/** One rule of the sim's faults.json (tests/lab/sim/README.md). */
export interface FaultRule {
  match: string;
  scope?: FaultScope;
  action: "fail" | "slow" | "drop";
  times?: number;
  exitCode?: number;
  stderr?: string;
  stdout?: string;
  delayMs?: number;
  runCommand?: boolean;
}

interface FaultsFile {
  rules: FaultRule[];
  poolFull: boolean;
}

/** Fault rules, written to `<root>/var/db/freebsd-sim/faults.json` and applied by the sim (lab-session and commands). */
export interface LabFaults {
  /** The next `n` commands matching `pattern` (a regular expression) fail without running. */
  failNext(pattern: string, n: number, options?: FailOptions): Promise<void>;
  /** Commands matching `pattern` wait `ms` milliseconds before they run (until clear()). */
  slow(pattern: string, ms: number, options?: { scope?: FaultScope }): Promise<void>;
  /** The next SSH command matching `pattern` loses its connection (before, during or after running). */
  dropNext(pattern: string, options?: DropOptions): Promise<void>;
  /** While on, writes to the pool fail as when it is full. */
  outOfSpace(on: boolean): Promise<void>;
  /** Removes every fault rule and turns outOfSpace off. */
  clear(): Promise<void>;
  /** The rules still pending (a rule with times left is consumed as commands match). */
  rules(): Promise<FaultRule[]>;
}

export interface Lab {
  readonly dir: string;
  /** `<dir>/root`: the lab's `/`, mounted only inside the lab's namespace (see `hostPath` for the host's view). */
  readonly root: string;
  /** The current content of lab.json (the pid changes on reset). */
  readonly connection: LabConnection;
  /** Runs `command` as the admin user through the OpenSSH client, pinned to the lab's host key. */
  ssh(command: string, options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Runs `command` as root inside the lab's namespace and root, without SSH. */
  rootExec(command: string, options?: { input?: string }): Promise<ExecResult>;
  /** A path inside the lab, as the host can read it now (`/proc/<pid>/root/...`). */
  hostPath(pathInLab: string): string;
  readonly faults: LabFaults;
  /** The session log, one entry per command that reached the lab through SSH. */
  sessions(): Promise<LabSession[]>;
  /** Back to the starting state: same address, port and keys, fresh filesystem and simulated state. */
  reset(): Promise<void>;
  /** Ends every process of the lab; its mounts go with its namespace. A temporary lab directory is removed. */
  stop(): Promise<void>;
}

/** What the lab directory remembers beyond lab.json, so a lab can be restarted, reset or stopped from another process. */
interface LabState {
  name: string;
  profile: LabProfile;
  escalation: Escalation[];
  host: string;
  port: number;
  temporary: boolean;
  /** `mnt:[inode]` of the lab's mount namespace, to find every process that belongs to it. */
  mountNamespace: string;
}

// ── constants ────────────────────────────────────────────────────────────────

const ADMIN = { name: "admin", uid: 1001, gid: 1001 };
const SSHD_UID = 102;
/** FreeBSD's default login PATH (login.conf), so `zfs`, `jail`, `sysrc` resolve as on the seed host. */
const FREEBSD_PATH = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin";
/** Where `freebsd-sim lab-install` puts the sim binary inside the root; sshd's ForceCommand runs it. */
const SIM_IN_LAB = "/usr/libexec/freebsd-sim";
const SESSION_LOG_IN_LAB = "/var/log/lab-session.log";
const FAULTS_IN_LAB = "/var/db/freebsd-sim/faults.json";
const READY_TIMEOUT_MS = 30_000;

// ── pure helpers ─────────────────────────────────────────────────────────────

/** Single-quotes a string for /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A loopback address of the lab's own, derived from its name: 127.x.y.z with x, y, z in 1..254. */
export function labAddress(name: string): string {
  const h = createHash("sha256").update(name).digest();
  const octet = (b: number | undefined): number => ((b ?? 0) % 254) + 1;
  return `127.${octet(h[0])}.${octet(h[1])}.${octet(h[2])}`;
}

/** `SHA256:...` fingerprint of an OpenSSH public key line, as ssh-keygen -l prints it. */
export function fingerprint(publicKeyLine: string): string {
  const blob = publicKeyLine.trim().split(/\s+/)[1];
  if (blob === undefined) throw new Error(`reading public key: no key blob in ${JSON.stringify(publicKeyLine)}`);
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** The default directory of a named lab: `${ENJAILED_CACHE:-~/.cache/enjailed}/labs/<name>`. */
export function defaultLabDir(name: string): string {
  const cache = process.env.ENJAILED_CACHE ?? join(homedir(), ".cache", "enjailed");
  return join(cache, "labs", name);
}

export function sshdConfig(host: string, port: number): string {
  return [
    "# written by tests/lab/lab.ts for one lab; see docs/lab.md",
    `ListenAddress ${host}:${port}`,
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "PidFile none",
    "PubkeyAuthentication yes",
    "AuthorizedKeysFile .ssh/authorized_keys",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PermitRootLogin no",
    `AllowUsers ${ADMIN.name}`,
    "StrictModes yes",
    "UseDNS no",
    "PrintMotd no",
    "PrintLastLog no",
    "X11Forwarding no",
    "AllowTcpForwarding no",
    `SetEnv PATH=${FREEBSD_PATH}`,
    `ForceCommand ${SIM_IN_LAB} lab-session`,
    "LogLevel VERBOSE",
    "MaxSessions 64",
    "MaxStartups 128:30:256",
    "",
  ].join("\n");
}

function passwdFile(): string {
  return [
    "root:x:0:0:root:/root:/bin/sh",
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
    `sshd:x:${SSHD_UID}:65534::/run/sshd:/usr/sbin/nologin`,
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
    `${ADMIN.name}:x:${ADMIN.uid}:${ADMIN.gid}:lab admin:/home/${ADMIN.name}:/bin/sh`,
    "",
  ].join("\n");
}

function groupFile(): string {
  // gid 0 is FreeBSD's wheel (files show as root:wheel, `chown root:wheel` works; there is no group "root")
  return [
    "wheel:x:0:root",
    "daemon:x:1:",
    "tty:x:5:",
    "shadow:x:42:",
    "sudo:x:27:",
    "nogroup:x:65534:",
    `${ADMIN.name}:x:${ADMIN.gid}:`,
    "",
  ].join("\n");
}

function shadowFile(): string {
  // `*`: no password can match, but the account is not locked (a leading `!` would make sshd refuse it).
  return ["root:*:20000:0:99999:7:::", `${ADMIN.name}:*:20000:0:99999:7:::`, ""].join("\n");
}

// ── the launcher (runs inside the new mount namespace) ───────────────────────

const LAUNCHER = `#!/bin/sh
# Runs in the lab's private mount and UTS namespace; written by tests/lab/lab.ts.
# usage: launch.sh DIR SIM PROFILE HOSTNAME INIT(yes|no)
set -eu
D=$1 SIM=$2 PROFILE=$3 NAME=$4 INIT=$5
R=$D/root
hostname "$NAME"
mount -t overlay enjailed-lab -o "lowerdir=/,upperdir=$D/upper,workdir=$D/work" "$R"
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/run"
mkdir -m 755 "$R/run/sshd"
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/zero" c 1 5
mknod -m 666 "$R/dev/random" c 1 8
mknod -m 666 "$R/dev/urandom" c 1 9
mknod -m 666 "$R/dev/tty" c 5 0
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount --bind "$D/home" "$R/home"
mount --bind "$D/roothome" "$R/root"
"$SIM" lab-install "$R"
if [ "$INIT" = yes ]; then "$SIM" lab-init "$R" --profile "$PROFILE"; fi
# the session log is appended to by lab-session running as the login user
touch "$R/var/log/lab-session.log"
chmod 666 "$R/var/log/lab-session.log"
echo "enjailed-lab: root ready, starting sshd" >&2
exec chroot "$R" /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
`;

// ── process helpers ──────────────────────────────────────────────────────────

function run(file: string, args: string[], input?: string, timeoutMs?: number): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    child.stdin.on("error", () => undefined); // the remote side may close stdin early
    child.stdin.end(input ?? "");
  });
}

async function runOk(doing: string, file: string, args: string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) {
    throw new Error(`${doing}: command failed with exit code ${r.code}\n  $ ${[file, ...args].join(" ")}\n${r.stderr.trim()}`);
  }
  return r.stdout;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once("error", () => resolvePromise(false));
    server.listen(port, host, () => server.close(() => resolvePromise(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function mountNamespaceOf(pid: number | "self"): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Every process whose mount namespace is the lab's. */
function processesIn(mountNamespace: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    if (mountNamespaceOf(Number(entry)) === mountNamespace) pids.push(Number(entry));
  }
  return pids;
}

function killAll(mountNamespace: string, signal: NodeJS.Signals): number {
  if (mountNamespace === mountNamespaceOf("self")) return 0; // never the host's own namespace
  const pids = processesIn(mountNamespace);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  return pids.length;
}

async function endNamespace(mountNamespace: string): Promise<void> {
  if (killAll(mountNamespace, "SIGTERM") === 0) return;
  for (let i = 0; i < 40; i++) {
    await sleep(50);
    if (processesIn(mountNamespace).length === 0) return;
  }
  killAll(mountNamespace, "SIGKILL");
  for (let i = 0; i < 40 && processesIn(mountNamespace).length > 0; i++) await sleep(50);
}

/** The repository root: the nearest parent directory holding enjailed's package.json. */
function repoRoot(): string {
  let d = __dirname;
  for (;;) {
    const p = join(d, "package.json");
    if (existsSync(p) && /"name":\s*"enjailed"/.test(readFileSync(p, "utf8"))) return d;
    const up = dirname(d);
    if (up === d) throw new Error(`finding the enjailed repository above ${__dirname}: no package.json named enjailed`);
    d = up;
  }
}

/** The freebsd-sim binary: `ENJAILED_LAB_SIM` if set, else whatever `tests/lab/sim/build.sh` prints (once per process). */
let simBuild: Promise<string> | undefined;
function simBinary(): Promise<string> {
  const override = process.env.ENJAILED_LAB_SIM;
  if (override) return Promise.resolve(resolve(override));
  simBuild ??= buildSim();
  simBuild.catch(() => (simBuild = undefined)); // a failed build is retried by the next lab
  return simBuild;
}

async function buildSim(): Promise<string> {
  const script = join(repoRoot(), "tests", "lab", "sim", "build.sh");
  if (!existsSync(script)) throw new Error(`building the simulated FreeBSD commands: ${script} does not exist yet`);
  const out = await runOk("building the simulated FreeBSD commands", "bash", [script]);
  const lines = out.trim().split("\n");
  const path = lines[lines.length - 1]?.trim() ?? "";
  if (!path.startsWith("/") || !existsSync(path)) {
    throw new Error(`building the simulated FreeBSD commands: ${script} printed ${JSON.stringify(out.trim())}, not a binary path`);
  }
  return path;
}

function assertCanRunLab(): void {
  if (process.getuid?.() === 0) return;
  throw new Error(
    "starting lab: the lab needs root (it mounts an overlay root, chroots sshd and switches to the admin user); " +
      "run it as root, e.g. in CI or a container. Under `unshare --user --map-root-user` there is no second real " +
      "user, so no privilege boundary can exist; see docs/lab.md",
  );
}

// ── preparing the lab directory ──────────────────────────────────────────────

async function writeAs(path: string, content: string, mode: number, uid = 0, gid = 0): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  await chown(path, uid, gid);
}

async function generateKey(path: string, comment: string): Promise<string> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await runOk(`generating key (${path})`, "ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  return (await readFile(`${path}.pub`, "utf8")).trim();
}

/** Writes the lab's own files into the (empty) upper layer and the home directories. */
async function prepareLayers(dir: string, state: LabState): Promise<void> {
  for (const d of ["upper", "work", "root", "home", "roothome"]) await mkdir(join(dir, d), { recursive: true });
  const upper = join(dir, "upper");
  // a real directory shadows Debian's /sbin -> usr/sbin symlink, so the sim can install FreeBSD's /sbin/zfs
  await mkdir(join(upper, "sbin"), { recursive: true });
  await writeAs(join(upper, "etc/passwd"), passwdFile(), 0o644);
  await writeAs(join(upper, "etc/group"), groupFile(), 0o644);
  await writeAs(join(upper, "etc/shadow"), shadowFile(), 0o640, 0, 42);
  const hostname = `enjailed-${state.name}`;
  await writeAs(join(upper, "etc/hostname"), `${hostname}\n`, 0o644);
  await writeAs(join(upper, "etc/hosts"), `127.0.0.1\tlocalhost\n${state.host}\t${hostname}\n`, 0o644);
  const hostKey = await readFile(join(dir, "host_ed25519"), "utf8");
  await writeAs(join(upper, "etc/ssh/ssh_host_ed25519_key"), hostKey, 0o600);
  await writeAs(join(upper, "etc/ssh/ssh_host_ed25519_key.pub"), await readFile(join(dir, "host_ed25519.pub"), "utf8"), 0o644);
  // doas: a rule only when enabled; an empty file otherwise, so doas refuses with its real message
  // ("doas: Operation not permitted") whatever the machine's own /etc/doas.conf says.
  const doas = state.escalation.includes("doas") ? `permit nopass ${ADMIN.name} as root\n` : "# doas is not enabled in this lab\n";
  await writeAs(join(upper, "etc/doas.conf"), doas, 0o400);
  // sudo: the lab's own sudoers shadows the machine's; the admin rule lives in sudoers.d only when enabled.
  const sudoers = [
    "Defaults\tenv_reset",
    `Defaults\tsecure_path="${FREEBSD_PATH}"`,
    "root\tALL=(ALL:ALL) ALL",
    ...(state.escalation.includes("sudo") ? ["@includedir /etc/sudoers.d"] : []),
    "",
  ].join("\n");
  await writeAs(join(upper, "etc/sudoers"), sudoers, 0o440);
  if (state.escalation.includes("sudo")) {
    await writeAs(join(upper, "etc/sudoers.d/lab-admin"), `${ADMIN.name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, 0o440);
  }
  // homes: /root and /home of the lab are directories of the lab dir, bind-mounted (the host's stay hidden)
  await chmod(join(dir, "roothome"), 0o700);
  await chmod(join(dir, "home"), 0o755);
  const home = join(dir, "home", ADMIN.name);
  await mkdir(join(home, ".ssh"), { recursive: true });
  await chown(home, ADMIN.uid, ADMIN.gid);
  await chmod(home, 0o755);
  await chown(join(home, ".ssh"), ADMIN.uid, ADMIN.gid);
  await chmod(join(home, ".ssh"), 0o700);
  const clientPub = await readFile(join(dir, "client_ed25519.pub"), "utf8");
  await writeAs(join(home, ".ssh/authorized_keys"), clientPub, 0o600, ADMIN.uid, ADMIN.gid);
}

async function wipeLayers(dir: string): Promise<void> {
  for (const d of ["upper", "work", "home", "roothome"]) await rm(join(dir, d), { recursive: true, force: true });
}

/** Starts launch.sh in a new namespace and waits until sshd listens. Returns sshd's pid and the namespace. */
async function launch(dir: string, state: LabState, sim: string, init: boolean): Promise<{ pid: number; mountNamespace: string }> {
  await writeFile(join(dir, "launch.sh"), LAUNCHER, { mode: 0o755 });
  const logPath = join(dir, "sshd.log");
  const logStart = existsSync(logPath) ? readFileSync(logPath).length : 0;
  const log = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      "unshare",
      ["--mount", "--uts", "--propagation", "private", "/bin/sh", join(dir, "launch.sh"), dir, sim,
        state.profile, `enjailed-${state.name}`, init ? "yes" : "no"],
      { detached: true, stdio: ["ignore", log, log] },
    );
  } finally {
    closeSync(log);
  }
  let exited: string | undefined;
  child.on("exit", (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`starting lab (${state.name}): could not spawn unshare`);
  const listening = `Server listening on ${state.host} port ${state.port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const text = readFileSync(logPath).subarray(logStart).toString("utf8");
    if (text.includes(listening)) break;
    if (exited !== undefined || Date.now() > deadline) {
      const why = exited ?? `not listening after ${READY_TIMEOUT_MS} ms`;
      const tail = text.trim().split("\n").slice(-20).join("\n");
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // already gone
      }
      throw new Error(`starting lab (${state.name}): launcher ${why}\n  log ${logPath}:\n${tail}`);
    }
    await sleep(25);
  }
  const mountNamespace = mountNamespaceOf(pid);
  if (mountNamespace === undefined || mountNamespace === mountNamespaceOf("self")) {
    throw new Error(`starting lab (${state.name}): sshd (pid ${pid}) is not in a mount namespace of its own`);
  }
  return { pid, mountNamespace };
}

async function writeConnection(dir: string, state: LabState, pid: number): Promise<LabConnection> {
  const hostKey = (await readFile(join(dir, "host_ed25519.pub"), "utf8")).trim().split(/\s+/).slice(0, 2).join(" ");
  const connection: LabConnection = {
    name: state.name,
    host: state.host,
    port: state.port,
    user: ADMIN.name,
    privateKeyFile: join(dir, "client_ed25519"),
    hostKey,
    hostKeyFingerprint: fingerprint(hostKey),
    become: state.escalation[0] ?? "none",
    root: join(dir, "root"),
    sessionLog: join(dir, "session.log"),
    pid,
  };
  // the sim appends to /var/log/lab-session.log in the lab; created after the overlay was mounted, it lives in upper/
  await rm(connection.sessionLog, { force: true });
  await symlink(join("upper", SESSION_LOG_IN_LAB), connection.sessionLog);
  await writeFile(join(dir, "lab.json"), `${JSON.stringify(connection, null, 2)}\n`);
  await writeFile(join(dir, "known_hosts"), `[${state.host}]:${state.port} ${hostKey}\n`);
  await writeFile(join(dir, "lab-state.json"), `${JSON.stringify(state, null, 2)}\n`);
  return connection;
}

async function startIn(dir: string, state: LabState, fresh: boolean): Promise<LabConnection> {
  const sim = await simBinary();
  if (fresh) await prepareLayers(dir, state);
  // rewritten on every start: a restarted lab may have had to move to another port
  await writeAs(join(dir, "upper", "etc/ssh/sshd_config"), sshdConfig(state.host, state.port), 0o644);
  const { pid, mountNamespace } = await launch(dir, state, sim, fresh);
  state.mountNamespace = mountNamespace;
  return writeConnection(dir, state, pid);
}

// ── public API ───────────────────────────────────────────────────────────────

/** The ssh command line (without the remote command) that reaches a lab as its admin user. */
export function sshArgs(connection: LabConnection, knownHosts: string, extra: string[] = []): string[] {
  return [
    "-F", "/dev/null",
    "-i", connection.privateKeyFile,
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", `UserKnownHostsFile=${knownHosts}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes",
    "-o", "LogLevel=ERROR",
    "-p", String(connection.port),
    ...extra,
    `${connection.user}@${connection.host}`,
  ];
}

/** Starts a fresh lab, or restarts a stopped one in `options.dir` keeping its state. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  assertCanRunLab();
  const temporary = options.dir === undefined;
  const name = options.name ?? (options.dir ? basename(options.dir) : `t${randomBytes(4).toString("hex")}`);
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), `enjailed-lab-${name}-`))));
  await mkdir(dir, { recursive: true });
  const previous = readState(dir);
  if (previous && isRunning(previous)) throw new Error(`starting lab (${name}): already running in ${dir}`);
  const host = options.address ?? previous?.host ?? labAddress(name);
  const state: LabState = {
    name,
    profile: options.profile ?? previous?.profile ?? "seed",
    escalation: options.escalation ?? previous?.escalation ?? ["doas"],
    host,
    port: options.port ?? (previous && (await portFree(host, previous.port)) ? previous.port : await freePort(host)),
    temporary,
    mountNamespace: "",
  };
  const fresh =
    previous === undefined ||
    (options.profile !== undefined && options.profile !== previous.profile) ||
    (options.escalation !== undefined && options.escalation.join(",") !== previous.escalation.join(",")) ||
    !existsSync(join(dir, "upper"));
  try {
    if (fresh) {
      await wipeLayers(dir);
      await generateKey(join(dir, "host_ed25519"), `enjailed-lab-${name}-host`);
      await generateKey(join(dir, "client_ed25519"), `enjailed-lab-${name}-client`);
    }
    await startIn(dir, state, fresh);
  } catch (e) {
    if (temporary) await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const lab = labObject(dir, state);
  if (!options.keepRunning) stopOnExit(dir, state);
  return lab;
}

/** A handle on a lab already running in `dir` (the CLI's down, reset, ssh). */
export function attachLab(dir: string): Lab {
  const state = readState(dir);
  if (state === undefined) throw new Error(`attaching lab (${dir}): no lab-state.json; was it ever started?`);
  return labObject(resolve(dir), state);
}

export function readState(dir: string): LabState | undefined {
  const p = join(dir, "lab-state.json");
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, "utf8")) as LabState;
}

/** Whether a lab's namespace still has processes. */
export function isRunning(state: { mountNamespace: string }): boolean {
  return state.mountNamespace !== "" && processesIn(state.mountNamespace).length > 0;
}

/** Labs of this process that must not outlive it (all but the CLI's). */
const exitHooks = new Map<LabState, string>();
let exitHookInstalled = false;
function stopOnExit(dir: string, state: LabState): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const [s, d] of exitHooks) {
        killAll(s.mountNamespace, "SIGKILL");
        if (s.temporary) rmSync(d, { recursive: true, force: true });
      }
    });
  }
  exitHooks.set(state, dir);
}

function labObject(dir: string, state: LabState): Lab {
  const readConnection = (): LabConnection => JSON.parse(readFileSync(join(dir, "lab.json"), "utf8")) as LabConnection;
  const hostPath = (p: string): string => join(`/proc/${readConnection().pid}/root`, p);

  const rootExec = (command: string, options: { input?: string } = {}): Promise<ExecResult> =>
    run(
      "nsenter",
      ["--target", String(readConnection().pid), "--mount", "--uts", "chroot", join(dir, "root"),
        "/usr/bin/env", "-i", `PATH=${FREEBSD_PATH}`, "HOME=/root", "USER=root", "/bin/sh", "-c", command],
      options.input,
    );

  const ssh = async (command: string, options: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> => {
    const args = sshArgs(readConnection(), join(dir, "known_hosts"), ["-o", "ConnectTimeout=10"]);
    return run("ssh", [...args, "--", command], options.input, options.timeoutMs);
  };

  const readFaults = async (): Promise<FaultsFile> => {
    try {
      const parsed = JSON.parse(await readFile(hostPath(FAULTS_IN_LAB), "utf8")) as Partial<FaultsFile>;
      return { rules: parsed.rules ?? [], poolFull: parsed.poolFull ?? false };
    } catch {
      return { rules: [], poolFull: false };
    }
  };
  const writeFaults = async (f: FaultsFile): Promise<void> => {
    // in place (truncate and write): lab-init made the file 0666 so that the admin user's sessions can consume rules
    await writeFile(hostPath(FAULTS_IN_LAB), `${JSON.stringify(f, null, 2)}\n`);
  };
  const addRule = async (rule: FaultRule): Promise<void> => {
    const f = await readFaults();
    await writeFaults({ ...f, rules: [...f.rules, rule] });
  };

  const faults: LabFaults = {
    failNext: (pattern, n, options = {}) =>
      addRule({
        match: pattern,
        scope: options.scope ?? "session",
        action: "fail",
        times: n,
        exitCode: options.exitCode ?? 1,
        ...(options.stderr === undefined ? {} : { stderr: options.stderr }),
      }),
    slow: (pattern, ms, options = {}) =>
      addRule({ match: pattern, scope: options.scope ?? "session", action: "slow", delayMs: ms }),
    dropNext: (pattern, options = {}) =>
      addRule({
        match: pattern,
        scope: "session",
        action: "drop",
        times: 1,
        ...(options.afterRunning ? { runCommand: true } : {}),
        ...(options.stdout === undefined ? {} : { stdout: options.stdout }),
        ...(options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
      }),
    outOfSpace: async (on) => writeFaults({ ...(await readFaults()), poolFull: on }),
    clear: () => writeFaults({ rules: [], poolFull: false }),
    rules: async () => (await readFaults()).rules,
  };

  return {
    dir,
    root: join(dir, "root"),
    get connection() {
      return readConnection();
    },
    ssh,
    rootExec,
    hostPath,
    faults,
    async sessions() {
      let text: string;
      try {
        text = await readFile(hostPath(SESSION_LOG_IN_LAB), "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as LabSession);
    },
    async reset() {
      await endNamespace(state.mountNamespace);
      await wipeLayers(dir);
      await startIn(dir, state, true);
    },
    async stop() {
      await endNamespace(state.mountNamespace);
      exitHooks.delete(state);
      if (state.temporary) await rm(dir, { recursive: true, force: true });
    },
  };
}
