#include "cli/invoke_stream.h"

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
  failure_ = lines_.Feed(bytes, [this](std::string_view line) { return DecodeLine(line); });
  return failure_;
}

Status InvokeStreamDecoder::Finish() {
  if (!failure_.ok()) return failure_;
  std::string last = lines_.TakeRest();
  if (!last.empty()) {
    failure_ = DecodeLine(last);
    if (!failure_.ok()) return failure_;
  }
  if (!saw_trailer_) {
    failure_ = Status(StatusCode::kUnknown,
                      "the invoke stream ended before its last frame (the connection to ignited was cut)");
    return failure_;
  }
  return OkStatus();
}

Status InvokeStreamDecoder::DecodeLine(std::string_view line) {
  if (IsBlankLine(line)) return OkStatus();

  nlohmann::json frame = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (frame.is_discarded() || !frame.is_object()) return BadFrame("a line is not a JSON object");

  if (auto error = frame.find("error"); error != frame.end()) {
    return StatusFromErrorFrame(*error, "the invocation failed");
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
