package main

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// zfsErr is a libzfs-style failure: the message goes to stderr, the code is the exit status.
type zfsErr struct {
	msg  string
	code int
}

func (e zfsErr) Error() string { return e.msg }

func zerr(format string, a ...any) error { return zfsErr{fmt.Sprintf(format, a...), 1} }

// finish prints an error (if any) the zfs way and returns the exit status.
func finish(err error) int {
	if err == nil {
		return 0
	}
	var ze zfsErr
	if errors.As(err, &ze) {
		if ze.msg != "" {
			fmt.Fprintln(os.Stderr, ze.msg)
		}
		return ze.code
	}
	fmt.Fprintln(os.Stderr, err.Error())
	return 1
}

func zfsUsage() int {
	fmt.Fprintln(os.Stderr, "usage: zfs command args ...\nwhere 'command' is one of the following:\n\n\tcreate [-Pnpuv] [-o property=value] ... <filesystem>\n\tdestroy [-fnpRrv] <filesystem|volume>\n\tsnapshot [-r] [-o property=value] ... <filesystem|volume>@<snap> ...\n\tclone [-p] [-o property=value] ... <snapshot> <filesystem|volume>\n\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]... [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n\tset <property=value> ... <filesystem|volume|snapshot> ...\n\tget [-rHp] [-d max] [-o \"all\" | field[,...]] [-t type[,...]] [-s source[,...]] <\"all\" | property[,...]> [filesystem|volume|snapshot|bookmark] ...\n\tinherit [-rS] <property> <filesystem|volume|snapshot> ...\n\tmount [-flvO] [-o opts] <-a | filesystem>\n\tunmount [-fu] <-a | filesystem|mountpoint>\n\tjail <jailid|jailname> <filesystem>\n\tunjail <jailid|jailname> <filesystem>")
	return 2
}

func cmdZfs(args []string) int {
	if len(args) == 0 {
		return zfsUsage()
	}
	if currentJail() != "" {
		if _, err := os.Stat(hostPath("/dev/zfs")); err != nil {
			// libzfs_init cannot open /dev/zfs: FreeBSD prints strerror(errno)
			fmt.Fprintln(os.Stderr, "No such file or directory")
			return 1
		}
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "create":
		return finish(zfsCreate(rest))
	case "clone":
		return finish(zfsClone(rest))
	case "snapshot", "snap":
		return finish(zfsSnapshot(rest))
	case "destroy":
		return finish(zfsDestroy(rest))
	case "get":
		return finish(zfsGet(rest))
	case "set":
		return finish(zfsSet(rest))
	case "inherit":
		return finish(zfsInherit(rest))
	case "list":
		return finish(zfsList(rest))
	case "mount":
		return finish(zfsMount(rest))
	case "unmount", "umount":
		return finish(zfsUnmount(rest))
	case "jail", "unjail":
		return finish(zfsJail(sub, rest))
	}
	fmt.Fprintf(os.Stderr, "unrecognized command '%s'\n", sub)
	return zfsUsage()
}

// getoptPermute is getopt that also accepts options after operands, as zfs(8) does
// (the seed runs `zfs get PROPS -r DATASET`).
func getoptPermute(args []string, spec string) (map[byte][]string, []string, error) {
	opts := map[byte][]string{}
	var operands []string
	for i := 0; i < len(args); i++ {
		if args[i] == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(args[i]) < 2 || args[i][0] != '-' {
			operands = append(operands, args[i])
			continue
		}
		o, rest, err := getopt(args[i:], spec)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range o {
			opts[k] = append(opts[k], v...)
		}
		i = len(args) - len(rest) - 1
	}
	return opts, operands, nil
}

// getopt is a small POSIX getopt: spec lists flag letters, a trailing ':' marks an argument.
func getopt(args []string, spec string) (map[byte][]string, []string, error) {
	opts := map[byte][]string{}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for k := 1; k < len(a); k++ {
			c := a[k]
			idx := strings.IndexByte(spec, c)
			if idx < 0 {
				return nil, nil, fmt.Errorf("invalid option '%c'", c)
			}
			if idx+1 < len(spec) && spec[idx+1] == ':' {
				var v string
				if k+1 < len(a) {
					v = a[k+1:]
				} else if i+1 < len(args) {
					i++
					v = args[i]
				} else {
					return nil, nil, fmt.Errorf("missing argument for '%c' option", c)
				}
				opts[c] = append(opts[c], v)
				break
			}
			opts[c] = append(opts[c], "")
		}
	}
	return opts, args[i:], nil
}

func usageErr(err error) error {
	return zfsErr{err.Error() + "\n" + "usage: see zfs(8)", 2}
}

func needRoot(action, name string) error {
	if !isRoot() {
		return zerr("cannot %s '%s': permission denied", action, name)
	}
	return nil
}

