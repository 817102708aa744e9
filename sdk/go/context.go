package ignite

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// Request headers the platform sets on every invocation. It strips copies
// sent by clients, so their values can be trusted.
const (
	headerExecutionID    = "X-Ignite-Execution-Id"
	headerFunctionID     = "X-Ignite-Function-Id"
	headerOrganizationID = "X-Ignite-Organization-Id"
)

// Context describes the invocation a [Handler] is serving.
type Context struct {
	// ExecutionID identifies this invocation (header X-Ignite-Execution-Id).
	// When the header is absent, as in local runs, it is a random UUID.
	ExecutionID string
	// FunctionID is the ID of the app being invoked (header
	// X-Ignite-Function-Id); empty in local runs.
	FunctionID string
	// OrganizationID is the ID of the organization owning the app (header
	// X-Ignite-Organization-Id); empty in local runs.
	OrganizationID string
	// Headers holds the inbound request headers, including the ones above.
	Headers http.Header
}

// newContext builds the Context of the request r.
func newContext(r *http.Request) *Context {
	id := r.Header.Get(headerExecutionID)
	if id == "" {
		id = randomID()
	}
	return &Context{
		ExecutionID:    id,
		FunctionID:     r.Header.Get(headerFunctionID),
		OrganizationID: r.Header.Get(headerOrganizationID),
		Headers:        r.Header,
	}
}

// randomID returns a random version 4 UUID.
func randomID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error; crashes the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}
