// The hostile test app (tests/e2e/test_sandbox.py): every action tries to break out of the instance's sandbox
// and reports what happened as JSON, {"ok": <the attack SUCCEEDED>, "error": "<why it failed>", ...}.
//
// The payload is {"action": "...", ...arguments}. The test passes the host's paths, ports and pids to aim at.
//
// Every action is bounded and cleans up after itself, so that running this app WITHOUT a sandbox (ignited
// --sandbox off, or a build from before the sandbox, as root) cannot damage the host: files it manages to
// create are removed at once, a mount it manages to make is made in a private mount namespace of a
// short-lived child, the fork bomb stops at a fixed number of processes and every forked process exits (or
// is killed with its parent) within seconds, kill(-1) is refused unless the instance is visibly isolated,
// and a successful ptrace attach is detached at once.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"ignite"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

type request struct {
	Action  string  `json:"action"`
	Path    string  `json:"path"`
	Network string  `json:"network"`
	Address string  `json:"address"`
	Pid     int     `json:"pid"`
	Signal  int     `json:"signal"`
	Guard   []int   `json:"guard"` // host pids that must be invisible (ESRCH) before kill(-1) is sent
	MB      int     `json:"mb"`
	Seconds float64 `json:"seconds"`
	Cap     int     `json:"cap"`
}

type result map[string]any

func failed(err error) result {
	r := result{"ok": false, "error": err.Error()}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		r["errno"] = int(errno)
	}
	return r
}

func succeeded(r result) result {
	if r == nil {
		r = result{}
	}
	r["ok"] = true
	return r
}

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("payload must be {\"action\": ...}: %w", err)
	}
	var r result
	switch req.Action {
	case "noop":
		r = succeeded(result{"pid": os.Getpid()})
	case "whoami":
		r = whoami(req.Guard)
	case "read":
		r = read(req.Path)
	case "write":
		r = write(req.Path)
	case "connect":
		r = connect(req.Network, req.Address, 3*time.Second)
	case "dial_out":
		r = connect("tcp", req.Address, 10*time.Second)
	case "ptrace":
		r = ptrace(req.Pid)
	case "ptrace_child":
		r = ptraceChild()
	case "kill":
		r = kill(req.Pid, req.Signal, req.Guard)
	case "alloc":
		r = alloc(req.MB)
	case "forkbomb":
		r = forkBomb(req.Cap, req.Seconds)
	case "spin":
		r = spin(req.Seconds)
	case "fill_tmp":
		r = fillTmp(req.MB)
	case "mount":
		r = mountTmpfs()
	case "unshare_user":
		r = unshareUser()
	case "hold":
		time.Sleep(time.Duration(req.Seconds * float64(time.Second)))
		r = succeeded(result{"pid": os.Getpid()})
	case "siblings":
		r = siblings()
	default:
		return nil, fmt.Errorf("unknown action %q", req.Action)
	}
	return json.Marshal(r)
}

// --- identity -------------------------------------------------------------------------------------------

func names(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := []string{}
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// procStatus is /proc/self/status as a map.
func procStatus() map[string]string {
	status := map[string]string{}
	if raw, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				status[k] = strings.TrimSpace(v)
			}
		}
	}
	return status
}

