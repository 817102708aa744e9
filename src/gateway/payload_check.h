// Seams of the invoke path that the API layer fills in: a check of the request payload (an app's input JSON
// Schema, compiled once when its route is built) and an observer of finished invocations (execution stats).
// The gateway knows neither JSON Schema nor the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ignite::gateway {

// An immutable, thread-safe check of a whole request payload.
class PayloadCheck {
 public:
  virtual ~PayloadCheck() = default;
  // OK, or InvalidArgument saying what in the payload is wrong (and where).
  virtual Status Check(std::string_view payload) const = 0;
  // Payloads larger than this are refused (InvalidArgument) without being checked: the gateway must hold the
  // whole payload to check it.
  virtual size_t max_bytes() const = 0;
};

// One finished invocation of an app's serving route (tests of drafts and versions are not counted).
struct InvocationOutcome {
  std::string app_id;  // "org/app"
  std::string org_id;
  uint32_t version = 0;
  int64_t finished_at_ms = 0;  // Unix ms
  int64_t duration_ms = 0;
  unsigned status = 0;  // the handler's HTTP status, the platform's 502/503/504, or 429/503 when none ran
  bool cold = false;
};

class InvocationObserver {
 public:
  virtual ~InvocationObserver() = default;
  // Called on the invoking thread (an event loop) once per invocation: must not block.
  virtual void OnInvocation(InvocationOutcome outcome) = 0;
};

}  // namespace ignite::gateway
