package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSysrc(t *testing.T) {
	l := newRootLab(t, "seed")
	f := "/usr/jail/dns/etc/rc.conf.d/zfs"
	if got := l.ok("sysrc", "-f", f, "zfs_enable=yes"); got != "zfs_enable: NO -> yes\n" {
		t.Errorf("first set: %q", got)
	}
	if got := l.read(f); got != "zfs_enable=\"yes\"\n" {
		t.Errorf("file: %q", got)
	}
	if got := l.ok("sysrc", "-f", f, "zfs_enable=yes"); got != "zfs_enable: yes -> yes\n" {
		t.Errorf("second set: %q", got)
	}
	if got := l.ok("sysrc", "-f", f, "-n", "zfs_enable"); got != "yes\n" {
		t.Errorf("-n: %q", got)
	}
	if got := l.ok("sysrc", "-f", f, "-e", "zfs_enable"); got != "zfs_enable=\"yes\"\n" {
		t.Errorf("-e: %q", got)
	}
	if r := l.run("sysrc", "-f", f, "-c", "zfs_enable=yes"); r.code != 0 || r.stdout != "" {
		t.Errorf("-c match: %+v", r)
	}
	if r := l.run("sysrc", "-f", f, "-c", "zfs_enable=no"); r.code != 1 || r.stdout != "" {
		t.Errorf("-c mismatch: %+v", r)
	}
	if r := l.run("sysrc", "nosuch_var"); r.code != 1 || r.stderr != "sysrc: unknown variable 'nosuch_var'\n" {
		t.Errorf("unknown: %+v", r)
	}
	if r := l.run("sysrc", "-i", "nosuch_var"); r.code != 1 || r.stderr != "" {
		t.Errorf("-i unknown: %+v", r)
	}
	l.ok("sysrc", "-f", f, "-x", "zfs_enable")
	if got := l.read(f); strings.Contains(got, "zfs_enable") {
		t.Errorf("-x left %q", got)
	}
	if got := l.ok("sysrc", "jail_list+=web"); got != "jail_list:  -> web\n" {
		t.Errorf("+=: %q", got)
	}
	if got := l.ok("sysrc", "jail_list+=db"); got != "jail_list: web -> web db\n" {
		t.Errorf("+= again: %q", got)
	}
	if got := l.ok("sysrc", "jail_enable"); got != "jail_enable: YES\n" {
		t.Errorf("rc.conf value: %q", got)
	}
}

func TestPkg(t *testing.T) {
	l := newRootLab(t, "seed")
	if r := l.run("pkg", "-r", "/usr/jail/dns", "info", "-e", "FreeBSD-zfs"); r.code != 1 || r.stdout+r.stderr != "" {
		t.Errorf("info -e before: %+v", r)
	}
	if _, err := os.Lstat(filepath.Join(l.root, "usr/jail/dns/sbin/zfs")); err == nil {
		t.Fatal("skel already has /sbin/zfs")
	}
	out := l.ok("pkg", "-r", "/usr/jail/dns", "install", "-y", "FreeBSD-zfs")
	if !strings.Contains(out, "New packages to be INSTALLED:\n\tFreeBSD-zfs: 15.0 [FreeBSD-base]\n") {
		t.Errorf("install output:\n%s", out)
	}
	if target, err := os.Readlink(filepath.Join(l.root, "usr/jail/dns/sbin/zfs")); err != nil || target != "/usr/libexec/freebsd-sim" {
		t.Errorf("/sbin/zfs: %q %v", target, err)
	}
	if r := l.run("pkg", "-r", "/usr/jail/dns", "info", "-e", "FreeBSD-zfs"); r.code != 0 || r.stdout+r.stderr != "" {
		t.Errorf("info -e after: %+v", r)
	}
	if got := l.ok("pkg", "-r", "/usr/jail/dns", "install", "-y", "FreeBSD-zfs"); !strings.HasSuffix(got, "The most recent versions of packages are already installed\n") {
		t.Errorf("reinstall: %q", got)
	}
	if r := l.runIn("n\n", "pkg", "-r", "/usr/jail/ldap", "install", "FreeBSD-zfs"); r.code != 1 || !strings.Contains(r.stdout, "Proceed with this action? [y/N]: ") {
		t.Errorf("declined install: %+v", r)
	}
	l.ok("pkg", "-r", "/usr/jail/dns", "delete", "-y", "FreeBSD-zfs")
	if r := l.run("pkg", "-r", "/usr/jail/dns", "info", "-e", "FreeBSD-zfs"); r.code != 1 {
		t.Errorf("info -e after delete: %+v", r)
	}
}

