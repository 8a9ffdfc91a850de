package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed all:skel
var skelFS embed.FS

func skelFile(rel string) string {
	b, err := skelFS.ReadFile("skel/jail/" + rel)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// labCommands: where lab-install puts each command (FreeBSD path first). Commands FreeBSD keeps in
// /sbin are linked into /usr/sbin too, because doas and sudo put /usr/sbin before /sbin in PATH.
var labCommands = map[string][]string{
	"zfs":      {"/sbin/zfs", "/usr/sbin/zfs"},
	"zpool":    {"/sbin/zpool", "/usr/sbin/zpool"},
	"devfs":    {"/sbin/devfs", "/usr/sbin/devfs"},
	"ifconfig": {"/sbin/ifconfig", "/usr/sbin/ifconfig"},
	"route":    {"/sbin/route", "/usr/sbin/route"},
	"jail":     {"/usr/sbin/jail"},
	"jls":      {"/usr/sbin/jls"},
	"jexec":    {"/usr/sbin/jexec"},
	"service":  {"/usr/sbin/service"},
	"sysrc":    {"/usr/sbin/sysrc"},
	"pkg":      {"/usr/sbin/pkg"},
	"lockf":    {"/usr/bin/lockf"},
}

const simInstallPath = "/usr/libexec/freebsd-sim"

func cmdLabInstall(args []string) int {
	if len(args) != 1 {
		errf("usage: freebsd-sim lab-install ROOTDIR")
		return 64
	}
	root := args[0]
	dst := filepath.Join(root, simInstallPath)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		warnx("%v", err)
		return 1
	}
	if err := copyFile(selfExe(), dst, 0o755); err != nil {
		warnx("installing %s: %v", dst, err)
		return 1
	}
	for name, paths := range labCommands {
		// a same-named Linux program earlier in PATH (OpenJDK ships a jexec) is shadowed in the lab root
		for _, dir := range []string{"/usr/bin", "/usr/local/bin", "/usr/local/sbin"} {
			if _, err := os.Lstat(filepath.Join(root, dir, name)); err == nil && !contains(paths, dir+"/"+name) {
				paths = append(paths, dir+"/"+name)
			}
		}
		for _, p := range paths {
			full := filepath.Join(root, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				warnx("%v", err)
				return 1
			}
			os.Remove(full)
			if err := os.Symlink(simInstallPath, full); err != nil {
				warnx("linking %s: %v", full, err)
				return 1
			}
		}
	}
	return 0
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// labSpec is the starting shape of a lab (a profile, optionally adjusted by --spec FILE).
type labSpec struct {
	OSRelease      string   `json:"osrelease"`
	PoolSize       int64    `json:"poolSize"`
	Snapshot       bool     `json:"snapshot"`
	PkgbaseEnabled bool     `json:"pkgbaseEnabled"`
	Jails          []string `json:"jails"`
	JailEnable     bool     `json:"jailEnable"`
}

func profileSpec(name string) (labSpec, error) {
	sp := labSpec{OSRelease: "15.0-RELEASE", PoolSize: 100 << 30, Snapshot: true, PkgbaseEnabled: true, Jails: []string{"dns", "ldap"}, JailEnable: true}
	switch name {
	case "seed", "":
	case "no-snapshot":
		sp.Snapshot = false
	case "freebsd14":
		sp.OSRelease = "14.3-RELEASE"
	case "pkgbase-disabled":
		sp.PkgbaseEnabled = false
	default:
		return sp, fmt.Errorf("unknown profile %q (seed, no-snapshot, freebsd14, pkgbase-disabled)", name)
	}
	return sp, nil
}

func cmdLabInit(args []string) int {
	if len(args) == 0 {
		errf("usage: freebsd-sim lab-init ROOTDIR [--profile seed|no-snapshot|freebsd14|pkgbase-disabled] [--spec FILE.json]")
		return 64
	}
	root, rest := args[0], args[1:]
	profile, specFile := "seed", ""
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case "--profile", "--spec":
			if i+1 >= len(rest) {
				errf("lab-init: %s needs a value", rest[i])
				return 64
			}
			if rest[i] == "--profile" {
				profile = rest[i+1]
			} else {
				specFile = rest[i+1]
			}
			i++
		default:
			errf("lab-init: unknown argument %q", rest[i])
			return 64
		}
	}
	sp, err := profileSpec(profile)
	if err != nil {
		errf("lab-init: %v", err)
		return 64
	}
	if specFile != "" {
		b, err := os.ReadFile(specFile)
		if err == nil {
			err = json.Unmarshal(b, &sp)
		}
		if err != nil {
			errf("lab-init: reading %s: %v", specFile, err)
			return 1
		}
	}
	abs, _ := filepath.Abs(root)
	os.Setenv("FREEBSD_SIM_ROOT", abs)
	if err := labInit(sp); err != nil {
		errf("lab-init: %v", err)
		return 1
	}
	return 0
}