func newGUID() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// parseProps reads -o name=value options.
func parseProps(action, name string, list []string) (map[string]string, error) {
	props := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, zfsErr{fmt.Sprintf("missing '=' for property=value argument"), 2}
		}
		if reason := validateSet(k, v); reason != "" {
			return nil, zerr("cannot %s '%s': %s", action, name, reason)
		}
		props[k] = v
	}
	return props, nil
}

// inJailView: datasets a jailed zfs may see, and whether it may change them.
func (s *State) jailCanSee(jail string, d *Dataset) bool {
	if jail == "" {
		return true
	}
	base, _, _ := strings.Cut(d.Name, "@")
	for _, a := range s.Datasets {
		if a.Jail != jail {
			continue
		}
		if base == a.Name || strings.HasPrefix(base, a.Name+"/") || strings.HasPrefix(a.Name, base+"/") {
			return true
		}
	}
	return false
}

func (s *State) jailCanModify(jail string, d *Dataset) bool {
	if jail == "" {
		return true
	}
	base, _, _ := strings.Cut(d.Name, "@")
	for _, a := range s.Datasets {
		if a.Jail == jail && (base == a.Name || strings.HasPrefix(base, a.Name+"/")) {
			v, _ := s.propValue(s.Datasets[base], "jailed", false)
			return v == "on"
		}
	}
	return false
}

func (s *State) lookup(name string) (*Dataset, error) {
	d := s.Datasets[name]
	if d == nil || !s.jailCanSee(currentJail(), d) {
		return nil, zerr("cannot open '%s': dataset does not exist", name)
	}
	return d, nil
}

// shouldHostMount: would the host mount this filesystem automatically?
func (s *State) shouldHostMount(d *Dataset) bool {
	if d.Type != "filesystem" {
		return false
	}
	cm, _ := s.propValue(d, "canmount", false)
	mp, _ := s.propValue(d, "mountpoint", false)
	jl, _ := s.propValue(d, "jailed", false)
	return cm == "on" && strings.HasPrefix(mp, "/") && jl == "off"
}

func (s *State) mountAt(d *Dataset, path, by string) error {
	if err := os.MkdirAll(hostPath(path), 0o755); err != nil {
		return zerr("cannot mount '%s': %v", d.Name, err)
	}
	s.MountSeq++
	d.Mounted, d.MountedBy, d.MountSeq = path, by, s.MountSeq
	return nil
}

func zfsCreate(args []string) error {
	opts, rest, err := getoptPermute(args, "o:pPnuvsV:b:")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) != 1 {
		return usageErr(fmt.Errorf("missing filesystem argument"))
	}
	name := rest[0]
	return updateState(func(s *State) error {
		if err := needRoot("create", name); err != nil && currentJail() == "" {
			return err
		}
		return s.create(name, opts, "create")
	})
}

func (s *State) create(name string, opts map[byte][]string, action string) error {
	if strings.Contains(name, "@") || !validName(name) {
		return zerr("cannot %s '%s': invalid character in name", action, name)
	}
	props, err := parseProps(action, name, opts['o'])
	if err != nil {
		return err
	}
	if _, exists := s.Datasets[name]; exists {
		if _, p := opts['p']; p {
			return nil
		}
		return zerr("cannot %s '%s': dataset already exists", action, name)
	}
	parent := name[:max(strings.LastIndex(name, "/"), 0)]
	if parent == "" {
		return zerr("cannot %s '%s': missing dataset name", action, name)
	}
	if pd := s.Datasets[parent]; pd == nil {
		if _, p := opts['p']; !p {
			return zerr("cannot %s '%s': parent does not exist", action, name)
		}
		if err := s.create(parent, map[byte][]string{'p': {""}}, action); err != nil {
			return err
		}
	}
	jail := currentJail()
	if jail != "" && !s.jailCanModify(jail, s.Datasets[parent]) {
		return zerr("cannot %s '%s': permission denied", action, name)
	}
	if s.available() < baseUsed {
		return zerr("cannot %s '%s': out of space", action, name)
	}
	d := &Dataset{Name: name, Type: "filesystem", Props: props, Created: nowUnix(), GUID: newGUID()}
	s.Datasets[name] = d
	if _, u := opts['u']; !u && jail == "" && s.shouldHostMount(d) {
		mp, _ := s.propValue(d, "mountpoint", false)
		return s.mountAt(d, mp, "")
	}
	return nil
}

func validName(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:/@%", r)) {
			return false
		}
	}
	return true
}