func TestPkgbaseDisabled(t *testing.T) {
	l := newRootLab(t, "pkgbase-disabled")
	r := l.run("pkg", "-r", "/usr/jail/dns", "install", "-y", "FreeBSD-zfs")
	if r.code != 1 || !strings.Contains(r.stderr, "pkg: No packages available to install matching 'FreeBSD-zfs' have been found in the repositories\n") {
		t.Errorf("pkgbase disabled: %+v", r)
	}
}

func TestProfiles(t *testing.T) {
	l := newRootLab(t, "no-snapshot")
	if r := l.run("zfs", "list", "-H", "-o", "name", "zroot/usr/jail/15.0@skel"); r.code != 1 {
		t.Errorf("no-snapshot profile has the snapshot: %+v", r)
	}
	l14 := newRootLab(t, "freebsd14")
	if got := l14.ok("zfs", "list", "-H", "-o", "name", "-d", "1", "zroot/usr/jail"); !strings.Contains(got, "zroot/usr/jail/14.3\n") {
		t.Errorf("freebsd14 base dataset: %q", got)
	}
	l14.write("/etc/jail.conf", "t {\n path = /usr/jail/t;\n persist;\n zfs.dataset = zroot/x;\n}\n")
	if r := l14.run("jail", "-c", "t"); r.code != 1 || r.stderr != "jail: t: unknown parameter: zfs.dataset\n" {
		t.Errorf("zfs.dataset on 14: %+v", r)
	}
	if r := l.run("lab-init", l.root, "--profile", "nope"); r.code != 64 {
		t.Errorf("bad profile: %+v", r)
	}
}

func TestDevfsRules(t *testing.T) {
	l := newRootLab(t, "seed")
	if got := l.ok("devfs", "rule", "showsets"); got != "1\n2\n3\n4\n5\n" {
		t.Errorf("showsets: %q", got)
	}
	if got := l.ok("devfs", "rule", "-s", "4", "show"); got != "100 include 1\n200 include 2\n300 include 3\n400 path fuse unhide\n500 path zfs unhide\n" {
		t.Errorf("show 4: %q", got)
	}
	l.ok("devfs", "rule", "-s", "10", "add", "include", "5")
	l.ok("devfs", "rule", "-s", "10", "add", "path", "vmm/*", "unhide")
	if got := l.ok("devfs", "rule", "-s", "10", "show"); got != "100 include 5\n200 path vmm/* unhide\n" {
		t.Errorf("show 10: %q", got)
	}
	// /etc/devfs.rules replaces a same-numbered default set at service devfs restart
	l.write("/etc/devfs.rules", "[devfsrules_jail=4]\nadd include $devfsrules_hide_all\nadd path null unhide\n")
	l.ok("service", "devfs", "restart")
	if got := l.ok("devfs", "rule", "-s", "4", "show"); got != "100 include 1\n200 path null unhide\n" {
		t.Errorf("replaced set 4: %q", got)
	}
	l.ok("devfs", "rule", "-s", "10", "delset")
	if got := l.ok("devfs", "rule", "-s", "10", "show"); got != "" {
		t.Errorf("after delset: %q", got)
	}
}

