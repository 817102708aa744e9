#include "cli/compile_logs.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "cli/api_client.h"

namespace ignite::cli {
namespace {

namespace v1 = dodil::ignite::v1;


}  // namespace

bool IsTerminalBuildStatus(v1::BuildStatus status) {
  return status == v1::BUILD_STATUS_SUCCEEDED || status == v1::BUILD_STATUS_FAILED ||
         status == v1::BUILD_STATUS_CANCELLED;
}

CompileLogDecoder::CompileLogDecoder(OnEntry on_entry)
    : ResultStreamDecoder([](const v1::CompileLogEntry& e) { return IsTerminalBuildStatus(e.status()); },
                          std::move(on_entry), "compile log",
                          "the compile log stream ended before the build finished (the connection to ignited was "
                          "cut); run `draft compile-logs` again to pick it up") {}

Status BuildOutcome(std::string_view deploy_id, const v1::CompileLogEntry& final_entry) {
  switch (final_entry.status()) {
    case v1::BUILD_STATUS_SUCCEEDED:
      return OkStatus();
    case v1::BUILD_STATUS_FAILED:
    case v1::BUILD_STATUS_CANCELLED: {
      StatusCode code = StatusCodeFromInt(final_entry.error_code());
      if (code == StatusCode::kOk) code = StatusCode::kUnknown;
      std::string message = final_entry.error();
      if (message.empty()) {
        message = final_entry.status() == v1::BUILD_STATUS_FAILED
                      ? fmt::format("build {} failed", deploy_id)
                      : fmt::format("build {} was cancelled", deploy_id);
      }
      return Status(code, message);
    }
    default:
      return Status(StatusCode::kUnknown, fmt::format("build {} has not finished", deploy_id));
  }
}

std::string MessageToCompactJson(const google::protobuf::Message& message) {
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json);
  if (!status.ok()) return "{}";
  return json;
}

void CompileLogPrinter::OnEntry(const v1::CompileLogEntry& entry) {
  if (entry.status() == v1::BUILD_STATUS_PENDING && entry.queue_position() > 0) {
    if (entry.queue_position() != shown_position_) {
      shown_position_ = entry.queue_position();
      err_ << fmt::format("waiting for a build slot (position {})\n", shown_position_);
      err_.flush();
    }
  } else if (entry.status() != v1::BUILD_STATUS_PENDING) {
    shown_position_ = 0;
  }
  if (IsStructured(format_)) {
    out_ << RenderStreamItem(format_, MessageToCompactJson(entry));
    out_.flush();
    return;
  }
  std::string_view line = entry.line();
  if (line.empty()) return;
  if (line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  out_ << '\n';
  out_.flush();
}

Status FollowCompileLogs(ApiClient& client, const std::string& deploy_id, std::ostream& out, std::ostream& err,
                         OutputFormat format) {
  CompileLogPrinter printer(out, err, format);
  CompileLogDecoder decoder([&printer](const v1::CompileLogEntry& entry) { printer.OnEntry(entry); });
  IGNITE_RETURN_IF_ERROR(client.StreamCompileLogs(deploy_id, decoder));
  Status outcome = BuildOutcome(deploy_id, decoder.final_entry());
  if (outcome.ok()) {
    err << fmt::format("Build {} succeeded\n", deploy_id);
    err.flush();
  }
  return outcome;
}

}  // namespace ignite::cli
