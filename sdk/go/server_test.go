package ignite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestServer serves h through newServeMux on a real local listener.
func newTestServer(t *testing.T, h Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(newServeMux(h))
	t.Cleanup(srv.Close)
	return srv
}

var client = &http.Client{Timeout: 10 * time.Second}

func do(t *testing.T, method, url string, body []byte, header http.Header) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func echo(payload []byte, ctx *Context) ([]byte, error) { return payload, nil }

func TestHealth(t *testing.T) {
	called := false
	srv := newTestServer(t, func([]byte, *Context) ([]byte, error) { called = true; return nil, nil })

	resp, body := do(t, http.MethodGet, srv.URL+"/", nil, nil)
	if resp.StatusCode != 200 || string(body) != `{"status":"ok"}` {
		t.Errorf("GET / = %d %q, want 200 {\"status\":\"ok\"}", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET / Content-Type = %q", ct)
	}
	resp, body = do(t, http.MethodHead, srv.URL+"/", nil, nil)
	if resp.StatusCode != 200 || len(body) != 0 {
		t.Errorf("HEAD / = %d %q", resp.StatusCode, body)
	}
	if called {
		t.Error("health probe reached the handler")
	}
}

func TestRoutingToHandler(t *testing.T) {
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		return []byte("handled:" + string(p)), nil
	})
	for _, tc := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/", nil},
		{"POST", "/", []byte("x")},
		{"POST", "/some/path?q=1", []byte("x")},
		{"GET", "/", []byte("x")}, // GET / with a body is an invocation
		{"GET", "/other", nil},
		{"PUT", "/", []byte("x")},
		{"DELETE", "/thing", nil},
	} {
		resp, body := do(t, tc.method, srv.URL+tc.path, tc.body, nil)
		if want := "handled:" + string(tc.body); resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s %s = %d %q, want 200 %q", tc.method, tc.path, resp.StatusCode, body, want)
		}
	}
}

func TestPayloadVerbatim(t *testing.T) {
	var got []byte
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		got = p
		return p, nil
	})
	all := make([]byte, 0, 512)
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	for i := 255; i >= 0; i-- {
		all = append(all, byte(i))
	}
	resp, body := do(t, http.MethodPost, srv.URL+"/", all, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if !bytes.Equal(got, all) {
		t.Errorf("handler got %d bytes, want the %d sent", len(got), len(all))
	}
	if !bytes.Equal(body, all) {
		t.Errorf("response body differs from the returned bytes")
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q, want application/octet-stream", ct)
	}
	if resp.ContentLength != int64(len(all)) {
		t.Errorf("Content-Length = %d, want %d", resp.ContentLength, len(all))
	}
}

func TestEmptyPayloadAndNilResult(t *testing.T) {
	var got []byte
	calls := 0
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		got = p
		calls++
		return nil, nil
	})
	resp, body := do(t, http.MethodPost, srv.URL+"/", nil, nil)
	if calls != 1 || len(got) != 0 {
		t.Errorf("calls=%d payload=%q, want one call with an empty payload", calls, got)
	}
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != 0 {
		t.Errorf("got %d %q (Content-Length %d), want 200 with an empty body", resp.StatusCode, body, resp.ContentLength)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestErrorResponse(t *testing.T) {
	msg := `bad "input" \ <tag> & ünïcode` + "\n\ttab"
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		return []byte("ignored"), errors.New(msg)
	})
	resp, body := do(t, http.MethodPost, srv.URL+"/", []byte("{}"), nil)
	if resp.StatusCode != 500 {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e map[string]string
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if len(e) != 1 || e["error"] != msg {
		t.Errorf("body %q decodes to %q, want {error: %q}", body, e, msg)
	}
	if want := `{"error":"bad \"input\" \\ <tag> & ünïcode\n\ttab"}`; string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}