func TestIfconfigAndRoute(t *testing.T) {
	l := newRootLab(t, "seed")
	if got := l.ok("ifconfig", "epair", "create"); got != "epair4a\n" {
		t.Errorf("epair create: %q", got)
	}
	if got := l.ok("ifconfig", "epair4a", "name", "e0a_web"); got != "e0a_web\n" {
		t.Errorf("name: %q", got)
	}
	l.ok("ifconfig", "bridge1", "addm", "e0a_web", "up")
	if got := l.ok("ifconfig", "bridge1"); !strings.Contains(got, "\tmember: e0a_web flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n") {
		t.Errorf("bridge1:\n%s", got)
	}
	l.ok("ifconfig", "epair4b", "vnet", "dns")
	if r := l.run("ifconfig", "epair4b"); r.code != 1 || r.stderr != "ifconfig: interface epair4b does not exist\n" {
		t.Errorf("moved interface still on host: %+v", r)
	}
	if r := l.run("ifconfig", "epair4b", "vnet", "nojail"); r.code != 1 {
		t.Errorf("vnet to missing jail: %+v", r)
	}
	l.ok("ifconfig", "epair4b", "-vnet", "dns")
	l.ok("ifconfig", "e0a_web", "destroy")
	if got := l.ok("ifconfig", "-l"); strings.Contains(got, "epair4b") || strings.Contains(got, "e0a_web") {
		t.Errorf("destroy left: %q", got)
	}
	if r := l.run("route", "get", "0"); r.code != 1 || r.stderr != "route: route has not been found\n" {
		t.Errorf("host route: %+v", r)
	}
	if r := l.run("ifconfig", "bridge7"); r.code != 1 || r.stderr != "ifconfig: interface bridge7 does not exist\n" {
		t.Errorf("missing: %+v", r)
	}
}

func TestLockf(t *testing.T) {
	l := newRootLab(t, "seed")
	done := make(chan result)
	go func() { done <- l.run("lockf", "-k", "/tmp-lock", "sleep", "1") }()
	time.Sleep(300 * time.Millisecond)
	r := l.run("lockf", "-k", "-t", "0", "/tmp-lock", "true")
	if r.code != 75 || r.stderr != "lockf: /tmp-lock: already locked\n" {
		t.Errorf("busy lock: %+v", r)
	}
	if r := <-done; r.code != 0 {
		t.Errorf("holder: %+v", r)
	}
	if r := l.run("lockf", "-t", "2", "/tmp-lock", "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exit status passthrough: %+v", r)
	}
}

