// Golden transcripts (issue #3, point 7): the seed runbook (/work/shared/reference/seed.md), run by hand command by
// command through the lab's SSH as the admin user with doas, compared with the seed's console transcripts. Then the
// negative twin of each consequence rule (point 6): leave one step of the runbook out, and the check that depends on
// it fails as it would on FreeBSD. Needs root (the lab does); without it every test fails and says why.

import { startLab } from "./lab";
import type { ExecResult, Lab } from "./lab";

jest.setTimeout(180_000);

/** Steps of the runbook a twin may leave out. */
type Step =
  | "jailed" // zfs create -o jailed=on
  | "devfsUnhide" // a devfs ruleset that unhides zfs (the stock ruleset 5 includes ruleset 4's `add path zfs unhide`)
  | "allowMount" // allow.mount; allow.mount.zfs;
  | "enforceStatfs" // enforce_statfs = 1 (default 2)
  | "pkgZfs" // pkg -r /usr/jail/bhyve/ install FreeBSD-zfs
  | "zfsEnable" // sysrc -f .../rc.conf.d/zfs zfs_enable=yes
  | "rcdPatch" // # KEYWORD: shutdown in the jail's /etc/rc.d/zfs
  | "releaseEpairs"; // the hook's poststop destroys the epairs it made

/** The minimal VNET hook of this test (the product's own hook comes with the component), per jail(8) hook order. */
const RC_JAIL = `#!/bin/sh
# rc.jail ACTION NAME ARGS...: prestart NAME BRIDGE...; created NAME BRIDGE:ADDR/LEN...; poststop NAME BRIDGE...
set -eu
action=$1 name=$2
shift 2
state=/var/run/rc.jail.$name
case $action in
prestart)
	: > "$state"
	for bridge in "$@"; do
		a=$(ifconfig epair create)
		b=\${a%a}b
		ifconfig "$bridge" addm "$a"
		ifconfig "$a" up
		echo "$bridge $a $b" >> "$state"
	done
	;;
created)
	for spec in "$@"; do
		bridge=\${spec%%:*}
		addr=\${spec#*:}
		b=$(awk -v br="$bridge" '$1 == br { print $3 }' "$state")
		ifconfig "$b" vnet "$name"
		jexec "$name" ifconfig "$b" inet "$addr" up
	done
	jexec "$name" route add default 10.0.0.1
	;;
poststop)
	if [ "\${RC_JAIL_KEEP_EPAIRS:-no}" = no ]; then
		while read -r bridge a b; do
			ifconfig "$a" destroy
		done < "$state"
	fi
	rm -f "$state"
	;;
esac
`;

/** The seed's /etc/jail.conf.d/bhyve.conf, with the lines the ZFS section adds; `omit` takes steps out. */
function bhyveConf(omit: ReadonlySet<Step>): string {
  const lines = [
    "bhyve {",
    '  $id = "6";',
    "",
    '  $bridge0 = "bridge0";',
    '  $bridge0_ip = "${bridge0}:192.168.10.${id}/24";',
    "",
    '  $bridge1 = "bridge1";',
    '  $bridge1_ip = "${bridge1}:10.0.0.${id}/24";',
    "",
    '  $bridges = "${bridge0} ${bridge1}";',
    '  $bridgeips = "${bridge0_ip} ${bridge1_ip}";',
    "",
    '  host.hostname = "${name}.lab.net";',
    '  path = "/usr/jail/${name}";',
    "",
    '  depend  = "dns";',
    '  depend += "ldap";',
    "",
    "  # keep-sorted start",
    ...(omit.has("allowMount") ? [] : ["  allow.mount;", "  allow.mount.zfs;"]),
    "  allow.raw_sockets;",
    omit.has("devfsUnhide") ? "  devfs_ruleset = 10;" : "  devfs_ruleset = 5;",
    ...(omit.has("enforceStatfs") ? [] : ["  enforce_statfs = 1;"]),
    "  mount.devfs;",
    "  vnet;",
    "  # keep-sorted end",
    "",
    '  zfs.dataset = "zroot/usr/jail/${name}/vm";',
    "",
    "  exec.clean;",
    '  exec.consolelog = "/var/log/jail_${name}.log";',
    "",
    '  exec.prestart = "/bin/sh /usr/local/etc/rc.jail prestart ${name} ${bridges}";',
    '  exec.created  = "/bin/sh /usr/local/etc/rc.jail created ${name} ${bridgeips}";',
    '  exec.start    = "/bin/sh /etc/rc";',
    "",
    '  exec.stop     = "/bin/sh /etc/rc.shutdown";',
    '  exec.poststop = "/bin/sh /usr/local/etc/rc.jail poststop ${name} ${bridges}";',
    "}",
    "",
  ];
  return lines.join("\n");
}

