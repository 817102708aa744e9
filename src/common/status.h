// Status: the one error type of the project. Codes are the gRPC codes, so a single enum drives the HTTP
// status of an API error, the error body's "code", and the CLI's exit code.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ignite {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT" etc.; "UNKNOWN" for values outside the enum.
std::string_view StatusCodeName(StatusCode code);
// HTTP status for a code (decisions.md mapping). kOk -> 200.
int HttpStatusFor(StatusCode code);
// CLI exit code for a code (reference 3.3): 0 ok, 2..10 for the mapped codes, 1 otherwise.
int ExitCodeFor(StatusCode code);
// Maps an integer from the wire back to a code; unknown numbers become kUnknown.
StatusCode StatusCodeFromInt(int value);

// A value type: cheap to copy when OK, carries a human message otherwise. The message should say what went
// wrong and how to fix it; it is shown to users verbatim. [[nodiscard]]: a dropped Status is a bug (write
// `(void)` with a comment where ignoring it is the point).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: app org/x does not exist".
  std::string ToString() const;
  // The HTTP status of this error: the code's (HttpStatusFor), unless a narrower one was set. Only HTTP can
  // say some things more precisely than the gRPC code (413 for a body over its limit is RESOURCE_EXHAUSTED
  // everywhere else); the code still drives the error body and the CLI's exit code.
  int http_status() const { return http_status_ ? http_status_ : HttpStatusFor(code_); }
  Status&& WithHttpStatus(int status) && {
    http_status_ = status;
    return std::move(*this);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_status_ = 0;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
// A request body over its limit: RESOURCE_EXHAUSTED, answered over HTTP with 413.
inline Status PayloadTooLarge(std::string m) {
  return Status(StatusCode::kResourceExhausted, std::move(m)).WithHttpStatus(413);
}

}  // namespace ignite

// Propagates a non-OK Status from an expression returning Status.
#define IGNITE_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::ignite::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)
