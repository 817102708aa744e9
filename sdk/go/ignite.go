// Package ignite is the Go SDK for Ignite's managed Go runtime.
//
// A function is a package main whose main calls [Start] with a [Handler]:
//
//	func handler(payload []byte, ctx *ignite.Context) ([]byte, error) {
//		return []byte("hello " + ctx.ExecutionID), nil
//	}
//
//	func main() { ignite.Start(handler) }
//
// The SDK owns the HTTP server. The contract it implements:
//
//   - A bare GET or HEAD of "/" without a body is the platform's readiness
//     probe and is answered 200 with {"status":"ok"} (application/json).
//   - Every other request (POST on any path is the documented case) calls the
//     handler with the complete request body as payload.
//   - A nil error gives 200 with the returned bytes verbatim as
//     application/octet-stream. A non-nil error gives 500 with
//     {"error":"<err.Error()>"} as application/json. A panic in the handler is
//     recovered, logged with its stack and answered like an error with the
//     message "panic: <value>"; the process keeps serving.
//   - The listening socket is inherited from the platform as the file
//     descriptor named by IGNITE_LISTEN_FD (a TCP or Unix stream socket).
//     Without it (local runs) the SDK listens on TCP :$PORT, default 8080.
//   - Once it serves, the SDK writes one byte to the descriptor named by
//     IGNITE_READY_FD (when set) and closes it: the platform's readiness
//     signal, which tells a crash while serving a request from a crash on
//     start.
//   - SIGTERM shuts the server down gracefully: in-flight requests get up to
//     30 seconds to finish, then the process exits with status 0.
//
// Use the standard library log package for logging; it writes to stderr,
// which the platform captures. The SDK's own log lines start with "ignite: ".
package ignite

import (
	"log"
	"os"
)

// Version is the version of this SDK. It equals the content of the VERSION
// file next to go.mod; the platform records it with each build.
const Version = "0.2.0"

// Handler processes one invocation. payload is the raw request body. The
// returned bytes become the response body (status 200, content type
// application/octet-stream); a non-nil error becomes a 500 response with a
// JSON body {"error": err.Error()}. Handlers may be called concurrently.
type Handler func(payload []byte, ctx *Context) ([]byte, error)

// logger writes the SDK's own log lines to stderr. It carries no timestamp:
// the platform timestamps every captured line.
var logger = log.New(os.Stderr, "ignite: ", 0)

// Start serves h over HTTP and never returns. It exits the process with
// status 0 after a graceful shutdown on SIGTERM (or interrupt), and with
// status 1 and a log line when the listener cannot be set up or fails.
//
// On Linux the process also asks to be killed when its parent (the
// platform) dies.
func Start(h Handler) {
	if h == nil {
		logger.Print("Start called with a nil Handler")
		os.Exit(1)
	}
	_, managed := os.LookupEnv(listenFDEnv)
	setParentDeathSignal(managed)
	if managed {
		log.SetOutput(&tagWriter{out: os.Stderr})
	}
	ln, err := listen()
	if err != nil {
		logger.Printf("cannot listen: %v", err)
		os.Exit(1)
	}
	signalReady()
	os.Exit(serve(ln, h))
}
