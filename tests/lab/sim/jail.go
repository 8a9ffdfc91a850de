package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// selfExe is the path of this binary, used to re-enter it (jexec child, hooks).
func selfExe() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "/usr/libexec/freebsd-sim"
}

type jailOpts struct {
	quiet, verbose, printJID bool
	file                     string
}

func cmdJail(args []string) int {
	opts, rest, err := getopt(args, "cmrRf:qvidhlJ:u:U:n:s:p:e:")
	if err != nil {
		warnx("%v", err)
		errf("usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username] [-cmr] param=value ... [command=command ...]\n       jail [-dqv] [-f file] [-p limit] [-cmr] [jail]\n       jail [-qv] [-f file] [-rR] [* | jail ...]")
		return 1
	}
	_, c := opts['c']
	_, m := opts['m']
	_, r := opts['r']
	_, R := opts['R']
	o := jailOpts{file: "/etc/jail.conf"}
	_, o.quiet = opts['q']
	_, o.verbose = opts['v']
	_, o.printJID = opts['i']
	if f := opts['f']; len(f) > 0 {
		o.file = f[len(f)-1]
	}
	if _, d := opts['d']; d {
		warnx("the 'allow.dying' parameter and '-d' flag are deprecated and have no effect.")
	}
	if !c && !m && !r && !R {
		errf("usage: jail [-dhilqv] [-J jid_file] [-u username] [-U username] [-cmr] param=value ... [command=command ...]")
		return 1
	}
	if !isRoot() || currentJail() != "" {
		warnx("jail_set: Operation not permitted")
		return 1
	}
	// command-line parameters instead of a file
	if len(rest) > 0 && strings.Contains(rest[0], "=") {
		params := map[string][]string{}
		for _, a := range rest {
			k, v, ok := strings.Cut(a, "=")
			if !ok {
				params[a] = []string{"true"}
				continue
			}
			params[k] = append(params[k], v)
		}
		name := paramStr(params, "name")
		if name == "" {
			name = paramStr(params, "jid")
		}
		params["name"] = []string{name}
		if c {
			return exitOf(startJail(name, params, o, map[string]bool{}, nil))
		}
		if r {
			return exitOf(stopJail(name, nil, o))
		}
		return exitOf(modifyJail(name, params, o))
	}
	var conf *JailConf
	if _, err := os.Stat(hostPath(o.file)); err == nil || c || m {
		conf, err = parseJailConf(o.file)
		if err != nil {
			warnx("%v", err)
			return 1
		}
	}
	names := rest
	if len(names) == 0 || (len(names) == 1 && names[0] == "*") {
		if conf != nil {
			names = conf.JailNames()
		}
		if r && !c && len(rest) > 0 && rest[0] == "*" {
			s := mustState()
			if s == nil {
				return 1
			}
			names = nil
			for _, j := range s.Jails {
				if !j.Dying {
					names = append(names, j.Name)
				}
			}
		}
	}
	status := 0
	for _, name := range names {
		var params map[string][]string
		if conf != nil {
			p, err := conf.Resolve(name)
			if err == nil {
				params = p
			} else if !r || c {
				warnx("%v", err)
				status = 1
				continue
			}
		}
		switch {
		case R:
			status |= exitOf(stopJail(name, nil, jailOpts{quiet: o.quiet}))
		case r && c:
			if err := stopJail(name, params, o); err != nil {
				status = 1
				continue
			}
			status |= exitOf(startJail(name, params, o, map[string]bool{}, conf))
		case r:
			status |= exitOf(stopJail(name, params, o))
		case c && m:
			s := mustState()
			if s != nil && s.jailByName(name) != nil {
				status |= exitOf(modifyJail(name, params, o))
			} else {
				status |= exitOf(startJail(name, params, o, map[string]bool{}, conf))
			}
		case c:
			status |= exitOf(startJail(name, params, o, map[string]bool{}, conf))
		case m:
			status |= exitOf(modifyJail(name, params, o))
		}
	}
	return status
}

func exitOf(err error) int {
	if err == nil {
		return 0
	}
	if err.Error() != "" {
		warnx("%v", err)
	}
	return 1
}

// silentErr fails without a message (already printed).
var silentErr = errors.New("")

