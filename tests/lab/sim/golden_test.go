package main

import (
	"regexp"
	"strings"
	"testing"
)

// The seed's runbook (reference/seed.md), replayed command by command in a chrooted mini lab.

// rcJailHook is the test's own minimal VNET hook (the product's hook ships with the component).
const rcJailHook = `#!/bin/sh
# usage: rc.jail prestart NAME BRIDGE... | created NAME BRIDGE:ADDR... | poststop NAME BRIDGE...
PATH=/sbin:/bin:/usr/sbin:/usr/bin
cmd=$1; name=$2; shift 2
state=/var/run/rc.jail.$name
case $cmd in
prestart)
	: > "$state"
	for bridge in "$@"; do
		a=$(ifconfig epair create) || exit 1
		ifconfig "$bridge" addm "$a" || exit 1
		ifconfig "$a" up
		echo "$bridge ${a%a}b" >> "$state"
	done
	;;
created)
	for spec in "$@"; do
		bridge=${spec%%:*}; addr=${spec#*:}
		b=$(awk -v br="$bridge" '$1 == br { print $2 }' "$state")
		ifconfig "$b" vnet "$name" || exit 1
		jexec "$name" ifconfig "$b" inet "$addr" up || exit 1
	done
	;;
poststop)
	[ -n "$KEEP_EPAIRS" ] && exit 0
	while read -r bridge b; do
		ifconfig "${b%b}a" destroy
	done < "$state"
	rm -f "$state"
	;;
esac
`

// bhyveConf is the seed's jail.conf with the ZFS additions of the runbook. Edits replace lines.
func bhyveConf(edits map[string]string) string {
	conf := `bhyve {
  $id = "6";

  $bridge0 = "bridge0";
  $bridge0_ip = "${bridge0}:192.168.10.${id}/24";

  $bridge1 = "bridge1";
  $bridge1_ip = "${bridge1}:10.0.0.${id}/24";

  $bridges = "${bridge0} ${bridge1}";
  $bridgeips = "${bridge0_ip} ${bridge1_ip}";

  host.hostname = "${name}.lab.net";
  path = "/usr/jail/${name}";

  depend  = "dns";
  depend += "ldap";

  # keep-sorted start
  allow.mount.zfs;
  allow.mount;
  allow.raw_sockets;
  devfs_ruleset = 5;
  enforce_statfs = 1;
  mount.devfs;
  vnet;
  # keep-sorted end

  zfs.dataset = "zroot/usr/jail/${name}/vm";

  exec.clean;
  exec.consolelog = "/var/log/jail_${name}.log";

  exec.prestart = "/bin/sh /usr/local/etc/rc.jail prestart ${name} ${bridges}";
  exec.created  = "/bin/sh /usr/local/etc/rc.jail created ${name} ${bridgeips}";
  exec.start    = "/bin/sh /etc/rc";

  exec.stop     = "/bin/sh /etc/rc.shutdown";
  exec.poststop = "/bin/sh /usr/local/etc/rc.jail poststop ${name} ${bridges}";
}
`
	for old, repl := range edits {
		if !strings.Contains(conf, old) {
			panic("bhyveConf: no line " + old)
		}
		conf = strings.Replace(conf, old, repl, 1)
	}
	return conf
}

// seedSteps lets a negative twin leave one step of the runbook out.
type seedSteps struct {
	conf        map[string]string // jail.conf edits
	noJailed    bool              // zfs create without -o jailed=on
	noPkg       bool              // skip pkg install FreeBSD-zfs
	noSysrc     bool              // skip sysrc zfs_enable=yes
	noPatch     bool              // skip the KEYWORD: shutdown patch
	devfsRules  string            // content of /etc/devfs.rules (then service devfs restart)
	hookPrelude string            // shell prepended to the hook script
}

const seedTable = `NAME                     PROPERTY    VALUE               SOURCE
zroot/usr/jail/bhyve     jailed      off                 default
zroot/usr/jail/bhyve     canmount    on                  default
zroot/usr/jail/bhyve     mounted     yes                 -
zroot/usr/jail/bhyve     mountpoint  /usr/jail/bhyve     inherited from zroot/usr
zroot/usr/jail/bhyve/vm  jailed      on                  local
zroot/usr/jail/bhyve/vm  canmount    on                  default
zroot/usr/jail/bhyve/vm  mounted     no                  -
zroot/usr/jail/bhyve/vm  mountpoint  /usr/jail/bhyve/vm  inherited from zroot/usr
`