// whoami describes the instance as it sees itself: ids, capabilities, namespaces, what the file system and
// /proc hold, and which of the given host pids it can see (kill(pid, 0): "" = visible, else the error).
func whoami(guard []int) result {
	status := procStatus()
	ns := map[string]string{}
	for _, n := range []string{"pid", "mnt", "ipc", "uts", "net", "user", "cgroup"} {
		link, err := os.Readlink("/proc/self/ns/" + n)
		if err != nil {
			link = "error: " + err.Error()
		}
		ns[n] = link
	}
	procPids := []int{}
	for _, n := range names("/proc") {
		if pid, err := strconv.Atoi(n); err == nil {
			procPids = append(procPids, pid)
		}
	}
	visible := map[string]string{}
	for _, pid := range guard {
		err := syscall.Kill(pid, 0)
		if err == nil {
			visible[strconv.Itoa(pid)] = ""
		} else {
			visible[strconv.Itoa(pid)] = err.Error()
		}
	}
	groups, _ := os.Getgroups()
	hostname, _ := os.Hostname()
	var tmp syscall.Statfs_t
	tmpBytes := int64(-1)
	if syscall.Statfs("/tmp", &tmp) == nil {
		tmpBytes = int64(tmp.Blocks) * tmp.Bsize
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	return succeeded(result{
		"uid": syscall.Getuid(), "euid": syscall.Geteuid(), "gid": syscall.Getgid(), "egid": syscall.Getegid(),
		"groups": groups, "pid": os.Getpid(), "ppid": os.Getppid(), "hostname": hostname,
		"capEff": status["CapEff"], "capPrm": status["CapPrm"], "capBnd": status["CapBnd"],
		"noNewPrivs": status["NoNewPrivs"], "seccomp": status["Seccomp"], "nspid": status["NSpid"],
		"ns": ns, "root": names("/"), "etc": names("/etc"), "dev": names("/dev"), "procPids": procPids,
		"visible": visible, "tmpBytes": tmpBytes, "mounts": string(mounts),
		"numCPU": runtime.NumCPU(), "gomaxprocs": runtime.GOMAXPROCS(0),
	})
}

// siblings looks for every other process in /proc and tries to read its environment and its memory (the
// first mapping in its maps). Only what could be read is reported, never the contents.
func siblings() result {
	found := []int{}
	readable := map[string][]string{}
	errs := map[string]string{}
	for _, n := range names("/proc") {
		pid, err := strconv.Atoi(n)
		if err != nil || pid == os.Getpid() {
			continue
		}
		found = append(found, pid)
		key := strconv.Itoa(pid)
		if _, err := os.ReadFile("/proc/" + key + "/environ"); err == nil {
			readable[key] = append(readable[key], "environ")
		} else {
			errs[key+" environ"] = err.Error()
		}
		maps, err := os.ReadFile("/proc/" + key + "/maps")
		if err != nil {
			errs[key+" maps"] = err.Error()
			continue
		}
		readable[key] = append(readable[key], "maps")
		start, _, _ := strings.Cut(string(maps), "-")
		addr, err := strconv.ParseInt(start, 16, 64)
		if err != nil {
			continue
		}
		mem, err := os.Open("/proc/" + key + "/mem")
		if err != nil {
			errs[key+" mem"] = err.Error()
			continue
		}
		buf := make([]byte, 16)
		if _, err := mem.ReadAt(buf, addr); err == nil {
			readable[key] = append(readable[key], "mem")
		} else {
			errs[key+" mem"] = err.Error()
		}
		mem.Close()
	}
	r := result{"ok": len(readable) > 0, "found": found, "readable": readable, "errors": errs}
	return r
}

// --- file system --------------------------------------------------------------------------------------------

// read opens a file (reads at most 64 KiB of it) or lists a directory. Only sizes come back, never contents.
func read(path string) result {
	f, err := os.Open(path)
	if err != nil {
		return failed(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return failed(err)
	}
	if st.IsDir() {
		entries, err := f.ReadDir(-1)
		if err != nil {
			return failed(err)
		}
		return succeeded(result{"entries": len(entries)})
	}
	buf := make([]byte, 64<<10)
	n, err := f.Read(buf)
	if err != nil && n == 0 && st.Size() > 0 {
		return failed(err)
	}
	return succeeded(result{"bytes": n, "size": st.Size()})
}

// write creates `path` (never an existing file: O_EXCL) and writes to it; a file it managed to create is
// removed at once.
func write(path string) result {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return failed(err)
	}
	_, werr := f.Write([]byte("hostile\n"))
	f.Close()
	rerr := os.Remove(path)
	if werr != nil {
		return failed(werr)
	}
	r := succeeded(result{"wrote": path})
	if rerr != nil {
		r["removeError"] = rerr.Error()
	}
	return r
}

// fillTmp writes 1 MiB blocks to a file in /tmp until a write fails or `maxMB` were written (the bound that
// keeps this harmless on a host without a sandbox), then removes the file.
func fillTmp(maxMB int) result {
	if maxMB <= 0 {
		maxMB = 64
	}
	path := fmt.Sprintf("/tmp/hostile-fill-%d-%d", os.Getpid(), time.Now().UnixNano())
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return failed(err)
	}
	defer os.Remove(path)
	defer f.Close()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i*7 + 1)
	}
	written := int64(0)
	var werr error
	for written < int64(maxMB)<<20 {
		n, err := f.Write(block)
		written += int64(n)
		if err != nil {
			werr = err
			break
		}
	}
	if werr == nil {
		werr = f.Sync()
	}
	if werr != nil {
		r := failed(werr)
		r["written"] = written
		r["enospc"] = errors.Is(werr, syscall.ENOSPC)
		return r
	}
	return succeeded(result{"written": written})
}

