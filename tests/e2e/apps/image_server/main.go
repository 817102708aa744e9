// image_server is the HTTP server inside the e2e tests' container images: it answers the platform's health
// probe and echoes every other request back as JSON, together with what the process sees of its own
// sandbox (uid, gid, working directory, a few environment variables), so tests can check what the platform
// forwarded and how it ran the container. Standard library only; built static for linux/amd64.
//
// Environment:
//
//	PORT          the main port (default 80)
//	EXTRA_PORTS   more ports to serve, comma-separated
//	HEALTH_PATH   the health route (default /healthz), answering 200 "ok"
//	NEVER_HEALTHY "1": the health route always answers 503
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

type echo struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	URI     string            `json:"uri"` // the request target as received, undecoded
	Query   string            `json:"query"`
	Headers map[string]string `json:"headers"` // lower-case name: first value
	// lower-case name: every value, in order (shows a header the platform added instead of replacing)
	HeaderValues map[string][]string `json:"header_values"`
	Body         string              `json:"body"`
	Port         string              `json:"port"`
	UID          int                 `json:"uid"`
	GID          int                 `json:"gid"`
	Cwd          string              `json:"cwd"`
	Env          map[string]string   `json:"env"`
	Hostname     string              `json:"hostname"`
	PID          int                 `json:"pid"`
}

func handler(port, healthPath string, neverHealthy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("request %s %s\n", r.Method, r.URL.Path)
		if r.Method == http.MethodGet && r.URL.Path == healthPath {
			w.Header().Set("Content-Type", "text/plain")
			if neverHealthy {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "never healthy")
				return
			}
			io.WriteString(w, "ok")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
			return
		}
		headers := make(map[string]string, len(r.Header))
		values := make(map[string][]string, len(r.Header))
		for k, v := range r.Header {
			if len(v) > 0 {
				headers[strings.ToLower(k)] = v[0]
				values[strings.ToLower(k)] = v
			}
		}
		if r.Host != "" {
			headers["host"] = r.Host
			values["host"] = []string{r.Host}
		}
		cwd, _ := os.Getwd()
		hostname, _ := os.Hostname()
		env := map[string]string{}
		for _, k := range []string{"PORT", "HOME", "GREETING", "PATH"} {
			if v, ok := os.LookupEnv(k); ok {
				env[k] = v
			}
		}
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.Encode(echo{
			Method: r.Method, Path: r.URL.Path, URI: r.RequestURI, Query: r.URL.RawQuery, Headers: headers,
			HeaderValues: values, Body: string(body),
			Port: port, UID: os.Getuid(), GID: os.Getgid(), Cwd: cwd, Env: env, Hostname: hostname,
			PID: os.Getpid(),
		})
		w.Header().Set("Content-Type", "application/json")
		w.Write(out.Bytes())
	})
}

func main() {
	healthPath := envOr("HEALTH_PATH", "/healthz")
	neverHealthy := os.Getenv("NEVER_HEALTHY") == "1"
	ports := []string{envOr("PORT", "80")}
	for _, p := range strings.Split(os.Getenv("EXTRA_PORTS"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			ports = append(ports, p)
		}
	}
	listeners := make([]net.Listener, 0, len(ports))
	for _, p := range ports {
		l, err := net.Listen("tcp", ":"+p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "image_server: listen on :%s: %v\n", p, err)
			os.Exit(1)
		}
		listeners = append(listeners, l)
	}
	fmt.Printf("image_server listening on %s\n", strings.Join(ports, ","))
	errs := make(chan error, len(listeners))
	for i, l := range listeners {
		srv := &http.Server{Handler: handler(ports[i], healthPath, neverHealthy)}
		go func() { errs <- srv.Serve(l) }()
	}
	fmt.Fprintf(os.Stderr, "image_server: %v\n", <-errs)
	os.Exit(1)
}