const seedZfsMount = `zroot/usr/jail/bhyve            /
zroot/usr/jail/bhyve/vm         /usr/jail/bhyve/vm
`

var routeRe = regexp.MustCompile(`^   route to: default
destination: default
       mask: default
    gateway: 10\.0\.0\.1
        fib: 0
  interface: epair\d+b
      flags: <UP,GATEWAY,DONE,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire
       0         0         0         0      1500         1         0
$`)

// runSeed replays the runbook up to `service jail start bhyve` and returns the lab.
func runSeed(t *testing.T, st seedSteps) *chrootLab {
	t.Helper()
	l := newChrootLab(t, "seed")
	l.write("/usr/local/etc/rc.jail", st.hookPrelude+rcJailHook)
	l.ok("zfs clone zroot/usr/jail/15.0@skel zroot/usr/jail/bhyve")
	l.write("/etc/jail.conf.d/bhyve.conf", bhyveConf(st.conf))
	if st.devfsRules != "" {
		l.write("/etc/devfs.rules", st.devfsRules)
		l.ok("service devfs restart")
	}
	if st.noJailed {
		l.ok("zfs create zroot/usr/jail/bhyve/vm")
	} else {
		l.ok("zfs create -o jailed=on zroot/usr/jail/bhyve/vm")
		if got := l.ok("zfs get jailed,canmount,mounted,mountpoint -r zroot/usr/jail/bhyve"); got != seedTable {
			t.Errorf("zfs get table differs from the seed:\n got:\n%s\nwant:\n%s", got, seedTable)
		}
	}
	if !st.noPkg {
		r := l.shIn("y\n", "pkg -r /usr/jail/bhyve/ install FreeBSD-zfs")
		if r.code != 0 {
			t.Fatalf("pkg install: %+v", r)
		}
		l.ok("pkg -r /usr/jail/bhyve info -e FreeBSD-zfs")
	}
	if !st.noSysrc {
		if got := l.ok("sysrc -f /usr/jail/bhyve/etc/rc.conf.d/zfs zfs_enable=yes"); got != "zfs_enable: NO -> yes\n" {
			t.Errorf("sysrc printed %q", got)
		}
	}
	if !st.noPatch {
		l.ok("cp /usr/jail/bhyve/etc/rc.d/zfs /usr/jail/bhyve/etc/rc.d/zfs.orig && sed -i '/^# BEFORE:/a # KEYWORD: shutdown' /usr/jail/bhyve/etc/rc.d/zfs")
		if d := l.sh("diff -u /usr/jail/bhyve/etc/rc.d/zfs.orig /usr/jail/bhyve/etc/rc.d/zfs"); !strings.Contains(d.stdout, "@@ -5,6 +5,7 @@\n # PROVIDE: zfs\n # REQUIRE: zfsbe\n # BEFORE: FILESYSTEMS var\n+# KEYWORD: shutdown\n \n . /etc/rc.subr\n") {
			t.Errorf("rc.d/zfs patch differs from the seed's diff:\n%s", d.stdout)
		}
	}
	return l
}

func TestGoldenSeedRunbook(t *testing.T) {
	l := runSeed(t, seedSteps{})
	if got := l.ok("service jail start bhyve"); got != "Starting jails: bhyve.\n" {
		t.Fatalf("service jail start printed %q", got)
	}
	if got := l.ok("jls -j bhyve name"); got != "bhyve\n" {
		t.Errorf("jls: %q", got)
	}
	if got := l.ok("jexec bhyve ls /dev/zfs"); got != "/dev/zfs\n" {
		t.Errorf("ls /dev/zfs: %q", got)
	}
	if got := l.ok("jexec bhyve zfs mount"); got != seedZfsMount {
		t.Errorf("zfs mount in the jail:\n got: %q\nwant: %q", got, seedZfsMount)
	}
	if got := l.ok("jexec bhyve route get 0"); !routeRe.MatchString(got) {
		t.Errorf("route get 0 in the jail:\n%s", got)
	}
	if r := l.sh("jexec bhyve sh -c 'exit 7'"); r.code != 7 {
		t.Errorf("jexec must exit with the command's status: %+v", r)
	}
	if got := l.ok("jexec bhyve zfs list -H -o name"); got != "zroot\nzroot/usr\nzroot/usr/jail\nzroot/usr/jail/bhyve\nzroot/usr/jail/bhyve/vm\n" {
		t.Errorf("the jail's zfs view (attached dataset and its parents): %q", got)
	}
	if got := l.ok("zfs mount | grep bhyve"); got != "zroot/usr/jail/bhyve            /usr/jail/bhyve\nzroot/usr/jail/bhyve/vm         /usr/jail/bhyve/usr/jail/bhyve/vm\n" {
		t.Errorf("host view of the jail's mounts: %q", got)
	}
	// and the shutdown half: rc.shutdown runs the patched rc.d/zfs, the dataset is unmounted
	if got := l.ok("service jail stop bhyve"); got != "Stopping jails: bhyve.\n" {
		t.Errorf("service jail stop printed %q", got)
	}
	if got := l.ok("zfs get -H -o value mounted zroot/usr/jail/bhyve/vm"); got != "no\n" {
		t.Errorf("vm dataset still mounted after stop: %q", got)
	}
	if got := l.ok("jls -d -j bhyve jid 2>&1 || true"); !strings.Contains(got, `jls: jail "bhyve" not found`) {
		t.Errorf("jail left behind after stop: %q", got)
	}
	if got := l.ok("ifconfig -l"); strings.Contains(got, "epair4") {
		t.Errorf("poststop did not destroy the epairs: %q", got)
	}
}

