package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestZfsCreateErrors(t *testing.T) {
	l := newRootLab(t, "seed")
	r := l.run("zfs", "create", "zroot/usr/jail/dns")
	if r.code != 1 || r.stderr != "cannot create 'zroot/usr/jail/dns': dataset already exists\n" {
		t.Errorf("existing: %+v", r)
	}
	r = l.run("zfs", "create", "zroot/nope/x")
	if r.code != 1 || r.stderr != "cannot create 'zroot/nope/x': parent does not exist\n" {
		t.Errorf("no parent: %+v", r)
	}
	l.ok("zfs", "create", "-p", "zroot/nope/x")
	l.ok("zfs", "create", "-p", "zroot/nope/x") // -p: no error when it exists
	r = l.run("zfs", "list", "-H", "-o", "name", "zroot/missing")
	if r.code != 1 || r.stdout != "" || r.stderr != "cannot open 'zroot/missing': dataset does not exist\n" {
		t.Errorf("list missing: %+v", r)
	}
	r = l.run("zfs", "create", "-o", "mountpoint=relative", "zroot/y")
	if r.code != 1 || !strings.Contains(r.stderr, "must be an absolute path, 'none', or 'legacy'") {
		t.Errorf("bad mountpoint: %+v", r)
	}
}

func TestZfsGetFormats(t *testing.T) {
	l := newRootLab(t, "seed")
	l.ok("zfs", "create", "-o", "jailed=on", "zroot/usr/jail/dns/vm")
	l.ok("zfs", "create", "zroot/usr/jail/dns/vm/a")
	got := l.ok("zfs", "get", "-H", "-p", "-o", "name,property,value,source", "jailed,mountpoint,quota", "-r", "zroot/usr/jail/dns/vm")
	want := "zroot/usr/jail/dns/vm\tjailed\ton\tlocal\n" +
		"zroot/usr/jail/dns/vm\tmountpoint\t/usr/jail/dns/vm\tinherited from zroot/usr\n" +
		"zroot/usr/jail/dns/vm\tquota\t0\tdefault\n" +
		"zroot/usr/jail/dns/vm/a\tjailed\ton\tinherited from zroot/usr/jail/dns/vm\n" +
		"zroot/usr/jail/dns/vm/a\tmountpoint\t/usr/jail/dns/vm/a\tinherited from zroot/usr\n" +
		"zroot/usr/jail/dns/vm/a\tquota\t0\tdefault\n"
	if got != want {
		t.Errorf("get -H -p:\n%q\nwant\n%q", got, want)
	}
	if got := l.ok("zfs", "get", "-H", "-o", "value", "mounted,type,origin", "zroot/usr/jail/dns"); got != "yes\nfilesystem\nzroot/usr/jail/15.0@skel\n" {
		t.Errorf("mounted,type,origin: %q", got)
	}
	if got := l.ok("zfs", "get", "-H", "-o", "value,source", "user:tag", "zroot/usr"); got != "-\t-\n" {
		t.Errorf("missing user prop: %q", got)
	}
	l.ok("zfs", "set", "user:tag=x", "recordsize=1M", "zroot/usr")
	if got := l.ok("zfs", "get", "-H", "-o", "value,source", "user:tag,recordsize", "zroot/usr/jail"); got != "x\tinherited from zroot/usr\n1M\tinherited from zroot/usr\n" {
		t.Errorf("inherited user prop: %q", got)
	}
	// clones: the seed's dns and ldap roots are clones of the skel snapshot; a filesystem has no value.
	if got := l.ok("zfs", "get", "-H", "-o", "name,value", "clones", "-t", "snapshot", "-r", "zroot/usr/jail"); got != "zroot/usr/jail/15.0@skel\tzroot/usr/jail/dns,zroot/usr/jail/ldap\n" {
		t.Errorf("clones: %q", got)
	}
	if got := l.ok("zfs", "get", "-H", "-o", "value", "clones", "zroot/usr/jail"); got != "-\n" {
		t.Errorf("clones of a filesystem: %q", got)
	}
	all := l.ok("zfs", "get", "all", "zroot/usr/jail")
	if !strings.HasPrefix(all, "NAME            PROPERTY") || !strings.Contains(all, "zroot/usr/jail  canmount ") {
		t.Errorf("get all:\n%s", all)
	}
}

