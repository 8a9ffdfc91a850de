package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pkgFile is one file a simulated package installs.
type pkgFile struct {
	Path    string
	Link    string // symlink target, when set
	Content string
	Mode    os.FileMode
}

// packageFiles lists what the simulated base packages put into a root.
func packageFiles(name string) []pkgFile {
	switch name {
	case "FreeBSD-zfs":
		return []pkgFile{
			{Path: "/sbin/zfs", Link: "/usr/libexec/freebsd-sim"},
			{Path: "/sbin/zpool", Link: "/usr/libexec/freebsd-sim"},
			{Path: "/etc/rc.d/zfs", Content: skelFile("etc/rc.d/zfs"), Mode: 0o555},
			{Path: "/etc/rc.d/zfsbe", Content: skelFile("etc/rc.d/zfsbe"), Mode: 0o555},
		}
	}
	return nil
}

// pkgDB is the simulated local package database of a root (<root>/var/db/pkg/local.json).
type pkgDB struct {
	Installed map[string]pkgEntry `json:"installed"`
}

type pkgEntry struct {
	Version string   `json:"version"`
	Repo    string   `json:"repo"`
	Files   []string `json:"files"`
}

func loadPkgDB(root string) (*pkgDB, error) {
	db := &pkgDB{Installed: map[string]pkgEntry{}}
	b, err := os.ReadFile(filepath.Join(root, "var/db/pkg/local.json"))
	if err == nil {
		err = json.Unmarshal(b, db)
		if db.Installed == nil {
			db.Installed = map[string]pkgEntry{}
		}
		return db, err
	}
	if os.IsNotExist(err) {
		return db, nil
	}
	return db, err
}

func (db *pkgDB) save(root string) error {
	os.MkdirAll(filepath.Join(root, "var/db/pkg"), 0o755)
	b, _ := json.MarshalIndent(db, "", " ")
	return os.WriteFile(filepath.Join(root, "var/db/pkg/local.json"), b, 0o644)
}

func cmdPkg(args []string) int {
	opts, rest, err := getopt(args, "vdlNr:c:j:C:R:o:46")
	if err != nil || len(rest) == 0 {
		errf("Usage: pkg [-v] [-d] [-l] [-N] [-j <jail name or id>|-c <chroot path>|-r <rootdir>] [-C <configuration file>] [-R <repo config dir>] [-o var=value] [-4|-6] <command> [<args>]")
		return 1
	}
	root := simRoot()
	if r := opts['r']; len(r) > 0 {
		root = hostPath(r[0])
	} else if c := opts['c']; len(c) > 0 {
		root = hostPath(c[0])
	} else if j := opts['j']; len(j) > 0 {
		s := mustState()
		if s == nil {
			return 1
		}
		jl := s.jailByName(j[0])
		if jl == nil {
			warnx("jail '%s' not found", j[0])
			return 1
		}
		root = hostPath(jl.Path)
	}
	sub, rest := rest[0], rest[1:]
	switch sub {
	case "info":
		return pkgInfo(root, rest)
	case "install", "add":
		return pkgInstall(root, rest)
	case "delete", "remove":
		return pkgDelete(root, rest)
	case "search", "rquery":
		return pkgSearch(rest)
	case "update":
		fmt.Println("Updating FreeBSD-ports repository catalogue...\nFreeBSD-ports repository is up to date.")
		return 0
	}
	warnx("unknown command: %s", sub)
	return 1
}

func pkgInfo(root string, args []string) int {
	opts, rest, err := getopt(args, "eqaE")
	if err != nil {
		warnx("%v", err)
		return 1
	}
	db, err := loadPkgDB(root)
	if err != nil {
		warnx("%v", err)
		return 1
	}
	if _, e := opts['e']; e {
		for _, n := range rest {
			if _, ok := db.Installed[n]; !ok {
				return 1
			}
		}
		return 0
	}
	var names []string
	for n := range db.Installed {
		if len(rest) == 0 || contains(rest, n) {
			names = append(names, n)
		}
	}
	if len(rest) > 0 && len(names) == 0 {
		warnx("No package(s) matching %s", strings.Join(rest, " "))
		return 70
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("%-35s %s\n", n+"-"+db.Installed[n].Version, "FreeBSD base system")
	}
	return 0
}

func contains(list []string, x string) bool {
	for _, l := range list {
		if l == x {
			return true
		}
	}
	return false
}

func (s *State) catalogLookup(name string) (Package, bool) {
	for _, p := range s.Catalog {
		if p.Name == name && (p.Repo != "FreeBSD-base" || s.PkgbaseEnabled) {
			return p, true
		}
	}
	return Package{}, false
}