// Negative twins: leave one step out, the matching check fails as on FreeBSD.

func TestTwinDevfsRulesetWithoutZfs(t *testing.T) {
	rules := "[devfsrules_bhyve_nozfs=10]\nadd include $devfsrules_hide_all\nadd include $devfsrules_unhide_basic\nadd include $devfsrules_unhide_login\n"
	l := runSeed(t, seedSteps{devfsRules: rules, conf: map[string]string{"devfs_ruleset = 5;": "devfs_ruleset = 10;"}})
	l.ok("service jail start bhyve")
	if r := l.sh("jexec bhyve ls /dev/zfs"); r.code == 0 {
		t.Errorf("/dev/zfs visible with a ruleset that hides it: %+v", r)
	}
	if r := l.sh("jexec bhyve zfs mount"); r.code == 0 {
		t.Errorf("zfs works in a jail without /dev/zfs: %+v", r)
	}
	if got := l.ok("zfs get -H -o value mounted zroot/usr/jail/bhyve/vm"); got != "no\n" {
		t.Errorf("vm mounted without /dev/zfs: %q", got)
	}
}

func TestTwinNotJailed(t *testing.T) {
	l := runSeed(t, seedSteps{noJailed: true})
	r := l.sh("service jail start bhyve")
	if r.stdout != "Starting jails: bhyve.\n" {
		t.Errorf("a missing jailed=on must not stop the jail from starting: %+v", r)
	}
	// the host mounted the dataset itself (jailed=off), so the jail only sees that mount, relative to its root
	if got := l.ok("jexec bhyve zfs mount"); got == seedZfsMount || strings.Contains(got, " /usr/jail/bhyve/vm\n") {
		t.Errorf("zfs mount in the jail looks like the seed although jailed=on is missing: %q", got)
	}
	if r := l.sh("jexec bhyve zfs list -H -o name zroot/usr/jail/bhyve/vm"); r.code != 1 || r.stderr != "cannot open 'zroot/usr/jail/bhyve/vm': dataset does not exist\n" {
		t.Errorf("the dataset must not be attached to the jail: %+v", r)
	}
	// jail(8)'s zfs.dataset check only echoes
	l.ok("service jail stop bhyve")
	if out := l.ok("jail -f /etc/jail.conf -c bhyve"); !strings.Contains(out, "error, you need to set jailed=on for dataset zroot/usr/jail/bhyve/vm\n") {
		t.Errorf("jail -c output: %q", out)
	}
}

func TestTwinNoAllowMountZfs(t *testing.T) {
	l := runSeed(t, seedSteps{conf: map[string]string{"  allow.mount.zfs;\n": ""}})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); strings.Contains(got, "bhyve/vm") {
		t.Errorf("mounted without allow.mount.zfs: %q", got)
	}
}

func TestTwinEnforceStatfs2(t *testing.T) {
	l := runSeed(t, seedSteps{conf: map[string]string{"enforce_statfs = 1;": "enforce_statfs = 2;"}})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); strings.Contains(got, "bhyve/vm") {
		t.Errorf("mounted with enforce_statfs = 2: %q", got)
	}
}

