package ignite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

const (
	// listenFDEnv names the inherited listening socket's descriptor.
	listenFDEnv = "IGNITE_LISTEN_FD"
	// readyFDEnv names the descriptor the readiness signal is written to.
	readyFDEnv = "IGNITE_READY_FD"
	// defaultPort is the local-run TCP port when PORT is unset.
	defaultPort = "8080"
	// shutdownGrace bounds how long in-flight requests may run after SIGTERM.
	shutdownGrace = 30 * time.Second
)

// listen returns the platform's inherited listener (IGNITE_LISTEN_FD) or,
// without one, a TCP listener on :$PORT. It removes IGNITE_LISTEN_FD from
// the environment so child processes do not see it.
func listen() (net.Listener, error) {
	if v, ok := os.LookupEnv(listenFDEnv); ok {
		os.Unsetenv(listenFDEnv)
		fd, err := strconv.ParseUint(v, 10, 31)
		if err != nil {
			return nil, fmt.Errorf("invalid %s=%q", listenFDEnv, v)
		}
		f := os.NewFile(uintptr(fd), "ignite-listener")
		if f == nil {
			return nil, fmt.Errorf("invalid %s=%q", listenFDEnv, v)
		}
		// FileListener duplicates the descriptor (close-on-exec), so the
		// inherited one is closed and no child process inherits it.
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", listenFDEnv, v, err)
		}
		return ln, nil
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = defaultPort
	}
	return net.Listen("tcp", ":"+port)
}

// signalReady writes the readiness signal (one byte) to the descriptor named
// by IGNITE_READY_FD and closes it. Requests already wait in the listener's
// backlog, so the platform reads it as "this instance serves". Without the
// variable (local runs) it does nothing; it removes the variable so child
// processes do not see it.
func signalReady() {
	v, ok := os.LookupEnv(readyFDEnv)
	if !ok {
		return
	}
	os.Unsetenv(readyFDEnv)
	fd, err := strconv.ParseUint(v, 10, 31)
	if err != nil {
		logger.Printf("invalid %s=%q", readyFDEnv, v)
		return
	}
	f := os.NewFile(uintptr(fd), "ignite-ready")
	if f == nil {
		return
	}
	if _, err := f.Write([]byte{'1'}); err != nil {
		logger.Printf("readiness signal: %v", err)
	}
	f.Close()
}

// serve serves h on ln until SIGTERM or interrupt (then shuts down
// gracefully) or until the listener fails. It returns the exit status.
func serve(ln net.Listener, h Handler) int {
	srv := &http.Server{
		Handler:           newServeMux(h),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          logger,
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		logger.Printf("serve: %v", err)
		return 1
	case sig := <-sigs:
		logger.Printf("received %v; shutting down", sig)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Printf("shutdown: %v", err)
		}
		return 0
	}
}

// newServeMux returns the HTTP handler implementing the runtime contract
// around h: health probe, invocation, error and panic mapping.
func newServeMux(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/" && r.ContentLength == 0 {
			writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
			return
		}
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{"reading request body: " + err.Error()})
			return
		}
		ctx := newContext(r)
		executions.begin(ctx.ExecutionID)
		out, err := invoke(h, payload, ctx)
		executions.end(ctx.ExecutionID)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, errorBody{err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out)
	})
}

// invoke calls h, turning a panic into an error after logging it.
func invoke(h Handler, payload []byte, ctx *Context) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			logger.Printf("execution %s: panic: %v\n%s", ctx.ExecutionID, v, debug.Stack())
			out, err = nil, fmt.Errorf("panic: %v", v)
		}
	}()
	return h(payload, ctx)
}

// errorBody is the JSON body of error responses.
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only possible for unencodable values, which callers never pass.
		panic("ignite: encoding response: " + err.Error())
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
