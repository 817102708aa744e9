// Package ignite, the image shim: the Go SDK's Start and Context, served the container way (HTTP on $PORT,
// GET /healthz for readiness) instead of on the platform's inherited socket. tests/e2e/images.py builds the
// hostile app (apps/hostile) against it, so test_sandbox.py runs the very same attacks inside an image.
package ignite

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
)

// Context is the part of the SDK's Context the test apps use.
type Context struct {
	ExecutionID    string
	FunctionID     string
	OrganizationID string
	Headers        http.Header
}

// Start serves handler on $PORT (80 by default) until the process ends.
func Start(handler func([]byte, *Context) ([]byte, error)) {
	port := os.Getenv("PORT")
	if port == "" {
		port = "80"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx := &Context{ExecutionID: r.Header.Get("X-Ignite-Execution-Id"), FunctionID: r.Header.Get("X-Ignite-Function-Id"),
			OrganizationID: r.Header.Get("X-Ignite-Organization-Id"), Headers: r.Header}
		out, err := handler(body, ctx)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	})
	if err := http.ListenAndServe(":"+port, mux); err != nil {
		os.Stderr.WriteString("image shim: " + err.Error() + "\n")
		os.Exit(1)
	}
}