// --- network ------------------------------------------------------------------------------------------------

func connect(network, address string, timeout time.Duration) result {
	if network == "" {
		network = "tcp"
	}
	c, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		return failed(err)
	}
	r := succeeded(result{"local": c.LocalAddr().String(), "remote": c.RemoteAddr().String()})
	c.Close()
	return r
}

// --- memory, cpu --------------------------------------------------------------------------------------------

var hoard [][]byte

func alloc(mb int) result {
	start := time.Now()
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		hoard = append(hoard, b)
	}
	n := len(hoard)
	hoard = nil
	runtime.GC()
	return succeeded(result{"allocatedMB": n, "ms": time.Since(start).Milliseconds()})
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

var sink atomic.Uint64

// spin busy-loops on every CPU the instance can see for `seconds`, then reports the CPU time the process got
// against the wall time: without a CPU limit the ratio approaches the number of cores.
func spin(seconds float64) result {
	if seconds <= 0 || seconds > 10 {
		seconds = 3
	}
	n := runtime.NumCPU()
	if g := runtime.GOMAXPROCS(0); g > n {
		n = g
	}
	prev := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(prev)
	cpu0, t0 := cpuSeconds(), time.Now()
	deadline := t0.Add(time.Duration(seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(0)
			for time.Now().Before(deadline) {
				for k := 0; k < 100000; k++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			sink.Add(x)
		}()
	}
	wg.Wait()
	wall := time.Since(t0).Seconds()
	cpu := cpuSeconds() - cpu0
	return succeeded(result{"threads": n, "cpuSeconds": cpu, "wallSeconds": wall, "ratio": cpu / wall})
}

// --- processes: raw fork ------------------------------------------------------------------------------------
//
// The children below are made with a raw fork(2) of this (multi-threaded) Go process. A child has one
// thread and must not touch the Go runtime: the functions it runs are nosplit (no stack growth), call only
// raw system calls and atomics, write only to the shared mapping, and end with exit_group. All signals are
// blocked around the fork so no Go signal handler ever runs in a child; SIGKILL still works.

// shared is laid over a MAP_SHARED anonymous page that the handler and all its children see.
type shared struct {
	spawned int32 // forks the bomb started (never decremented when one exits); what the cap applies to
	stop    int32 // set by the handler (done) or by a child (fork failed): every child exits
	errno   int32 // the first errno a fork failed with
	capped  int32 // the bomb reached its cap without an error
	cap     int32
	nap     syscall.Timespec // 1 ms
	// mount arguments: addresses of NUL-terminated strings the parent keeps alive across the fork
	mntSource uintptr
	mntTarget uintptr
	mntType   uintptr
	root      uintptr
}

var allSignals = [1]uint64{^uint64(0)}

func newShared() (*shared, func(), error) {
	mem, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_ANON)
	if err != nil {
		return nil, nil, err
	}
	s := (*shared)(unsafe.Pointer(&mem[0]))
	s.nap = syscall.Timespec{Nsec: 1_000_000}
	return s, func() { syscall.Munmap(mem) }, nil
}

const (
	childBomb = iota
	childSleep
	childUnshareUser
	childMount
)

//go:nosplit
func rawExit(code uintptr) {
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, code, 0, 0)
}

// childSetup asks for SIGKILL when the parent dies; a child whose parent is already gone exits.
//
//go:nosplit
func childSetup(parent uintptr) {
	syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0)
	if ppid, _, _ := syscall.RawSyscall(syscall.SYS_GETPPID, 0, 0, 0); ppid != parent {
		rawExit(0)
	}
}

