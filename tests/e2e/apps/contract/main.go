// The contract test app: the X-Mode request header picks a behaviour.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"ignite"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// barrier state for mode "gather": callers of one group wait until n have arrived.
var (
	mu      sync.Mutex
	cond    = sync.NewCond(&mu)
	arrived = map[string]int{}
)

func gather(spec string) ([]byte, error) {
	group, nstr, _ := strings.Cut(spec, ":")
	n, err := strconv.Atoi(nstr)
	if err != nil {
		return nil, fmt.Errorf("gather wants group:n, got %q", spec)
	}
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	defer timer.Stop()
	mu.Lock()
	defer mu.Unlock()
	arrived[group]++
	cond.Broadcast()
	for arrived[group] < n {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d arrived within 10s", arrived[group], n)
		}
		cond.Wait()
	}
	return json.Marshal(map[string]any{"arrived": arrived[group], "instance": os.Getenv("IGNITE_REPLICA_ID")})
}

func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
	switch mode := ctx.Headers.Get("X-Mode"); mode {
	case "", "echo":
		return payload, nil
	case "context":
		sum := sha256.Sum256(payload)
		return json.Marshal(map[string]any{
			"executionId":    ctx.ExecutionID,
			"functionId":     ctx.FunctionID,
			"organizationId": ctx.OrganizationID,
			"headers":        ctx.Headers,
			"payloadLen":     len(payload),
			"payloadNil":     payload == nil,
			"payloadSha256":  hex.EncodeToString(sum[:]),
			"instance":       os.Getenv("IGNITE_REPLICA_ID"),
		})
	case "error":
		return []byte("discarded"), errors.New(string(payload))
	case "panic":
		panic(string(payload))
	case "exit":
		os.Exit(3)
	case "log":
		log.Printf("%s execution=%s", payload, ctx.ExecutionID)
		return []byte("logged"), nil
	case "gather":
		return gather(string(payload))
	case "big":
		// payload "big:N": N MiB of bytes i%251.
		mib, err := strconv.Atoi(strings.TrimPrefix(string(payload), "big:"))
		if err != nil {
			return nil, err
		}
		out := make([]byte, mib<<20)
		for i := range out {
			out[i] = byte(i % 251)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	return nil, nil
}

func main() {
	ignite.Start(handler)
}