func TestFaultsCommandScope(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/var/db/freebsd-sim/faults.json", `{"rules": [
		{"match": "^zfs create", "scope": "command", "action": "fail", "times": 2, "exitCode": 1, "stderr": "cannot create 'x': I/O error"}
	]}`)
	for i := 0; i < 2; i++ {
		if r := l.run("zfs", "create", "zroot/f"); r.code != 1 || r.stderr != "cannot create 'x': I/O error\n" {
			t.Errorf("fault %d: %+v", i, r)
		}
	}
	l.ok("zfs", "create", "zroot/f")
	var f faultsFile
	json.Unmarshal([]byte(l.read("/var/db/freebsd-sim/faults.json")), &f)
	if len(f.Rules) != 0 {
		t.Errorf("used-up rule kept: %+v", f)
	}
	if log := l.read("/var/db/freebsd-sim/commands.log"); strings.Count(log, `"argv":["zfs","create","zroot/f"]`) != 3 {
		t.Errorf("command log:\n%s", log)
	}
}

func TestLabSession(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/var/db/freebsd-sim/faults.json", `{"rules": [
		{"match": "^false-me", "action": "fail", "exitCode": 42, "stderr": "injected"},
		{"match": "^slow", "action": "slow", "delayMs": 300}
	]}`)
	run := func(cmd string) result {
		os.Setenv("SSH_ORIGINAL_COMMAND", cmd)
		os.Setenv("SSH_CONNECTION", "127.0.0.1 5555 127.0.0.2 22")
		defer os.Unsetenv("SSH_ORIGINAL_COMMAND")
		return l.run("lab-session")
	}
	if r := run("echo hello; exit 3"); r.code != 3 || r.stdout != "hello\n" {
		t.Errorf("plain command: %+v", r)
	}
	if r := run("false-me now"); r.code != 42 || r.stderr != "injected\n" {
		t.Errorf("fail rule: %+v", r)
	}
	if r := run("false-me again"); r.code != 127 {
		t.Errorf("fail rule is used up after one match, so the shell runs it: %+v", r)
	}
	start := time.Now()
	if r := run("slow; echo ok"); r.stdout != "ok\n" || time.Since(start) < 300*time.Millisecond {
		t.Errorf("slow rule: %+v after %v", r, time.Since(start))
	}
	lines := strings.Split(strings.TrimSpace(l.read("/var/log/lab-session.log")), "\n")
	if len(lines) != 4 {
		t.Fatalf("session log has %d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil || entry["command"] != "echo hello; exit 3" || entry["connection"] != "127.0.0.1 5555 127.0.0.2 22" {
		t.Errorf("log entry: %v %v", entry, err)
	}
}

func TestLabInstall(t *testing.T) {
	l := newRootLab(t, "seed")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/jexec"), []byte("#!/bin/sh\n"), 0o755) // a Linux jexec to shadow
	l.ok("lab-install", root)
	for _, p := range []string{"sbin/zfs", "usr/sbin/jail", "usr/sbin/jexec", "usr/bin/lockf", "usr/bin/jexec", "usr/sbin/sysrc"} {
		if target, err := os.Readlink(filepath.Join(root, p)); err != nil || target != "/usr/libexec/freebsd-sim" {
			t.Errorf("%s -> %q (%v)", p, target, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "usr/libexec/freebsd-sim")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("binary not installed: %v", err)
	}
}

func TestLabSessionDrop(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/var/db/freebsd-sim/faults.json", `{"rules": [{"match": "^printf", "action": "drop", "stdout": "partial output"}]}`)
	// a stand-in for the sshd session process: a shell whose command name is "sshd"
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "sshd")
	if err := os.WriteFile(fake, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(fake, "-c", simBin+" lab-session; echo after")
	c.Env = append(l.env(), "SSH_ORIGINAL_COMMAND=printf 'full output'")
	out, err := c.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the sshd stand-in was not killed: %v", err)
	}
	if string(out) != "partial output" {
		t.Errorf("client saw %q", out)
	}
}

func TestUnprivilegedSession(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to an unprivileged uid")
	}
	l := newRootLab(t, "seed")
	l.write("/var/db/freebsd-sim/faults.json", `{"rules": [{"match": "^boom", "action": "fail", "exitCode": 9, "stderr": "injected"}]}`)
	os.Chmod(filepath.Join(l.root, "var/db/freebsd-sim/faults.json"), 0o666)
	os.Setenv("SSH_ORIGINAL_COMMAND", "boom")
	r := runAs(t, l, 65534, "lab-session")
	os.Unsetenv("SSH_ORIGINAL_COMMAND")
	if r.code != 9 || r.stderr != "injected\n" {
		t.Errorf("unprivileged session fault: %+v", r)
	}
	if got := l.read("/var/db/freebsd-sim/faults.json"); strings.Contains(got, "boom") {
		t.Errorf("rule not consumed by an unprivileged session: %s", got)
	}
	if got := l.read("/var/log/lab-session.log"); !strings.Contains(got, `"command":"boom"`) {
		t.Errorf("unprivileged session not logged: %q", got)
	}
	r = runAs(t, l, 65534, "sysrc", "zfs_enable=NO")
	if r.code != 1 || r.stderr != "sysrc: /etc/rc.conf: Permission denied\n" {
		t.Errorf("unprivileged sysrc: %+v", r)
	}
	r = runAs(t, l, 65534, "pkg", "-r", "/usr/jail/dns", "install", "-y", "FreeBSD-zfs")
	if r.code != 77 || r.stderr != "pkg: Insufficient privileges to install packages\n" {
		t.Errorf("unprivileged pkg: %+v", r)
	}
	r = runAs(t, l, 65534, "jail", "-c", "dns")
	if r.code != 1 || r.stderr != "jail: jail_set: Operation not permitted\n" {
		t.Errorf("unprivileged jail: %+v", r)
	}
}