// bombChild forks until the cap, a fork error or the stop flag; each new process does the same. Bounded:
// at most ~5,000 one-millisecond naps per process once it stops forking, then it exits.
//
//go:nosplit
func bombChild(s *shared, parent uintptr) {
	childSetup(parent)
	for i := 0; i < 5000; i++ {
		if atomic.LoadInt32(&s.stop) != 0 {
			break
		}
		n := atomic.LoadInt32(&s.spawned)
		if n >= s.cap {
			atomic.StoreInt32(&s.capped, 1)
			syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&s.nap)), 0, 0)
			continue
		}
		if !atomic.CompareAndSwapInt32(&s.spawned, n, n+1) {
			continue
		}
		me, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
		pid, _, errno := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
		if errno != 0 {
			atomic.AddInt32(&s.spawned, -1)
			atomic.CompareAndSwapInt32(&s.errno, 0, int32(errno))
			atomic.StoreInt32(&s.stop, 1)
			break
		}
		if pid == 0 { // the new process: same loop, from the start
			childSetup(me)
			i = 0
		}
	}
	rawExit(0)
}

//go:nosplit
func sleepChild(s *shared, parent uintptr) {
	childSetup(parent)
	for i := 0; i < 10000 && atomic.LoadInt32(&s.stop) == 0; i++ { // ~10 s at most
		syscall.RawSyscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&s.nap)), 0, 0)
	}
	rawExit(0)
}

// unshareUserChild exits with the errno of unshare(CLONE_NEWUSER) (0: it worked). It runs in a
// single-threaded child because the kernel refuses a new user namespace to a multi-threaded process
// (EINVAL) whatever the sandbox does.
//
//go:nosplit
func unshareUserChild(parent uintptr) {
	childSetup(parent)
	_, _, errno := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWUSER, 0, 0)
	rawExit(uintptr(errno))
}

// mountChild exits with the errno of mounting a tmpfs (0: it worked). Harmless without a sandbox: it first
// moves to a new mount namespace of its own and makes every mount there private, so nothing propagates to
// the host; it only mounts where that worked, or where unshare itself failed (then it is the instance's own
// namespace, and the mount is the attack). 200 means "could not isolate the attempt; not tried".
//
//go:nosplit
func mountChild(s *shared, parent uintptr) {
	childSetup(parent)
	_, _, errno := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0)
	if errno == 0 {
		_, _, perr := syscall.RawSyscall6(syscall.SYS_MOUNT, 0, s.root, 0,
			syscall.MS_REC|syscall.MS_PRIVATE, 0, 0)
		if perr != 0 {
			rawExit(200)
		}
	}
	_, _, errno = syscall.RawSyscall6(syscall.SYS_MOUNT, s.mntSource, s.mntTarget, s.mntType, 0, 0, 0)
	rawExit(uintptr(errno))
}

//go:nosplit
func forkChild(s *shared, kind int) (uintptr, syscall.Errno) {
	me, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	pid, _, errno := syscall.RawSyscall(syscall.SYS_FORK, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if pid == 0 {
		switch kind {
		case childBomb:
			bombChild(s, me)
		case childSleep:
			sleepChild(s, me)
		case childUnshareUser:
			unshareUserChild(me)
		case childMount:
			mountChild(s, me)
		}
		rawExit(127)
	}
	return pid, 0
}

// spawn forks one child of the given kind with every signal blocked around the fork. The caller must hold
// runtime.LockOSThread: the child is the child of this thread, and gets SIGKILL when it exits (childSetup).
func spawn(s *shared, kind int) (int, error) {
	var old [1]uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2 /* SIG_SETMASK */, uintptr(unsafe.Pointer(&allSignals[0])),
		uintptr(unsafe.Pointer(&old[0])), 8, 0, 0)
	pid, errno := forkChild(s, kind)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(unsafe.Pointer(&old[0])), 0, 8, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(pid), nil
}

