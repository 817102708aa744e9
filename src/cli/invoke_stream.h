// Decoding the Invoke route's answer: NDJSON lines, each {"result": <InvokeResponse>} (head, then body chunks,
// then a trailer) or a final {"error": {code, message, details}} when the stream fails (decisions.md).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cli/ndjson.h"
#include "common/status.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::cli {

class InvokeStreamDecoder {
 public:
  struct Handlers {
    std::function<void(const dodil::ignite::v1::InvokeHead&)> on_head;
    // The decoded (raw) bytes of each body chunk, in order.
    std::function<void(std::string_view data)> on_data;
    std::function<void(const dodil::ignite::v1::InvokeTrailer&)> on_trailer;
  };

  explicit InvokeStreamDecoder(Handlers handlers) : handlers_(std::move(handlers)) {}

  // Takes the next bytes of the stream, split anywhere (even inside a line or a UTF-8 sequence); complete
  // lines are decoded and dispatched at once. Returns the first failure, after which input is ignored and the
  // same failure is returned again:
  //   - an {"error": ...} line -> a Status with that code and message;
  //   - a line that is not a valid frame, or frames out of order (a chunk or trailer before the head) -> kInternal.
  // Blank lines are skipped; unknown fields are ignored.
  Status Feed(std::string_view bytes);

  // The stream is over: decodes a last line without '\n'. If no trailer (and no error) was seen, the stream
  // was cut short: kUnknown ("the invoke stream ended before its last frame").
  Status Finish();

  bool saw_head() const { return saw_head_; }
  bool saw_trailer() const { return saw_trailer_; }

 private:
  Status DecodeLine(std::string_view line);

  Handlers handlers_;
  NdjsonLines lines_;
  Status failure_;
  bool saw_head_ = false;
  bool saw_trailer_ = false;
};

}  // namespace ignite::cli
