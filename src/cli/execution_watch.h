// Executions in the CLI: following WatchExecution (GET /v1/ignite/executions/{id}/watch: NDJSON lines, each
// {"result": <Execution>}, or a final {"error": {code, message, details}}; the last result has a terminal
// status), and how `execution get|watch` render an execution.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cli/ndjson.h"
#include "common/status.h"
#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {

// SUCCEEDED, FAILED and TIMED_OUT.
bool IsTerminalExecutionStatus(dodil::ignite::v1::ExecutionStatus status);

class ExecutionWatchDecoder {
 public:
  using OnExecution = std::function<void(const dodil::ignite::v1::Execution&)>;

  explicit ExecutionWatchDecoder(OnExecution on_execution) : on_execution_(std::move(on_execution)) {}

  // Takes the next bytes of the stream, split anywhere; each complete line's execution goes to
  // `on_execution` at once. Returns the first failure (an {"error": ...} line as its Status; a line that is
  // not {"result": <Execution>} as kInternal), after which input is ignored and the failure repeated.
  Status Feed(std::string_view bytes);
  // The stream is over: decodes a last unterminated line. Without a terminal execution (and no error) the
  // stream was cut short: kUnknown.
  Status Finish();

  bool finished() const { return finished_; }
  const dodil::ignite::v1::Execution& final_execution() const { return final_; }

 private:
  Status DecodeLine(std::string_view line);

  OnExecution on_execution_;
  NdjsonLines lines_;
  Status failure_;
  bool finished_ = false;
  dodil::ignite::v1::Execution final_;
};

// "pending", "running", "succeeded", "failed", "timed out" ("" for unspecified).
std::string ExecutionStatusLabel(dodil::ignite::v1::ExecutionStatus status);

// `execution get`'s table: the metadata as key/value lines, then the output: its text when it is valid
// UTF-8 (under an "Output:" line), else its size.
std::string RenderExecution(const dodil::ignite::v1::Execution& execution);

// One line per state for `execution watch`: "<status>" plus, for a terminal state, the response status,
// duration, cold start and error; e.g. "succeeded (HTTP 200, 1004 ms, cold start)".
std::string RenderExecutionState(const dodil::ignite::v1::Execution& execution);

// OK for SUCCEEDED; otherwise kUnknown (exit 1) "execution <id> <status>: <error>".
Status ExecutionOutcome(const dodil::ignite::v1::Execution& execution);

}  // namespace ignite::cli
