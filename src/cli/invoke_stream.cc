#include "cli/invoke_stream.h"

#include <algorithm>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "dodil/ignite/v1/ignite_common.pb.h"

namespace ignite::cli {
namespace {

namespace v1 = dodil::ignite::v1;

Status BadFrame(std::string_view why) {
  return Internal(fmt::format("ignited sent an invalid invoke frame: {}", why));
}

template <typename Message>
Status ParseJson(const nlohmann::json& value, Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(value.dump(), message, options);
  if (!status.ok()) return BadFrame(std::string(status.message()));
  return OkStatus();
}

}  // namespace

Status InvokeStreamDecoder::Feed(std::string_view bytes) {
  if (!failure_.ok()) return failure_;
  // Only the new bytes can hold the next newline: earlier ones were searched already.
  size_t search_from = pending_.size();
  pending_.append(bytes);
  size_t start = 0;
  for (;;) {
    size_t newline = pending_.find('\n', std::max(start, search_from));
    if (newline == std::string::npos) break;
    Status status = DecodeLine(std::string_view(pending_).substr(start, newline - start));
    start = newline + 1;
    if (!status.ok()) {
      failure_ = status;
      pending_.clear();
      return failure_;
    }
  }
  pending_.erase(0, start);
  return OkStatus();
}

Status InvokeStreamDecoder::Finish() {
  if (!failure_.ok()) return failure_;
  if (!pending_.empty()) {
    std::string last = std::move(pending_);
    pending_.clear();
    Status status = DecodeLine(last);
    if (!status.ok()) {
      failure_ = status;
      return failure_;
    }
  }
  if (!saw_trailer_) {
    failure_ = Status(StatusCode::kUnknown,
                      "the invoke stream ended before its last frame (the connection to ignited was cut)");
    return failure_;
  }
  return OkStatus();
}

Status InvokeStreamDecoder::DecodeLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return OkStatus();

  nlohmann::json frame = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (frame.is_discarded() || !frame.is_object()) return BadFrame("a line is not a JSON object");

  if (auto error = frame.find("error"); error != frame.end()) {
    v1::ErrorBody body;
    IGNITE_RETURN_IF_ERROR(ParseJson(*error, &body));
    StatusCode code = StatusCodeFromInt(body.code());
    if (code == StatusCode::kOk) code = StatusCode::kUnknown;
    std::string message = body.message().empty() ? "the invocation failed" : body.message();
    return Status(code, message);
  }
  auto result = frame.find("result");
  if (result == frame.end()) return BadFrame("a line has neither \"result\" nor \"error\"");

  v1::InvokeResponse response;
  IGNITE_RETURN_IF_ERROR(ParseJson(*result, &response));
  switch (response.frame_case()) {
    case v1::InvokeResponse::kHead:
      if (saw_head_) return BadFrame("a second head frame");
      saw_head_ = true;
      if (handlers_.on_head) handlers_.on_head(response.head());
      break;
    case v1::InvokeResponse::kChunk:
      if (!saw_head_) return BadFrame("a body chunk before the head frame");
      if (saw_trailer_) return BadFrame("a body chunk after the trailer frame");
      if (handlers_.on_data && !response.chunk().data().empty()) handlers_.on_data(response.chunk().data());
      break;
    case v1::InvokeResponse::kTrailer:
      if (!saw_head_) return BadFrame("a trailer frame before the head frame");
      if (saw_trailer_) return BadFrame("a second trailer frame");
      saw_trailer_ = true;
      if (handlers_.on_trailer) handlers_.on_trailer(response.trailer());
      break;
    case v1::InvokeResponse::FRAME_NOT_SET:
      // A frame kind this CLI does not know yet: skip it.
      break;
  }
  return OkStatus();
}

}  // namespace ignite::cli
