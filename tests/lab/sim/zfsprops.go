package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// propDef describes one native ZFS property, after zfsprops(7).
type propDef struct {
	name     string
	def      string // default value ("" for computed read-only props)
	inherit  bool
	readonly bool
	numeric  bool // printed with nicenum, exact with -p
	values   []string
	fsOnly   bool // "-" for snapshots
}

// propTable lists properties in the order `zfs get all` prints them.
var propTable = []propDef{
	{name: "type", readonly: true},
	{name: "creation", readonly: true},
	{name: "used", readonly: true, numeric: true},
	{name: "available", readonly: true, numeric: true},
	{name: "referenced", readonly: true, numeric: true},
	{name: "compressratio", readonly: true},
	{name: "mounted", readonly: true, fsOnly: true},
	{name: "origin", readonly: true},
	{name: "clones", readonly: true},
	{name: "quota", def: "none", numeric: true, fsOnly: true},
	{name: "reservation", def: "none", numeric: true, fsOnly: true},
	{name: "recordsize", def: "128K", inherit: true, numeric: true, fsOnly: true},
	{name: "mountpoint", inherit: true, fsOnly: true},
	{name: "sharenfs", def: "off", inherit: true, fsOnly: true},
	{name: "checksum", def: "on", inherit: true, fsOnly: true},
	{name: "compression", def: "off", inherit: true, fsOnly: true},
	{name: "atime", def: "on", inherit: true, fsOnly: true, values: []string{"on", "off"}},
	{name: "devices", def: "on", inherit: true, values: []string{"on", "off"}},
	{name: "exec", def: "on", inherit: true, values: []string{"on", "off"}},
	{name: "setuid", def: "on", inherit: true, values: []string{"on", "off"}},
	{name: "readonly", def: "off", inherit: true, fsOnly: true, values: []string{"on", "off"}},
	{name: "jailed", def: "off", inherit: true, fsOnly: true, values: []string{"on", "off"}},
	{name: "snapdir", def: "hidden", inherit: true, fsOnly: true, values: []string{"hidden", "visible", "disabled"}},
	{name: "canmount", def: "on", fsOnly: true, values: []string{"on", "off", "noauto"}},
	{name: "xattr", def: "on", inherit: true, values: []string{"on", "off", "sa", "dir"}},
	{name: "guid", readonly: true},
	{name: "refquota", def: "none", numeric: true, fsOnly: true},
	{name: "refreservation", def: "none", numeric: true, fsOnly: true},
	{name: "usedbysnapshots", readonly: true, numeric: true},
	{name: "usedbydataset", readonly: true, numeric: true},
	{name: "usedbychildren", readonly: true, numeric: true},
}

func lookupProp(name string) (propDef, bool) {
	for _, p := range propTable {
		if p.name == name {
			return p, true
		}
	}
	return propDef{}, false
}

func isUserProp(name string) bool { return strings.Contains(name, ":") }

// baseUsed is what an empty filesystem uses in the simulation.
const baseUsed = 96 * 1024

// propValue returns VALUE and SOURCE of a property for a dataset, as zfs get prints them.
func (s *State) propValue(d *Dataset, name string, exact bool) (string, string) {
	if isUserProp(name) {
		for cur := d; cur != nil; cur = s.parentOf(cur) {
			if v, ok := cur.Props[name]; ok {
				if cur == d {
					return v, "local"
				}
				return v, "inherited from " + cur.Name
			}
		}
		return "-", "-"
	}
	p, _ := lookupProp(name)
	if d.Type == "snapshot" && p.fsOnly {
		return "-", "-"
	}
	switch name {
	case "type":
		return d.Type, "-"
	case "creation":
		if exact {
			return strconv.FormatInt(d.Created, 10), "-"
		}
		return time.Unix(d.Created, 0).Format("Mon Jan _2 15:04 2006"), "-"
	case "used", "referenced", "usedbydataset":
		return s.fmtNum(s.used(d, name), exact), "-"
	case "usedbysnapshots":
		return s.fmtNum(0, exact), "-"
	case "usedbychildren":
		return s.fmtNum(s.used(d, "used")-baseUsed, exact), "-"
	case "available":
		if d.Type == "snapshot" {
			return "-", "-"
		}
		return s.fmtNum(s.available(), exact), "-"
	case "compressratio":
		if exact {
			return "1.00", "-"
		}
		return "1.00x", "-"
	case "mounted":
		if d.Mounted != "" && (currentJail() == "" || d.MountedBy == currentJail() || d.MountedBy == "") {
			return "yes", "-"
		}
		return "no", "-"
	case "origin":
		if d.Origin == "" {
			return "-", "-"
		}
		return d.Origin, "-"
	case "clones":
		// zfsprops(7): for snapshots, the comma-separated clones made from it; filesystems have no value.
		if d.Type != "snapshot" {
			return "-", "-"
		}
		var clones []string
		for _, c := range s.sortedDatasets() {
			if c.Origin == d.Name {
				clones = append(clones, c.Name)
			}
		}
		return strings.Join(clones, ","), "-"
	case "guid":
		return strconv.FormatUint(d.GUID, 10), "-"
	}
	// settable: local, inherited or default
	v, src := "", ""
	if lv, ok := d.Props[name]; ok {
		v, src = lv, "local"
	} else if p.inherit {
		for cur := s.parentOf(d); cur != nil; cur = s.parentOf(cur) {
			if iv, ok := cur.Props[name]; ok {
				v, src = iv, "inherited from "+cur.Name
				if name == "mountpoint" && strings.HasPrefix(iv, "/") {
					v = joinMount(iv, strings.TrimPrefix(d.Name, cur.Name))
				}
				break
			}
		}
	}
	if src == "" {
		src = "default"
		v = p.def
		if name == "mountpoint" {
			v = "/" + d.Name
		}
	}
	if p.numeric && exact {
		if v == "none" {
			return "0", src
		}
		if n, err := parseSize(v); err == nil {
			return strconv.FormatInt(n, 10), src
		}
	}
	if p.numeric && !exact && v != "none" {
		if n, err := parseSize(v); err == nil {
			v = nicenum(n)
		}
	}
	return v, src
}

