package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func cmdService(args []string) int {
	opts, rest, err := getopt(args, "j:veE:lrR")
	if err != nil {
		warnx("%v", err)
		return 1
	}
	if j := opts['j']; len(j) > 0 {
		c := exec.Command(selfExe(), append([]string{"jexec", "-l", j[0], "/usr/sbin/service"}, rest...)...)
		c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := c.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			return 1
		}
		return 0
	}
	if len(rest) < 2 {
		errf("usage: service [-j <jail name or id>] [-v] <rc.d script> start|stop|etc.\n   or: service [-j <jail name or id>] -e\n   or: service [-j <jail name or id>] -R\n   or: service [-j <jail name or id>] -l|-r")
		return 1
	}
	script, verb, extra := rest[0], rest[1], rest[2:]
	if currentJail() == "" {
		switch script {
		case "jail":
			return serviceJail(verb, extra)
		case "devfs":
			return serviceDevfs(verb)
		}
	}
	for _, dir := range []string{"/etc/rc.d/", "/usr/local/etc/rc.d/"} {
		p := hostPath(dir + script)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			c := exec.Command("/bin/sh", append([]string{dir + script, verb}, extra...)...)
			if simRoot() != "/" {
				c = exec.Command("/bin/sh", append([]string{p, verb}, extra...)...)
			}
			c.Env = []string{"HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin"}
			for _, e := range os.Environ() {
				if strings.HasPrefix(e, "FREEBSD_SIM_ROOT=") {
					c.Env = append(c.Env, e)
				}
			}
			c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return ee.ExitCode()
				}
				return 1
			}
			return 0
		}
	}
	errf("%s does not exist in /etc/rc.d or the local startup\ndirectories (/usr/local/etc/rc.d), or is not executable", script)
	return 1
}

// jailConfFor mirrors rc.d/jail's lookup of the configuration file for one jail (freebsd.md §2.8).
func jailConfFor(name string) string {
	rcfiles := rcConfFiles(simRoot(), "jail")
	if v, ok := rcValue(rcfiles, "jail_"+name+"_conf"); ok && v != "" {
		if _, err := os.Stat(hostPath(v)); err == nil {
			return v
		}
	}
	if _, err := os.Stat(hostPath("/etc/jail." + name + ".conf")); err == nil {
		return "/etc/jail." + name + ".conf"
	}
	mainConf, _ := rcValue(rcfiles, "jail_conf")
	if mainConf == "" {
		mainConf = "/etc/jail.conf"
	}
	includesD := false
	if b, err := os.ReadFile(hostPath(mainConf)); err == nil && strings.Contains(string(b), `.include "/etc/jail.conf.d/`) {
		includesD = true
	}
	if !includesD {
		if _, err := os.Stat(hostPath("/etc/jail.conf.d/" + name + ".conf")); err == nil {
			return "/etc/jail.conf.d/" + name + ".conf"
		}
	}
	if _, err := os.Stat(hostPath(mainConf)); err == nil {
		return mainConf
	}
	return ""
}

func serviceJail(verb string, names []string) int {
	rcfiles := rcConfFiles(simRoot(), "jail")
	base := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(verb, "one"), "fast"), "force")
	forced := base != verb
	switch base {
	case "start", "stop", "restart", "status", "rcvar", "config", "console":
	default:
		errf("/etc/rc.d/jail: unknown directive '%s'.\nUsage: /etc/rc.d/jail [fast|force|one|quiet](start|stop|restart|rcvar|enabled|describe|config|console|status|poll)", verb)
		return 1
	}
	enabled, _ := rcValue(rcfiles, "jail_enable")
	if !checkYesNo(enabled) && !forced && base != "status" && base != "rcvar" {
		fmt.Printf("Cannot '%s' jail. Set jail_enable to YES in /etc/rc.conf or use 'one%s' instead of '%s'.\n", base, base, base)
		return 0
	}
	if len(names) == 0 {
		if l, _ := rcValue(rcfiles, "jail_list"); l != "" {
			names = strings.Fields(l)
		}
	}
	switch base {
	case "status":
		return cmdJls([]string{"-N"})
	case "rcvar":
		fmt.Printf("# jail\n#\njail_enable=\"%s\"\n#   (default: \"\")\n", enabled)
		return 0
	case "start":
		return jailsStart(names)
	case "stop":
		return jailsStop(names)
	case "restart":
		jailsStop(names)
		return jailsStart(names)
	}
	return 0
}

func runSelfCaptured(args ...string) (string, int) {
	var buf bytes.Buffer
	c := exec.Command(selfExe(), args...)
	c.Stdout, c.Stderr = &buf, &buf
	err := c.Run()
	code := 0
	if err != nil {
		code = 1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	return buf.String(), code
}

func jailsStart(names []string) int {
	var sb strings.Builder
	sb.WriteString("Starting jails:")
	if len(names) == 0 {
		// rc.d/jail's _ALL case: everything in $jail_conf, then the running jails are listed
		conf, _ := rcValue(rcConfFiles(simRoot(), "jail"), "jail_conf")
		out, code := runSelfCaptured("jail", "-f", orDefault(conf, "/etc/jail.conf"), "-c")
		if code != 0 {
			sb.WriteString(out)
		} else if s := mustState(); s != nil {
			for _, j := range s.Jails {
				if !j.Dying {
					sb.WriteString(" " + j.Name)
					os.WriteFile(hostPath("/var/run/jail_"+j.Name+".id"), []byte(fmt.Sprintf("%d\n", j.JID)), 0o644)
				}
			}
		}
		fmt.Println(sb.String() + ".")
		return 0
	}
	for _, name := range names {
		conf := jailConfFor(name)
		if conf == "" {
			errf("/etc/rc.d/jail: WARNING: Invalid configuration for %s (no jail.conf, no hostname, or no path).  Jail %s was ignored.", name, name)
			continue
		}
		out, code := runSelfCaptured("jail", "-i", "-f", conf, "-c", name)
		if code != 0 {
			// echo " cannot start jail " "\"NAME\": "; cat the captured output; the final "." follows it
			sb.WriteString(fmt.Sprintf(" cannot start jail  \"%s\": \n%s", name, out))
			continue
		}
		sb.WriteString(" " + name)
		if s := mustState(); s != nil {
			if j := s.jailByName(name); j != nil {
				os.MkdirAll(hostPath("/var/run"), 0o755)
				os.WriteFile(hostPath("/var/run/jail_"+name+".id"), []byte(fmt.Sprintf("%d\n", j.JID)), 0o644)
			}
		}
	}
	fmt.Println(sb.String() + ".")
	return 0
}

func jailsStop(names []string) int {
	var sb strings.Builder
	sb.WriteString("Stopping jails:")
	s := mustState()
	if s == nil {
		return 1
	}
	all := len(names) == 0
	if all {
		for _, j := range s.Jails {
			if !j.Dying {
				names = append(names, j.Name)
			}
		}
	}
	for _, name := range names {
		if s.jailByName(name) == nil {
			continue
		}
		args := []string{"jail", "-q", "-f", orDefault(jailConfFor(name), "/etc/jail.conf"), "-r", name}
		sb.WriteString(" " + name)
		out, _ := runSelfCaptured(args...)
		if now := mustState(); now != nil && now.jailByName(name) != nil {
			sb.WriteString(out)
			continue
		}
		os.Remove(hostPath("/var/run/jail_" + name + ".id"))
	}
	fmt.Println(sb.String() + ".")
	return 0
}