// hookFailed is jail(8)'s "NAME: CMD: failed".
func runHook(name, param, cmdline string, params map[string][]string, inJail bool) error {
	var c *exec.Cmd
	if inJail {
		if paramBool(params, "exec.clean") {
			// exec.clean: a clean login environment for the jailed command
			c = exec.Command(selfExe(), "jexec", "-l", name, "/bin/sh", "-c", cmdline)
		} else {
			c = exec.Command(selfExe(), "jexec", name, "/bin/sh", "-c", cmdline)
		}
	} else {
		c = exec.Command("/bin/sh", "-c", cmdline)
	}
	c.Stdin = nil
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if inJail {
		if log := paramStr(params, "exec.consolelog"); log != "" {
			f, err := os.OpenFile(hostPath(log), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err == nil {
				defer f.Close()
				c.Stdout, c.Stderr = f, f
			}
		}
	}
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return fmt.Errorf("%s: %s: exited on signal %d", name, cmdline, int(ws.Signal()))
			}
		}
		return fmt.Errorf("%s: %s: failed", name, cmdline)
	}
	return nil
}

func runHooks(name, param string, params map[string][]string, inJail bool) error {
	for _, cmdline := range params[param] {
		if err := runHook(name, param, cmdline, params, inJail); err != nil {
			return err
		}
	}
	return nil
}

