// The request-body test app (tests/e2e/test_request_limits.py). The SDK reads each request body whole
// before the handler runs, so a body larger than the instance's memory limit gets it killed mid-upload.
//
// The x-mode request header picks what it does:
//   - "count": {"calls": N, "bytes": B}, the calls (other than "count" ones) this instance's handler ran and
//     the body bytes they got: how a test sees that nothing of a refused request reached the handler.
//   - "sleep": waits x-sleep-ms milliseconds (default 2000), then answers like the default; keeps a call in
//     flight while another one takes the instance down.
//   - anything else: {"bytes": <payload length>, "replica": IGNITE_REPLICA_ID}.
package main

import (
	"encoding/json"
	"ignite"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

var calls, total atomic.Int64

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	mode := ctx.Headers.Get("x-mode")
	if mode == "count" {
		return json.Marshal(map[string]int64{"calls": calls.Load(), "bytes": total.Load()})
	}
	calls.Add(1)
	total.Add(int64(len(payload)))
	if mode == "sleep" {
		ms, err := strconv.Atoi(ctx.Headers.Get("x-sleep-ms"))
		if err != nil {
			ms = 2000
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return json.Marshal(map[string]any{"bytes": len(payload), "replica": os.Getenv("IGNITE_REPLICA_ID")})
}

func main() {
	ignite.Start(handler)
}