func zfsClone(args []string) error {
	opts, rest, err := getoptPermute(args, "o:pu")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) != 2 {
		return usageErr(fmt.Errorf("missing source or target dataset"))
	}
	snap, name := rest[0], rest[1]
	return updateState(func(s *State) error {
		if currentJail() == "" {
			if err := needRoot("create", name); err != nil {
				return err
			}
		}
		sd := s.Datasets[snap]
		if sd == nil || sd.Type != "snapshot" {
			return zerr("cannot open '%s': dataset does not exist", snap)
		}
		o := map[byte][]string{'o': opts['o']}
		if _, u := opts['u']; u {
			o['u'] = []string{""}
		}
		if _, p := opts['p']; p {
			parent := name[:max(strings.LastIndex(name, "/"), 0)]
			if s.Datasets[parent] == nil && parent != "" {
				if err := s.create(parent, map[byte][]string{'p': {""}}, "create"); err != nil {
					return err
				}
			}
		}
		if _, exists := s.Datasets[name]; exists {
			return zerr("cannot create '%s': dataset already exists", name)
		}
		if err := s.create(name, o, "create"); err != nil {
			return err
		}
		d := s.Datasets[name]
		d.Origin = snap
		if d.Mounted != "" {
			if err := copyTree(filepath.Join(stateDir(), sd.Storage), hostPath(d.Mounted)); err != nil {
				return zerr("cannot create '%s': %v", name, err)
			}
		}
		return nil
	})
}

func zfsSnapshot(args []string) error {
	opts, rest, err := getoptPermute(args, "ro:")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) == 0 {
		return usageErr(fmt.Errorf("missing snapshot argument"))
	}
	return updateState(func(s *State) error {
		for _, full := range rest {
			base, snap, ok := strings.Cut(full, "@")
			if !ok || snap == "" {
				return zerr("cannot create snapshot '%s': invalid character in name", full)
			}
			if currentJail() == "" {
				if err := needRoot("create snapshot", full); err != nil {
					return err
				}
			}
			d, err := s.lookup(base)
			if err != nil {
				return err
			}
			targets := []*Dataset{d}
			if _, r := opts['r']; r {
				for _, c := range s.sortedDatasets() {
					if c.Type == "filesystem" && strings.HasPrefix(c.Name, base+"/") {
						targets = append(targets, c)
					}
				}
			}
			for _, t := range targets {
				sn := t.Name + "@" + snap
				if s.Datasets[sn] != nil {
					return zerr("cannot create snapshot '%s': dataset already exists", sn)
				}
				if s.available() < baseUsed {
					return zerr("cannot create snapshot '%s': out of space", sn)
				}
				nd := &Dataset{Name: sn, Type: "snapshot", Props: map[string]string{}, Created: nowUnix(), GUID: newGUID()}
				nd.Storage = filepath.Join("snapshots", strconv.FormatUint(nd.GUID, 16))
				if t.Mounted != "" {
					if err := copyTree(hostPath(t.Mounted), filepath.Join(stateDir(), nd.Storage)); err != nil {
						return zerr("cannot create snapshot '%s': %v", sn, err)
					}
				} else {
					os.MkdirAll(filepath.Join(stateDir(), nd.Storage), 0o755)
				}
				s.Datasets[sn] = nd
			}
		}
		return nil
	})
}

func zfsDestroy(args []string) error {
	opts, rest, err := getoptPermute(args, "fnpRrvd")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) != 1 {
		return usageErr(fmt.Errorf("missing dataset argument"))
	}
	name := rest[0]
	_, recursive := opts['r']
	_, recurseClones := opts['R']
	return updateState(func(s *State) error {
		d := s.Datasets[name]
		if d == nil || !s.jailCanSee(currentJail(), d) {
			if strings.Contains(name, "@") {
				return zerr("could not find any snapshots to destroy; check snapshot names.")
			}
			return zerr("cannot open '%s': dataset does not exist", name)
		}
		if currentJail() == "" {
			if err := needRoot("destroy", name); err != nil {
				return err
			}
		} else if !s.jailCanModify(currentJail(), d) || d.Jail != "" {
			return zerr("cannot destroy '%s': permission denied", name)
		}
		if !strings.Contains(name, "/") && !strings.Contains(name, "@") {
			return zerr("cannot destroy '%s': operation does not apply to pools\nuse 'zfs destroy -r %s' to destroy all datasets in the pool\nuse 'zpool destroy %s' to destroy the pool itself", name, name, name)
		}
		// the datasets that go with it
		var tree []*Dataset
		for _, c := range s.sortedDatasets() {
			if c.Name == name || strings.HasPrefix(c.Name, name+"/") || strings.HasPrefix(c.Name, name+"@") {
				tree = append(tree, c)
			}
		}
		inTree := map[string]bool{}
		for _, c := range tree {
			inTree[c.Name] = true
		}
		var clones []string
		for _, c := range s.sortedDatasets() {
			if c.Origin != "" && inTree[c.Origin] && !inTree[c.Name] {
				clones = append(clones, c.Name)
			}
		}
		if d.Type == "snapshot" && len(clones) > 0 && !recurseClones {
			return zerr("cannot destroy '%s': snapshot has dependent clones\nuse '-R' to destroy the following datasets:\n%s", name, strings.Join(clones, "\n"))
		}
		if len(tree) > 1 && !recursive && !recurseClones {
			var names []string
			for _, c := range tree[1:] {
				names = append(names, c.Name)
			}
			return zerr("cannot destroy '%s': filesystem has children\nuse '-r' to destroy the following datasets:\n%s", name, strings.Join(names, "\n"))
		}
		if len(clones) > 0 && !recurseClones {
			return zerr("cannot destroy '%s': filesystem has dependent clones\nuse '-R' to destroy the following datasets:\n%s", name, strings.Join(clones, "\n"))
		}
		for _, c := range clones {
			for _, cd := range s.sortedDatasets() {
				if cd.Name == c || strings.HasPrefix(cd.Name, c+"/") || strings.HasPrefix(cd.Name, c+"@") {
					tree = append(tree, cd)
				}
			}
		}
		for i := len(tree) - 1; i >= 0; i-- {
			c := tree[i]
			if c.Mounted != "" && c.MountedBy != "" && c.MountedBy != currentJail() {
				return zerr("cannot destroy '%s': dataset is busy", c.Name)
			}
		}
		for i := len(tree) - 1; i >= 0; i-- {
			c := tree[i]
			if c.Mounted != "" {
				emptyDir(hostPath(c.Mounted))
			}
			if c.Storage != "" {
				os.RemoveAll(filepath.Join(stateDir(), c.Storage))
			}
			delete(s.Datasets, c.Name)
		}
		return nil
	})
}

func emptyDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// selectDatasets resolves dataset arguments with -r/-d and -t for get and list.
func (s *State) selectDatasets(names []string, recursive bool, depth int, types map[string]bool, implicitAll bool) ([]*Dataset, error) {
	jail := currentJail()
	var out []*Dataset
	seen := map[string]bool{}
	add := func(d *Dataset) {
		if !seen[d.Name] && types[d.Type] && s.jailCanSee(jail, d) {
			seen[d.Name] = true
			out = append(out, d)
		}
	}
	if len(names) == 0 {
		if !implicitAll {
			return nil, nil
		}
		for _, d := range s.sortedDatasets() {
			add(d)
		}
		return out, nil
	}
	var firstErr error
	for _, n := range names {
		d, err := s.lookup(n)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if !recursive && depth < 0 {
			if types[d.Type] || len(names) > 0 {
				if !seen[d.Name] && s.jailCanSee(jail, d) {
					seen[d.Name] = true
					out = append(out, d)
				}
			}
			continue
		}
		baseDepth := strings.Count(n, "/")
		for _, c := range s.sortedDatasets() {
			if c.Name == n || strings.HasPrefix(c.Name, n+"/") || strings.HasPrefix(c.Name, n+"@") {
				cb, _, _ := strings.Cut(c.Name, "@")
				dd := strings.Count(cb, "/") - baseDepth
				if strings.Contains(c.Name, "@") {
					dd++
				}
				if depth >= 0 && dd > depth {
					continue
				}
				add(c)
			}
		}
	}
	return out, firstErr
}

func parseTypes(list []string, def string) (map[string]bool, error) {
	t := map[string]bool{}
	if len(list) == 0 {
		list = []string{def}
	}
	for _, l := range list {
		for _, x := range strings.Split(l, ",") {
			switch x {
			case "all":
				t["filesystem"], t["snapshot"], t["volume"] = true, true, true
			case "filesystem", "snapshot", "volume", "bookmark":
				t[x] = true
			case "snap":
				t["snapshot"] = true
			case "fs":
				t["filesystem"] = true
			default:
				return nil, fmt.Errorf("invalid type '%s'", x)
			}
		}
	}
	return t, nil
}

