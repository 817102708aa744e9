#include "cli/debug_transport.h"

#include <strings.h>

#include <chrono>

#include <fmt/format.h>

#include "cli/config_write.h"

namespace ignite::cli {
namespace {

class DebugTransport : public Transport {
 public:
  DebugTransport(std::unique_ptr<Transport> inner, std::ostream& log) : inner_(std::move(inner)), log_(log) {}

  Result<http::Response> RoundTrip(http::Verb verb, const std::string& target, const http::Headers& headers,
                                   std::string_view body, const http::StreamHandlers* stream) override {
    log_ << fmt::format("debug: > {} {} ({} bytes{})\n", std::string(boost::beast::http::to_string(verb)), target,
                        body.size(), stream != nullptr ? ", answer streamed" : "");
    for (const auto& [name, value] : headers) {
      bool secret = ::strcasecmp(name.c_str(), "Authorization") == 0;
      std::string shown = value;
      if (secret) {
        std::string_view token(value);
        if (token.substr(0, 7) == "Bearer ") token.remove_prefix(7);
        shown = "Bearer " + MaskToken(token);
      }
      log_ << fmt::format("debug: >   {}: {}\n", name, shown);
    }
    log_.flush();

    const auto start = std::chrono::steady_clock::now();
    size_t streamed = 0;
    std::string error_body;  // a streamed non-2xx body, for the log
    int streamed_status = 0;
    http::StreamHandlers counting;
    if (stream != nullptr) {
      counting.on_head = [&](const http::Response& head) {
        streamed_status = head.status;
        if (stream->on_head) stream->on_head(head);
      };
      counting.on_body_chunk = [&](std::string_view chunk) {
        streamed += chunk.size();
        if ((streamed_status < 200 || streamed_status >= 300) && error_body.size() < kMaxLogged) {
          error_body.append(chunk.substr(0, kMaxLogged - error_body.size()));
        }
        stream->on_body_chunk(chunk);
      };
    }
    Result<http::Response> result =
        inner_->RoundTrip(verb, target, headers, body, stream != nullptr ? &counting : nullptr);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      log_ << fmt::format("debug: < failed after {} ms: {}\n", ms, result.status().message());
      log_.flush();
      return result;
    }
    const http::Response& response = *result;
    const size_t size = stream != nullptr ? streamed : response.body.size();
    log_ << fmt::format("debug: < {} in {} ms ({} bytes)\n", response.status, ms, size);
    if (response.status < 200 || response.status >= 300) {
      std::string_view shown = stream != nullptr ? std::string_view(error_body) : std::string_view(response.body);
      if (shown.size() > kMaxLogged) shown = shown.substr(0, kMaxLogged);
      if (!shown.empty()) log_ << "debug: <   " << shown << (shown.back() == '\n' ? "" : "\n");
    }
    log_.flush();
    return result;
  }

 private:
  static constexpr size_t kMaxLogged = 1024;
  std::unique_ptr<Transport> inner_;
  std::ostream& log_;
};

}  // namespace

std::unique_ptr<Transport> WithDebugLogging(std::unique_ptr<Transport> inner, std::ostream& log) {
  return std::make_unique<DebugTransport>(std::move(inner), log);
}

}  // namespace ignite::cli
