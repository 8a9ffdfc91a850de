package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// rcAssign is one `name=value` line of an rc.conf-style file.
type rcAssign struct {
	name, value string
	line        int
}

// parseRcFile reads simple sh assignments (name=value, name="value", name='value').
func parseRcFile(path string) ([]rcAssign, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(string(b), "\n")
	var out []rcAssign
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || !isShName(k) {
			continue
		}
		out = append(out, rcAssign{k, unquoteSh(v), i})
	}
	return out, lines, nil
}

func isShName(k string) bool {
	if k == "" {
		return false
	}
	for i, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func unquoteSh(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 && !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "'") {
		v = v[:i]
	}
	if len(v) >= 2 && (v[0] == '"' && strings.LastIndex(v, `"`) > 0) {
		return v[1:strings.LastIndex(v, `"`)]
	}
	if len(v) >= 2 && (v[0] == '\'' && strings.LastIndex(v, "'") > 0) {
		return v[1:strings.LastIndex(v, "'")]
	}
	return v
}

// rcValue looks a variable up like load_rc_config: defaults, then each file in order; last wins.
func rcValue(files []string, name string) (string, bool) {
	val, found := "", false
	for _, f := range files {
		as, _, err := parseRcFile(f)
		if err != nil {
			continue
		}
		for _, a := range as {
			if a.name == name {
				val, found = a.value, true
			}
		}
	}
	return val, found
}

// rcConfFiles is the host's (or root's) rc.conf chain for a service.
func rcConfFiles(root, service string) []string {
	j := func(p string) string { return filepath.Join(root, p) }
	files := []string{j("/etc/defaults/rc.conf"), j("/etc/rc.conf"), j("/etc/rc.conf.local")}
	if service != "" {
		files = append(files, j("/etc/rc.conf.d/"+service))
	}
	return files
}

func checkYesNo(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true
	}
	return false
}

func cmdSysrc(args []string) int {
	opts, rest, err := getopt(args, "cdDeFhinNqvxaAf:R:j:")
	if err != nil {
		warnx("%v", err)
		return 1
	}
	root := simRoot()
	if r := opts['R']; len(r) > 0 {
		root = hostPath(r[0])
	}
	defaults := filepath.Join(root, "/etc/defaults/rc.conf")
	files := []string{filepath.Join(root, "/etc/rc.conf"), filepath.Join(root, "/etc/rc.conf.local")}
	if f := opts['f']; len(f) > 0 {
		files = nil
		for _, x := range f {
			files = append(files, hostPath(x))
		}
	}
	_, check := opts['c']
	_, del := opts['x']
	_, valOnly := opts['n']
	_, shFmt := opts['e']
	_, ignore := opts['i']
	_, quiet := opts['q']
	_, nameOnly := opts['N']
	if len(rest) == 0 {
		errf("usage: sysrc [-cdDeFhinNqvx] [-f file] [-j jail | -R dir] name[[+|-]=value] ...")
		return 1
	}
	status := 0
	for _, arg := range rest {
		name, value, set := strings.Cut(arg, "=")
		op := "="
		if set && strings.HasSuffix(name, "+") {
			name, op = strings.TrimSuffix(name, "+"), "+="
		} else if set && strings.HasSuffix(name, "-") {
			name, op = strings.TrimSuffix(name, "-"), "-="
		}
		old, found := rcValue(append([]string{defaults}, files...), name)
		switch {
		case check:
			if !found || (set && old != value) {
				status = 1
			}
		case del:
			for _, f := range files {
				as, lines, err := parseRcFile(f)
				if err != nil {
					continue
				}
				var keep []string
				drop := map[int]bool{}
				for _, a := range as {
					if a.name == name {
						drop[a.line] = true
					}
				}
				for i, l := range lines {
					if !drop[i] {
						keep = append(keep, l)
					}
				}
				if len(drop) > 0 {
					if err := os.WriteFile(f, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
						warnx("%s: %s", strings.TrimPrefix(f, strings.TrimSuffix(simRoot(), "/")), errnoText(err))
						status = 1
					}
				}
			}
			if !found && !ignore {
				warnx("unknown variable '%s'", name)
				status = 1
			}
		case set:
			newv := value
			words := strings.Fields(old)
			if op == "+=" {
				present := false
				for _, w := range words {
					present = present || w == value
				}
				if !present {
					words = append(words, value)
				}
				newv = strings.Join(words, " ")
			} else if op == "-=" {
				var keep []string
				for _, w := range words {
					if w != value {
						keep = append(keep, w)
					}
				}
				newv = strings.Join(keep, " ")
			}
			if err := rcWrite(files[0], name, newv); err != nil {
				display := "/" + strings.TrimPrefix(strings.TrimPrefix(files[0], strings.TrimSuffix(simRoot(), "/")), "/")
				warnx("%s: %s", display, errnoText(err))
				status = 1
				continue
			}
			if !quiet {
				if valOnly {
					fmt.Println(newv)
				} else {
					fmt.Printf("%s: %s -> %s\n", name, old, newv)
				}
			}
		default:
			if !found {
				if !ignore {
					warnx("unknown variable '%s'", name)
				}
				status = 1
				continue
			}
			switch {
			case nameOnly:
				fmt.Println(name)
			case valOnly:
				fmt.Println(old)
			case shFmt:
				fmt.Printf("%s=\"%s\"\n", name, old)
			default:
				fmt.Printf("%s: %s\n", name, old)
			}
		}
	}
	return status
}

// rcWrite sets name="value" in file: the last assignment is edited in place, else one is appended.
func rcWrite(file, name, value string) error {
	line := fmt.Sprintf("%s=\"%s\"", name, value)
	as, lines, err := parseRcFile(file)
	if err != nil {
		if !os.IsNotExist(err) {
			return err
		}
		return os.WriteFile(file, []byte(line+"\n"), 0o644)
	}
	idx := -1
	for _, a := range as {
		if a.name == name {
			idx = a.line
		}
	}
	if idx >= 0 {
		lines[idx] = line
	} else {
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		lines = append(lines, line, "")
	}
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o644)
}
