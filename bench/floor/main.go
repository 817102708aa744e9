// floor: helper of bench/cold_start.sh.
//
//	floor spawn -bin PATH [-n 200] [-warmup 5] [-payload JSON] [-dir DIR] [-env K=V]... [-- ARGS...]
//	    The bare floor of a cold start: per iteration, bind a Unix listening socket, spawn PATH (with ARGS,
//	    in DIR, with the extra environment, e.g. an interpreter and its script) with it as
//	    fd 3 (IGNITE_LISTEN_FD=3, like ignited does), immediately send `POST /` with the payload over the
//	    socket (the request waits in the kernel backlog until the program accepts), and time spawn -> the
//	    complete HTTP 200 answer; then SIGKILL the process and reap it.
//
//	floor cold -url URL -token T -run-dir DIR -prefix P [-n 60] [-payload JSON] [-max-wait 3s]
//	    Cold starts through the platform: per iteration, wait until the app's instance has been reaped (no
//	    DIR/P*.sock left; give up after -max-wait), then time one invoke over a kept-alive HTTP connection
//	    from writing the request to reading the whole NDJSON answer, and read coldStart and durationMs from
//	    the trailer.
//
//	floor port -root DIR -port N [-health /healthz] [-n 60] [-gap 1200ms] [-runc BUNDLE] [-- PROGRAM ARGS...]
//	    The floor of a container image's cold start (bench/image_cold_start.sh): per iteration, start PROGRAM
//	    chrooted into the unpacked image root DIR with PORT=N (or, with -runc, `runc run -d` of BUNDLE, whose
//	    config runs the same program in the same root on the host's network), poll GET -health on
//	    127.0.0.1:N every 0.5 ms until it answers 2xx, send `POST /` with the payload, and time start -> the
//	    complete 200; then kill it.
//
// Both print `key=value` lines (times in milliseconds, nearest-rank percentiles) for the calling script.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor spawn|cold [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "spawn":
		err = spawnMain(os.Args[2:])
	case "cold":
		err = coldMain(os.Args[2:])
	case "port":
		err = portMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------------------------- spawn

func spawnMain(args []string) error {
	fs := flag.NewFlagSet("spawn", flag.ExitOnError)
	bin := fs.String("bin", "", "the instance binary")
	n := fs.Int("n", 200, "measured iterations")
	warmup := fs.Int("warmup", 5, "unmeasured iterations first")
	payload := fs.String("payload", `{"name":"bench"}`, "request body")
	samplesOut := fs.String("samples", "", "write every sample (ms) to this file")
	gap := fs.Duration("gap", 0, "idle pause before each iteration (a platform cold start always follows one)")
	dir0 := fs.String("dir", "/", "working directory of the spawned program")
	var extraEnv envList
	fs.Var(&extraEnv, "env", "extra environment variable K=V (repeatable)")
	fs.Parse(args)
	prog := spawnProgram{bin: *bin, args: fs.Args(), dir: *dir0, env: extraEnv}
	if *bin == "" {
		return fmt.Errorf("-bin is required")
	}
	dir, err := os.MkdirTemp("", "floor-sock-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	req := fmt.Sprintf("POST / HTTP/1.1\r\nHost: instance\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(*payload), *payload)
	var samples []float64
	for i := 0; i < *warmup+*n; i++ {
		if *gap > 0 {
			time.Sleep(*gap)
		}
		d, err := spawnOnce(prog, filepath.Join(dir, fmt.Sprintf("i%d.sock", i)), []byte(req))
		if err != nil {
			return fmt.Errorf("iteration %d: %w", i, err)
		}
		if i >= *warmup {
			samples = append(samples, ms(d))
		}
	}
	printStats("floor", samples)
	return writeSamples(*samplesOut, samples)
}

// envList collects repeated -env flags.
type envList []string

func (e *envList) String() string     { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error { *e = append(*e, v); return nil }

// spawnProgram is what spawn starts each iteration.
type spawnProgram struct {
	bin  string
	args []string
	dir  string
	env  []string
}

func spawnOnce(p spawnProgram, sockPath string, req []byte) (time.Duration, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sockPath, Net: "unix"})
	if err != nil {
		return 0, err
	}
	defer ln.Close() // also unlinks the path
	lf, err := ln.File()
	if err != nil {
		return 0, err
	}
	defer lf.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.ExtraFiles = []*os.File{lf} // fd 3
	cmd.Env = append([]string{"IGNITE_LISTEN_FD=3", "IGNITE_REPLICA_ID=floor-1", "IGNITE_FUNCTION_ID=org/floor",
		"PATH=/usr/local/bin:/usr/bin:/bin"}, p.env...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	d, rerr := func() (time.Duration, error) {
		conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: sockPath, Net: "unix"})
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		if _, err := conn.Write(req); err != nil {
			return 0, err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return 0, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		d := time.Since(start)
		if resp.StatusCode != 200 {
			return 0, fmt.Errorf("status %d: %s", resp.StatusCode, body)
		}
		return d, nil
	}()
	cmd.Process.Kill()
	cmd.Wait()
	return d, rerr
}