func joinMount(base, suffix string) string {
	if suffix == "" {
		return base
	}
	if base == "/" {
		return suffix
	}
	return base + suffix
}

func (s *State) parentOf(d *Dataset) *Dataset {
	name := d.Name
	if i := strings.Index(name, "@"); i >= 0 {
		return s.Datasets[name[:i]]
	}
	i := strings.LastIndex(name, "/")
	if i < 0 {
		return nil
	}
	return s.Datasets[name[:i]]
}

func (s *State) used(d *Dataset, which string) int64 {
	if d.Type == "snapshot" {
		if which == "used" {
			return 0
		}
		return baseUsed
	}
	if which != "used" {
		return baseUsed
	}
	total := int64(baseUsed)
	for _, c := range s.Datasets {
		if c.Type == "filesystem" && strings.HasPrefix(c.Name, d.Name+"/") {
			total += baseUsed
		}
	}
	return total
}

func (s *State) available() int64 {
	var used int64
	for _, d := range s.Datasets {
		if d.Type == "filesystem" {
			used += baseUsed
		}
	}
	if faultsPoolFull() || used >= s.PoolSize {
		return 0
	}
	return s.PoolSize - used
}

func (s *State) fmtNum(n int64, exact bool) string {
	if exact {
		return strconv.FormatInt(n, 10)
	}
	return nicenum(n)
}

// nicenum prints a byte count the way zfs does: 0B, 512B, 96K, 1.50G.
func nicenum(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%dB", n)
	}
	units := "KMGTPE"
	v := float64(n)
	i := -1
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	u := units[i]
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d%c", int64(v), u)
	}
	for prec := 2; prec >= 0; prec-- {
		str := fmt.Sprintf("%.*f%c", prec, v, u)
		if len(str) <= 5 {
			return str
		}
	}
	return fmt.Sprintf("%.0f%c", v, u)
}

// parseSize reads 128K, 10G, 1.5M or plain bytes.
func parseSize(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, fmt.Errorf("empty")
	}
	mult := float64(1)
	last := strings.ToUpper(v[len(v)-1:])
	if i := strings.Index("BKMGTPE", last); i >= 0 {
		mult = math.Pow(1024, float64(i))
		v = v[:len(v)-1]
		if strings.HasSuffix(strings.ToUpper(v), "I") {
			v = v[:len(v)-1]
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size")
	}
	return int64(f * mult), nil
}

// validateSet checks name=value for zfs set/create, returning the libzfs-style reason on failure.
func validateSet(name, value string) string {
	if isUserProp(name) {
		return ""
	}
	p, ok := lookupProp(name)
	if !ok {
		return fmt.Sprintf("invalid property '%s'", name)
	}
	if p.readonly {
		return fmt.Sprintf("'%s' is readonly", name)
	}
	if len(p.values) > 0 {
		for _, ok := range p.values {
			if value == ok {
				return ""
			}
		}
		return fmt.Sprintf("'%s' must be one of '%s'", name, strings.Join(p.values, " | "))
	}
	if name == "mountpoint" && value != "none" && value != "legacy" && !strings.HasPrefix(value, "/") {
		return fmt.Sprintf("'%s' must be an absolute path, 'none', or 'legacy'", name)
	}
	if p.numeric && value != "none" {
		if _, err := parseSize(value); err != nil {
			return fmt.Sprintf("bad numeric value '%s'", value)
		}
	}
	return ""
}