/** A jail ruleset like the stock devfsrules_jail_vnet, but without `add path zfs unhide`. */
const DEVFS_RULES_NO_ZFS = `[devfsrules_bhyve_nozfs=10]
add include $devfsrules_hide_all
add include $devfsrules_unhide_basic
add include $devfsrules_unhide_login
`;

const ZFS_GET_TABLE = `NAME                     PROPERTY    VALUE               SOURCE
zroot/usr/jail/bhyve     jailed      off                 default
zroot/usr/jail/bhyve     canmount    on                  default
zroot/usr/jail/bhyve     mounted     yes                 -
zroot/usr/jail/bhyve     mountpoint  /usr/jail/bhyve     inherited from zroot/usr
zroot/usr/jail/bhyve/vm  jailed      on                  local
zroot/usr/jail/bhyve/vm  canmount    on                  default
zroot/usr/jail/bhyve/vm  mounted     no                  -
zroot/usr/jail/bhyve/vm  mountpoint  /usr/jail/bhyve/vm  inherited from zroot/usr
`;

/** The line of the seed's `zfs mount` in the jail that says the jail itself mounted the VM dataset. */
const VM_MOUNTED_BY_JAIL = "zroot/usr/jail/bhyve/vm         /usr/jail/bhyve/vm\n";

const ZFS_MOUNT_IN_JAIL = `zroot/usr/jail/bhyve            /\n${VM_MOUNTED_BY_JAIL}`;

/** The seed's `route get 0` inside the jail; the epair unit differs from host to host. */
const ROUTE_GET_0 = new RegExp(
  [
    "^   route to: default",
    "destination: default",
    "       mask: default",
    "    gateway: 10\\.0\\.0\\.1",
    "        fib: 0",
    "  interface: epair\\d+b",
    "      flags: <UP,GATEWAY,DONE,STATIC>",
    " recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire",
    "       0         0         0         0      1500         1         0\n$",
  ].join("\n"),
);

interface Transcript {
  zfsGet: ExecResult;
  sysrc: ExecResult | undefined;
  start: ExecResult;
  lsDevZfs: ExecResult;
  zfsMount: ExecResult;
  routeGet: ExecResult;
  stop: ExecResult;
  vmMountedAfterStop: ExecResult;
  dyingAfterStop: ExecResult;
}

/** Runs one command through SSH; a step the runbook needs must succeed, or the test fails with the command. */
async function must(lab: Lab, command: string, input?: string): Promise<ExecResult> {
  const r = await lab.ssh(command, input === undefined ? {} : { input });
  if (r.code !== 0) {
    throw new Error(`running runbook step: command failed with exit code ${r.code}\n  $ ${command}\n${r.stderr}${r.stdout}`);
  }
  return r;
}