func writeFileIn(path, content string, mode os.FileMode) error {
	full := hostPath(path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	os.Remove(full)
	return os.WriteFile(full, []byte(content), mode)
}

// writeSkel lays the embedded jail root skeleton into a real directory.
func writeSkel(dir string, osrelease string) error {
	err := fs.WalkDir(skelFS, "skel/jail", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, "skel/jail"), "/")
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := skelFS.ReadFile(p)
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.Contains(rel, "rc.d/") || strings.HasSuffix(rel, "etc/rc") || strings.HasSuffix(rel, "rc.shutdown") {
			mode = 0o555
		}
		return os.WriteFile(target, b, mode)
	})
	if err != nil {
		return err
	}
	for _, d := range []string{"etc/rc.conf.d", "var/log", "var/run", "var/db/pkg", "tmp", "root", "dev", "sbin", "usr/sbin", "usr/bin", "usr/lib", "usr/lib64", "usr/libexec", "usr/local/etc", ".freebsd-sim"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	for link, target := range map[string]string{"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64"} {
		os.Remove(filepath.Join(dir, link))
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			return err
		}
	}
	// base system commands a FreeBSD jail root has without FreeBSD-zfs
	for _, c := range []string{"sbin/ifconfig", "sbin/route", "sbin/rcorder", "sbin/sysctl", "sbin/devfs", "usr/sbin/service", "usr/sbin/sysrc", "usr/bin/lockf"} {
		os.Remove(filepath.Join(dir, c))
		if err := os.Symlink(simInstallPath, filepath.Join(dir, c)); err != nil {
			return err
		}
	}
	files := map[string]string{
		"etc/defaults/rc.conf": mustSkelHost("etc/defaults/rc.conf"),
		"etc/rc.conf":          "",
		"etc/passwd":           "root:*:0:0:Charlie &:/root:/bin/sh\nnobody:*:65534:65534:Unprivileged user:/nonexistent:/usr/sbin/nologin\n",
		"etc/group":            "wheel:*:0:root\nnobody:*:65534:\n",
		"etc/os-release":       "NAME=FreeBSD\nVERSION=\"" + osrelease + "\"\nID=freebsd\n",
	}
	for rel, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o644); err != nil {
			return err
		}
	}
	if strings.HasPrefix(osrelease, "14") {
		os.WriteFile(filepath.Join(dir, "etc/rc.d/zfs"), []byte(skelFile("etc/rc.d/zfs")), 0o555)
	}
	return nil
}

