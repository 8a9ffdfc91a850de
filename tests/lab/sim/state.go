package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Where things live. Every path the simulator touches is resolved under simRoot().
const (
	stateDirInRoot = "/var/db/freebsd-sim"
	jailMarkerDir  = "/.freebsd-sim" // inside a jail: "jail" (the jail's name) and "state" (the host's state dir)
)

// simRoot is "/" normally, or $FREEBSD_SIM_ROOT when set (tests without chroot).
func simRoot() string {
	if r := os.Getenv("FREEBSD_SIM_ROOT"); r != "" {
		return r
	}
	return "/"
}

// hostPath maps an absolute path of the simulated machine to a real path.
func hostPath(p string) string {
	return filepath.Join(simRoot(), filepath.Clean("/"+p))
}

// currentJail returns the name of the jail we run in, or "" on the host. jexec tells us
// through a marker file that only exists inside the jail's mount namespace.
func currentJail() string {
	b, err := os.ReadFile(hostPath(jailMarkerDir + "/jail"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// stateDir is the directory that holds state.json, faults.json and the command log.
func stateDir() string {
	if currentJail() != "" {
		return hostPath(jailMarkerDir + "/state")
	}
	return hostPath(stateDirInRoot)
}

// Dataset is one ZFS dataset or snapshot.
type Dataset struct {
	Name    string            `json:"name"`
	Type    string            `json:"type"` // filesystem | snapshot
	Props   map[string]string `json:"props"`
	Created int64             `json:"created"`
	GUID    uint64            `json:"guid"`
	Origin  string            `json:"origin,omitempty"`
	// Mounted is where the dataset is mounted, as a path of the simulated host ("" = not mounted).
	Mounted string `json:"mounted,omitempty"`
	// MountedBy is the jail that mounted it ("" = the host).
	MountedBy string `json:"mountedBy,omitempty"`
	MountSeq  int    `json:"mountSeq,omitempty"`
	// Jail is the name of the jail the dataset is attached to with zfs jail ("" = none).
	Jail string `json:"jail,omitempty"`
	// Storage is where a snapshot keeps its copy of the data (real path relative to the state dir).
	Storage string `json:"storage,omitempty"`
}

// Jail is a running (or dying) jail.
type Jail struct {
	JID      int                 `json:"jid"`
	Name     string              `json:"name"`
	Path     string              `json:"path"`
	Hostname string              `json:"hostname"`
	Params   map[string][]string `json:"params"`
	Dying    bool                `json:"dying,omitempty"`
	// DevfsRuleset is the ruleset of the jail's devfs mount; -1 when devfs is not mounted.
	DevfsRuleset int    `json:"devfsRuleset"`
	ConfFile     string `json:"confFile,omitempty"`
	// DevNodes are the names visible in the jail's devfs mount.
	DevNodes []string `json:"devNodes,omitempty"`
	// Held are interfaces that were in the jail's vnet when it was removed; it stays dying while they exist.
	Held []string `json:"held,omitempty"`
}

// Iface is a network interface (state only; nothing real is created).
type Iface struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // bridge | epair | lo
	Unit    int      `json:"unit"`
	Peer    string   `json:"peer,omitempty"`
	Members []string `json:"members,omitempty"`
	Inet    []string `json:"inet,omitempty"` // CIDR, e.g. 10.0.0.6/24
	Up      bool     `json:"up"`
	Vnet    string   `json:"vnet,omitempty"` // jail name whose vnet holds it ("" = host)
	// Gateway is the upstream router reachable on this bridge's subnet (lab fact).
	Gateway string `json:"gateway,omitempty"`
	MAC     string `json:"mac"`
	Index   int    `json:"index"`
}

// DevfsRule is one rule of a loaded devfs ruleset.
type DevfsRule struct {
	Num     int    `json:"num"`
	Include int    `json:"include,omitempty"`
	Path    string `json:"path,omitempty"`
	Action  string `json:"action,omitempty"` // hide | unhide | "" for include
	Extra   string `json:"extra,omitempty"`  // mode/user/group words kept verbatim
}

// Package is one entry of the simulated repository catalogue.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Repo    string `json:"repo"`
	Comment string `json:"comment"`
}

// State is everything the simulated kernel and pool remember between commands.
type State struct {
	OSRelease      string                 `json:"osrelease"`
	Pool           string                 `json:"pool"`
	PoolSize       int64                  `json:"poolSize"`
	Datasets       map[string]*Dataset    `json:"datasets"`
	Jails          []*Jail                `json:"jails"`
	NextJID        int                    `json:"nextJid"`
	MountSeq       int                    `json:"mountSeq"`
	Ifaces         map[string]*Iface      `json:"ifaces"`
	Rulesets       map[string][]DevfsRule `json:"rulesets"`
	Catalog        []Package              `json:"catalog"`
	PkgbaseEnabled bool                   `json:"pkgbaseEnabled"`
	Seq            int64                  `json:"seq"`
	IfIndex        int                    `json:"ifIndex"`
}

func newState() *State {
	return &State{
		OSRelease: "15.0-RELEASE", Pool: "zroot", PoolSize: 100 << 30,
		Datasets: map[string]*Dataset{}, NextJID: 1, Ifaces: map[string]*Iface{},
		Rulesets: map[string][]DevfsRule{},
	}
}

// lockState takes the state lock (exclusive or shared) and returns the unlock function.
func lockState(exclusive bool) (func(), error) {
	dir := stateDir()
	flag, how := os.O_RDONLY, syscall.LOCK_SH
	if exclusive {
		flag, how = os.O_RDWR|os.O_CREATE, syscall.LOCK_EX
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), flag, 0o666)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

func loadStateFile() (*State, error) {
	b, err := os.ReadFile(filepath.Join(stateDir(), "state.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("simulator state not initialised (run freebsd-sim lab-init)")
		}
		return nil, err
	}
	s := newState()
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	return s, nil
}

func saveStateFile(s *State) error {
	s.Seq++
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(stateDir(), fmt.Sprintf("state.json.%d", os.Getpid()))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(stateDir(), "state.json"))
}