// startJail follows jail(8)'s start order (freebsd.md §2.2).
func startJail(name string, params map[string][]string, o jailOpts, starting map[string]bool, conf *JailConf) error {
	if params == nil {
		return fmt.Errorf("\"%s\" not found", name)
	}
	s, err := readState()
	if err != nil {
		return err
	}
	if s.jailByName(name) != nil {
		return fmt.Errorf("\"%s\" already exists", name)
	}
	if _, ok := params["zfs.dataset"]; ok && strings.HasPrefix(s.OSRelease, "14") {
		// zfs.dataset is new in 15.0; 14's jail(8) hands it to the kernel, which does not know it
		return fmt.Errorf("%s: unknown parameter: zfs.dataset", name)
	}
	starting[name] = true
	// jail(8) resolves "depend" within the configuration it read (state.c dep_setup): an undefined
	// jail fails even when it runs; without a file, the dependency only has to be running.
	for _, dep := range params["depend"] {
		if conf == nil {
			if s.jailByName(dep) == nil {
				return fmt.Errorf("depends on nonexistent jail \"%s\"", dep)
			}
			continue
		}
		dp, err := conf.Resolve(dep)
		if err != nil {
			return fmt.Errorf("%s: depends on undefined jail \"%s\"", name, dep)
		}
		if s.jailByName(dep) != nil {
			continue
		}
		if starting[dep] {
			return fmt.Errorf("%s: dependency loop", name)
		}
		if err := startJail(dep, dp, o, starting, conf); err != nil {
			warnx("%v", err)
			return fmt.Errorf("%s: skipped", name)
		}
	}
	path := paramStr(params, "path")
	if path != "" && !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %s: not an absolute pathname", path)
	}
	if err := runHooks(name, "exec.prepare", params, false); err != nil {
		return err
	}
	ruleset := -1
	var nodes []string
	if paramBool(params, "mount.devfs") {
		if path == "" {
			return fmt.Errorf("%s: mount.devfs: no jail root path defined", name)
		}
		ruleset = 4
		if v := paramStr(params, "devfs_ruleset"); v != "" && v != "0" {
			ruleset, _ = strconv.Atoi(v)
		}
		os.MkdirAll(hostPath(path+"/dev"), 0o555)
		nodes = devfsVisible(s, ruleset, allDevNodes(), true)
	}
	if err := runHooks(name, "exec.prestart", params, false); err != nil {
		return err
	}
	var jid int
	err = updateState(func(s *State) error {
		if s.jailByName(name) != nil {
			return fmt.Errorf("\"%s\" already exists", name)
		}
		jid = s.NextJID
		if v := paramStr(params, "jid"); v != "" {
			jid, _ = strconv.Atoi(v)
		}
		for _, j := range s.Jails {
			if j.JID >= jid {
				jid = j.JID + 1
			}
		}
		s.NextJID = jid + 1
		host := paramStr(params, "host.hostname")
		s.Jails = append(s.Jails, &Jail{JID: jid, Name: name, Path: path, Hostname: host, Params: params, DevfsRuleset: ruleset, DevNodes: nodes, ConfFile: o.file})
		return nil
	})
	if err != nil {
		return err
	}
	if !o.quiet {
		fmt.Printf("%s: created\n", name)
	}
	undo := func(cause error) error {
		removeJailState(name, false)
		return cause
	}
	if err := runHooks(name, "exec.created", params, false); err != nil {
		return undo(err)
	}
	for _, ds := range params["zfs.dataset"] {
		// jail(8) runs this check through /bin/sh; a failure is only echoed (freebsd.md §2.3)
		zfs := shellQuote(selfExe()) + " zfs"
		snippet := fmt.Sprintf("if [ $(%s get -H -o value jailed %s) = on ]; then %s jail %d %s || echo error, attaching %s to jail %d failed; else echo error, you need to set jailed=on for dataset %s; fi",
			zfs, shellQuote(ds), zfs, jid, shellQuote(ds), ds, jid, ds)
		c := exec.Command("/bin/sh", "-c", snippet)
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Run(); err != nil {
			return undo(fmt.Errorf("%s: %s: failed", name, snippet))
		}
	}
	for _, ifname := range params["vnet.interface"] {
		if err := updateState(func(s *State) error { return s.moveIface(ifname, name, true) }); err != nil {
			return undo(fmt.Errorf("%s: ifconfig %s vnet %s: failed", name, ifname, name))
		}
	}
	if err := runHooks(name, "exec.start", params, true); err != nil {
		return undo(err)
	}
	if cmdv := params["command"]; len(cmdv) > 0 {
		if err := runHook(name, "command", strings.Join(cmdv, " "), params, true); err != nil {
			return undo(err)
		}
	}
	if err := runHooks(name, "exec.poststart", params, false); err != nil {
		return undo(err)
	}
	if o.printJID {
		fmt.Println(jid)
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// removeJailState removes a running jail from the kernel state. Interfaces in its vnet go back to
// the host; when epairs remain or jail-made mounts stay, the jail is left dying.
func removeJailState(name string, keepDying bool) {
	updateState(func(s *State) error {
		j := s.jailByName(name)
		if j == nil {
			return nil
		}
		var held []string
		for _, ifc := range s.Ifaces {
			if ifc.Vnet == name {
				ifc.Vnet = ""
				ifc.Inet = nil
				if ifc.Kind == "epair" {
					held = append(held, ifc.Name)
				}
			}
		}
		for _, d := range s.Datasets {
			if d.Jail == name {
				d.Jail = ""
			}
		}
		j.Held = held
		j.Dying = true
		j.DevNodes = nil
		if !keepDying {
			j.Held = nil
		}
		s.reapDyingJails()
		return nil
	})
}

// reapDyingJails drops dying jails once nothing holds them.
func (s *State) reapDyingJails() {
	var keep []*Jail
	for _, j := range s.Jails {
		if j.Dying {
			held := false
			for _, h := range j.Held {
				if s.Ifaces[h] != nil {
					held = true
				}
			}
			for _, d := range s.Datasets {
				if d.Mounted != "" && d.MountedBy == j.Name && s.jailByName(j.Name) == nil {
					held = true
				}
			}
			if !held {
				continue
			}
		}
		keep = append(keep, j)
	}
	s.Jails = keep
}

// stopJail follows jail(8)'s stop order (freebsd.md §2.4).
func stopJail(name string, params map[string][]string, o jailOpts) error {
	s, err := readState()
	if err != nil {
		return err
	}
	j := s.jailByName(name)
	if j == nil {
		return fmt.Errorf("\"%s\" not found", name)
	}
	if params == nil {
		params = j.Params
	}
	if err := runHooks(j.Name, "exec.prestop", params, false); err != nil {
		return err
	}
	if err := runHooks(j.Name, "exec.stop", params, true); err != nil {
		warnx("%v", err)
	}
	removeJailState(j.Name, true)
	if !o.quiet {
		fmt.Printf("%s: removed\n", j.Name)
	}
	if err := runHooks(j.Name, "exec.poststop", params, false); err != nil {
		return err
	}
	if err := runHooks(j.Name, "exec.release", params, false); err != nil {
		return err
	}
	return updateState(func(s *State) error { s.reapDyingJails(); return nil })
}

var rdtunParams = map[string]bool{"path": true, "vnet": true, "name": true, "jid": true, "devfs_ruleset": false}

func modifyJail(name string, params map[string][]string, o jailOpts) error {
	return updateState(func(s *State) error {
		j := s.jailByName(name)
		if j == nil {
			return fmt.Errorf("\"%s\" not found", name)
		}
		for k, v := range params {
			if rdtunParams[k] && strings.Join(j.Params[k], ",") != strings.Join(v, ",") {
				return fmt.Errorf("%s: %s cannot be changed after creation", name, k)
			}
		}
		for k, v := range params {
			j.Params[k] = v
		}
		j.Hostname = paramStr(j.Params, "host.hostname")
		if !o.quiet {
			fmt.Printf("%s: updated\n", name)
		}
		return nil
	})
}

// --- jls -----------------------------------------------------------------

func jailParam(j *Jail, name string) (string, bool, error) {
	switch name {
	case "jid":
		return strconv.Itoa(j.JID), false, nil
	case "name":
		return j.Name, false, nil
	case "path":
		return j.Path, false, nil
	case "host.hostname", "hostname":
		return j.Hostname, false, nil
	case "dying":
		return strconv.FormatBool(j.Dying), true, nil
	case "vnet":
		if v := paramStr(j.Params, "vnet"); v == "new" || v == "true" {
			return "new", false, nil
		}
		return "inherit", false, nil
	case "devfs_ruleset":
		v := paramStr(j.Params, "devfs_ruleset")
		if v == "" {
			v = "0"
		}
		return v, false, nil
	case "enforce_statfs":
		return strconv.Itoa(enforceStatfs(j.Params)), false, nil
	case "ip4.addr", "ip6.addr", "vnet.interface", "zfs.dataset":
		return strings.Join(j.Params[name], ","), false, nil
	case "parent":
		return "0", false, nil
	case "osrelease":
		return "15.0-RELEASE", false, nil
	case "persist":
		return strconv.FormatBool(paramBool(j.Params, "persist")), true, nil
	}
	if strings.HasPrefix(name, "allow.") {
		return strconv.FormatBool(paramBool(j.Params, name)), true, nil
	}
	if v, ok := j.Params[name]; ok {
		return strings.Join(v, ","), false, nil
	}
	return "", false, fmt.Errorf("unknown parameter: %s", name)
}

var jlsAllParams = []string{"allow.mount", "allow.mount.zfs", "allow.raw_sockets", "allow.vmm", "devfs_ruleset", "dying", "enforce_statfs", "host.hostname", "ip4.addr", "jid", "name", "osrelease", "parent", "path", "persist", "vnet"}

func cmdJls(args []string) int {
	opts, rest, err := getopt(args, "dhNnqsvj:")
	if err != nil {
		warnx("%v", err)
		errf("usage: jls [-dhNnqsv] [-j jail] [param ...]")
		return 1
	}
	s := mustState()
	if s == nil {
		return 1
	}
	_, dying := opts['d']
	_, nameval := opts['n']
	_, quote := opts['q']
	_, header := opts['h']
	_, showName := opts['N']
	_, verbose := opts['v']
	_, sFlag := opts['s']
	if sFlag {
		nameval, quote = true, true
	}
	var jails []*Jail
	for _, j := range s.Jails {
		if j.Dying && !dying {
			continue
		}
		jails = append(jails, j)
	}
	if jj := opts['j']; len(jj) > 0 {
		want := jj[len(jj)-1]
		var found *Jail
		for _, j := range jails {
			if j.Name == want || strconv.Itoa(j.JID) == want {
				found = j
			}
		}
		if found == nil {
			if _, err := strconv.Atoi(want); err == nil {
				warnx("jail %s not found", want)
			} else {
				warnx("jail \"%s\" not found", want)
			}
			return 1
		}
		jails = []*Jail{found}
	}
	sort.Slice(jails, func(i, k int) bool { return jails[i].JID < jails[k].JID })
	params := rest
	if len(params) == 0 && (nameval || header) {
		params = jlsAllParams
	}
	var sb strings.Builder
	if len(params) > 0 {
		if header {
			sb.WriteString(strings.Join(params, " ") + "\n")
		}
		for _, j := range jails {
			var fields []string
			for _, p := range params {
				v, isBool, err := jailParam(j, p)
				if err != nil {
					warnx("%v", err)
					return 1
				}
				switch {
				case nameval && isBool:
					base := p
					if v == "false" {
						parts := strings.Split(p, ".")
						parts[len(parts)-1] = "no" + parts[len(parts)-1]
						base = strings.Join(parts, ".")
					}
					fields = append(fields, base)
					continue
				case v == "" && quote:
					v = `""`
				case v == "" && !nameval:
					v = "-"
				case quote:
					// jls quotes values holding quotes, spaces or tabs (with the other quote for quotes)
					switch {
					case strings.Contains(v, "'"):
						v = `"` + v + `"`
					case strings.Contains(v, `"`):
						v = "'" + v + "'"
					case strings.ContainsAny(v, " \t"):
						v = `"` + v + `"`
					}
				}
				if nameval {
					v = p + "=" + v
				}
				fields = append(fields, v)
			}
			sb.WriteString(strings.Join(fields, " ") + "\n")
		}
		os.Stdout.WriteString(sb.String())
		return 0
	}
	if verbose {
		sb.WriteString("   JID  Hostname                      Path\n        Name                          State\n        CPUSetID\n        IP Address(es)\n")
		for _, j := range jails {
			state := "ACTIVE"
			if j.Dying {
				state = "DYING"
			}
			fmt.Fprintf(&sb, "%6d  %-29.29s %.74s\n        %-29.29s %s\n        %d\n", j.JID, j.Hostname, j.Path, j.Name, state, j.JID+1)
		}
		os.Stdout.WriteString(sb.String())
		return 0
	}
	if showName {
		sb.WriteString(" JID             IP Address      Hostname                      Path\n")
	} else {
		sb.WriteString("   JID  IP Address      Hostname                      Path\n")
	}
	for _, j := range jails {
		ip := ""
		if v := j.Params["ip4.addr"]; len(v) > 0 {
			ip = v[0]
		}
		if showName {
			fmt.Fprintf(&sb, " %-15s %-15.15s %-29.29s %.74s\n", j.Name, ip, j.Hostname, j.Path)
		} else {
			fmt.Fprintf(&sb, "%6d  %-15.15s %-29.29s %.74s\n", j.JID, ip, j.Hostname, j.Path)
		}
	}
	os.Stdout.WriteString(sb.String())
	return 0
}

// --- jexec ---------------------------------------------------------------

type jexecSpec struct {
	Name     string   `json:"name"`
	Root     string   `json:"root"` // real path of the jail root
	StateDir string   `json:"stateDir"`
	Exe      string   `json:"exe"`
	DevNodes []string `json:"devNodes"`
	Devfs    bool     `json:"devfs"`
	Login    bool     `json:"login"`
	User     string   `json:"user"`
	Argv     []string `json:"argv"`
}

func cmdJexec(args []string) int {
	opts, rest, err := getopt(args, "lu:U:")
	if err != nil || len(rest) == 0 {
		errf("usage: jexec [-l] [-u username | -U username] jail [command ...]")
		return 1
	}
	if currentJail() != "" {
		warnx("jail_attach(%s): Operation not permitted", rest[0])
		return 1
	}
	s := mustState()
	if s == nil {
		return 1
	}
	j := s.jailByName(rest[0])
	if j == nil {
		if _, err := strconv.Atoi(rest[0]); err == nil {
			warnx("jail %s not found", rest[0])
		} else {
			warnx("jail \"%s\" not found", rest[0])
		}
		return 1
	}
	if !isRoot() {
		warnx("jail_attach(%d): Operation not permitted", j.JID)
		return 1
	}
	spec := jexecSpec{Name: j.Name, Root: hostPath(j.Path), StateDir: stateDir(), Exe: selfExe(),
		DevNodes: j.DevNodes, Devfs: j.DevfsRuleset >= 0, Argv: rest[1:]}
	_, spec.Login = opts['l']
	if u := opts['U']; len(u) > 0 {
		spec.User = u[0]
	}
	if u := opts['u']; len(u) > 0 {
		spec.User = u[0]
	}
	b, _ := json.Marshal(spec)
	c := exec.Command(spec.Exe, "__jexec-child")
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.Env = append(os.Environ(), "FREEBSD_SIM_JEXEC="+string(b))
	c.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return ee.ExitCode()
		}
		warnx("jail_attach(%d): %v", j.JID, err)
		return 1
	}
	return 0
}

