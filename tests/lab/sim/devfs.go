package main

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// allDevNodes are the device names the simulated kernel has in a fresh devfs mount.
func allDevNodes() []string {
	return []string{"console", "crypto", "fd", "fuse", "io", "kmem", "mem", "null", "pci", "pf", "ptmx", "pts",
		"random", "stderr", "stdin", "stdout", "urandom", "vmm", "vmm.io", "vmmctl", "zero", "zfs"}
}

// devfsVisible applies a ruleset to nodes. fresh: start from all visible (a new mount).
func devfsVisible(s *State, ruleset int, nodes []string, fresh bool) []string {
	vis := map[string]bool{}
	for _, n := range nodes {
		vis[n] = fresh
	}
	return applyRules(s, ruleset, vis)
}

func applyRules(s *State, ruleset int, vis map[string]bool) []string {
	var apply func(rs int, depth int)
	apply = func(rs int, depth int) {
		if depth > 16 {
			return
		}
		for _, r := range s.Rulesets[strconv.Itoa(rs)] {
			if r.Include != 0 {
				apply(r.Include, depth+1)
				continue
			}
			for n := range vis {
				ok := r.Path == ""
				if !ok {
					ok, _ = path.Match(r.Path, n)
				}
				if !ok {
					continue
				}
				switch r.Action {
				case "hide":
					vis[n] = false
				case "unhide":
					vis[n] = true
				}
			}
		}
	}
	apply(ruleset, 0)
	var out []string
	for n, v := range vis {
		if v {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// parseDevfsRule reads the words after "add" (or a full rule line) into a rule.
func parseDevfsRule(words []string) (DevfsRule, error) {
	var r DevfsRule
	for i := 0; i < len(words); i++ {
		switch words[i] {
		case "include":
			if i+1 >= len(words) {
				return r, fmt.Errorf("include: missing argument")
			}
			n, err := strconv.Atoi(strings.TrimPrefix(words[i+1], "$"))
			if err != nil {
				return r, fmt.Errorf("ruleset %s: invalid ruleset number", words[i+1])
			}
			r.Include = n
			i++
		case "path":
			if i+1 >= len(words) {
				return r, fmt.Errorf("path: missing argument")
			}
			r.Path = words[i+1]
			i++
		case "type":
			i++
		case "hide", "unhide":
			r.Action = words[i]
		case "group", "user", "mode":
			if i+1 < len(words) {
				r.Extra = strings.TrimSpace(r.Extra + " " + words[i] + " " + words[i+1])
				i++
			}
		default:
			return r, fmt.Errorf("unknown argument: %s", words[i])
		}
	}
	return r, nil
}

func (r DevfsRule) String() string {
	var parts []string
	parts = append(parts, strconv.Itoa(r.Num))
	if r.Include != 0 {
		return fmt.Sprintf("%d include %d", r.Num, r.Include)
	}
	if r.Path != "" {
		parts = append(parts, "path", r.Path)
	}
	if r.Action != "" {
		parts = append(parts, r.Action)
	}
	if r.Extra != "" {
		parts = append(parts, r.Extra)
	}
	return strings.Join(parts, " ")
}

func addRule(s *State, set int, r DevfsRule) {
	key := strconv.Itoa(set)
	rules := s.Rulesets[key]
	if r.Num == 0 {
		r.Num = 100
		if len(rules) > 0 {
			r.Num = rules[len(rules)-1].Num/100*100 + 100
		}
	}
	s.Rulesets[key] = append(rules, r)
	sort.Slice(s.Rulesets[key], func(i, k int) bool { return s.Rulesets[key][i].Num < s.Rulesets[key][k].Num })
}

func cmdDevfs(args []string) int {
	opts, rest, err := getopt(args, "m:")
	if err != nil || len(rest) == 0 {
		errf("usage: devfs rule|ruleset arguments")
		return 1
	}
	mount := "/dev"
	if m := opts['m']; len(m) > 0 {
		mount = m[0]
	}
	switch rest[0] {
	case "ruleset":
		if len(rest) != 2 {
			errf("usage: devfs ruleset number")
			return 1
		}
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			warnx("invalid ruleset number: %s", rest[1])
			return 1
		}
		return devfsApply(mount, n, true)
	case "rule":
		ropts, rrest, err := getopt(rest[1:], "s:")
		if err != nil || len(rrest) == 0 {
			errf("usage: devfs rule [-s ruleset] add|del|delset|show|showsets|applyset|apply ...")
			return 1
		}
		set := 0
		if v := ropts['s']; len(v) > 0 {
			if set, err = strconv.Atoi(v[0]); err != nil {
				warnx("invalid ruleset number: %s", v[0])
				return 1
			}
		}
		verb, words := rrest[0], rrest[1:]
		if verb != "show" && verb != "showsets" && (!isRoot() || currentJail() != "") {
			warnx("ioctl DEVFSIO_R%s: Operation not permitted", strings.ToUpper(verb))
			return 1
		}
		switch verb {
		case "add":
			r, err := parseDevfsRule(words)
			if err != nil {
				warnx("%v", err)
				return 1
			}
			if set == 0 {
				warnx("ruleset 0 is reserved")
				return 1
			}
			return finish(updateState(func(s *State) error { addRule(s, set, r); return nil }))
		case "del":
			if len(words) != 1 {
				errf("usage: devfs rule -s N del rulenum")
				return 1
			}
			num, _ := strconv.Atoi(words[0])
			return finish(updateState(func(s *State) error {
				key := strconv.Itoa(set)
				var keep []DevfsRule
				for _, r := range s.Rulesets[key] {
					if r.Num != num {
						keep = append(keep, r)
					}
				}
				s.Rulesets[key] = keep
				return nil
			}))
		case "delset":
			return finish(updateState(func(s *State) error { delete(s.Rulesets, strconv.Itoa(set)); return nil }))
		case "show":
			s := mustState()
			if s == nil {
				return 1
			}
			var sb strings.Builder
			for _, r := range s.Rulesets[strconv.Itoa(set)] {
				sb.WriteString(r.String() + "\n")
			}
			os.Stdout.WriteString(sb.String())
			return 0
		case "showsets":
			s := mustState()
			if s == nil {
				return 1
			}
			var nums []int
			for k := range s.Rulesets {
				n, _ := strconv.Atoi(k)
				nums = append(nums, n)
			}
			sort.Ints(nums)
			for _, n := range nums {
				fmt.Println(n)
			}
			return 0
		case "applyset":
			return devfsApply(mount, set, false)
		case "apply":
			return finish(updateState(func(s *State) error {
				r, err := parseDevfsRule(words)
				if err != nil {
					return err
				}
				tmp := "-1"
				s.Rulesets[tmp] = []DevfsRule{r}
				defer delete(s.Rulesets, tmp)
				for _, j := range s.Jails {
					if j.DevfsRuleset >= 0 && j.Path+"/dev" == mount {
						j.DevNodes = devfsVisibleFrom(s, -1, j.DevNodes)
					}
				}
				return nil
			}))
		}
		warnx("unknown command: %s", verb)
		return 1
	}
	warnx("unknown command: %s", rest[0])
	return 1
}

// devfsVisibleFrom applies a ruleset to an existing mount whose current view is cur: nodes the
// rules do not touch keep their state, hidden nodes can be unhidden.
func devfsVisibleFrom(s *State, set int, cur []string) []string {
	vis := map[string]bool{}
	for _, n := range allDevNodes() {
		vis[n] = false
	}
	for _, n := range cur {
		vis[n] = true
	}
	return applyRules(s, set, vis)
}

func devfsApply(mount string, set int, setCurrent bool) int {
	if !isRoot() {
		warnx("ioctl DEVFSIO_RAPPLYID: Operation not permitted")
		return 1
	}
	return finish(updateState(func(s *State) error {
		for _, j := range s.Jails {
			if j.DevfsRuleset >= 0 && strings.TrimSuffix(j.Path, "/")+"/dev" == mount {
				j.DevNodes = devfsVisibleFrom(s, set, j.DevNodes)
				if setCurrent {
					j.DevfsRuleset = set
				}
			}
		}
		return nil
	}))
}

// loadDevfsRules does what rc.subr's devfs_init_rulesets does with the rules files: each
// [name=N] header deletes ruleset N, every other line becomes `devfs rule -s N <line>`.
func loadDevfsRules(s *State, files []string) error {
	vars := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(hostPath(f))
		if err != nil {
			continue
		}
		set := -1
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, "#"); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
				name, num, ok := strings.Cut(line[1:len(line)-1], "=")
				n, err := strconv.Atoi(num)
				if !ok || err != nil || !isShName(name) {
					return fmt.Errorf("%s: bad ruleset header %s", f, line)
				}
				vars[name] = num
				set = n
				delete(s.Rulesets, num)
				continue
			}
			if set < 0 {
				continue
			}
			words := shWords(line)
			for i, w := range words {
				if strings.HasPrefix(w, "$") {
					words[i] = vars[strings.TrimPrefix(w, "$")]
				}
			}
			if len(words) > 0 && words[0] == "add" {
				words = words[1:]
			}
			r, err := parseDevfsRule(words)
			if err != nil {
				return fmt.Errorf("%s: %v", f, err)
			}
			addRule(s, set, r)
		}
	}
	return nil
}

// shWords splits a line into words honouring single and double quotes.
func shWords(line string) []string {
	var out []string
	var cur strings.Builder
	in := rune(0)
	has := false
	for _, r := range line {
		switch {
		case in != 0 && r == in:
			in = 0
		case in != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			in, has = r, true
		case r == ' ' || r == '\t':
			if cur.Len() > 0 || has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 || has {
		out = append(out, cur.String())
	}
	return out
}

func serviceDevfs(verb string) int {
	switch strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(verb, "one"), "fast"), "quiet") {
	case "start", "restart":
	case "stop", "status":
		return 0
	default:
		errf("/etc/rc.d/devfs: unknown directive '%s'.", verb)
		return 1
	}
	if !isRoot() {
		errf("devfs: ioctl DEVFSIO_SDELSET: Operation not permitted")
		return 1
	}
	files, _ := rcValue(rcConfFiles(simRoot(), "devfs"), "devfs_rulesets")
	if files == "" {
		files = "/etc/defaults/devfs.rules /etc/devfs.rules"
	}
	return finish(updateState(func(s *State) error { return loadDevfsRules(s, strings.Fields(files)) }))
}
