package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// simBin is the freebsd-sim binary built once for all tests.
var simBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "freebsd-sim-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755)
	simBin = filepath.Join(dir, "freebsd-sim")
	build := exec.Command("go", "build", "-o", simBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building freebsd-sim: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// rootLab is a lab root in a temp dir, addressed through FREEBSD_SIM_ROOT (no chroot, no privileges).
type rootLab struct {
	t    *testing.T
	root string
	bin  string // dir of command symlinks, first in PATH for hooks
}

func newRootLab(t *testing.T, profile string) *rootLab {
	t.Helper()
	root := t.TempDir()
	bin := filepath.Join(root, ".bin")
	os.MkdirAll(bin, 0o755)
	for name := range commands {
		os.Symlink(simBin, filepath.Join(bin, name))
	}
	l := &rootLab{t: t, root: root, bin: bin}
	r := l.run("lab-init", root, "--profile", profile)
	if r.code != 0 {
		t.Fatalf("lab-init: %+v", r)
	}
	return l
}

func (l *rootLab) env() []string {
	return append(os.Environ(), "FREEBSD_SIM_ROOT="+l.root, "PATH="+l.bin+":"+os.Getenv("PATH"))
}

// run runs `freebsd-sim ARGS...` against the lab root.
func (l *rootLab) run(args ...string) result {
	return l.runIn("", args...)
}

func (l *rootLab) runIn(stdin string, args ...string) result {
	c := exec.Command(simBin, args...)
	c.Env = l.env()
	c.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("running %v: %v", args, err)
	}
	return result{o.String(), e.String(), code}
}

func (l *rootLab) ok(args ...string) string {
	l.t.Helper()
	r := l.run(args...)
	if r.code != 0 {
		l.t.Fatalf("%v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (l *rootLab) write(path, content string) {
	l.t.Helper()
	full := filepath.Join(l.root, path)
	os.MkdirAll(filepath.Dir(full), 0o755)
	if err := os.WriteFile(full, []byte(content), 0o755); err != nil {
		l.t.Fatal(err)
	}
}

func (l *rootLab) read(path string) string {
	b, _ := os.ReadFile(filepath.Join(l.root, path))
	return string(b)
}

// chrootLab is a lab built like the real one: an overlay of the machine's / with the simulator
// installed, in a private mount namespace, with commands run chrooted into it. Needs root.
type chrootLab struct {
	t      *testing.T
	dir    string
	root   string
	helper *exec.Cmd
}

func newChrootLab(t *testing.T, profile string) *chrootLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (mount namespaces, overlayfs, chroot); CI runs as root")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter (util-linux)")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	script := fmt.Sprintf(`set -e
mount --make-rprivate /
mount -t tmpfs tmpfs %[1]s
mkdir %[1]s/upper %[1]s/work %[2]s
mount -t overlay overlay -o lowerdir=/,upperdir=%[1]s/upper,workdir=%[1]s/work %[2]s
rm -f %[2]s/sbin && mkdir %[2]s/sbin
mount --rbind /dev %[2]s/dev
mount -t proc proc %[2]s/proc
echo ready
exec sleep 100000
`, dir, root)
	h := exec.Command("/bin/sh", "-c", script)
	h.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, _ := h.StdoutPipe()
	h.Stderr = os.Stderr
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	l := &chrootLab{t: t, dir: dir, root: root, helper: h}
	t.Cleanup(func() { h.Process.Kill(); h.Wait() })
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line) == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("mini lab setup failed")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("mini lab setup timed out")
	}
	if r := l.nsenter("", simBin, "lab-install", root); r.code != 0 {
		t.Fatalf("lab-install: %+v", r)
	}
	if r := l.sh("freebsd-sim lab-init / --profile " + profile); r.code != 0 {
		t.Fatalf("lab-init: %+v", r)
	}
	return l
}

func (l *chrootLab) nsenter(stdin string, argv ...string) result {
	args := append([]string{"-t", fmt.Sprint(l.helper.Process.Pid), "-m", "--"}, argv...)
	c := exec.Command("nsenter", args...)
	c.Env = []string{"PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/libexec", "HOME=/root", "LANG=C"}
	c.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.WriteString(fmt.Sprintf("[nsenter killed by signal %v]", ws.Signal()))
		}
	} else if err != nil {
		l.t.Fatalf("nsenter: %v", err)
	}
	return result{o.String(), e.String(), code}
}

// sh runs a shell command line as root inside the lab root.
func (l *chrootLab) sh(cmd string) result {
	return l.nsenter("", "chroot", l.root, "/bin/sh", "-c", cmd)
}

func (l *chrootLab) shIn(stdin, cmd string) result {
	return l.nsenter(stdin, "chroot", l.root, "/bin/sh", "-c", cmd)
}

func (l *chrootLab) ok(cmd string) string {
	l.t.Helper()
	r := l.sh(cmd)
	if r.code != 0 {
		l.t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", cmd, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (l *chrootLab) write(path, content string) {
	l.t.Helper()
	r := l.nsenter(content, "chroot", l.root, "/bin/sh", "-c", "mkdir -p \"$(dirname '"+path+"')\" && cat > '"+path+"' && chmod 755 '"+path+"'")
	if r.code != 0 {
		l.t.Fatalf("writing %s: %+v", path, r)
	}
}

// runAs runs the simulator as another uid (root only).
func runAs(t *testing.T, l *rootLab, uid uint32, args ...string) result {
	t.Helper()
	os.Chmod(l.root, 0o755)
	os.Chmod(filepath.Dir(l.root), 0o755)
	c := exec.Command(simBin, args...)
	c.Env = l.env()
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{o.String(), e.String(), code}
}