// waitExit waits up to `limit` for the child to exit, SIGKILLing it after that.
func waitExit(pid int, limit time.Duration) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	deadline := time.Now().Add(limit)
	for {
		wpid, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return ws, err
		}
		if wpid == pid {
			return ws, nil
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			return ws, fmt.Errorf("child %d did not exit within %v (killed): %v", pid, limit, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runChild forks a child of `kind` and returns the errno it exited with.
func runChild(s *shared, kind int) (syscall.Errno, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := spawn(s, kind)
	if err != nil {
		return 0, fmt.Errorf("fork: %w", err)
	}
	ws, err := waitExit(pid, 5*time.Second)
	if err != nil {
		return 0, err
	}
	if !ws.Exited() {
		return 0, fmt.Errorf("child ended with %v", ws)
	}
	return syscall.Errno(ws.ExitStatus()), nil
}

func unshareUser() result {
	s, release, err := newShared()
	if err != nil {
		return failed(err)
	}
	defer release()
	errno, err := runChild(s, childUnshareUser)
	if err != nil {
		return failed(err)
	}
	if errno != 0 {
		return failed(fmt.Errorf("unshare(CLONE_NEWUSER): %w", errno))
	}
	return succeeded(result{"detail": "unshare(CLONE_NEWUSER) worked in a forked child"})
}

func mountTmpfs() result {
	target := fmt.Sprintf("/tmp/hostile-mnt-%d-%d", os.Getpid(), time.Now().UnixNano())
	if err := os.Mkdir(target, 0o700); err != nil {
		return failed(err)
	}
	defer os.Remove(target)
	s, release, err := newShared()
	if err != nil {
		return failed(err)
	}
	defer release()
	keep := [][]byte{[]byte("hostile\x00"), []byte(target + "\x00"), []byte("tmpfs\x00"), []byte("/\x00")}
	s.mntSource, s.mntTarget = uintptr(unsafe.Pointer(&keep[0][0])), uintptr(unsafe.Pointer(&keep[1][0]))
	s.mntType, s.root = uintptr(unsafe.Pointer(&keep[2][0])), uintptr(unsafe.Pointer(&keep[3][0]))
	errno, err := runChild(s, childMount)
	runtime.KeepAlive(keep)
	if err != nil {
		return failed(err)
	}
	if errno == 200 {
		return failed(errors.New("could not make a private mount namespace to try the mount in; not tried"))
	}
	if errno != 0 {
		return failed(fmt.Errorf("mount tmpfs on %s: %w", target, errno))
	}
	return succeeded(result{"detail": "mounted a tmpfs on " + target + " (in a forked child)"})
}

// forkBomb: every process forks as fast as it can, children included, until a fork fails (the pids limit:
// EAGAIN), `limit` processes exist (the bound that keeps this harmless without a sandbox: ok=true) or
// `seconds` passed. Then all of them exit and the handler reaps them (it is their subreaper).
func forkBomb(limit int, seconds float64) result {
	if limit <= 0 {
		limit = 512
	}
	if seconds <= 0 || seconds > 20 {
		seconds = 10
	}
	s, release, err := newShared()
	if err != nil {
		return failed(err)
	}
	defer release()
	s.cap = int32(limit)
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0); e != 0 {
		return failed(fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", e))
	}
	threads := procStatus()["Threads"]
	start := time.Now()
	runtime.LockOSThread()
	atomic.AddInt32(&s.spawned, 1)
	first, err := spawn(s, childBomb)
	if err != nil {
		runtime.UnlockOSThread()
		return failed(fmt.Errorf("fork: %w", err))
	}
	deadline := start.Add(time.Duration(seconds * float64(time.Second)))
	for time.Now().Before(deadline) && atomic.LoadInt32(&s.stop) == 0 && atomic.LoadInt32(&s.capped) == 0 {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	atomic.StoreInt32(&s.stop, 1)
	// Reap every process the bomb made: our child, and every orphan re-parented to us (we are their
	// subreaper). They all exit within milliseconds of the stop flag, or are SIGKILLed with their parent.
	// ECHILD means none is left: a descendant whose parent exits is re-parented to us before that parent
	// stops being our (unwaitable, "still running") child.
	reaped, leftover := 0, 0
	reapBy := time.Now().Add(10 * time.Second)
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|0x40000000 /* __WALL */, nil)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.ECHILD {
			break
		}
		if wpid > 0 {
			reaped++
			continue
		}
		if time.Now().After(reapBy) {
			syscall.Kill(first, syscall.SIGKILL) // its death SIGKILLs its children, and so on down
			leftover = -1                        // some were still running after 10 s
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	runtime.UnlockOSThread()
	// Every process the bomb made is reaped here exactly once (none of them waits for its own children), so
	// `processes` is how many there were, when leftover is 0.
	r := result{"processes": reaped, "leftover": leftover, "ms": elapsed.Milliseconds(), "threads": threads}
	if e := syscall.Errno(atomic.LoadInt32(&s.errno)); e != 0 {
		r["ok"] = false
		r["error"] = "fork: " + e.Error()
		r["errno"] = int(e)
		return r
	}
	if atomic.LoadInt32(&s.capped) != 0 {
		r["detail"] = fmt.Sprintf("reached %d processes without any fork failing", limit)
	} else {
		r["detail"] = fmt.Sprintf("forking for %v without any fork failing", elapsed)
	}
	return succeeded(r)
}

// --- other processes ----------------------------------------------------------------------------------------

// ptraceAttach attaches to pid and, when that works, waits for the attach stop and detaches (signals other
// than the attach SIGSTOP are passed on), so the target carries on as before.
func ptraceAttach(pid int) result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := syscall.PtraceAttach(pid); err != nil {
		return failed(fmt.Errorf("ptrace(PTRACE_ATTACH, %d): %w", pid, err))
	}
	detail := "attached and detached"
	deadline := time.Now().Add(3 * time.Second)
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(pid, &ws, syscall.WNOHANG|0x40000000 /* __WALL */, nil)
		if err == syscall.EINTR {
			continue
		}
		if err == nil && wpid == pid && ws.Stopped() {
			if ws.StopSignal() == syscall.SIGSTOP {
				break
			}
			syscall.PtraceCont(pid, int(ws.StopSignal()))
			continue
		}
		if err != nil || time.Now().After(deadline) {
			detail = fmt.Sprintf("attached; no attach stop seen (%v)", err)
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := syscall.PtraceDetach(pid); err != nil {
		detail += fmt.Sprintf("; detach: %v", err)
	}
	return succeeded(result{"detail": detail})
}

func ptrace(pid int) result {
	if pid <= 0 {
		return failed(errors.New("ptrace needs a pid"))
	}
	if pid == os.Getpid() {
		return failed(fmt.Errorf("pid %d is this process in its own pid namespace", pid))
	}
	return ptraceAttach(pid)
}

// ptraceChild attaches to a child of this process: no pid namespace stands in the way, only the seccomp
// filter (EPERM).
func ptraceChild() result {
	s, release, err := newShared()
	if err != nil {
		return failed(err)
	}
	defer release()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, err := spawn(s, childSleep)
	if err != nil {
		return failed(fmt.Errorf("fork: %w", err))
	}
	r := ptraceAttach(pid)
	atomic.StoreInt32(&s.stop, 1)
	syscall.Kill(pid, syscall.SIGKILL)
	waitExit(pid, 5*time.Second)
	return r
}

func kill(pid, sig int, guard []int) result {
	if pid == os.Getpid() {
		return failed(fmt.Errorf("pid %d is this process in its own pid namespace", pid))
	}
	if pid == -1 {
		// Without a pid namespace (and as root) kill(-1) would take down the whole machine. Only send it
		// from an instance that cannot see any of the host's guard pids and is not root.
		if syscall.Getuid() == 0 || syscall.Geteuid() == 0 {
			return result{"ok": false, "refused": true, "error": "refused to send kill(-1): running as root"}
		}
		if len(guard) == 0 {
			return result{"ok": false, "refused": true, "error": "refused to send kill(-1): no guard pids given"}
		}
		for _, g := range guard {
			if err := syscall.Kill(g, 0); err != syscall.ESRCH {
				return result{"ok": false, "refused": true,
					"error": fmt.Sprintf("refused to send kill(-1): host pid %d is visible (kill(%d, 0): %v)", g, g, err)}
			}
		}
	}
	if err := syscall.Kill(pid, syscall.Signal(sig)); err != nil {
		return failed(fmt.Errorf("kill(%d, %d): %w", pid, sig, err))
	}
	return succeeded(result{"detail": fmt.Sprintf("kill(%d, %d) was delivered", pid, sig)})
}

func main() {
	ignite.Start(handler)
}
