// What every NDJSON answer of ignited shares (decisions.md): bytes arrive split anywhere, each complete line
// is one JSON object, and a stream that fails ends with a line {"error": {code, message, details}}.
#pragma once

#include <functional>
#include <string>
#include <string_view>

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

}  // namespace ignite::cli