// readState returns a snapshot of the state under a shared lock.
func readState() (*State, error) {
	unlock, err := lockState(false)
	if err != nil {
		return nil, fmt.Errorf("simulator state not initialised (run freebsd-sim lab-init): %v", err)
	}
	defer unlock()
	return loadStateFile()
}

// updateState runs fn on the state under the exclusive lock and saves it when fn returns nil
// or a value of type keepChanges.
func updateState(fn func(s *State) error) error {
	unlock, err := lockState(true)
	if err != nil {
		return fmt.Errorf("simulator state: %v", err)
	}
	defer unlock()
	s, err := loadStateFile()
	if err != nil {
		return err
	}
	ferr := fn(s)
	var keep keepChanges
	if ferr == nil || errors.As(ferr, &keep) {
		if err := saveStateFile(s); err != nil {
			return err
		}
	}
	return ferr
}

// keepChanges wraps an error whose partial state changes must still be saved.
type keepChanges struct{ err error }

func (k keepChanges) Error() string { return k.err.Error() }
func (k keepChanges) Unwrap() error { return k.err }

// mustState loads the state or prints why not and returns nil.
func mustState() *State {
	s, err := readState()
	if err != nil {
		warnx("%v", err)
		return nil
	}
	return s
}

func (s *State) jailByName(nameOrJID string) *Jail {
	for _, j := range s.Jails {
		if j.Dying {
			continue
		}
		if j.Name == nameOrJID || fmt.Sprint(j.JID) == nameOrJID {
			return j
		}
	}
	return nil
}

func (s *State) sortedDatasets() []*Dataset {
	out := make([]*Dataset, 0, len(s.Datasets))
	for _, d := range s.Datasets {
		out = append(out, d)
	}
	sort.Slice(out, func(i, k int) bool { return datasetLess(out[i].Name, out[k].Name) })
	return out
}

// datasetLess orders like zfs list: depth-first by path components, a dataset's snapshots right after it.
func datasetLess(a, b string) bool {
	ab, as, _ := strings.Cut(a, "@")
	bb, bs, _ := strings.Cut(b, "@")
	if ab == bb {
		return as < bs
	}
	ap, bp := strings.Split(ab, "/"), strings.Split(bb, "/")
	for i := 0; i < len(ap) && i < len(bp); i++ {
		if ap[i] != bp[i] {
			return ap[i] < bp[i]
		}
	}
	if len(ap) != len(bp) {
		// a parent comes before its children, but its snapshots come first
		if len(ap) < len(bp) {
			return true
		}
		return false
	}
	return false
}

// nowUnix is the current time in seconds (a variable so tests could pin it).
var nowUnix = func() int64 { return time.Now().Unix() }

// logCommand appends one JSON line per simulated command to the state dir's commands.log.
func logCommand(name string, args []string) {
	f, err := os.OpenFile(filepath.Join(stateDir(), "commands.log"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	line, _ := json.Marshal(map[string]any{
		"time": time.Now().UTC().Format(time.RFC3339Nano), "uid": os.Geteuid(), "jail": currentJail(),
		"argv": append([]string{name}, args...),
	})
	f.Write(append(line, '\n'))
}
