// Command freebsd-sim is the simulated FreeBSD 15 userland of the enjailed lab host.
//
// It is one multicall binary: the base name of argv[0] picks the command (zfs, jail,
// jls, jexec, service, sysrc, pkg, devfs, ifconfig, route, lockf, ...), and
// `freebsd-sim COMMAND ARGS...` works too. Behaviour follows the FreeBSD man pages;
// all state lives in files under /var/db/freebsd-sim of the lab root (see README.md).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// exitError carries an exit status up to main without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// commands maps a command name to its implementation. Each returns the exit status.
var commands map[string]func(args []string) int

func init() {
	commands = map[string]func(args []string) int{
		"zfs":           cmdZfs,
		"zpool":         cmdZpool,
		"jail":          cmdJail,
		"jls":           cmdJls,
		"jexec":         cmdJexec,
		"service":       cmdService,
		"sysrc":         cmdSysrc,
		"pkg":           cmdPkg,
		"devfs":         cmdDevfs,
		"ifconfig":      cmdIfconfig,
		"route":         cmdRoute,
		"lockf":         cmdLockf,
		"rcorder":       cmdRcorder,
		"sysctl":        cmdSysctl,
		"lab-install":   cmdLabInstall,
		"lab-init":      cmdLabInit,
		"lab-session":   cmdLabSession,
		"__jexec-child": cmdJexecChild,
	}
}

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	if _, ok := commands[name]; !ok {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "usage: freebsd-sim command [args ...]")
			os.Exit(64)
		}
		name, args = args[0], args[1:]
	}
	run, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "freebsd-sim: unknown command %q\n", name)
		os.Exit(127)
	}
	progName = name
	if name != "lab-session" && !strings.HasPrefix(name, "lab-") && !strings.HasPrefix(name, "__") {
		logCommand(name, args)
		if code, hit := applyCommandFaults(name, args); hit {
			os.Exit(code)
		}
	}
	os.Exit(run(args))
}

// progName is the command being run, used in error prefixes.
var progName string

// warnx prints "prog: message" on stderr, like warnx(3).
func warnx(format string, a ...any) {
	fmt.Fprintf(os.Stderr, progName+": "+format+"\n", a...)
}

// errf prints a message on stderr without prefix.
func errf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
}

// isRoot reports whether we run with root privileges.
func isRoot() bool { return os.Geteuid() == 0 }