// ----------------------------------------------------------------------------------------------- port

func portMain(args []string) error {
	fs := flag.NewFlagSet("port", flag.ExitOnError)
	root := fs.String("root", "", "the unpacked image root to chroot into")
	port := fs.Int("port", 0, "the port the program binds ($PORT)")
	health := fs.String("health", "/healthz", "the readiness path")
	n := fs.Int("n", 60, "measured iterations")
	warmup := fs.Int("warmup", 2, "unmeasured iterations first")
	gap := fs.Duration("gap", 0, "idle pause before each iteration")
	bundle := fs.String("runc", "", "start the runc bundle at this path instead of chrooting PROGRAM")
	payload := fs.String("payload", `{"name":"bench"}`, "request body")
	fs.Parse(args)
	if *port == 0 || (*bundle == "" && (*root == "" || fs.NArg() == 0)) {
		return fmt.Errorf("-port and either -runc BUNDLE or -root DIR -- PROGRAM are required")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	var samples []float64
	for i := 0; i < *warmup+*n; i++ {
		if *gap > 0 {
			time.Sleep(*gap)
		}
		var cmd *exec.Cmd
		id := fmt.Sprintf("floor-%d-%d", os.Getpid(), i)
		if *bundle != "" {
			cmd = exec.Command("runc", "run", "-d", "--bundle", *bundle, id)
		} else {
			cmd = exec.Command(fs.Arg(0), fs.Args()[1:]...)
			cmd.Env = []string{fmt.Sprintf("PORT=%d", *port), "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp"}
			cmd.Dir = "/"
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: *root, Setpgid: true,
				Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		d, err := serveOnce(addr, *health, *payload, start)
		if *bundle != "" {
			cmd.Wait() // runc run -d returns once the container runs
			exec.Command("runc", "delete", "-f", id).Run()
		} else {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}
		if err != nil {
			return fmt.Errorf("iteration %d: %w", i, err)
		}
		if i >= *warmup {
			samples = append(samples, ms(d))
		}
	}
	printStats("floor", samples)
	return nil
}

// serveOnce polls the health path until it answers 2xx (10 s at most), then times one POST / answered 200.
func serveOnce(addr, health, payload string, start time.Time) (time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	for {
		r, err := client.Get("http://" + addr + health)
		if err == nil {
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode/100 == 2 {
				break
			}
		}
		if time.Since(start) > 10*time.Second {
			return 0, fmt.Errorf("%s%s never answered 2xx: %v", addr, health, err)
		}
		time.Sleep(500 * time.Microsecond)
	}
	r, err := client.Post("http://"+addr+"/", "application/json", strings.NewReader(payload))
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	d := time.Since(start)
	if err != nil || r.StatusCode != 200 {
		return 0, fmt.Errorf("POST /: HTTP %d %v: %s", r.StatusCode, err, truncate(body))
	}
	return d, nil
}

// ----------------------------------------------------------------------------------------------- cold

func coldMain(args []string) error {
	fs := flag.NewFlagSet("cold", flag.ExitOnError)
	url := fs.String("url", "", "the invoke URL")
	token := fs.String("token", "", "bearer token")
	runDir := fs.String("run-dir", "", "ignited's <data-dir>/run")
	prefix := fs.String("prefix", "", "socket name prefix of the app's instances (the app name and a dash)")
	n := fs.Int("n", 60, "invocations after a pause")
	payload := fs.String("payload", `{"name":"bench"}`, "request body")
	minWait := fs.Duration("min-wait", 0, "always pause at least this long before an invocation")
	maxWait := fs.Duration("max-wait", 3*time.Second, "give up waiting for the instance to be reaped after this")
	samplesOut := fs.String("samples", "", "write every cold sample (ms) to this file")
	fs.Parse(args)

	tr := &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Hour, DisableCompression: true}
	client := &http.Client{Transport: tr}
	// Open the kept-alive connection before the first measurement.
	health := strings.Replace(*url, "/v1/ignite/app/", "/v1/ignite/health?", 1)
	if r, err := client.Get(health); err == nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}

	var cold, coldDur, warm, warmDur []float64
	var reused, notReaped, errors int
	var lastErr string
	for i := 0; i < *n; i++ {
		if *minWait > 0 {
			time.Sleep(*minWait)
		}
		if !waitReaped(*runDir, *prefix, *maxWait) {
			notReaped++
		}
		var gotReused bool
		trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { gotReused = ci.Reused }}
		req, _ := http.NewRequest("POST", *url, bytes.NewReader([]byte(*payload)))
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))

		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			errors++
			lastErr = err.Error()
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if gotReused {
			reused++
		}
		if err != nil || resp.StatusCode != 200 {
			errors++
			lastErr = fmt.Sprintf("HTTP %d %v: %s", resp.StatusCode, err, truncate(body))
			continue
		}
		f, err := parseFrames(body)
		if err != nil || f.status != 200 || f.trailerErr != "" {
			errors++
			lastErr = fmt.Sprintf("head status %d, trailer error %q, parse %v: %s", f.status, f.trailerErr, err, truncate(body))
			continue
		}
		if f.cold {
			cold = append(cold, ms(d))
			coldDur = append(coldDur, f.durationMs)
		} else {
			warm = append(warm, ms(d))
			warmDur = append(warmDur, f.durationMs)
		}
	}
	fmt.Printf("requested=%d\nerrors=%d\nlast_error=%q\nreused_connections=%d\nnot_reaped_before_invoke=%d\n",
		*n, errors, lastErr, reused, notReaped)
	printStats("cold", cold)
	printStats("cold_trailer_duration", coldDur)
	printStats("warm", warm)
	printStats("warm_trailer_duration", warmDur)
	return writeSamples(*samplesOut, cold)
}

