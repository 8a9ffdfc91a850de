package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseConfString(t *testing.T, src string) (*JailConf, error) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("FREEBSD_SIM_ROOT", dir)
	os.WriteFile(filepath.Join(dir, "jail.conf"), []byte(src), 0o644)
	return parseJailConf("/jail.conf")
}

func TestJailConfParse(t *testing.T) {
	conf, err := parseConfString(t, `
# global
exec.clean;
path = "/jails/$name";
/* a
   block comment */
web {
	$id = "6";
	$br = "bridge0";
	$ip = "${br}:10.0.0.${id}/24";   // trailing comment
	host.hostname = "${name}.lab.net";
	depend  = "dns";
	depend += "ldap";
	allow.nomount;
	vnet;
	ip4.addr = 10.0.0.5/24, 10.0.0.6/24;
	exec.prestart = "echo $ip";
	exec.prestart += 'echo $literal';
	exec.start = "/bin/sh /etc/rc";
	devfs_ruleset = 5;
	msg = "tab\there \x41\101";
}
`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := conf.Resolve("web")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"exec.clean":    {"true"},
		"path":          {"/jails/web"},
		"name":          {"web"},
		"host.hostname": {"web.lab.net"},
		"depend":        {"dns", "ldap"},
		"allow.mount":   {"false"},
		"vnet":          {"new"},
		"ip4.addr":      {"10.0.0.5/24", "10.0.0.6/24"},
		"exec.prestart": {"echo bridge0:10.0.0.6/24", "echo $literal"},
		"exec.start":    {"/bin/sh /etc/rc"},
		"devfs_ruleset": {"5"},
		"msg":           {"tab\there AA"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("resolved:\n%#v\nwant\n%#v", p, want)
	}
	if names := conf.JailNames(); !reflect.DeepEqual(names, []string{"web"}) {
		t.Errorf("names %v", names)
	}
}

func TestJailConfErrors(t *testing.T) {
	cases := map[string]string{
		"a {\n path = \"/x;\n}\n":          "/jail.conf line 2: unterminated string",
		"a {\n /* never closed\n":          "/jail.conf line 2: unterminated comment",
		"a {\n path = /x;\n":               "/jail.conf: unexpected EOF",
		"a {\n persist = maybe;\n}\n":      `a: persist: unknown boolean value "maybe"`,
		"a {\n path = \"$nope\";\n}\n":     `a: variable "nope" not found`,
		"a {\n enforce_statfs = one;\n}\n": `a: enforce_statfs: non-integer value "one"`,
		".include \"/none.conf\";\n":       "/none.conf: No such file or directory",
		"a {\n name = \"b\";\n}\n":         `a: cannot redefine parameter "name".`,
		"a {\n path = \"${path}/x\";\n}\n": `a: path: variable loop`,
		".include \"/$x.conf\";\n":         "/jail.conf line 1: variables not permitted in '.include' filename",
	}
	for src, want := range cases {
		conf, err := parseConfString(t, src)
		if err == nil {
			_, err = conf.Resolve("a")
		}
		if err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
}

func TestJailConfInclude(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("FREEBSD_SIM_ROOT", dir)
	os.MkdirAll(filepath.Join(dir, "etc/jail.conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "etc/jail.conf"), []byte(".include \"/etc/jail.conf.d/*.conf\";\n.include \"/etc/none.d/*.conf\";\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc/jail.conf.d/a.conf"), []byte("a { path = /a; }\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "etc/jail.conf.d/b.conf"), []byte("b { path = /b; }\n"), 0o644)
	conf, err := parseJailConf("/etc/jail.conf")
	if err != nil {
		t.Fatal(err)
	}
	if names := conf.JailNames(); !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("names %v", names)
	}
}

// Hooks run in jail(8)'s order (freebsd.md §2.2, §2.4); no chroot needed without exec.start.
func TestJailHookOrder(t *testing.T) {
	l := newRootLab(t, "seed")
	log := filepath.Join(l.root, "hooks.log")
	var hooks []string
	for _, h := range []string{"exec.prepare", "exec.prestart", "exec.created", "exec.poststart", "exec.prestop", "exec.poststop", "exec.release"} {
		hooks = append(hooks, h+" = \"echo "+h+" >> "+log+"\";")
	}
	l.write("/etc/jail.conf", "t {\n path = /usr/jail/t;\n persist;\n mount.devfs;\n "+strings.Join(hooks, "\n ")+"\n}\n")
	if got := l.ok("jail", "-c", "t"); got != "t: created\n" {
		t.Errorf("jail -c printed %q", got)
	}
	if got := l.ok("jls", "-j", "t", "jid", "name", "path"); got != "3 t /usr/jail/t\n" {
		t.Errorf("jls: %q", got)
	}
	r := l.run("jail", "-c", "t")
	if r.code != 1 || r.stderr != "jail: \"t\" already exists\n" {
		t.Errorf("second create: %+v", r)
	}
	if got := l.ok("jail", "-r", "t"); got != "t: removed\n" {
		t.Errorf("jail -r printed %q", got)
	}
	want := "exec.prepare\nexec.prestart\nexec.created\nexec.poststart\nexec.prestop\nexec.poststop\nexec.release\n"
	if got := l.read("/hooks.log"); got != want {
		t.Errorf("hook order:\n%s", got)
	}
	r = l.run("jail", "-r", "t")
	if r.code != 1 || r.stderr != "jail: \"t\" not found\n" {
		t.Errorf("remove missing: %+v", r)
	}
}

func TestJailFailedHookAbortsStart(t *testing.T) {
	l := newRootLab(t, "seed")
	log := filepath.Join(l.root, "hooks.log")
	l.write("/etc/jail.conf", "t {\n path = /usr/jail/t;\n persist;\n exec.created = \"false\";\n exec.poststart = \"echo poststart >> "+log+"\";\n exec.poststop = \"echo poststop >> "+log+"\";\n}\n")
	r := l.run("jail", "-c", "t")
	if r.code != 1 || r.stdout != "t: created\n" || r.stderr != "jail: t: false: failed\n" {
		t.Errorf("failed hook: %+v", r)
	}
	if r := l.run("jls", "-j", "t"); r.code != 1 || r.stderr != "jls: jail \"t\" not found\n" {
		t.Errorf("jail left running: %+v", r)
	}
	if got := l.read("/hooks.log"); got != "" {
		t.Errorf("no poststart/poststop after a failed create, got %q", got)
	}
}

func TestJailDepend(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/etc/jail.conf", "a {\n path = /a;\n persist;\n depend = b;\n}\nb {\n path = /b;\n persist;\n}\nc {\n path = /c;\n persist;\n depend = nowhere;\n}\n")
	if got := l.ok("jail", "-c", "a"); got != "b: created\na: created\n" {
		t.Errorf("depend order: %q", got)
	}
	r := l.run("jail", "-c", "c")
	if r.code != 1 || r.stderr != "jail: c: depends on undefined jail \"nowhere\"\n" {
		t.Errorf("undefined dependency: %+v", r)
	}
	// a running jail that the file does not define is still undefined for jail(8)
	l.write("/etc/other.conf", "d {\n path = /d;\n persist;\n depend = dns;\n}\n")
	r = l.run("jail", "-f", "/etc/other.conf", "-c", "d")
	if r.code != 1 || r.stderr != "jail: d: depends on undefined jail \"dns\"\n" {
		t.Errorf("dependency outside the file: %+v", r)
	}
}

func TestJlsFormats(t *testing.T) {
	l := newRootLab(t, "seed")
	want := "   JID  IP Address      Hostname                      Path\n" +
		"     1                  dns.lab.net                   /usr/jail/dns\n" +
		"     2                  ldap.lab.net                  /usr/jail/ldap\n"
	if got := l.ok("jls"); got != want {
		t.Errorf("jls:\n%q\nwant\n%q", got, want)
	}
	if got := l.ok("jls", "-j", "dns", "-n", "jid", "name", "vnet", "allow.mount", "devfs_ruleset"); got != "jid=1 name=dns vnet=new allow.nomount devfs_ruleset=5\n" {
		t.Errorf("jls -n: %q", got)
	}
	if got := l.ok("jls", "-j", "1", "-q", "name", "ip4.addr"); got != "dns \"\"\n" {
		t.Errorf("jls -q: %q", got)
	}
	r := l.run("jls", "-j", "9", "jid")
	if r.code != 1 || r.stderr != "jls: jail 9 not found\n" {
		t.Errorf("jls missing jid: %+v", r)
	}
	r = l.run("jexec", "nope", "true")
	if r.code != 1 || r.stderr != "jexec: jail \"nope\" not found\n" {
		t.Errorf("jexec missing: %+v", r)
	}
}

func TestServiceJailDisabled(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/etc/rc.conf", "jail_enable=\"NO\"\n")
	if got := l.ok("service", "jail", "start", "dns"); got != "Cannot 'start' jail. Set jail_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.\n" {
		t.Errorf("disabled: %q", got)
	}
	r := l.run("service", "nosuch", "start")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "nosuch does not exist in /etc/rc.d or the local startup") {
		t.Errorf("missing script: %+v", r)
	}
}

func TestServiceJailStartPersistent(t *testing.T) {
	l := newRootLab(t, "seed")
	l.write("/etc/jail.conf.d/p.conf", "p {\n path = /usr/jail/p;\n persist;\n}\n")
	if got := l.ok("service", "jail", "start", "p"); got != "Starting jails: p.\n" {
		t.Errorf("start: %q", got)
	}
	if got := l.read("/var/run/jail_p.id"); got != "3\n" {
		t.Errorf("jid file: %q", got)
	}
	if got := l.ok("service", "jail", "stop", "p"); got != "Stopping jails: p.\n" {
		t.Errorf("stop: %q", got)
	}
	if r := l.run("service", "jail", "start", "q"); r.stdout != "Starting jails: cannot start jail  \"q\": \njail: \"q\" not found\n.\n" {
		t.Errorf("jail missing from /etc/jail.conf: %+v", r)
	}
	os.Remove(filepath.Join(l.root, "etc/jail.conf"))
	if r := l.run("service", "jail", "start", "q"); r.stdout != "Starting jails:.\n" || r.stderr != "/etc/rc.d/jail: WARNING: Invalid configuration for q (no jail.conf, no hostname, or no path).  Jail q was ignored.\n" {
		t.Errorf("unknown jail: %+v", r)
	}
}
