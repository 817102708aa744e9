#include "cli/execution_watch.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "cli/output.h"

namespace ignite::cli {
namespace {

namespace v1 = dodil::ignite::v1;


std::string OutputBlock(const std::string& output) {
  if (output.empty()) return "";
  if (!IsValidUtf8(output)) {
    return fmt::format("Output: {} of binary data (-o json shows it, base64)\n",
                       FormatBytes(static_cast<int64_t>(output.size())));
  }
  std::string text = "Output:\n" + output;
  if (text.back() != '\n') text += '\n';
  return text;
}

}  // namespace

bool IsTerminalExecutionStatus(v1::ExecutionStatus status) {
  return status == v1::EXECUTION_STATUS_SUCCEEDED || status == v1::EXECUTION_STATUS_FAILED ||
         status == v1::EXECUTION_STATUS_TIMED_OUT;
}

ExecutionWatchDecoder::ExecutionWatchDecoder(OnExecution on_execution)
    : ResultStreamDecoder([](const v1::Execution& e) { return IsTerminalExecutionStatus(e.status()); },
                          std::move(on_execution), "execution watch",
                          "the execution watch stream ended before the execution finished (the connection to "
                          "ignited was cut); run `execution watch` again to pick it up") {}

std::string ExecutionStatusLabel(v1::ExecutionStatus status) {
  std::string label = EnumLabel(v1::ExecutionStatus_Name(status), "EXECUTION_STATUS_");
  for (char& c : label) {
    if (c == '_' || c == '-') c = ' ';
  }
  return label;
}

std::string RenderExecution(const v1::Execution& e) {
  const bool terminal = IsTerminalExecutionStatus(e.status());
  std::string text = RenderKeyValues({
      {"Execution", e.execution_id()},
      {"App", e.app_id()},
      {"Version", e.version() > 0 ? std::to_string(e.version()) : ""},
      {"Status", ExecutionStatusLabel(e.status())},
      {"Response status", e.response_status() > 0 ? std::to_string(e.response_status()) : ""},
      {"Duration", terminal && e.started_at_ms() > 0 ? fmt::format("{} ms", e.duration_ms()) : ""},
      {"Cold start", e.started_at_ms() > 0 && e.response_status() > 0 ? (e.cold_start() ? "yes" : "no") : ""},
      {"Created", FormatTimeMs(e.created_at_ms())},
      {"Started", FormatTimeMs(e.started_at_ms())},
      {"Finished", FormatTimeMs(e.finished_at_ms())},
      {"Error", e.error()},
  });
  return text + OutputBlock(e.output());
}

std::string RenderExecutionState(const v1::Execution& e) {
  std::string line = ExecutionStatusLabel(e.status());
  if (IsTerminalExecutionStatus(e.status())) {
    std::vector<std::string> details;
    if (e.response_status() > 0) details.push_back(fmt::format("HTTP {}", e.response_status()));
    if (e.started_at_ms() > 0) details.push_back(fmt::format("{} ms", e.duration_ms()));
    if (e.cold_start()) details.push_back("cold start");
    for (size_t i = 0; i < details.size(); ++i) line += (i == 0 ? " (" : ", ") + details[i];
    if (!details.empty()) line += ")";
    if (!e.error().empty()) line += ": " + e.error();
  }
  return line + "\n";
}

Status ExecutionOutcome(const v1::Execution& e) {
  if (e.status() == v1::EXECUTION_STATUS_SUCCEEDED) return OkStatus();
  std::string message = fmt::format("execution {} {}", e.execution_id(), ExecutionStatusLabel(e.status()));
  if (!e.error().empty()) message += ": " + e.error();
  return Status(StatusCode::kUnknown, message);
}

}  // namespace ignite::cli