// waitReaped polls until no dir/prefix*.sock exists (the platform unlinks an instance's socket once it has
// stopped and reaped it). False if one is still there after max.
func waitReaped(dir, prefix string, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for {
		m, _ := filepath.Glob(filepath.Join(dir, prefix+"*.sock"))
		if len(m) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type frames struct {
	status     int
	cold       bool
	durationMs float64
	trailerErr string
}

// parseFrames reads the NDJSON answer: {"result":{"head":...}}, {"result":{"chunk":...}}...,
// {"result":{"trailer":{"durationMs":"12","coldStart":true}}} (default values are left out).
func parseFrames(body []byte) (frames, error) {
	var f frames
	sawTrailer := false
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m struct {
			Result struct {
				Head *struct {
					Status int `json:"status"`
				} `json:"head"`
				Trailer *struct {
					DurationMs json.RawMessage `json:"durationMs"`
					ColdStart  bool            `json:"coldStart"`
					Error      string          `json:"error"`
				} `json:"trailer"`
			} `json:"result"`
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return f, err
		}
		if len(m.Error) > 0 {
			return f, fmt.Errorf("error frame %s", m.Error)
		}
		if h := m.Result.Head; h != nil {
			f.status = h.Status
		}
		if t := m.Result.Trailer; t != nil {
			sawTrailer = true
			f.cold = t.ColdStart
			f.trailerErr = t.Error
			s := strings.Trim(string(t.DurationMs), `"`)
			if s != "" {
				f.durationMs, _ = strconv.ParseFloat(s, 64)
			}
		}
	}
	if !sawTrailer {
		return f, fmt.Errorf("no trailer frame")
	}
	return f, nil
}

// ---------------------------------------------------------------------------------------------- stats

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// percentile: nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	r := int(math.Ceil(p / 100 * float64(len(sorted))))
	if r < 1 {
		r = 1
	}
	return sorted[r-1]
}

func printStats(name string, v []float64) {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	fmt.Printf("%s_n=%d\n", name, len(s))
	if len(s) == 0 {
		return
	}
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	fmt.Printf("%s_min_ms=%.3f\n%s_p50_ms=%.3f\n%s_p90_ms=%.3f\n%s_p99_ms=%.3f\n%s_max_ms=%.3f\n%s_mean_ms=%.3f\n",
		name, s[0], name, percentile(s, 50), name, percentile(s, 90), name, percentile(s, 99), name, s[len(s)-1],
		name, sum/float64(len(s)))
}

func writeSamples(path string, v []float64) error {
	if path == "" {
		return nil
	}
	var b strings.Builder
	for _, x := range v {
		fmt.Fprintf(&b, "%.3f\n", x)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
