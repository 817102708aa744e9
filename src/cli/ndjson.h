// What every NDJSON answer of ignited shares (decisions.md): bytes arrive split anywhere, each complete line
// is one JSON object, and a stream that fails ends with a line {"error": {code, message, details}}.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ignite::cli {

// Cuts a byte stream into lines.
class NdjsonLines {
 public:
  // Appends `bytes` and calls `on_line` with each line completed by them (without its "\n" or a "\r"
  // before it), in order. Stops at, and returns, the first failure `on_line` returns; the rest of the
  // buffered input is dropped then.
  Status Feed(std::string_view bytes, const std::function<Status(std::string_view line)>& on_line);

  // The bytes after the last "\n" (a last line the sender did not terminate), "\r" stripped; empties the
  // buffer.
  std::string TakeRest();

 private:
  std::string pending_;
};

// True for a line holding only spaces and tabs (skipped by the decoders).
bool IsBlankLine(std::string_view line);

// The Status an {"error": {...}} line stands for: its gRPC code (0 or unknown numbers become kUnknown) and
// message (`fallback_message` when empty). An `error` value that is not such an object is kInternal.
Status StatusFromErrorFrame(const nlohmann::json& error, std::string_view fallback_message);

// Decodes a server-streaming answer: lines {"result": <M>} until one whose message `is_terminal` accepts,
// or a last {"error": ...} line.
template <typename M>
class ResultStreamDecoder {
 public:
  // `name` names the stream in messages ("compile log"); `cut_short` is the failure when the stream ends
  // before a terminal message (it should say how to pick the stream up again).
  ResultStreamDecoder(std::function<bool(const M&)> is_terminal, std::function<void(const M&)> on_message,
                      std::string name, std::string cut_short)
      : is_terminal_(std::move(is_terminal)),
        on_message_(std::move(on_message)),
        name_(std::move(name)),
        cut_short_(std::move(cut_short)) {}

  // Takes the next bytes of the stream, split anywhere; each complete line's message goes to `on_message`
  // at once. Returns the first failure (an {"error": ...} line as its Status; a line that is not
  // {"result": <M>} as kInternal), after which input is ignored and the failure repeated. Blank lines are
  // skipped; unknown fields are ignored.
  Status Feed(std::string_view bytes) {
    if (!failure_.ok()) return failure_;
    failure_ = lines_.Feed(bytes, [this](std::string_view line) { return DecodeLine(line); });
    return failure_;
  }

  // The stream is over: decodes a last unterminated line. Without a terminal message (and no error) the
  // stream was cut short: kUnknown with `cut_short`.
  Status Finish() {
    if (!failure_.ok()) return failure_;
    std::string last = lines_.TakeRest();
    if (!last.empty()) {
      failure_ = DecodeLine(last);
      if (!failure_.ok()) return failure_;
    }
    if (!finished_) failure_ = Status(StatusCode::kUnknown, cut_short_);
    return failure_;
  }

  bool finished() const { return finished_; }
  // The last terminal message.
  const M& final_message() const { return final_; }

 private:
  Status BadLine(std::string_view why) const {
    return Internal(fmt::format("ignited sent an invalid {} line: {}", name_, why));
  }

  Status DecodeLine(std::string_view line) {
    if (IsBlankLine(line)) return OkStatus();
    nlohmann::json frame = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (frame.is_discarded() || !frame.is_object()) return BadLine("a line is not a JSON object");
    if (auto error = frame.find("error"); error != frame.end()) {
      return StatusFromErrorFrame(*error, fmt::format("the {} stream failed", name_));
    }
    auto result = frame.find("result");
    if (result == frame.end() || !result->is_object()) return BadLine("a line has neither \"result\" nor \"error\"");
    M message;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    auto parsed = google::protobuf::util::JsonStringToMessage(result->dump(), &message, options);
    if (!parsed.ok()) return BadLine(std::string(parsed.message()));
    if (is_terminal_(message)) {
      finished_ = true;
      final_ = message;
    }
    if (on_message_) on_message_(message);
    return OkStatus();
  }

  std::function<bool(const M&)> is_terminal_;
  std::function<void(const M&)> on_message_;
  std::string name_;
  std::string cut_short_;
  NdjsonLines lines_;
  Status failure_;
  bool finished_ = false;
  M final_;
};

}  // namespace ignite::cli
