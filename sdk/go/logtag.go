package ignite

import (
	"io"
	"sync"
)

// When the platform runs the instance, lines written through the standard
// log package are tagged with the execution they belong to, so the
// platform's log store can attribute them. Go has no goroutine-local
// storage, so the execution is known only while exactly one is in flight;
// lines written while several run concurrently (or with fmt to os.Stderr)
// stay untagged. The platform strips the tag: users never see it.

// inflight tracks the executions currently running in this process.
type inflight struct {
	mu  sync.Mutex
	ids map[string]int
}

var executions = &inflight{ids: map[string]int{}}

func (f *inflight) begin(id string) {
	f.mu.Lock()
	f.ids[id]++
	f.mu.Unlock()
}

func (f *inflight) end(id string) {
	f.mu.Lock()
	if f.ids[id]--; f.ids[id] <= 0 {
		delete(f.ids, id)
	}
	f.mu.Unlock()
}

// only returns the single in-flight execution id, or "".
func (f *inflight) only() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ids) != 1 {
		return ""
	}
	for id := range f.ids {
		return id
	}
	return ""
}

// tagWriter prefixes each write (the log package writes one line per call)
// with "\x1eexec=<id>\x1e" when exactly one execution is in flight.
type tagWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (t *tagWriter) Write(p []byte) (int, error) {
	id := executions.only()
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == "" {
		return t.out.Write(p)
	}
	buf := make([]byte, 0, len(id)+7+len(p))
	buf = append(buf, "\x1eexec="...)
	buf = append(buf, id...)
	buf = append(buf, '\x1e')
	buf = append(buf, p...)
	if _, err := t.out.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