async function runbook(lab: Lab, omit: ReadonlySet<Step> = new Set()): Promise<Transcript> {
  await must(lab, "doas zfs clone zroot/usr/jail/15.0@skel zroot/usr/jail/bhyve");
  const hook = omit.has("releaseEpairs") ? RC_JAIL.replace("RC_JAIL_KEEP_EPAIRS:-no", "RC_JAIL_KEEP_EPAIRS:-yes") : RC_JAIL;
  await must(lab, "doas /bin/sh -c 'mkdir -p /usr/local/etc && cat > /usr/local/etc/rc.jail'", hook);
  await must(lab, "doas /bin/sh -c 'cat > /etc/jail.conf.d/bhyve.conf'", bhyveConf(omit));
  if (omit.has("devfsUnhide")) {
    await must(lab, "doas /bin/sh -c 'cat >> /etc/devfs.rules'", DEVFS_RULES_NO_ZFS);
    await must(lab, "doas service devfs restart");
  }
  await must(lab, omit.has("jailed") ? "doas zfs create zroot/usr/jail/bhyve/vm" : "doas zfs create -o jailed=on zroot/usr/jail/bhyve/vm");
  const zfsGet = await lab.ssh("doas zfs get jailed,canmount,mounted,mountpoint -r zroot/usr/jail/bhyve");
  if (!omit.has("pkgZfs")) await must(lab, "doas pkg -r /usr/jail/bhyve/ install -y FreeBSD-zfs");
  const sysrc = omit.has("zfsEnable") ? undefined : await lab.ssh("doas sysrc -f /usr/jail/bhyve/etc/rc.conf.d/zfs zfs_enable=yes");
  if (!omit.has("rcdPatch")) {
    await must(
      lab,
      "doas /bin/sh -c 'cd /usr/jail/bhyve/etc/rc.d && cp zfs zfs.orig && " +
        "awk \"{ print } /^# BEFORE:/ { print \\\"# KEYWORD: shutdown\\\" }\" zfs.orig > zfs'",
    );
    const diff = await lab.ssh("diff -u /usr/jail/bhyve/etc/rc.d/zfs.orig /usr/jail/bhyve/etc/rc.d/zfs");
    expect(diff.stdout).toContain("\n # BEFORE: FILESYSTEMS var\n+# KEYWORD: shutdown\n");
  }
  const start = await lab.ssh("doas service jail start bhyve");
  expect(start).toEqual({ code: 0, stdout: "Starting jails: bhyve.\n", stderr: "" });
  const lsDevZfs = await lab.ssh("doas jexec bhyve ls /dev/zfs");
  const zfsMount = await lab.ssh("doas jexec bhyve zfs mount");
  const routeGet = await lab.ssh("doas jexec bhyve route get 0");
  const stop = await lab.ssh("doas service jail stop bhyve");
  const vmMountedAfterStop = await lab.ssh("doas zfs get -H -o value mounted zroot/usr/jail/bhyve/vm");
  const dyingAfterStop = await lab.ssh("jls -d -j bhyve dying");
  return { zfsGet, sysrc, start, lsDevZfs, zfsMount, routeGet, stop, vmMountedAfterStop, dyingAfterStop };
}

