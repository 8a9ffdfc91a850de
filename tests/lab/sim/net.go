package main

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Networking is state only: interfaces, bridges, vnet membership, addresses. No packet moves.

func (s *State) visibleIface(name string) *Iface {
	ifc := s.Ifaces[name]
	if ifc == nil || ifc.Vnet != currentJail() {
		return nil
	}
	return ifc
}

func macFor(kind string, unit int, side string) string {
	b := 0x0a
	if side == "b" {
		b = 0x0b
	}
	if kind == "bridge" {
		return fmt.Sprintf("58:9c:fc:10:%02x:%02x", unit>>8&0xff, unit&0xff)
	}
	return fmt.Sprintf("02:%02x:%02x:00:00:%02x", unit>>8&0xff, unit&0xff, b)
}

var cloneRe = regexp.MustCompile(`^(epair|bridge)(\d*)$`)

// moveIface implements `ifconfig IF vnet JAIL` (in=true) and `-vnet` (in=false).
func (s *State) moveIface(name, jail string, in bool) error {
	ifc := s.Ifaces[name]
	if ifc == nil {
		return fmt.Errorf("interface %s does not exist", name)
	}
	j := s.jailByName(jail)
	if j == nil {
		return fmt.Errorf("jail \"%s\" not found", jail)
	}
	if in {
		if ifc.Vnet != "" {
			return fmt.Errorf("interface %s does not exist", name)
		}
		ifc.Vnet = j.Name
	} else {
		if ifc.Vnet != j.Name {
			return fmt.Errorf("interface %s does not exist", name)
		}
		ifc.Vnet = ""
		ifc.Inet = nil
	}
	return nil
}

func cmdIfconfig(args []string) int {
	s := mustState()
	if s == nil {
		return 1
	}
	jail := currentJail()
	if len(args) == 0 || args[0] == "-a" {
		var names []string
		for n, ifc := range s.Ifaces {
			if ifc.Vnet == jail {
				names = append(names, n)
			}
		}
		sort.Slice(names, func(i, k int) bool { return ifaceLess(s, names[i], names[k]) })
		var sb strings.Builder
		if jail != "" {
			sb.WriteString(loText())
		}
		for _, n := range names {
			sb.WriteString(ifaceText(s, s.Ifaces[n]))
		}
		os.Stdout.WriteString(sb.String())
		return 0
	}
	if args[0] == "-l" {
		var names []string
		if jail != "" {
			names = append(names, "lo0")
		}
		for n, ifc := range s.Ifaces {
			if ifc.Vnet == jail {
				names = append(names, n)
			}
		}
		sort.Slice(names, func(i, k int) bool { return ifaceLess(s, names[i], names[k]) })
		fmt.Println(strings.Join(names, " "))
		return 0
	}
	name, ops := args[0], args[1:]
	if len(ops) == 0 {
		if name == "lo0" && jail != "" {
			fmt.Print(loText())
			return 0
		}
		ifc := s.visibleIface(name)
		if ifc == nil {
			warnx("interface %s does not exist", name)
			return 1
		}
		fmt.Print(ifaceText(s, ifc))
		return 0
	}
	if !isRoot() {
		warnx("SIOCIFCREATE2 (%s): Operation not permitted", name)
		return 1
	}
	var output []string
	err := updateState(func(s *State) error {
		cur := name
		for i := 0; i < len(ops); i++ {
			op := ops[i]
			arg := func() (string, error) {
				if i+1 >= len(ops) {
					return "", fmt.Errorf("%s: missing argument", op)
				}
				i++
				return ops[i], nil
			}
			if op == "create" {
				m := cloneRe.FindStringSubmatch(cur)
				if m == nil {
					return fmt.Errorf("SIOCIFCREATE2 (%s): Invalid argument", cur)
				}
				unit := -1
				if m[2] != "" {
					unit, _ = strconv.Atoi(m[2])
				}
				created, err := s.cloneCreate(m[1], unit)
				if err != nil {
					return err
				}
				cur = created
				output = []string{created}
				continue
			}
			if op == "-vnet" && jail == "" {
				// the interface lives in the jail's vnet: ifconfig IF -vnet JAIL fetches it back
				jn, err := arg()
				if err != nil {
					return err
				}
				if err := s.moveIface(cur, jn, false); err != nil {
					return err
				}
				continue
			}
			ifc := s.visibleIface(cur)
			if ifc == nil {
				return fmt.Errorf("interface %s does not exist", cur)
			}
			switch op {
			case "destroy":
				delete(s.Ifaces, ifc.Name)
				if ifc.Peer != "" {
					delete(s.Ifaces, ifc.Peer)
				}
				for _, b := range s.Ifaces {
					b.Members = without(b.Members, ifc.Name, ifc.Peer)
				}
				s.reapDyingJails()
				output = nil
			case "name":
				nn, err := arg()
				if err != nil {
					return err
				}
				if s.Ifaces[nn] != nil {
					return fmt.Errorf("ioctl SIOCSIFNAME (set name): File exists")
				}
				delete(s.Ifaces, ifc.Name)
				old := ifc.Name
				ifc.Name = nn
				s.Ifaces[nn] = ifc
				for _, o := range s.Ifaces {
					if o.Peer == old {
						o.Peer = nn
					}
					for k, m := range o.Members {
						if m == old {
							o.Members[k] = nn
						}
					}
				}
				for _, j := range s.Jails {
					for k, h := range j.Held {
						if h == old {
							j.Held[k] = nn
						}
					}
				}
				cur = nn
				output = []string{nn}
			case "up":
				ifc.Up = true
			case "down":
				ifc.Up = false
			case "vnet", "-vnet":
				jn, err := arg()
				if err != nil {
					return err
				}
				if jail != "" {
					return fmt.Errorf("SIOCSIFVNET: Operation not permitted")
				}
				if err := s.moveIface(cur, jn, op == "vnet"); err != nil {
					return err
				}
			case "addm", "deletem":
				m, err := arg()
				if err != nil {
					return err
				}
				if ifc.Kind != "bridge" {
					return fmt.Errorf("BRDGADD %s: Operation not supported", m)
				}
				if s.visibleIface(m) == nil {
					return fmt.Errorf("BRDG%s %s: No such file or directory", map[string]string{"addm": "ADD", "deletem": "DEL"}[op], m)
				}
				if op == "addm" {
					for _, x := range ifc.Members {
						if x == m {
							return fmt.Errorf("BRDGADD %s: File exists", m)
						}
					}
					ifc.Members = append(ifc.Members, m)
				} else {
					ifc.Members = without(ifc.Members, m)
				}
			case "inet":
				a, err := arg()
				if err != nil {
					return err
				}
				if !strings.Contains(a, "/") {
					a += "/24"
					if i+2 < len(ops) && ops[i+1] == "netmask" {
						if ones := maskOnes(ops[i+2]); ones >= 0 {
							a = strings.Split(a, "/")[0] + "/" + strconv.Itoa(ones)
						}
						i += 2
					}
				}
				if _, _, err := net.ParseCIDR(a); err != nil {
					return fmt.Errorf("%s: bad value", a)
				}
				alias := i+1 < len(ops) && ops[i+1] == "alias"
				if alias {
					i++
					ifc.Inet = append(ifc.Inet, a)
				} else if len(ifc.Inet) > 0 {
					ifc.Inet[0] = a
				} else {
					ifc.Inet = []string{a}
				}
			case "-alias", "delete":
				ifc.Inet = nil
			case "mtu", "ether", "lladdr", "description", "descr", "group":
				if _, err := arg(); err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s: bad value", op)
			}
		}
		return nil
	})
	if err != nil {
		warnx("%v", err)
		return 1
	}
	for _, o := range output {
		fmt.Println(o)
	}
	return 0
}