func TestPanicRecovered(t *testing.T) {
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		if string(p) == "panic" {
			panic("boom")
		}
		return []byte("fine"), nil
	})
	var logBuf bytes.Buffer
	logger.SetOutput(&logBuf)
	t.Cleanup(func() { logger.SetOutput(os.Stderr) })

	resp, body := do(t, http.MethodPost, srv.URL+"/", []byte("panic"), http.Header{headerExecutionID: {"exec-42"}})
	if resp.StatusCode != 500 || string(body) != `{"error":"panic: boom"}` {
		t.Errorf("got %d %s, want 500 {\"error\":\"panic: boom\"}", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	logged := logBuf.String()
	if !strings.HasPrefix(logged, "ignite: execution exec-42: panic: boom\n") || !strings.Contains(logged, "goroutine") {
		t.Errorf("panic log = %q, want the execution id, value and stack", logged)
	}

	resp, body = do(t, http.MethodPost, srv.URL+"/", []byte("again"), nil)
	if resp.StatusCode != 200 || string(body) != "fine" {
		t.Errorf("request after panic = %d %q, want 200 fine", resp.StatusCode, body)
	}
}

func TestContextFields(t *testing.T) {
	var got *Context
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		got = ctx
		return nil, nil
	})
	do(t, http.MethodPost, srv.URL+"/", []byte("x"), http.Header{
		"X-Ignite-Execution-Id":    {"exec-1"},
		"X-Ignite-Function-Id":     {"fn-2"},
		"X-Ignite-Organization-Id": {"org-3"},
		"X-Custom":                 {"a", "b"},
	})
	if got == nil {
		t.Fatal("handler not called")
	}
	if got.ExecutionID != "exec-1" || got.FunctionID != "fn-2" || got.OrganizationID != "org-3" {
		t.Errorf("context = %+v", got)
	}
	if v := got.Headers.Values("X-Custom"); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Errorf("Headers[X-Custom] = %q, want [a b]", v)
	}
	if got.Headers.Get("X-Ignite-Function-Id") != "fn-2" {
		t.Errorf("Headers lacks the platform headers: %v", got.Headers)
	}

	// Without the platform headers (local runs) a random execution id is made.
	ids := map[string]bool{}
	for i := 0; i < 3; i++ {
		do(t, http.MethodPost, srv.URL+"/", []byte("x"), nil)
		if len(got.ExecutionID) != 36 || got.FunctionID != "" || got.OrganizationID != "" {
			t.Errorf("local context = %+v", got)
		}
		ids[got.ExecutionID] = true
	}
	if len(ids) != 3 {
		t.Errorf("generated execution ids are not unique: %v", ids)
	}
}

func TestConcurrentRequests(t *testing.T) {
	const n = 20
	var arrived sync.WaitGroup
	arrived.Add(n)
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	srv := newTestServer(t, func(p []byte, ctx *Context) ([]byte, error) {
		arrived.Done()
		select {
		case <-all:
			return p, nil
		case <-time.After(10 * time.Second):
			return nil, errors.New("not all requests arrived concurrently")
		}
	})
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			want := fmt.Sprint(i)
			resp, err := c.Post(srv.URL+"/", "text/plain", strings.NewReader(want))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != want {
				errs <- fmt.Errorf("request %d: %d %q", i, resp.StatusCode, b)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestBodyReadError(t *testing.T) {
	called := false
	srv := newTestServer(t, func([]byte, *Context) ([]byte, error) { called = true; return nil, nil })
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// Announce 100 bytes, send 5, then close our side: reading the body fails.
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello")
	conn.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(conn)
	resp := string(b)
	if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.Contains(resp, "Content-Type: application/json") ||
		!strings.Contains(resp, `{"error":"reading request body: `) {
		t.Errorf("response = %q, want a 400 JSON error", resp)
	}
	if called {
		t.Error("handler called despite the body read error")
	}
}

func TestVersionFile(t *testing.T) {
	b, err := os.ReadFile("VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(b)); v != Version {
		t.Errorf("VERSION file says %q, ignite.Version is %q", v, Version)
	}
}