func pkgInstall(root string, args []string) int {
	opts, rest, err := getopt(args, "yfqnAIU")
	if err != nil || len(rest) == 0 {
		errf("Usage: pkg install [-AfInFMqRUy] [-r reponame] <pkg-origin|pkg-name> ...")
		return 1
	}
	if !isRoot() || currentJail() != "" && !isRoot() {
		warnx("Insufficient privileges to install packages")
		return 77
	}
	s := mustState()
	if s == nil {
		return 1
	}
	db, err := loadPkgDB(root)
	if err != nil {
		warnx("%v", err)
		return 1
	}
	fmt.Println("Updating FreeBSD-ports repository catalogue...\nFreeBSD-ports repository is up to date.")
	if s.PkgbaseEnabled {
		fmt.Println("Updating FreeBSD-base repository catalogue...\nFreeBSD-base repository is up to date.")
	}
	fmt.Println("All repositories are up to date.")
	var todo []Package
	for _, n := range rest {
		p, ok := s.catalogLookup(n)
		if !ok {
			warnx("No packages available to install matching '%s' have been found in the repositories", n)
			return 1
		}
		if _, have := db.Installed[n]; have {
			continue
		}
		todo = append(todo, p)
	}
	if len(todo) == 0 {
		fmt.Println("The most recent versions of packages are already installed")
		return 0
	}
	fmt.Printf("The following %d package(s) will be affected (of 0 checked):\n\nNew packages to be INSTALLED:\n", len(todo))
	for _, p := range todo {
		fmt.Printf("\t%s: %s [%s]\n", p.Name, p.Version, p.Repo)
	}
	fmt.Printf("\nNumber of packages to be installed: %d\n", len(todo))
	if _, yes := opts['y']; !yes && !checkYesNo(os.Getenv("ASSUME_ALWAYS_YES")) {
		fmt.Print("\nProceed with this action? [y/N]: ")
		var answer string
		fmt.Fscanln(os.Stdin, &answer)
		if !strings.HasPrefix(strings.ToLower(answer), "y") {
			fmt.Println()
			return 1
		}
	}
	for i, p := range todo {
		fmt.Printf("[%d/%d] Installing %s-%s...\n", i+1, len(todo), p.Name, p.Version)
		var files []string
		for _, f := range packageFiles(p.Name) {
			dst := filepath.Join(root, f.Path)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			os.Remove(dst)
			if f.Link != "" {
				err = os.Symlink(f.Link, dst)
			} else {
				err = os.WriteFile(dst, []byte(f.Content), f.Mode)
			}
			if err != nil {
				warnx("%s: %v", f.Path, err)
				return 1
			}
			files = append(files, f.Path)
		}
		fmt.Printf("[%d/%d] Extracting %s-%s: 100%%\n", i+1, len(todo), p.Name, p.Version)
		db.Installed[p.Name] = pkgEntry{Version: p.Version, Repo: p.Repo, Files: files}
	}
	if err := db.save(root); err != nil {
		warnx("%v", err)
		return 1
	}
	return 0
}

func pkgDelete(root string, args []string) int {
	_, rest, err := getopt(args, "yfqnaA")
	if err != nil || len(rest) == 0 {
		errf("Usage: pkg delete [-DfnqRy] [-Cgix] <pkg-name> ...")
		return 1
	}
	if !isRoot() {
		warnx("Insufficient privileges to delete packages")
		return 77
	}
	db, err := loadPkgDB(root)
	if err != nil {
		warnx("%v", err)
		return 1
	}
	var gone []string
	for _, n := range rest {
		if _, ok := db.Installed[n]; ok {
			gone = append(gone, n)
		}
	}
	if len(gone) == 0 {
		fmt.Println("No packages matched for pattern '" + rest[0] + "'\n\nChecking integrity... done (0 conflicting)\n0 packages requested for removal: 0 locked, 0 missing dependencies")
		return 0
	}
	fmt.Printf("Checking integrity... done (0 conflicting)\nDeinstallation has been requested for the following %d packages (of 0 packages in the universe):\n\nInstalled packages to be REMOVED:\n", len(gone))
	for _, n := range gone {
		fmt.Printf("\t%s: %s\n", n, db.Installed[n].Version)
	}
	fmt.Printf("\nNumber of packages to be removed: %d\n", len(gone))
	for i, n := range gone {
		fmt.Printf("[%d/%d] Deinstalling %s-%s...\n", i+1, len(gone), n, db.Installed[n].Version)
		for _, f := range db.Installed[n].Files {
			os.Remove(filepath.Join(root, f))
		}
		delete(db.Installed, n)
	}
	if err := db.save(root); err != nil {
		warnx("%v", err)
		return 1
	}
	return 0
}

func pkgSearch(args []string) int {
	s := mustState()
	if s == nil {
		return 1
	}
	found := false
	for _, p := range s.Catalog {
		if p.Repo == "FreeBSD-base" && !s.PkgbaseEnabled {
			continue
		}
		for _, a := range args {
			if strings.Contains(p.Name, a) {
				fmt.Printf("%-35s %s\n", p.Name+"-"+p.Version, p.Comment)
				found = true
			}
		}
	}
	if !found {
		fmt.Println("No packages found")
		return 1
	}
	return 0
}