func maskOnes(m string) int {
	if strings.HasPrefix(m, "0x") {
		v, err := strconv.ParseUint(m[2:], 16, 32)
		if err != nil {
			return -1
		}
		ones := 0
		for v&0x80000000 != 0 {
			ones++
			v <<= 1
			v &= 0xffffffff
		}
		return ones
	}
	ip := net.ParseIP(m).To4()
	if ip == nil {
		return -1
	}
	ones, _ := net.IPMask(ip).Size()
	return ones
}

func without(list []string, drop ...string) []string {
	var out []string
	for _, x := range list {
		keep := true
		for _, d := range drop {
			if x == d && d != "" {
				keep = false
			}
		}
		if keep {
			out = append(out, x)
		}
	}
	return out
}

func (s *State) cloneCreate(kind string, unit int) (string, error) {
	used := map[int]bool{}
	for _, ifc := range s.Ifaces {
		if ifc.Kind == kind {
			used[ifc.Unit] = true
		}
	}
	if unit < 0 {
		unit = 0
		for used[unit] {
			unit++
		}
	} else if used[unit] {
		return "", fmt.Errorf("SIOCIFCREATE2 (%s%d): File exists", kind, unit)
	}
	s.IfIndex++
	if kind == "bridge" {
		n := fmt.Sprintf("bridge%d", unit)
		s.Ifaces[n] = &Iface{Name: n, Kind: "bridge", Unit: unit, MAC: macFor(kind, unit, ""), Index: s.IfIndex}
		return n, nil
	}
	a, b := fmt.Sprintf("epair%da", unit), fmt.Sprintf("epair%db", unit)
	s.Ifaces[a] = &Iface{Name: a, Kind: "epair", Unit: unit, Peer: b, MAC: macFor(kind, unit, "a"), Index: s.IfIndex}
	s.IfIndex++
	s.Ifaces[b] = &Iface{Name: b, Kind: "epair", Unit: unit, Peer: a, MAC: macFor(kind, unit, "b"), Index: s.IfIndex}
	return a, nil
}

func ifaceLess(s *State, a, b string) bool {
	ia, ib := s.Ifaces[a], s.Ifaces[b]
	if ia == nil || ib == nil {
		return a < b
	}
	return ia.Index < ib.Index // interface index order, like the kernel's list
}

