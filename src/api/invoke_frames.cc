#include "api/invoke_frames.h"

#include <openssl/evp.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "api/proto_json.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "http/server.h"

namespace ignite::api {
namespace pb = ::dodil::ignite::v1;
namespace {

std::string Frame(const pb::InvokeResponse& frame) { return ResultFrame(frame); }

// Printable ASCII that no JSON printer escapes: such strings are copied between quotes as they are.
bool Plain(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c != '\'' &&
           c != '=';
  });
}

}  // namespace

std::string HeadFrame(const gateway::InvokeResult& r, const std::string& function_id) {
  bool plain = Plain(r.execution_id) && Plain(function_id);
  for (const auto& [k, v] : r.headers) plain = plain && Plain(k) && Plain(v);
  if (!plain) {
    pb::InvokeResponse head;
    head.mutable_head()->set_status(r.status);
    head.mutable_head()->set_execution_id(r.execution_id);
    head.mutable_head()->set_function_id(function_id);
    head.mutable_head()->set_version(r.version);
    for (const auto& [k, v] : r.headers) (*head.mutable_head()->mutable_headers())[k] = v;
    return Frame(head);
  }
  std::string out = "{\"result\":{\"head\":{";
  const char* sep = "";
  if (r.status != 0) {
    out += fmt::format("\"status\":{}", r.status);
    sep = ",";
  }
  if (!r.headers.empty()) {
    // A map field: one entry per key (the last value wins, as when filling the proto map), in key order.
    std::map<std::string_view, std::string_view> sorted;
    for (const auto& [k, v] : r.headers) sorted[k] = v;
    out += sep;
    out += "\"headers\":{";
    const char* hsep = "";
    for (const auto& [k, v] : sorted) {
      out += fmt::format("{}\"{}\":\"{}\"", hsep, k, v);
      hsep = ",";
    }
    out += "}";
    sep = ",";
  }
  if (!r.execution_id.empty()) {
    out += fmt::format("{}\"executionId\":\"{}\"", sep, r.execution_id);
    sep = ",";
  }
  if (!function_id.empty()) {
    out += fmt::format("{}\"functionId\":\"{}\"", sep, function_id);
    sep = ",";
  }
  if (r.version != 0) out += fmt::format("{}\"version\":{}", sep, r.version);
  out += "}}}\n";
  return out;
}

std::string ChunkFrame(std::string_view data) {
  if (data.empty()) return "{\"result\":{\"chunk\":{}}}\n";
  static constexpr std::string_view kOpen = "{\"result\":{\"chunk\":{\"data\":\"";
  static constexpr std::string_view kClose = "\"}}}\n";
  std::string out;
  size_t encoded = 4 * ((data.size() + 2) / 3);
  out.resize(kOpen.size() + encoded + 1 + kClose.size());  // EVP_EncodeBlock writes a terminating NUL
  std::copy(kOpen.begin(), kOpen.end(), out.begin());
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + kOpen.size()),
                          reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(kOpen.size() + static_cast<size_t>(n));
  out.append(kClose);
  return out;
}

std::string TrailerFrame(const gateway::InvokeResult& r) {
  if (!Plain(r.error)) {
    pb::InvokeResponse trailer;
    trailer.mutable_trailer()->set_duration_ms(r.duration_ms);
    trailer.mutable_trailer()->set_cold_start(r.cold);
    trailer.mutable_trailer()->set_error(r.error);
    return Frame(trailer);
  }
  std::string out = "{\"result\":{\"trailer\":{";
  const char* sep = "";
  if (r.duration_ms != 0) {
    out += fmt::format("\"durationMs\":\"{}\"", r.duration_ms);
    sep = ",";
  }
  if (r.cold) {
    out += fmt::format("{}\"coldStart\":true", sep);
    sep = ",";
  }
  if (!r.error.empty()) out += fmt::format("{}\"error\":\"{}\"", sep, r.error);
  out += "}}}\n";
  return out;
}

std::string ResultFrame(const google::protobuf::Message& item) { return "{\"result\":" + MessageToJson(item) + "}\n"; }

std::string ErrorFrame(const Status& status) {
  return fmt::format("{{\"error\":{}}}\n", http::ErrorResponse(status).body);
}

}  // namespace ignite::api