// userlandDirs are the Linux userland directories made visible in every jail (read-only), so that
// /bin/sh, ls and friends run there. The jail's own /etc, /sbin and /var stay its own.
var userlandDirs = []string{"usr/bin", "usr/lib", "usr/lib64", "usr/share/zoneinfo"}

// cmdJexecChild runs in a fresh mount namespace: it builds the jail's view and execs the command.
func cmdJexecChild(_ []string) int {
	progName = "jexec"
	var spec jexecSpec
	if err := json.Unmarshal([]byte(os.Getenv("FREEBSD_SIM_JEXEC")), &spec); err != nil {
		warnx("bad spec: %v", err)
		return 1
	}
	fail := func(what string, err error) int {
		warnx("jail_attach(%s): %s: %v", spec.Name, what, err)
		return 1
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fail("mount", err)
	}
	root := spec.Root
	bind := func(src, dst string, ro bool) error {
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return err
		}
		if ro {
			syscall.Mount("", dst, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_REC, "")
		}
		return nil
	}
	for _, d := range userlandDirs {
		src := "/" + d
		if fi, err := os.Stat(src); err != nil || !fi.IsDir() {
			continue
		}
		dst := filepath.Join(root, d)
		if fi, err := os.Lstat(dst); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			continue
		}
		os.MkdirAll(dst, 0o755)
		if err := bind(src, dst, true); err != nil {
			return fail(d, err)
		}
	}
	exeDst := filepath.Join(root, "usr/libexec/freebsd-sim")
	os.MkdirAll(filepath.Dir(exeDst), 0o755)
	if _, err := os.Stat(exeDst); err != nil {
		os.WriteFile(exeDst, nil, 0o755)
	}
	if err := bind(spec.Exe, exeDst, true); err != nil {
		return fail("freebsd-sim", err)
	}
	marker := filepath.Join(root, jailMarkerDir)
	os.MkdirAll(marker, 0o755)
	if err := syscall.Mount("tmpfs", marker, "tmpfs", 0, "mode=0755"); err != nil {
		return fail("marker", err)
	}
	os.WriteFile(filepath.Join(marker, "jail"), []byte(spec.Name+"\n"), 0o644)
	os.Mkdir(filepath.Join(marker, "state"), 0o755)
	if err := bind(spec.StateDir, filepath.Join(marker, "state"), false); err != nil {
		return fail("state", err)
	}
	if spec.Devfs {
		dev := filepath.Join(root, "dev")
		os.MkdirAll(dev, 0o755)
		if err := syscall.Mount("devfs", dev, "tmpfs", 0, "mode=0755"); err != nil {
			return fail("devfs", err)
		}
		for _, n := range spec.DevNodes {
			p := filepath.Join(dev, n)
			switch n {
			case "fd", "pts":
				os.Mkdir(p, 0o755)
			case "stdin", "stdout", "stderr":
				os.Symlink("fd/"+map[string]string{"stdin": "0", "stdout": "1", "stderr": "2"}[n], p)
			default:
				os.WriteFile(p, nil, 0o666)
				if fi, err := os.Stat("/dev/" + n); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
					bind("/dev/"+n, p, false)
				}
			}
		}
	}
	if err := syscall.Chroot(root); err != nil {
		return fail("chroot", err)
	}
	os.Chdir("/")
	env := []string{}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "FREEBSD_SIM_") {
			continue
		}
		env = append(env, e)
	}
	home := "/root"
	uid, gid := 0, 0
	if spec.User != "" && spec.User != "root" {
		u, ok := lookupPasswd("/etc/passwd", spec.User)
		if !ok {
			warnx("%s: no such user", spec.User)
			return 1
		}
		uid, gid, home = u.uid, u.gid, u.home
	}
	if spec.Login {
		env = []string{"HOME=" + home, "SHELL=/bin/sh", "PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin", "USER=" + orDefault(spec.User, "root"), "TERM=" + orDefault(os.Getenv("TERM"), "dumb")}
		os.Chdir(home)
	}
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-i"}
	}
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == "PATH" {
			os.Setenv("PATH", v)
		}
	}
	if os.Getenv("PATH") == "" {
		os.Setenv("PATH", "/sbin:/bin:/usr/sbin:/usr/bin")
	}
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		warnx("execvp: %s: No such file or directory", argv[0])
		return 1
	}
	if uid != 0 {
		syscall.Setgid(gid)
		syscall.Setuid(uid)
	}
	if err := syscall.Exec(bin, argv, env); err != nil {
		warnx("execvp: %s: %v", argv[0], err)
		return 1
	}
	return 0
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

type passwdEntry struct {
	uid, gid int
	home     string
}

func lookupPasswd(file, name string) (passwdEntry, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return passwdEntry{}, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 6 && f[0] == name {
			uid, _ := strconv.Atoi(f[2])
			gid, _ := strconv.Atoi(f[3])
			return passwdEntry{uid, gid, f[5]}, true
		}
	}
	return passwdEntry{}, false
}