func TestTwinNoFreeBSDZfsPackage(t *testing.T) {
	l := runSeed(t, seedSteps{noPkg: true})
	l.ok("service jail start bhyve")
	r := l.sh("jexec bhyve zfs mount")
	if r.code == 0 || !strings.Contains(r.stderr, "jexec: execvp: zfs: No such file or directory") {
		t.Errorf("zfs runs in a jail root without FreeBSD-zfs: %+v", r)
	}
	if got := l.ok("zfs get -H -o value mounted zroot/usr/jail/bhyve/vm"); got != "no\n" {
		t.Errorf("vm mounted without FreeBSD-zfs: %q", got)
	}
}

func TestTwinNoZfsEnable(t *testing.T) {
	l := runSeed(t, seedSteps{noSysrc: true})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); got != "zroot/usr/jail/bhyve            /\n" {
		t.Errorf("vm mounted although zfs_enable is NO: %q", got)
	}
}

func TestTwinNoShutdownKeyword(t *testing.T) {
	l := runSeed(t, seedSteps{noPatch: true})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); got != seedZfsMount {
		t.Fatalf("zfs mount: %q", got)
	}
	l.ok("service jail stop bhyve")
	if got := l.ok("zfs get -H -o value mounted zroot/usr/jail/bhyve/vm"); got != "yes\n" {
		t.Errorf("without KEYWORD: shutdown the dataset must stay mounted after stop, got %q", got)
	}
	if got := l.ok("jls -d -j bhyve name dying"); got != "bhyve true\n" {
		t.Errorf("jail should be dying: %q", got)
	}
	if got := l.sh("jls -j bhyve name"); got.code != 1 {
		t.Errorf("a dying jail is not listed without -d: %+v", got)
	}
	// unmounting the leftover from the host lets the jail die
	l.ok("zfs unmount zroot/usr/jail/bhyve/vm")
	if r := l.sh("jls -d -j bhyve name"); r.code != 1 {
		t.Errorf("jail still dying after the unmount: %+v", r)
	}
}

func TestTwinHookFails(t *testing.T) {
	l := runSeed(t, seedSteps{hookPrelude: "[ \"$1\" = created ] && exit 3\n"})
	r := l.sh("service jail start bhyve")
	if !strings.HasPrefix(r.stdout, "Starting jails: cannot start jail  \"bhyve\": \n") || !strings.Contains(r.stdout, "rc.jail created bhyve bridge0:192.168.10.6/24 bridge1:10.0.0.6/24: failed\n.\n") {
		t.Errorf("service jail start: %+v", r)
	}
	if r := l.sh("jls -j bhyve jid"); r.code != 1 || r.stderr != "jls: jail \"bhyve\" not found\n" {
		t.Errorf("jail runs although a hook failed: %+v", r)
	}
}

func TestTwinInterfacesNotReleased(t *testing.T) {
	l := runSeed(t, seedSteps{hookPrelude: "KEEP_EPAIRS=1\n"})
	l.ok("service jail start bhyve")
	l.ok("service jail stop bhyve")
	if got := l.ok("jls -d -j bhyve name dying"); got != "bhyve true\n" {
		t.Errorf("jail should stay dying while its epairs exist: %q", got)
	}
	for _, ifc := range strings.Fields(l.ok("ifconfig -l")) {
		if strings.HasPrefix(ifc, "epair") && strings.HasSuffix(ifc, "a") && ifc >= "epair4a" {
			l.ok("ifconfig " + ifc + " destroy")
		}
	}
	if r := l.sh("jls -d -j bhyve name"); r.code != 1 {
		t.Errorf("jail still dying after its epairs were destroyed: %+v", r)
	}
}

func TestTwinNotAttached(t *testing.T) {
	l := runSeed(t, seedSteps{conf: map[string]string{"  zfs.dataset = \"zroot/usr/jail/${name}/vm\";\n": ""}})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); got != "zroot/usr/jail/bhyve            /\n" {
		t.Errorf("vm mounted in the jail without zfs.dataset: %q", got)
	}
	// attaching by hand and running the jail's rc.d/zfs through service -j gives the seed's view
	l.ok("zfs jail bhyve zroot/usr/jail/bhyve/vm")
	l.ok("service -j bhyve zfs start")
	if got := l.ok("jexec bhyve zfs mount"); got != seedZfsMount {
		t.Errorf("after zfs jail + service -j bhyve zfs start: %q", got)
	}
}

func TestTwinNoAllowMount(t *testing.T) {
	l := runSeed(t, seedSteps{conf: map[string]string{"  allow.mount;\n": ""}})
	l.ok("service jail start bhyve")
	if got := l.ok("jexec bhyve zfs mount"); strings.Contains(got, "bhyve/vm") {
		t.Errorf("mounted without allow.mount: %q", got)
	}
}
