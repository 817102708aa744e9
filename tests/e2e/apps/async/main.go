// A handler for the asynchronous invocation tests: it logs one line naming the request, then optionally
// sleeps, fails, or answers with a large body.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"ignite"
	"log"
	"time"
)

type request struct {
	Echo    string `json:"echo"`
	SleepMs int    `json:"sleep_ms"`
	Fail    string `json:"fail"`
	Big     int    `json:"big"`
}

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	var req request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	log.Printf("async handler: echo=%s", req.Echo)
	if req.SleepMs > 0 {
		time.Sleep(time.Duration(req.SleepMs) * time.Millisecond)
	}
	if req.Fail != "" {
		return nil, errors.New(req.Fail)
	}
	if req.Big > 0 {
		return bytes.Repeat([]byte("x"), req.Big), nil
	}
	return json.Marshal(map[string]string{"echo": req.Echo, "execution_id": ctx.ExecutionID})
}

func main() {
	ignite.Start(handler)
}