// printTable prints rows: TAB-separated with -H, else aligned with two spaces and a header.
func printTable(header []string, rows [][]string, scripted bool, rightAlign map[int]bool) {
	var sb strings.Builder
	if scripted {
		for _, r := range rows {
			sb.WriteString(strings.Join(r, "\t") + "\n")
		}
		os.Stdout.WriteString(sb.String())
		return
	}
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(r []string) {
		for i, c := range r {
			last := i == len(r)-1
			switch {
			case rightAlign[i]:
				sb.WriteString(fmt.Sprintf("%*s", widths[i], c))
			case last:
				sb.WriteString(c)
			default:
				sb.WriteString(fmt.Sprintf("%-*s", widths[i], c))
			}
			if !last {
				sb.WriteString("  ")
			}
		}
		sb.WriteString("\n")
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	os.Stdout.WriteString(sb.String())
}

func zfsGet(args []string) error {
	opts, rest, err := getoptPermute(args, "rHpd:o:s:t:")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) == 0 {
		return usageErr(fmt.Errorf("missing property argument"))
	}
	_, scripted := opts['H']
	_, exact := opts['p']
	_, recursive := opts['r']
	depth := -1
	if v := opts['d']; len(v) > 0 {
		depth, err = strconv.Atoi(v[len(v)-1])
		if err != nil {
			return usageErr(fmt.Errorf("invalid depth '%s'", v[0]))
		}
	}
	fields := []string{"name", "property", "value", "source"}
	if v := opts['o']; len(v) > 0 {
		fields = nil
		for _, f := range strings.Split(strings.Join(v, ","), ",") {
			switch f {
			case "name", "property", "value", "source", "received":
				fields = append(fields, f)
			case "all":
				fields = append(fields, "name", "property", "value", "received", "source")
			default:
				return usageErr(fmt.Errorf("invalid field '%s'", f))
			}
		}
	}
	var sources map[string]bool
	if v := opts['s']; len(v) > 0 {
		sources = map[string]bool{}
		for _, x := range strings.Split(strings.Join(v, ","), ",") {
			sources[x] = true
		}
	}
	types, err := parseTypes(opts['t'], "all")
	if err != nil {
		return usageErr(err)
	}
	var props []string
	all := false
	for _, p := range strings.Split(rest[0], ",") {
		if p == "all" {
			all = true
			continue
		}
		if _, ok := lookupProp(p); !ok && !isUserProp(p) {
			return usageErr(fmt.Errorf("bad property list: invalid property '%s'", p))
		}
		props = append(props, p)
	}
	s := mustState()
	if s == nil {
		return zfsErr{"", 1}
	}
	ds, selErr := s.selectDatasets(rest[1:], recursive, depth, types, true)
	var rows [][]string
	for _, d := range ds {
		plist := props
		if all {
			plist = nil
			for _, p := range propTable {
				if d.Type == "snapshot" && p.fsOnly {
					continue
				}
				plist = append(plist, p.name)
			}
			var user []string
			for k := range d.Props {
				if isUserProp(k) {
					user = append(user, k)
				}
			}
			sort.Strings(user)
			plist = append(plist, user...)
			plist = append(plist, props...)
		}
		for _, p := range plist {
			v, src := s.propValue(d, p, exact)
			if sources != nil {
				key := src
				if strings.HasPrefix(src, "inherited") {
					key = "inherited"
				} else if src == "-" {
					key = "none"
				}
				if !sources[key] {
					continue
				}
			}
			var row []string
			for _, f := range fields {
				switch f {
				case "name":
					row = append(row, d.Name)
				case "property":
					row = append(row, p)
				case "value":
					row = append(row, v)
				case "source":
					row = append(row, src)
				case "received":
					row = append(row, "-")
				}
			}
			rows = append(rows, row)
		}
	}
	header := make([]string, len(fields))
	for i, f := range fields {
		header[i] = strings.ToUpper(f)
	}
	if len(rows) > 0 {
		printTable(header, rows, scripted, nil)
	}
	return selErr
}

var listHeaders = map[string]string{"available": "AVAIL", "referenced": "REFER", "compressratio": "RATIO", "recordsize": "RECSIZE", "reservation": "RESERV", "refreservation": "REFRESERV"}

