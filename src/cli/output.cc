#include "cli/output.h"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include "cli/errors.h"
#include "cli/yaml_output.h"

namespace ignite::cli {

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "wide") return OutputFormat::kWide;
  return InvalidArgument(
      fmt::format("unknown output format \"{}\" (-o/--output): use table, json, yaml or wide", text));
}

std::string RenderStructured(OutputFormat format, std::string_view json_text) {
  if (format == OutputFormat::kYaml) return JsonTextToYaml(json_text);
  std::string out(json_text);
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

std::string RenderStreamItem(OutputFormat format, std::string_view compact_json) {
  if (format == OutputFormat::kYaml) return "---\n" + JsonTextToYaml(compact_json);
  std::string out(compact_json);
  out += '\n';
  return out;
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers.size(), 0);
  auto cell = [](const std::vector<std::string>& row, size_t i) -> std::string_view {
    if (i >= row.size() || row[i].empty()) return "-";
    return row[i];
  };
  for (size_t i = 0; i < headers.size(); ++i) {
    widths[i] = std::max(widths[i], headers[i].size());
    for (const auto& row : rows) widths[i] = std::max(widths[i], cell(row, i).size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& row, bool is_header) {
    std::string text;
    for (size_t i = 0; i < headers.size(); ++i) {
      std::string_view value = is_header ? std::string_view(headers[i]) : cell(row, i);
      text.append(value);
      if (i + 1 < headers.size()) text.append(widths[i] - value.size() + 3, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  line(headers, true);
  for (const auto& row : rows) line(row, false);
  return out;
}

std::string RenderKeyValues(const KeyValues& entries) {
  size_t width = 0;
  for (const auto& [key, value] : entries) {
    if (!value.empty()) width = std::max(width, key.size());
  }
  std::string out;
  for (const auto& [key, value] : entries) {
    if (value.empty()) continue;
    out += fmt::format("{}:{}{}\n", key, std::string(width - key.size() + 2, ' '), value);
  }
  return out;
}

std::string MessageToPrettyJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return "{}\n";
  if (json.empty() || json.back() != '\n') json += '\n';
  return json;
}

std::string FormatTimeMs(int64_t unix_ms) {
  if (unix_ms == 0) return "";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string FormatRfc3339Ms(int64_t unix_ms) {
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {  // floor for times before 1970
    millis += 1000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, millis);
}

std::string RenderLogLine(const dodil::ignite::v1::LogLine& line) {
  std::string_view message = line.message();
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
  return fmt::format("{} {} {} {}\n", FormatRfc3339Ms(line.timestamp_ms()),
                     line.replica_id().empty() ? "-" : line.replica_id(),
                     line.execution_id().empty() ? "-" : line.execution_id(), message);
}

std::string EnumLabel(std::string_view full_name, std::string_view prefix) {
  if (full_name.substr(0, prefix.size()) != prefix) return "";
  std::string label(full_name.substr(prefix.size()));
  if (label == "UNSPECIFIED" || label.empty()) return "";
  for (char& c : label) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return label;
}

std::string RuntimeLabel(const dodil::ignite::v1::Runtime& runtime) {
  using dodil::ignite::v1::Runtime;
  switch (runtime.kind_case()) {
    case Runtime::kGo: return "go";
    case Runtime::kPython: return "python";
    case Runtime::kDeno: return "deno";
    case Runtime::kRust: {
      std::string target = EnumLabel(dodil::ignite::v1::RustCompilationTarget_Name(runtime.rust().target()),
                                     "RUST_COMPILATION_TARGET_");
      return target.empty() ? "rust" : fmt::format("rust ({})", target);
    }
    case Runtime::kImage: return "image";
    case Runtime::KIND_NOT_SET: break;
  }
  return "";
}

std::string LimitsLabel(const dodil::ignite::v1::ResourceLimits& limits) {
  std::vector<std::string> parts;
  if (limits.memory_mb() > 0) parts.push_back(fmt::format("{} MB memory", limits.memory_mb()));
  if (limits.cpu_millicores() > 0) parts.push_back(fmt::format("{} millicores CPU", limits.cpu_millicores()));
  if (limits.timeout_secs() > 0) parts.push_back(fmt::format("timeout {}s", limits.timeout_secs()));
  if (limits.body_limit_mb() > 0) parts.push_back(fmt::format("request body {} MB", limits.body_limit_mb()));
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += ", ";
    out += parts[i];
  }
  return out;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  if (bytes < 1024 * 1024) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / 1024);
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1024 * 1024));
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      unsigned char cc = static_cast<unsigned char>(bytes[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

}  // namespace ignite::cli
