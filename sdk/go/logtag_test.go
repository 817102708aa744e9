package ignite

import (
	"bytes"
	"log"
	"testing"
)

func TestTagWriterTagsOnlyASingleExecution(t *testing.T) {
	var out bytes.Buffer
	l := log.New(&tagWriter{out: &out}, "", 0)

	l.Print("before")
	executions.begin("E1")
	l.Print("during")
	executions.begin("E2")
	l.Print("two running")
	executions.end("E2")
	executions.end("E1")
	l.Print("after")

	want := "before\n\x1eexec=E1\x1eduring\ntwo running\nafter\n"
	if got := out.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