func TestZfsDestroyRefusals(t *testing.T) {
	l := newRootLab(t, "seed")
	r := l.run("zfs", "destroy", "zroot/usr/jail/15.0")
	want := "cannot destroy 'zroot/usr/jail/15.0': filesystem has children\nuse '-r' to destroy the following datasets:\nzroot/usr/jail/15.0@skel\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("children:\n%q\nwant\n%q", r.stderr, want)
	}
	r = l.run("zfs", "destroy", "zroot/usr/jail/15.0@skel")
	want = "cannot destroy 'zroot/usr/jail/15.0@skel': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\nzroot/usr/jail/dns\nzroot/usr/jail/ldap\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("clones:\n%q\nwant\n%q", r.stderr, want)
	}
	r = l.run("zfs", "destroy", "zroot")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "cannot destroy 'zroot': operation does not apply to pools\nuse 'zfs destroy -r zroot' to destroy all datasets in the pool\n") {
		t.Errorf("pool: %+v", r)
	}
	l.ok("zfs", "create", "zroot/usr/jail/tmp1")
	l.write("/usr/jail/tmp1/file", "data")
	l.ok("zfs", "destroy", "zroot/usr/jail/tmp1")
	if _, err := os.Stat(filepath.Join(l.root, "usr/jail/tmp1/file")); err == nil {
		t.Errorf("destroyed dataset kept its files")
	}
	r = l.run("zfs", "destroy", "zroot/usr/jail/15.0@nosuch")
	if r.code != 1 || r.stderr != "could not find any snapshots to destroy; check snapshot names.\n" {
		t.Errorf("missing snapshot: %+v", r)
	}
}

func TestZfsJailedRestrictions(t *testing.T) {
	l := newRootLab(t, "seed")
	l.ok("zfs", "create", "-o", "jailed=on", "-o", "mountpoint=/vm", "zroot/vm")
	if got := l.ok("zfs", "get", "-H", "-o", "value,source", "mountpoint,mounted", "zroot/vm"); got != "/vm\tlocal\nno\t-\n" {
		t.Errorf("jailed create: %q", got)
	}
	r := l.run("zfs", "set", "mountpoint=/other", "zroot/vm")
	if r.code != 1 || r.stderr != "cannot set property for 'zroot/vm': 'mountpoint' cannot be set on dataset in a non-global zone\n" {
		t.Errorf("set mountpoint on jailed: %+v", r)
	}
	r = l.run("zfs", "inherit", "mountpoint", "zroot/vm")
	if r.code != 1 || r.stderr != "cannot inherit mountpoint for 'zroot/vm': dataset is used in a non-global zone\n" {
		t.Errorf("inherit mountpoint on jailed: %+v", r)
	}
	r = l.run("zfs", "mount", "zroot/vm")
	if r.code != 1 || r.stderr != "cannot mount 'zroot/vm': dataset is exported to a local zone\n" {
		t.Errorf("host mount of jailed: %+v", r)
	}
	// setting jailed=on later unmounts it from the host
	l.ok("zfs", "create", "zroot/usr/jail/late")
	l.ok("zfs", "set", "jailed=on", "zroot/usr/jail/late")
	if got := l.ok("zfs", "get", "-H", "-o", "value", "mounted", "zroot/usr/jail/late"); got != "no\n" {
		t.Errorf("jailed=on left it mounted: %q", got)
	}
	r = l.run("zfs", "jail", "nosuchjail", "zroot/vm")
	if r.code != 2 || !strings.HasPrefix(r.stderr, "invalid jail id or name\n") {
		t.Errorf("zfs jail bad jail: %+v", r)
	}
	l.ok("zfs", "jail", "dns", "zroot/vm")
	r = l.run("zfs", "jail", "1", "zroot/vm")
	if r.code != 1 || r.stderr != "cannot jail 'zroot/vm': dataset already exists\n" {
		t.Errorf("double attach: %+v", r)
	}
	l.ok("zfs", "unjail", "dns", "zroot/vm")
	r = l.run("zfs", "unjail", "dns", "zroot/vm")
	if r.code != 1 || r.stderr != "cannot unjail 'zroot/vm': dataset does not exist\n" {
		t.Errorf("unjail not attached: %+v", r)
	}
}

