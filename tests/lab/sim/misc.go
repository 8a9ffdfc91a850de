package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// lockf [-kns] [-t seconds] file command [arguments] (lockf(1)). Exit 75 (EX_TEMPFAIL) on timeout.
func cmdLockf(args []string) int {
	opts, rest, err := getopt(args, "knsTwt:")
	if err != nil || len(rest) < 2 {
		errf("usage: lockf [-knsw] [-t seconds] file command [arguments]")
		return 64
	}
	_, keep := opts['k']
	_, silent := opts['s']
	_, noCreate := opts['n']
	timeout := -1.0
	if t := opts['t']; len(t) > 0 {
		if timeout, err = strconv.ParseFloat(t[0], 64); err != nil {
			errf("lockf: invalid timeout \"%s\"", t[0])
			return 64
		}
	}
	file := rest[0]
	flags := os.O_RDWR | os.O_CREATE
	if noCreate {
		flags = os.O_RDWR
	}
	f, err := os.OpenFile(hostPath(file), flags, 0o600)
	if err != nil {
		errf("lockf: cannot open %s: %s", file, errnoText(err))
		return 66
	}
	defer f.Close()
	deadline := time.Now().Add(time.Duration(timeout * float64(time.Second)))
	for {
		how := syscall.LOCK_EX
		if timeout >= 0 {
			how |= syscall.LOCK_NB
		}
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			break
		}
		if timeout < 0 || time.Now().After(deadline) {
			if !silent {
				errf("lockf: %s: already locked", file)
			}
			return 75
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := exec.Command(rest[1], rest[2:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	err = c.Run()
	if !keep {
		os.Remove(hostPath(file))
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		errf("lockf: %s: %s", rest[1], errnoText(err))
		return 71
	}
	return 0
}

// rcHeader reads the rcorder(8) header block of a script: it starts at the first "# PROVIDE:"-style
// line and ends at the first line that is not one.
type rcHeader struct {
	file                               string
	provide, require, before, keywords []string
}

func readRcHeader(path string) rcHeader {
	h := rcHeader{file: path}
	b, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	started := false
	for _, line := range strings.Split(string(b), "\n") {
		matched := false
		for _, kw := range []string{"PROVIDE", "REQUIRE", "BEFORE", "KEYWORD"} {
			prefix := "# " + kw + ":"
			if strings.HasPrefix(line, prefix) {
				matched = true
				words := strings.Fields(strings.TrimPrefix(line, prefix))
				switch kw {
				case "PROVIDE":
					h.provide = append(h.provide, words...)
				case "REQUIRE":
					h.require = append(h.require, words...)
				case "BEFORE":
					h.before = append(h.before, words...)
				case "KEYWORD":
					h.keywords = append(h.keywords, words...)
				}
			}
		}
		if matched {
			started = true
			continue
		}
		if started {
			break
		}
	}
	return h
}

// cmdRcorder prints scripts in dependency order; -k keeps only scripts with a keyword, -s skips them.
func cmdRcorder(args []string) int {
	var keep, skip []string
	var files []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-k":
			if i+1 < len(args) {
				keep = append(keep, args[i+1])
				i++
			}
		case "-s":
			if i+1 < len(args) {
				skip = append(skip, args[i+1])
				i++
			}
		default:
			files = append(files, args[i])
		}
	}
	var hs []rcHeader
	for _, f := range files {
		h := readRcHeader(hostPath(f))
		h.file = f
		has := func(list []string) bool {
			for _, k := range h.keywords {
				if contains(list, k) {
					return true
				}
			}
			return false
		}
		if len(keep) > 0 && !has(keep) || has(skip) {
			continue
		}
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, k int) bool { return hs[i].file < hs[k].file })
	// topological order: a script runs after those providing what it REQUIREs, and before those it names in BEFORE
	providers := map[string][]int{}
	for i, h := range hs {
		for _, p := range h.provide {
			providers[p] = append(providers[p], i)
		}
	}
	after := make([][]int, len(hs))
	for i, h := range hs {
		for _, r := range h.require {
			after[i] = append(after[i], providers[r]...)
		}
		for _, b := range h.before {
			for _, k := range providers[b] {
				after[k] = append(after[k], i)
			}
		}
	}
	done := make([]int, len(hs))
	var out []string
	var visit func(i int)
	visit = func(i int) {
		if done[i] != 0 {
			return
		}
		done[i] = 1
		for _, d := range after[i] {
			visit(d)
		}
		done[i] = 2
		out = append(out, hs[i].file)
	}
	for i := range hs {
		visit(i)
	}
	for _, o := range out {
		fmt.Println(o)
	}
	return 0
}

// cmdSysctl answers the few read-only sysctls rc scripts ask about.
func cmdSysctl(args []string) int {
	valOnly := false
	var names []string
	for _, a := range args {
		if a == "-n" {
			valOnly = true
			continue
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		names = append(names, a)
	}
	jail := currentJail()
	var j *Jail
	if jail != "" {
		if s, err := readState(); err == nil {
			j = s.jailByName(jail)
		}
	}
	status := 0
	for _, n := range names {
		v := ""
		switch n {
		case "security.jail.jailed":
			v = map[bool]string{true: "1", false: "0"}[jail != ""]
		case "security.jail.mount_allowed":
			v = map[bool]string{true: "1", false: "0"}[j != nil && paramBool(j.Params, "allow.mount") && enforceStatfs(j.Params) < 2]
		case "security.jail.mount_zfs_allowed":
			v = map[bool]string{true: "1", false: "0"}[j != nil && jailMayMountZfs(j)]
		case "security.jail.enforce_statfs":
			v = "0"
			if j != nil {
				v = strconv.Itoa(enforceStatfs(j.Params))
			}
		case "security.jail.vnet":
			v = map[bool]string{true: "1", false: "0"}[j != nil && paramStr(j.Params, "vnet") == "new"]
		case "kern.osrelease":
			v = "15.0-RELEASE"
		case "kern.hostname":
			v = "lab"
			if j != nil {
				v = j.Hostname
			}
		default:
			warnx("unknown oid '%s'", n)
			status = 1
			continue
		}
		if valOnly {
			fmt.Println(v)
		} else {
			fmt.Printf("%s: %s\n", n, v)
		}
	}
	return status
}

// copyTree copies a directory tree (files, dirs, symlinks, modes). dst is created if missing.
func copyTree(src, dst string) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			return os.Symlink(link, target)
		case fi.IsDir():
			return os.MkdirAll(target, fi.Mode().Perm())
		case fi.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
		return nil
	})
}
