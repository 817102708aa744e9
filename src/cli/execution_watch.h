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

// Decodes WatchExecution; finished() once an execution with a terminal status arrived.
class ExecutionWatchDecoder : public ResultStreamDecoder<dodil::ignite::v1::Execution> {
 public:
  using OnExecution = std::function<void(const dodil::ignite::v1::Execution&)>;
  explicit ExecutionWatchDecoder(OnExecution on_execution);
  const dodil::ignite::v1::Execution& final_execution() const { return final_message(); }
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