func zfsList(args []string) error {
	opts, rest, err := getoptPermute(args, "rHpd:o:s:S:t:")
	if err != nil {
		return usageErr(err)
	}
	_, scripted := opts['H']
	_, exact := opts['p']
	_, recursive := opts['r']
	depth := -1
	if v := opts['d']; len(v) > 0 {
		if depth, err = strconv.Atoi(v[len(v)-1]); err != nil {
			return usageErr(fmt.Errorf("invalid depth '%s'", v[0]))
		}
	}
	cols := []string{"name", "used", "available", "referenced", "mountpoint"}
	if v := opts['o']; len(v) > 0 {
		cols = nil
		for _, c := range strings.Split(strings.Join(v, ","), ",") {
			switch c {
			case "avail":
				c = "available"
			case "refer":
				c = "referenced"
			}
			if _, ok := lookupProp(c); !ok && c != "name" && !isUserProp(c) {
				return usageErr(fmt.Errorf("invalid property '%s'", c))
			}
			cols = append(cols, c)
		}
	}
	def := "filesystem,volume"
	if len(rest) > 0 && strings.Contains(rest[0], "@") {
		def = "snapshot"
	}
	types, err := parseTypes(opts['t'], def)
	if err != nil {
		return usageErr(err)
	}
	s := mustState()
	if s == nil {
		return zfsErr{"", 1}
	}
	ds, selErr := s.selectDatasets(rest, recursive, depth, types, true)
	var rows [][]string
	for _, d := range ds {
		var row []string
		for _, c := range cols {
			if c == "name" {
				row = append(row, d.Name)
				continue
			}
			v, _ := s.propValue(d, c, exact)
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	header := make([]string, len(cols))
	right := map[int]bool{}
	for i, c := range cols {
		header[i] = strings.ToUpper(c)
		if h, ok := listHeaders[c]; ok {
			header[i] = h
		}
		if p, ok := lookupProp(c); ok && p.numeric {
			right[i] = true
		}
	}
	if selErr != nil && len(rows) == 0 {
		return selErr
	}
	if len(rows) == 0 && len(rest) == 0 {
		fmt.Fprintln(os.Stderr, "no datasets available")
		return nil
	}
	printTable(header, rows, scripted, right)
	return selErr
}

func zfsSet(args []string) error {
	if len(args) < 2 {
		return usageErr(fmt.Errorf("missing arguments"))
	}
	var pairs [][2]string
	i := 0
	for ; i < len(args) && strings.Contains(args[i], "="); i++ {
		k, v, _ := strings.Cut(args[i], "=")
		pairs = append(pairs, [2]string{k, v})
	}
	targets := args[i:]
	if len(pairs) == 0 || len(targets) == 0 {
		return usageErr(fmt.Errorf("missing property=value or dataset argument"))
	}
	return updateState(func(s *State) error {
		for _, name := range targets {
			d, err := s.lookup(name)
			if err != nil {
				return err
			}
			jail := currentJail()
			if jail == "" {
				if err := needRoot("set property for", name); err != nil {
					return err
				}
			} else if !s.jailCanModify(jail, d) {
				return zerr("cannot set property for '%s': permission denied", name)
			}
			for _, kv := range pairs {
				k, v := kv[0], kv[1]
				if reason := validateSet(k, v); reason != "" {
					return zerr("cannot set property for '%s': %s", name, reason)
				}
				jailed, _ := s.propValue(d, "jailed", false)
				if jail == "" && k == "mountpoint" && jailed == "on" {
					return zerr("cannot set property for '%s': 'mountpoint' cannot be set on dataset in a non-global zone", name)
				}
				if jail != "" && k == "quota" && d.Jail != "" {
					return zerr("cannot set property for '%s': permission denied", name)
				}
				if d.Type == "snapshot" && !isUserProp(k) {
					return zerr("cannot set property for '%s': this property can not be modified for snapshots", name)
				}
				d.Props[k] = v
			}
			if err := s.remountTree(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// remountTree brings host mounts of d and its children in line with their properties.
func (s *State) remountTree(top *Dataset) error {
	if currentJail() != "" {
		return nil
	}
	for _, d := range s.sortedDatasets() {
		if d.Type != "filesystem" || !(d.Name == top.Name || strings.HasPrefix(d.Name, top.Name+"/")) {
			continue
		}
		if d.MountedBy != "" {
			continue
		}
		want := s.shouldHostMount(d)
		mp, _ := s.propValue(d, "mountpoint", false)
		switch {
		case d.Mounted != "" && !want:
			jl, _ := s.propValue(d, "jailed", false)
			cm, _ := s.propValue(d, "canmount", false)
			if jl == "on" || cm != "on" || !strings.HasPrefix(mp, "/") {
				d.Mounted, d.MountSeq = "", 0
			}
		case d.Mounted != "" && want && d.Mounted != mp:
			if err := os.MkdirAll(filepath.Dir(hostPath(mp)), 0o755); err != nil {
				return zerr("cannot mount '%s': %v", d.Name, err)
			}
			os.Remove(hostPath(mp))
			if err := os.Rename(hostPath(d.Mounted), hostPath(mp)); err != nil {
				if err := s.mountAt(d, mp, ""); err != nil {
					return err
				}
			}
			d.Mounted = mp
		}
	}
	return nil
}

func zfsInherit(args []string) error {
	opts, rest, err := getoptPermute(args, "rS")
	if err != nil {
		return usageErr(err)
	}
	if len(rest) < 2 {
		return usageErr(fmt.Errorf("missing arguments"))
	}
	prop := rest[0]
	return updateState(func(s *State) error {
		for _, name := range rest[1:] {
			d, err := s.lookup(name)
			if err != nil {
				return err
			}
			if currentJail() == "" {
				if err := needRoot("inherit "+prop+" for", name); err != nil {
					return err
				}
			} else if !s.jailCanModify(currentJail(), d) {
				return zerr("cannot inherit %s for '%s': permission denied", prop, name)
			}
			if !isUserProp(prop) {
				p, ok := lookupProp(prop)
				if !ok {
					return usageErr(fmt.Errorf("invalid property '%s'", prop))
				}
				if p.readonly {
					return zerr("'%s' property is read-only", prop)
				}
				if !p.inherit && prop != "mountpoint" {
					return zerr("'%s' property cannot be inherited", prop)
				}
			}
			jailed, _ := s.propValue(d, "jailed", false)
			if currentJail() == "" && prop == "mountpoint" && jailed == "on" {
				return zerr("cannot inherit mountpoint for '%s': dataset is used in a non-global zone", name)
			}
			targets := []*Dataset{d}
			if _, r := opts['r']; r {
				for _, c := range s.sortedDatasets() {
					if strings.HasPrefix(c.Name, name+"/") {
						targets = append(targets, c)
					}
				}
			}
			for _, t := range targets {
				delete(t.Props, prop)
			}
			if err := s.remountTree(d); err != nil {
				return err
			}
		}
		return nil
	})
}

// jailOf returns the running jail we are in, or nil on the host.
func (s *State) jailOf(name string) *Jail {
	if name == "" {
		return nil
	}
	return s.jailByName(name)
}

// jailMayMountZfs: the jail has allow.mount, allow.mount.zfs and enforce_statfs < 2.
func jailMayMountZfs(j *Jail) bool {
	return paramBool(j.Params, "allow.mount") && paramBool(j.Params, "allow.mount.zfs") && enforceStatfs(j.Params) < 2
}

func enforceStatfs(p map[string][]string) int {
	if v, ok := p["enforce_statfs"]; ok && len(v) > 0 {
		if n, err := strconv.Atoi(v[0]); err == nil {
			return n
		}
	}
	return 2
}

func zfsMount(args []string) error {
	opts, rest, err := getoptPermute(args, "aflvOo:")
	if err != nil {
		return usageErr(err)
	}
	_, all := opts['a']
	jail := currentJail()
	if !all && len(rest) == 0 {
		s := mustState()
		if s == nil {
			return zfsErr{"", 1}
		}
		var ms []*Dataset
		for _, d := range s.Datasets {
			if d.Mounted != "" {
				ms = append(ms, d)
			}
		}
		sort.Slice(ms, func(i, k int) bool { return ms[i].MountSeq < ms[k].MountSeq })
		var sb strings.Builder
		var j *Jail
		if jail != "" {
			j = s.jailByName(jail)
		}
		for _, d := range ms {
			path := d.Mounted
			if j != nil {
				// the jail's statfs view: only mounts below its root, shown relative to it (enforce_statfs 1 and 2)
				if enforceStatfs(j.Params) > 0 {
					if path != j.Path && !strings.HasPrefix(path, strings.TrimSuffix(j.Path, "/")+"/") {
						continue
					}
					path = "/" + strings.TrimPrefix(strings.TrimPrefix(path, j.Path), "/")
				}
			}
			fmt.Fprintf(&sb, "%-30s  %s\n", d.Name, path)
		}
		os.Stdout.WriteString(sb.String())
		return nil
	}
	return updateState(func(s *State) error {
		if jail == "" && !isRoot() {
			name := "-a"
			if len(rest) > 0 {
				name = rest[0]
			}
			return zerr("cannot mount '%s': permission denied", name)
		}
		var j *Jail
		if jail != "" {
			if j = s.jailByName(jail); j == nil {
				return zerr("cannot mount: jail is gone")
			}
		}
		var targets []*Dataset
		if all {
			for _, d := range s.sortedDatasets() {
				if d.Type != "filesystem" || d.Mounted != "" {
					continue
				}
				cm, _ := s.propValue(d, "canmount", false)
				mp, _ := s.propValue(d, "mountpoint", false)
				jl, _ := s.propValue(d, "jailed", false)
				if cm != "on" || !strings.HasPrefix(mp, "/") {
					continue
				}
				if j == nil && jl == "off" {
					targets = append(targets, d)
				}
				if j != nil && jl == "on" && s.jailCanModify(jail, d) {
					targets = append(targets, d)
				}
			}
		} else {
			d, err := s.lookup(rest[0])
			if err != nil {
				return err
			}
			if d.Mounted != "" {
				return zerr("cannot mount '%s': filesystem already mounted", d.Name)
			}
			cm, _ := s.propValue(d, "canmount", false)
			mp, _ := s.propValue(d, "mountpoint", false)
			jl, _ := s.propValue(d, "jailed", false)
			switch {
			case j == nil && jl == "on":
				return zerr("cannot mount '%s': dataset is exported to a local zone", d.Name)
			case j != nil && !s.jailCanModify(jail, d):
				return zerr("cannot mount '%s': permission denied", d.Name)
			case cm == "off":
				return zerr("cannot mount '%s': 'canmount' property is set to 'off'", d.Name)
			case mp == "legacy":
				return zerr("cannot mount '%s': legacy mountpoint\nuse mount(8) to mount this filesystem", d.Name)
			case mp == "none":
				return zerr("cannot mount '%s': no mountpoint set", d.Name)
			}
			targets = append(targets, d)
		}
		for _, d := range targets {
			mp, _ := s.propValue(d, "mountpoint", false)
			if j != nil {
				if !jailMayMountZfs(j) {
					return keepChanges{zerr("cannot mount '%s': Operation not permitted", mp)}
				}
				if err := s.mountAt(d, joinMount(j.Path, mp), jail); err != nil {
					return keepChanges{err}
				}
				continue
			}
			if err := s.mountAt(d, mp, ""); err != nil {
				return keepChanges{err}
			}
		}
		return nil
	})
}

func zfsUnmount(args []string) error {
	opts, rest, err := getoptPermute(args, "afu")
	if err != nil {
		return usageErr(err)
	}
	_, all := opts['a']
	if !all && len(rest) != 1 {
		return usageErr(fmt.Errorf("missing filesystem argument"))
	}
	jail := currentJail()
	return updateState(func(s *State) error {
		var j *Jail
		if jail != "" {
			j = s.jailByName(jail)
		}
		if jail == "" && !isRoot() {
			return zerr("cannot unmount '%s': permission denied", strings.Join(rest, " "))
		}
		var targets []*Dataset
		if all {
			for _, d := range s.Datasets {
				if d.Mounted == "" {
					continue
				}
				if (j == nil && d.MountedBy == "" && d.Name != s.Pool) || (j != nil && d.MountedBy == jail) {
					targets = append(targets, d)
				}
			}
		} else {
			arg := rest[0]
			var d *Dataset
			for _, c := range s.Datasets {
				if c.Name == arg || (strings.HasPrefix(arg, "/") && c.Mounted != "" && (c.Mounted == arg || (j != nil && joinMount(j.Path, arg) == c.Mounted))) {
					d = c
				}
			}
			if d == nil || !s.jailCanSee(jail, d) {
				if strings.HasPrefix(arg, "/") {
					return zerr("cannot unmount '%s': not a ZFS filesystem", arg)
				}
				return zerr("cannot open '%s': dataset does not exist", arg)
			}
			if d.Mounted == "" {
				return zerr("cannot unmount '%s': not currently mounted", arg)
			}
			if j != nil && d.MountedBy != jail {
				return zerr("cannot unmount '%s': permission denied", arg)
			}
			targets = append(targets, d)
		}
		sort.Slice(targets, func(i, k int) bool { return targets[i].MountSeq > targets[k].MountSeq })
		for _, d := range targets {
			d.Mounted, d.MountedBy, d.MountSeq = "", "", 0
		}
		if j == nil {
			s.reapDyingJails()
		}
		return nil
	})
}

func zfsJail(sub string, args []string) error {
	if len(args) != 2 {
		return usageErr(fmt.Errorf("missing arguments"))
	}
	return updateState(func(s *State) error {
		if currentJail() != "" || !isRoot() {
			return zerr("cannot %s '%s': permission denied", sub, args[1])
		}
		j := s.jailByName(args[0])
		if j == nil {
			return zfsErr{"invalid jail id or name\nusage:\n\t" + sub + " <jailid|jailname> <filesystem>", 2}
		}
		d := s.Datasets[args[1]]
		if d == nil {
			return zerr("cannot open '%s': dataset does not exist", args[1])
		}
		if d.Type == "snapshot" {
			return zerr("cannot %s '%s': snapshots can not be jailed", sub, d.Name)
		}
		if sub == "jail" {
			if d.Jail != "" {
				return zerr("cannot jail '%s': dataset already exists", d.Name)
			}
			d.Jail = j.Name
			return nil
		}
		if d.Jail != j.Name {
			return zerr("cannot unjail '%s': dataset does not exist", d.Name)
		}
		d.Jail = ""
		return nil
	})
}

func cmdZpool(args []string) int {
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(os.Stderr, "usage: zpool list [-Hp] [pool]   (only 'list' is simulated)")
		return 2
	}
	opts, _, err := getopt(args[1:], "Hpo:")
	if err != nil {
		return finish(usageErr(err))
	}
	s := mustState()
	if s == nil {
		return 1
	}
	_, scripted := opts['H']
	_, exact := opts['p']
	free := s.available()
	alloc := s.PoolSize - free
	cap := alloc * 100 / max(s.PoolSize, 1)
	row := []string{s.Pool, s.fmtNum(s.PoolSize, exact), s.fmtNum(alloc, exact), s.fmtNum(free, exact), "-", "-", "0%", fmt.Sprintf("%d%%", cap), "1.00x", "ONLINE", "-"}
	printTable([]string{"NAME", "SIZE", "ALLOC", "FREE", "CKPOINT", "EXPANDSZ", "FRAG", "CAP", "DEDUP", "HEALTH", "ALTROOT"}, [][]string{row}, scripted, nil)
	return 0
}