func TestZfsCloneAndSnapshotContent(t *testing.T) {
	l := newRootLab(t, "seed")
	if l.read("/usr/jail/dns/etc/rc.d/zfs") == "" {
		t.Fatal("clone of the skel snapshot has no rc.d/zfs")
	}
	if !strings.Contains(l.read("/usr/jail/15.0/etc/rc.d/zfs"), "# PROVIDE: zfs\n# REQUIRE: zfsbe\n# BEFORE: FILESYSTEMS var\n\n. /etc/rc.subr\n") {
		t.Errorf("skel rc.d/zfs header differs from the seed:\n%s", l.read("/usr/jail/15.0/etc/rc.d/zfs"))
	}
	l.write("/usr/jail/15.0/after-snapshot", "x")
	l.ok("zfs", "clone", "zroot/usr/jail/15.0@skel", "zroot/usr/jail/c1")
	if l.read("/usr/jail/c1/after-snapshot") != "" {
		t.Errorf("clone saw a file written after the snapshot")
	}
	l.ok("zfs", "snapshot", "zroot/usr/jail/15.0@two")
	l.ok("zfs", "clone", "-o", "canmount=noauto", "zroot/usr/jail/15.0@two", "zroot/usr/jail/c2")
	if got := l.ok("zfs", "get", "-H", "-o", "value", "mounted", "zroot/usr/jail/c2"); got != "no\n" {
		t.Errorf("canmount=noauto clone mounted: %q", got)
	}
	r := l.run("zfs", "snapshot", "zroot/usr/jail/15.0@two")
	if r.code != 1 || r.stderr != "cannot create snapshot 'zroot/usr/jail/15.0@two': dataset already exists\n" {
		t.Errorf("double snapshot: %+v", r)
	}
	got := l.ok("zfs", "list", "-H", "-t", "snapshot", "-o", "name")
	if got != "zroot/usr/jail/15.0@skel\nzroot/usr/jail/15.0@two\n" {
		t.Errorf("list snapshots: %q", got)
	}
}

func TestZfsMountListing(t *testing.T) {
	l := newRootLab(t, "seed")
	got := l.ok("zfs", "mount")
	want := "zroot                           /zroot\n" +
		"zroot/usr/jail                  /usr/jail\n" +
		"zroot/usr/jail/15.0             /usr/jail/15.0\n" +
		"zroot/usr/jail/dns              /usr/jail/dns\n" +
		"zroot/usr/jail/ldap             /usr/jail/ldap\n"
	if got != want {
		t.Errorf("zfs mount:\n%s", got)
	}
	l.ok("zfs", "unmount", "zroot/usr/jail/ldap")
	r := l.run("zfs", "unmount", "zroot/usr/jail/ldap")
	if r.code != 1 || r.stderr != "cannot unmount 'zroot/usr/jail/ldap': not currently mounted\n" {
		t.Errorf("double unmount: %+v", r)
	}
	l.ok("zfs", "mount", "zroot/usr/jail/ldap")
	r = l.run("zfs", "mount", "zroot/usr/jail/ldap")
	if r.code != 1 || r.stderr != "cannot mount 'zroot/usr/jail/ldap': filesystem already mounted\n" {
		t.Errorf("double mount: %+v", r)
	}
}

func TestZfsOutOfSpaceFault(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/var/db/freebsd-sim/faults.json", `{"rules": [], "poolFull": true}`)
	r := l.run("zfs", "create", "zroot/full")
	if r.code != 1 || r.stderr != "cannot create 'zroot/full': out of space\n" {
		t.Errorf("create when full: %+v", r)
	}
	r = l.run("zfs", "clone", "zroot/usr/jail/15.0@skel", "zroot/full")
	if r.code != 1 || r.stderr != "cannot create 'zroot/full': out of space\n" {
		t.Errorf("clone when full: %+v", r)
	}
	if got := l.ok("zfs", "get", "-H", "-p", "-o", "value", "available", "zroot"); got != "0\n" {
		t.Errorf("available when full: %q", got)
	}
}

func TestZfsPermissionDenied(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to an unprivileged uid")
	}
	l := newRootLab(t, "seed")
	r := runAs(t, l, 65534, "zfs", "create", "zroot/usr/jail/x")
	if r.code != 1 || r.stderr != "cannot create 'zroot/usr/jail/x': permission denied\n" {
		t.Errorf("unprivileged create: %+v", r)
	}
	r = runAs(t, l, 65534, "zfs", "list", "-H", "-o", "name", "zroot")
	if r.code != 0 || r.stdout != "zroot\n" {
		t.Errorf("unprivileged list: %+v", r)
	}
	r = runAs(t, l, 65534, "jexec", "dns", "ls")
	if r.code != 1 || r.stderr != "jexec: jail_attach(1): Operation not permitted\n" {
		t.Errorf("unprivileged jexec: %+v", r)
	}
}

func TestZfsConcurrentCreates(t *testing.T) {
	l := newRootLab(t, "seed")
	l.ok("zfs", "create", "zroot/p")
	errs := make(chan result, 16)
	for i := 0; i < 16; i++ {
		go func(i int) { errs <- l.run("zfs", "create", fmt.Sprintf("zroot/p/d%02d", i)) }(i)
	}
	for i := 0; i < 16; i++ {
		if r := <-errs; r.code != 0 {
			t.Errorf("parallel create: %+v", r)
		}
	}
	if got := l.ok("zfs", "list", "-H", "-o", "name", "-d", "1", "zroot/p"); strings.Count(got, "\n") != 17 {
		t.Errorf("lost updates:\n%s", got)
	}
}
