// --debug / $IGNITE_DEBUG: a Transport that logs every exchange to stderr. The CLI speaks plain HTTP to
// ignited (there is no TLS to turn off, unlike the hosted service's gRPC endpoint the reference describes),
// so this is what --debug does here.
#pragma once

#include <memory>
#include <ostream>

#include "cli/api_client.h"

namespace ignite::cli {

// Wraps `inner`. For each exchange, writes to `log`:
//   "debug: > POST /v1/ignite/app/org/hello/draft (1234 bytes)" and one "debug: >   Name: value" line per
//   header (Authorization shown as "Bearer ****" plus the token's last 4 characters);
//   "debug: < 200 in 12 ms (345 bytes)" when the answer is complete, or "debug: < failed after 12 ms: <why>";
//   for a non-2xx answer, its body (at most 1 KiB), since that is the error.
// Request and 2xx bodies are never logged: they carry payloads, code and, for `dodil login`, secrets.
// `log` must outlive the transport; not thread-safe (one exchange at a time, like the CLI).
std::unique_ptr<Transport> WithDebugLogging(std::unique_ptr<Transport> inner, std::ostream& log);

}  // namespace ignite::cli