func loText() string {
	return "lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384\n\toptions=680003<RXCSUM,TXCSUM,LINKSTATE,RXCSUM_IPV6,TXCSUM_IPV6>\n\tinet 127.0.0.1 netmask 0xff000000\n\tgroups: lo\n\tnd6 options=21<PERFORMNUD,AUTO_LINKLOCAL>\n"
}

func ifaceText(s *State, ifc *Iface) string {
	var sb strings.Builder
	if ifc.Up {
		fmt.Fprintf(&sb, "%s: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500\n", ifc.Name)
	} else {
		fmt.Fprintf(&sb, "%s: flags=8802<BROADCAST,SIMPLEX,MULTICAST> metric 0 mtu 1500\n", ifc.Name)
	}
	if ifc.Kind == "epair" {
		sb.WriteString("\toptions=8<VLAN_MTU>\n")
	} else {
		sb.WriteString("\toptions=0\n")
	}
	fmt.Fprintf(&sb, "\tether %s\n", ifc.MAC)
	for _, a := range ifc.Inet {
		ip, n, err := net.ParseCIDR(a)
		if err != nil {
			continue
		}
		bc := make(net.IP, 4)
		for i := range 4 {
			bc[i] = n.IP.To4()[i] | ^n.Mask[i]
		}
		fmt.Fprintf(&sb, "\tinet %s netmask 0x%s broadcast %s\n", ip, n.Mask.String(), bc)
	}
	if ifc.Kind == "bridge" {
		sb.WriteString("\tid 00:00:00:00:00:00 priority 32768 hellotime 2 fwddelay 15\n\tmaxage 20 holdcnt 6 proto rstp maxaddr 2000 timeout 1200\n\troot id 00:00:00:00:00:00 priority 32768 ifcost 0 port 0\n")
		for _, m := range ifc.Members {
			fmt.Fprintf(&sb, "\tmember: %s flags=143<LEARNING,DISCOVER,AUTOEDGE,AUTOPTP>\n", m)
		}
		sb.WriteString("\tgroups: bridge\n\tnd6 options=9<PERFORMNUD,IFDISABLED>\n")
		return sb.String()
	}
	sb.WriteString("\tgroups: epair\n\tmedia: Ethernet 10Gbase-T (10Gbase-T <full-duplex>)\n")
	if s.Ifaces[ifc.Peer] != nil {
		sb.WriteString("\tstatus: active\n")
	} else {
		sb.WriteString("\tstatus: no carrier\n")
	}
	sb.WriteString("\tnd6 options=29<PERFORMNUD,IFDISABLED,AUTO_LINKLOCAL>\n")
	return sb.String()
}

// defaultRoute finds the default route of the current vnet: an address of ours on the subnet of a
// bridge that carries our epair's peer and has an upstream gateway.
func (s *State) defaultRoute(vnet string) (gw, ifname string, ok bool) {
	var names []string
	for n := range s.Ifaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ifc := s.Ifaces[n]
		if ifc.Vnet != vnet || ifc.Kind != "epair" || !ifc.Up && vnet == "" {
			continue
		}
		for _, a := range ifc.Inet {
			_, subnet, err := net.ParseCIDR(a)
			if err != nil {
				continue
			}
			for _, bn := range names {
				b := s.Ifaces[bn]
				if b.Kind != "bridge" || b.Gateway == "" || b.Vnet != "" {
					continue
				}
				member := false
				for _, m := range b.Members {
					member = member || m == ifc.Peer
				}
				if member && subnet.Contains(net.ParseIP(b.Gateway)) {
					return b.Gateway, ifc.Name, true
				}
			}
		}
	}
	return "", "", false
}

func cmdRoute(args []string) int {
	words := args
	for len(words) > 0 && strings.HasPrefix(words[0], "-") {
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "get" {
		if len(words) > 0 && (words[0] == "add" || words[0] == "delete" || words[0] == "flush") {
			if !isRoot() {
				warnx("must be root to alter routing table")
				return 1
			}
			fmt.Printf("%s net default: gateway %s\n", words[0], strings.Join(words[min(2, len(words)):], " "))
			return 0
		}
		errf("usage: route [-dnqtv] command [[modifiers] args]")
		return 1
	}
	dst := words[1]
	if dst != "0" && dst != "default" && dst != "0.0.0.0" {
		warnx("route has not been found")
		return 1
	}
	s := mustState()
	if s == nil {
		return 1
	}
	gw, ifname, ok := s.defaultRoute(currentJail())
	if !ok {
		warnx("route has not been found")
		return 1
	}
	fmt.Printf("   route to: default\ndestination: default\n       mask: default\n    gateway: %s\n        fib: 0\n  interface: %s\n      flags: <UP,GATEWAY,DONE,STATIC>\n recvpipe  sendpipe  ssthresh  rtt,msec    mtu        weight    expire\n       0         0         0         0      1500         1         0\n", gw, ifname)
	return 0
}