describe("golden transcripts over SSH", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ profile: "seed" });
  });
  afterAll(async () => {
    await lab?.stop();
  });
  beforeEach(async () => {
    await lab.reset();
  });

  it("runbook: every transcript of the seed, command by command", async () => {
    const t = await runbook(lab);
    expect(t.zfsGet).toEqual({ code: 0, stdout: ZFS_GET_TABLE, stderr: "" });
    expect(t.sysrc).toEqual({ code: 0, stdout: "zfs_enable: NO -> yes\n", stderr: "" });
    expect(t.lsDevZfs).toEqual({ code: 0, stdout: "/dev/zfs\n", stderr: "" });
    expect(t.zfsMount).toEqual({ code: 0, stdout: ZFS_MOUNT_IN_JAIL, stderr: "" });
    expect(t.routeGet.stdout).toMatch(ROUTE_GET_0);
    expect(t.routeGet.code).toBe(0);
    expect(t.stop.code).toBe(0);
    expect(t.vmMountedAfterStop.stdout).toBe("no\n");
    expect(t.dyingAfterStop).toEqual({ code: 1, stdout: "", stderr: 'jls: jail "bhyve" not found\n' });
    // the session log saw each command, as admin
    const commands = (await lab.sessions()).map((s) => s.command);
    expect(commands).toContain("doas jexec bhyve zfs mount");
  });

  it("twin: without the devfs unhide, the jail has no /dev/zfs and does not mount the VM dataset", async () => {
    const t = await runbook(lab, new Set<Step>(["devfsUnhide"]));
    expect(t.lsDevZfs.code).not.toBe(0);
    // FreeBSD's ls says "ls: /dev/zfs: No such file or directory"; the jail's ls is the machine's (GNU) one
    expect(t.lsDevZfs.stderr).toMatch(/\/dev\/zfs'?: No such file or directory/);
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
  });

  it("twin: without jailed=on, the VM dataset is not mounted in the jail", async () => {
    const t = await runbook(lab, new Set<Step>(["jailed"]));
    expect(t.zfsGet.stdout).toContain("zroot/usr/jail/bhyve/vm  jailed      off                 default\n");
    // jail(8) only echoes "you need to set jailed=on" and starts the jail without the dataset; the host mounts the
    // dataset itself, so the jail (enforce_statfs = 1) sees that mount below its root, but never mounts it
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
    expect(t.zfsMount.stdout).toContain("zroot/usr/jail/bhyve/vm         /vm\n");
  });

  it("twin: without allow.mount and allow.mount.zfs, the VM dataset is not mounted in the jail", async () => {
    const t = await runbook(lab, new Set<Step>(["allowMount"]));
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
  });

  it("twin: with enforce_statfs left at 2, the VM dataset is not mounted in the jail", async () => {
    const t = await runbook(lab, new Set<Step>(["enforceStatfs"]));
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
  });

  it("twin: without FreeBSD-zfs in the jail's root, the VM dataset is not mounted in the jail", async () => {
    const t = await runbook(lab, new Set<Step>(["pkgZfs"]));
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
  });

  it("twin: without zfs_enable=yes, the VM dataset is not mounted in the jail", async () => {
    const t = await runbook(lab, new Set<Step>(["zfsEnable"]));
    expect(t.lsDevZfs.stdout).toBe("/dev/zfs\n");
    expect(t.zfsMount.stdout).not.toContain(VM_MOUNTED_BY_JAIL);
  });

  it("twin: without the rc.d patch, the VM dataset is still mounted after the jail stops", async () => {
    const t = await runbook(lab, new Set<Step>(["rcdPatch"]));
    expect(t.zfsMount).toEqual({ code: 0, stdout: ZFS_MOUNT_IN_JAIL, stderr: "" });
    expect(t.stop.code).toBe(0);
    expect(t.vmMountedAfterStop.stdout).toBe("yes\n");
  });

  it("twin: when the hook does not release its epairs, the stopped jail stays dying", async () => {
    const t = await runbook(lab, new Set<Step>(["releaseEpairs"]));
    expect(t.zfsMount).toEqual({ code: 0, stdout: ZFS_MOUNT_IN_JAIL, stderr: "" });
    expect(t.stop.code).toBe(0);
    expect(t.dyingAfterStop).toEqual({ code: 0, stdout: "true\n", stderr: "" });
    const alive = await lab.ssh("jls -j bhyve jid");
    expect(alive).toEqual({ code: 1, stdout: "", stderr: 'jls: jail "bhyve" not found\n' });
  });

  it("twin: a jail whose exec.prestart hook fails does not start", async () => {
    await must(lab, "doas zfs clone zroot/usr/jail/15.0@skel zroot/usr/jail/bhyve");
    await must(lab, "doas /bin/sh -c 'mkdir -p /usr/local/etc && cat > /usr/local/etc/rc.jail'", "#!/bin/sh\nexit 1\n");
    await must(lab, "doas /bin/sh -c 'cat > /etc/jail.conf.d/bhyve.conf'", bhyveConf(new Set()));
    await must(lab, "doas zfs create -o jailed=on zroot/usr/jail/bhyve/vm");
    const start = await lab.ssh("doas service jail start bhyve");
    expect(start.code).toBe(0); // rc.d/jail reports a jail that did not start, but exits 0
    expect(start.stdout).toMatch(/^Starting jails: cannot start jail\s+"bhyve":/);
    expect(start.stdout).toContain("jail: bhyve: /bin/sh /usr/local/etc/rc.jail prestart bhyve bridge0 bridge1: failed");
    const jls = await lab.ssh("jls -d -j bhyve jid");
    expect(jls).toEqual({ code: 1, stdout: "", stderr: 'jls: jail "bhyve" not found\n' });
  });
});
