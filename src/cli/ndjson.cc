#include "cli/ndjson.h"

#include <algorithm>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {

Status NdjsonLines::Feed(std::string_view bytes, const std::function<Status(std::string_view line)>& on_line) {
  // Only the new bytes can hold the next newline: earlier ones were searched already.
  size_t search_from = pending_.size();
  pending_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t newline = pending_.find('\n', std::max(start, search_from));
    if (newline == std::string::npos) break;
    std::string_view line = std::string_view(pending_).substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Status status = on_line(line);
    start = newline + 1;
    if (!status.ok()) {
      pending_.clear();
      return status;
    }
  }
  pending_.erase(0, start);
  return OkStatus();
}

std::string NdjsonLines::TakeRest() {
  std::string rest = std::move(pending_);
  pending_.clear();
  if (!rest.empty() && rest.back() == '\r') rest.pop_back();
  return rest;
}

bool IsBlankLine(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

Status StatusFromErrorFrame(const nlohmann::json& error, std::string_view fallback_message) {
  dodil::ignite::v1::ErrorBody body;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto parsed = google::protobuf::util::JsonStringToMessage(error.dump(), &body, options);
  if (!parsed.ok()) {
    return Internal(fmt::format("ignited sent an error line this CLI cannot read: {}", std::string(parsed.message())));
  }
  StatusCode code = StatusCodeFromInt(body.code());
  if (code == StatusCode::kOk) code = StatusCode::kUnknown;
  return Status(code, body.message().empty() ? std::string(fallback_message) : body.message());
}

}  // namespace ignite::cli