func mustSkelHost(rel string) string {
	b, err := skelFS.ReadFile("skel/host/" + rel)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func jailConfText(name string, _ int, rules int) string {
	return fmt.Sprintf(`%s {
  host.hostname = "${name}.lab.net";
  path = "/usr/jail/${name}";

  devfs_ruleset = %d;
  enforce_statfs = 2;
  mount.devfs;
  vnet;

  exec.clean;
  exec.consolelog = "/var/log/jail_${name}.log";
  exec.start = "/bin/sh /etc/rc";
  exec.stop = "/bin/sh /etc/rc.shutdown";
}
`, name, rules)
}

func labInit(sp labSpec) error {
	dir := hostPath(stateDirInRoot)
	os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "snapshots"), 0o755); err != nil {
		return err
	}
	os.WriteFile(filepath.Join(dir, "lock"), nil, 0o666)
	os.Chmod(filepath.Join(dir, "lock"), 0o666)
	os.WriteFile(filepath.Join(dir, "commands.log"), nil, 0o666)
	os.Chmod(filepath.Join(dir, "commands.log"), 0o666)
	// sessions run as the unprivileged admin user and must be able to consume fault rules and log
	for name, content := range map[string]string{"faults.json": "{\"rules\": []}\n", "faults.json.lock": ""} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o666)
		os.Chmod(filepath.Join(dir, name), 0o666)
	}
	s := newState()
	s.OSRelease, s.PoolSize, s.PkgbaseEnabled = sp.OSRelease, sp.PoolSize, sp.PkgbaseEnabled
	ver := strings.TrimSuffix(sp.OSRelease, "-RELEASE")
	s.Catalog = []Package{
		{Name: "FreeBSD-zfs", Version: ver, Repo: "FreeBSD-base", Comment: "ZFS file system utilities"},
		{Name: "FreeBSD-jail", Version: ver, Repo: "FreeBSD-base", Comment: "Jail management utilities"},
		{Name: "FreeBSD-runtime", Version: ver, Repo: "FreeBSD-base", Comment: "FreeBSD base system runtime"},
		{Name: "FreeBSD-rc", Version: ver, Repo: "FreeBSD-base", Comment: "FreeBSD rc scripts"},
	}
	if err := saveStateFile(s); err != nil {
		return err
	}
	for path, content := range map[string]string{
		"/etc/defaults/rc.conf":     mustSkelHost("etc/defaults/rc.conf"),
		"/etc/defaults/devfs.rules": mustSkelHost("etc/defaults/devfs.rules"),
		"/etc/rc.conf":              fmt.Sprintf("hostname=\"lab.lab.net\"\nzfs_enable=\"YES\"\njail_enable=\"%s\"\n", map[bool]string{true: "YES", false: "NO"}[sp.JailEnable]),
	} {
		if err := writeFileIn(path, content, 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"/etc/jail.conf.d", "/usr/local/etc/rc.d", "/var/log", "/var/run", "/var/db"} {
		if err := os.MkdirAll(hostPath(d), 0o755); err != nil {
			return err
		}
	}
	if f, err := os.OpenFile(hostPath("/var/log/lab-session.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666); err == nil {
		f.Close()
		os.Chmod(hostPath("/var/log/lab-session.log"), 0o666)
	}
	// the pool
	err := updateState(func(s *State) error {
		mk := func(name string, props map[string]string) (*Dataset, error) {
			d := &Dataset{Name: name, Type: "filesystem", Props: props, Created: nowUnix(), GUID: newGUID()}
			s.Datasets[name] = d
			if s.shouldHostMount(d) {
				mp, _ := s.propValue(d, "mountpoint", false)
				if err := s.mountAt(d, mp, ""); err != nil {
					return nil, err
				}
			}
			return d, nil
		}
		if _, err := mk("zroot", map[string]string{"mountpoint": "/zroot", "compression": "lz4", "atime": "off"}); err != nil {
			return err
		}
		if _, err := mk("zroot/usr", map[string]string{"mountpoint": "/usr", "canmount": "off"}); err != nil {
			return err
		}
		if _, err := mk("zroot/usr/jail", map[string]string{}); err != nil {
			return err
		}
		base, err := mk("zroot/usr/jail/"+strings.Split(sp.OSRelease, "-")[0], map[string]string{})
		if err != nil {
			return err
		}
		if err := writeSkel(hostPath(base.Mounted), sp.OSRelease); err != nil {
			return err
		}
		if sp.Snapshot {
			sn := &Dataset{Name: base.Name + "@skel", Type: "snapshot", Props: map[string]string{}, Created: nowUnix(), GUID: newGUID()}
			sn.Storage = filepath.Join("snapshots", strconv.FormatUint(sn.GUID, 16))
			if err := copyTree(hostPath(base.Mounted), filepath.Join(stateDir(), sn.Storage)); err != nil {
				return err
			}
			s.Datasets[sn.Name] = sn
		}
		for _, j := range sp.Jails {
			d, err := mk("zroot/usr/jail/"+j, map[string]string{})
			if err != nil {
				return err
			}
			if sp.Snapshot {
				d.Origin = base.Name + "@skel"
			}
			if err := writeSkel(hostPath(d.Mounted), sp.OSRelease); err != nil {
				return err
			}
		}
		// the network: bridge0 for the LAN, bridge1 towards the upstream router
		b0, _ := s.cloneCreate("bridge", 0)
		s.Ifaces[b0].Inet, s.Ifaces[b0].Up = []string{"192.168.10.1/24"}, true
		b1, _ := s.cloneCreate("bridge", 1)
		s.Ifaces[b1].Up, s.Ifaces[b1].Gateway = true, "10.0.0.1"
		return loadDevfsRules(s, []string{"/etc/defaults/devfs.rules"})
	})
	if err != nil {
		return err
	}
	// the running service jails, defined in /etc/jail.conf (which includes the still empty
	// /etc/jail.conf.d, so rc.d/jail reads it for every jail and "depend" on them resolves)
	var conf strings.Builder
	conf.WriteString("# /etc/jail.conf of the enjailed lab host\n.include \"/etc/jail.conf.d/*.conf\";\n")
	for i, j := range sp.Jails {
		conf.WriteString("\n" + jailConfText(j, i+2, 5))
	}
	if err := writeFileIn("/etc/jail.conf", conf.String(), 0o644); err != nil {
		return err
	}
	parsed, err := parseJailConf("/etc/jail.conf")
	if err != nil {
		return err
	}
	for i, j := range sp.Jails {
		id := i + 2
		params, err := parsed.Resolve(j)
		if err != nil {
			return err
		}
		err = updateState(func(s *State) error {
			jid := s.NextJID
			s.NextJID++
			nodes := devfsVisible(s, 5, allDevNodes(), true)
			s.Jails = append(s.Jails, &Jail{JID: jid, Name: j, Path: "/usr/jail/" + j, Hostname: j + ".lab.net", Params: params, DevfsRuleset: 5, DevNodes: nodes, ConfFile: "/etc/jail.conf"})
			for k, bridge := range []string{"bridge0", "bridge1"} {
				a, _ := s.cloneCreate("epair", -1)
				b := s.Ifaces[a].Peer
				s.Ifaces[a].Up, s.Ifaces[b].Up = true, true
				s.Ifaces[bridge].Members = append(s.Ifaces[bridge].Members, a)
				s.Ifaces[b].Vnet = j
				net := []string{"192.168.10.%d/24", "10.0.0.%d/24"}[k]
				s.Ifaces[b].Inet = []string{fmt.Sprintf(net, id)}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// --- faults ----------------------------------------------------------------

// faultRule is one entry of faults.json (format in README.md).
type faultRule struct {
	Match      string `json:"match"`
	Scope      string `json:"scope,omitempty"` // "session" (default) or "command"
	Action     string `json:"action"`          // fail | slow | drop
	Times      int    `json:"times,omitempty"` // remaining matches; 0 = unlimited (fail defaults to 1)
	ExitCode   int    `json:"exitCode,omitempty"`
	Stderr     string `json:"stderr,omitempty"`
	Stdout     string `json:"stdout,omitempty"`
	DelayMs    int    `json:"delayMs,omitempty"`
	RunCommand bool   `json:"runCommand,omitempty"` // drop: run the command first, then drop
}

type faultsFile struct {
	Rules    []faultRule `json:"rules"`
	PoolFull bool        `json:"poolFull,omitempty"`
}

func faultsPath() string { return filepath.Join(stateDir(), "faults.json") }

func readFaults() faultsFile {
	var f faultsFile
	b, err := os.ReadFile(faultsPath())
	if err == nil {
		json.Unmarshal(b, &f)
	}
	return f
}

func faultsPoolFull() bool { return readFaults().PoolFull }

// takeFault finds the first rule of the scope matching line and consumes one of its times.
func takeFault(scope, line string) (faultRule, bool) {
	f := readFaults()
	if len(f.Rules) == 0 {
		return faultRule{}, false
	}
	lf, err := os.OpenFile(faultsPath()+".lock", os.O_RDWR|os.O_CREATE, 0o666)
	if err == nil {
		defer lf.Close()
		syscall.Flock(int(lf.Fd()), syscall.LOCK_EX)
		f = readFaults()
	}
	for i, r := range f.Rules {
		sc := r.Scope
		if sc == "" {
			sc = "session"
		}
		if sc != scope {
			continue
		}
		re, err := regexp.Compile(r.Match)
		if err != nil || !re.MatchString(line) {
			continue
		}
		if r.Times > 0 || (r.Action == "fail" && r.Times == 0) {
			left := r.Times - 1
			if r.Times == 0 {
				left = 0
			}
			if left <= 0 {
				f.Rules = append(f.Rules[:i:i], f.Rules[i+1:]...)
			} else {
				f.Rules[i].Times = left
			}
			if b, err := json.MarshalIndent(f, "", "  "); err == nil {
				// in place (not a rename): unprivileged sessions may write the file but not the directory
				os.WriteFile(faultsPath(), append(b, '\n'), 0o666)
			}
		}
		return r, true
	}
	return faultRule{}, false
}

// applyCommandFaults applies "command"-scope rules to one simulated command.
func applyCommandFaults(name string, args []string) (int, bool) {
	r, ok := takeFault("command", strings.Join(append([]string{name}, args...), " "))
	if !ok {
		return 0, false
	}
	return actOnFault(r)
}

func actOnFault(r faultRule) (int, bool) {
	switch r.Action {
	case "slow":
		time.Sleep(time.Duration(r.DelayMs) * time.Millisecond)
		return 0, false
	case "fail":
		if r.Stderr != "" {
			fmt.Fprint(os.Stderr, strings.TrimSuffix(r.Stderr, "\n")+"\n")
		}
		code := r.ExitCode
		if code == 0 {
			code = 1
		}
		return code, true
	case "drop":
		if r.Stdout != "" {
			fmt.Fprint(os.Stdout, r.Stdout)
		}
		if r.DelayMs > 0 {
			time.Sleep(time.Duration(r.DelayMs) * time.Millisecond)
		}
		dropConnection()
		return 255, true
	}
	return 0, false
}

// dropConnection kills the nearest sshd ancestor: the client sees the connection die mid-command.
func dropConnection() {
	pid := os.Getppid()
	for pid > 1 {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		c := strings.TrimSpace(string(comm))
		if c == "sshd" || c == "sshd-session" {
			syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		// pid (comm) state ppid ...
		rest := string(stat)[strings.LastIndex(string(stat), ")")+2:]
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			return
		}
		pid, _ = strconv.Atoi(fields[1])
	}
}

// cmdLabSession is the lab sshd's ForceCommand: log, apply session faults, run the command.
func cmdLabSession(_ []string) int {
	progName = "lab-session"
	line := os.Getenv("SSH_ORIGINAL_COMMAND")
	user := os.Getenv("USER")
	if user == "" {
		user = os.Getenv("LOGNAME")
	}
	entry, _ := json.Marshal(map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "user": user, "uid": os.Getuid(),
		"connection": os.Getenv("SSH_CONNECTION"), "command": line,
	})
	if f, err := os.OpenFile(hostPath("/var/log/lab-session.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666); err == nil {
		f.Write(append(entry, '\n'))
		f.Close()
	}
	if line != "" {
		if r, ok := takeFault("session", line); ok {
			if r.Action == "drop" && r.RunCommand {
				c := exec.Command("/bin/sh", "-c", line)
				c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
				c.Run()
				r.Stdout = ""
			}
			if code, stop := actOnFault(r); stop {
				return code
			}
		}
	}
	shell := os.Getenv("SHELL")
	if shell == "" {
		shell = "/bin/sh"
	}
	if line == "" {
		syscall.Exec(shell, []string{"-" + filepath.Base(shell)}, os.Environ())
		warnx("exec %s failed", shell)
		return 1
	}
	err := syscall.Exec("/bin/sh", []string{"sh", "-c", line}, os.Environ())
	warnx("exec /bin/sh: %v", err)
	return 1
}
