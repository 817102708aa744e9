package ignite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a function process calling Start
// (the os/exec helper-process pattern).
const helperEnv = "IGNITE_SDK_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Unsetenv(helperEnv)
		Start(helperHandler)
		panic("Start returned")
	}
	os.Exit(m.Run())
}

// helperHandler runs in the helper process. "env" reports what a child
// process would see of IGNITE_LISTEN_FD; "slow" announces itself on stdout and
// then takes a while, to test graceful shutdown; anything else is echoed.
func helperHandler(p []byte, ctx *Context) ([]byte, error) {
	switch string(p) {
	case "env":
		v, ok := os.LookupEnv(listenFDEnv)
		return fmt.Appendf(nil, "%v %q", ok, v), nil
	case "slow":
		fmt.Println("slow started")
		time.Sleep(500 * time.Millisecond)
		return []byte("slow done"), nil
	}
	return p, nil
}

// helper is a running helper process.
type helper struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stderr *strings.Builder
	done   chan error
}

// startHelper starts the helper process with the extra environment and
// inherited files (the first becomes fd 3).
func startHelper(t *testing.T, env []string, files ...*os.File) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	cmd.Env = append(cmd.Env, env...)
	cmd.ExtraFiles = files
	// A plain pipe rather than StdoutPipe, which Wait would close under us.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = pw
	h := &helper{cmd: cmd, stdout: bufio.NewReader(pr), stderr: new(strings.Builder), done: make(chan error, 1)}
	cmd.Stderr = h.stderr
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-h.done
		pr.Close()
		if t.Failed() {
			t.Logf("helper stderr:\n%s", h.stderr)
		}
	})
	return h
}

// wait returns the helper's exit code, failing the test if it takes too long.
func (h *helper) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		var ee *exec.ExitError
		if err == nil {
			return 0
		} else if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		t.Fatalf("helper: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("helper did not exit")
	}
	return -1
}

// clientFor returns an HTTP client that dials addr on network for every URL.
func clientFor(network, addr string) *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		},
	}
}

// call sends method / with body (none if empty) and returns the response.
func call(c *http.Client, method, body string) (int, string, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://function/", r)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func get(t *testing.T, c *http.Client, method, body string) (int, string) {
	t.Helper()
	code, b, err := call(c, method, body)
	if err != nil {
		t.Fatalf("%s /: %v", method, err)
	}
	return code, b
}

// TestStartInheritedListener runs Start in a subprocess serving a listener it
// inherits as fd 3 (TCP and Unix), then stops it with SIGTERM while a request
// is in flight.
func TestStartInheritedListener(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "fn.sock")
			}
			ln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			addr = ln.Addr().String()
			var f *os.File
			switch l := ln.(type) {
			case *net.TCPListener:
				f, err = l.File()
			case *net.UnixListener:
				l.SetUnlinkOnClose(false)
				f, err = l.File()
			}
			if err != nil {
				t.Fatal(err)
			}
			h := startHelper(t, []string{listenFDEnv + "=3"}, f)
			// The child owns the socket now.
			f.Close()
			ln.Close()

			c := clientFor(network, addr)
			if code, body := get(t, c, "GET", ""); code != 200 || body != `{"status":"ok"}` {
				t.Errorf("GET / = %d %q", code, body)
			}
			if code, body := get(t, c, "POST", "hello"); code != 200 || body != "hello" {
				t.Errorf("POST / = %d %q", code, body)
			}
			if code, body := get(t, c, "POST", "env"); code != 200 || body != `false ""` {
				t.Errorf("IGNITE_LISTEN_FD still visible to the handler: %d %q", code, body)
			}

			// SIGTERM with a request in flight: it completes, then exit 0.
			slow := make(chan string, 1)
			go func() {
				code, body, err := call(c, "POST", "slow")
				slow <- fmt.Sprint(code, " ", body, " ", err)
			}()
			line, err := h.stdout.ReadString('\n')
			if err != nil || line != "slow started\n" {
				t.Fatalf("helper stdout: %q, %v", line, err)
			}
			if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := h.wait(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d, want 0", code)
			}
			select {
			case got := <-slow:
				if want := "200 slow done <nil>"; got != want {
					t.Errorf("in-flight request = %q, want %q", got, want)
				}
			case <-time.After(10 * time.Second):
				t.Error("in-flight request did not complete")
			}
			if !strings.Contains(h.stderr.String(), "ignite: received terminated; shutting down") {
				t.Errorf("stderr lacks the shutdown log line: %q", h.stderr)
			}
		})
	}
}

// TestStartPortFallback runs Start without IGNITE_LISTEN_FD: it listens on
// TCP :$PORT.
func TestStartPortFallback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := []string{fmt.Sprintf("PORT=%d", port)}
	for _, e := range os.Environ() { // in case the test runs under the platform
		if strings.HasPrefix(e, listenFDEnv+"=") {
			t.Skip("IGNITE_LISTEN_FD is set in the test environment")
		}
	}
	h := startHelper(t, env)
	c := clientFor("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, err := call(c, "GET", "")
		if err == nil {
			if code != 200 {
				t.Fatalf("GET / = %d", code)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("helper never listened on port %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, c, "POST", "ping"); code != 200 || body != "ping" {
		t.Errorf("POST / = %d %q", code, body)
	}
	h.cmd.Process.Signal(syscall.SIGTERM)
	if code := h.wait(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

// TestStartBadListener checks that an unusable inherited listener exits 1
// with a log line.
func TestStartBadListener(t *testing.T) {
	for _, v := range []string{"99", "nonsense"} {
		h := startHelper(t, []string{listenFDEnv + "=" + v})
		if code := h.wait(t); code != 1 {
			t.Errorf("IGNITE_LISTEN_FD=%s: exit code %d, want 1", v, code)
		}
		if s := h.stderr.String(); !strings.HasPrefix(s, "ignite: cannot listen: ") {
			t.Errorf("IGNITE_LISTEN_FD=%s: stderr = %q", v, s)
		}
	}
}

// TestStartReadinessSignal checks the readiness signal: with IGNITE_READY_FD
// set, Start writes one byte to that descriptor once it serves, then closes
// it (the reader sees the byte, then end of file).
func TestStartReadinessSignal(t *testing.T) {
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "fn.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	lf, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	startHelper(t, []string{listenFDEnv + "=3", readyFDEnv + "=4"}, lf, pw)
	lf.Close()
	pw.Close()
	pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(pr)
	if err != nil || string(got) != "1" {
		t.Fatalf("readiness pipe gave %q, %v; want \"1\" then end of file", got, err)
	}
	if code, body := get(t, clientFor("unix", addr), "POST", "hello"); code != 200 || body != "hello" {
		t.Errorf("POST / after the signal = %d %q", code, body)
	}
}
