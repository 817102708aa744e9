// The platform's readiness probe: `GET /` over an instance's Unix socket, ready on any 2xx answer (the SDK
// answers it without calling the handler). Used for instances started ahead of requests (reserved ones);
// an instance started for a request is ready when it answers that request.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace ignite::instances {

// Blocks until the instance answered or `deadline` passed. Errors: DeadlineExceeded when nothing came in
// time, Unavailable when the connection failed or closed, FailedPrecondition on a non-2xx answer.
Status ProbeReady(const std::string& socket_path, std::chrono::steady_clock::time_point deadline);
// Same, for at most `timeout` of real time from now (DeadlineExceeded at once when it is not positive).
Status ProbeReady(const std::string& socket_path, std::chrono::milliseconds timeout);

}  // namespace ignite::instances
