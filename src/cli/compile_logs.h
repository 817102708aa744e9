// Following a build's log (StreamCompileLogs: GET /v1/ignite/compile/{deploy_id}/logs): NDJSON lines, each
// {"result": <CompileLogEntry>}, or a final {"error": {code, message, details}} when the stream fails. Every
// entry carries the build's status at the time; the stream ends after the entry with the final one.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/ndjson.h"
#include "cli/output.h"
#include "common/status.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::cli {

class ApiClient;

// SUCCEEDED, FAILED and CANCELLED.
bool IsTerminalBuildStatus(dodil::ignite::v1::BuildStatus status);

// Decodes StreamCompileLogs; finished() once an entry with a final build status arrived.
class CompileLogDecoder : public ResultStreamDecoder<dodil::ignite::v1::CompileLogEntry> {
 public:
  using OnEntry = std::function<void(const dodil::ignite::v1::CompileLogEntry&)>;
  explicit CompileLogDecoder(OnEntry on_entry);
  const dodil::ignite::v1::CompileLogEntry& final_entry() const { return final_message(); }
};

// What a command following build `deploy_id` ends with, given the build's final entry: OK for SUCCEEDED;
// for FAILED or CANCELLED a Status with the entry's error_code (0 or unknown numbers -> kUnknown, so exit 1)
// and its error text (or "build <id> failed" / "build <id> was cancelled" when it has none).
Status BuildOutcome(std::string_view deploy_id, const dodil::ignite::v1::CompileLogEntry& final_entry);

// Shows log entries as they arrive. Table: each entry's `line` on `out` (entries without one, pure status
// updates, print nothing), and "waiting for a build slot (position N)" on `err` whenever a PENDING entry
// shows a new queue position. Json: each entry as one compact JSON line on `out` (the waiting notes still
// go to `err`).
class CompileLogPrinter {
 public:
  CompileLogPrinter(std::ostream& out, std::ostream& err, OutputFormat format)
      : out_(out), err_(err), format_(format) {}

  void OnEntry(const dodil::ignite::v1::CompileLogEntry& entry);

 private:
  std::ostream& out_;
  std::ostream& err_;
  OutputFormat format_;
  uint32_t shown_position_ = 0;
};

// Streams build `deploy_id`'s log through a CompileLogPrinter until the build ends, then returns its
// BuildOutcome, after printing "Build <id> succeeded" on `err` for a successful one. Failures to stream
// (HTTP errors, an error line, a cut connection before the final status) are returned as they are.
Status FollowCompileLogs(ApiClient& client, const std::string& deploy_id, std::ostream& out, std::ostream& err,
                         OutputFormat format);

// The message as one line of protobuf JSON (camelCase, no whitespace), without a newline.
std::string MessageToCompactJson(const google::protobuf::Message& message);

}  // namespace ignite::cli
