// Rendering command results: aligned tables and key/value blocks for `-o table`, the protobuf JSON mapping
// for `-o json`, and the small value formatters both share.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/message.h>

#include "common/result.h"
#include "dodil/ignite/v1/ignite_common.pb.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::cli {

// -o: table (default), json, yaml (the json output's content as YAML), wide (a table with extra columns
// where a command has more to show; otherwise the same as table).
enum class OutputFormat { kTable, kJson, kYaml, kWide };

// "table", "json", "yaml" or "wide"; anything else is InvalidArgument (exit 2) listing the choices.
Result<OutputFormat> ParseOutputFormat(std::string_view text);

// json and yaml: formats that print the API's messages rather than text for people.
inline bool IsStructured(OutputFormat format) {
  return format == OutputFormat::kJson || format == OutputFormat::kYaml;
}

// A whole result for a structured format: for kYaml the JSON text converted to YAML, otherwise the JSON
// text itself; ends in '\n'.
std::string RenderStructured(OutputFormat format, std::string_view json_text);

// One item of a stream (build log entries, execution states, log lines) for a structured format: kJson one
// compact JSON line; kYaml one YAML document starting with "---".
std::string RenderStreamItem(OutputFormat format, std::string_view compact_json);

// Columns left-aligned and padded to the widest cell, separated by three spaces, no trailing spaces; one line
// per row, each ending in '\n'. Empty cells render as "-".
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
  std::string Render() const;
};

// "Key:   value" lines with values aligned; entries with an empty value are skipped.
using KeyValues = std::vector<std::pair<std::string, std::string>>;
std::string RenderKeyValues(const KeyValues& entries);

// The message in the protobuf JSON mapping (camelCase), indented, ending in '\n'. Fields with default values
// are omitted, as on the wire.
std::string MessageToPrettyJson(const google::protobuf::Message& message);

// Unix milliseconds as "2024-05-28 12:00:00 UTC"; 0 as "".
std::string FormatTimeMs(int64_t unix_ms);

// Unix milliseconds as RFC 3339 UTC with milliseconds: "2024-05-28T12:40:00.123Z".
std::string FormatRfc3339Ms(int64_t unix_ms);

// One line of `app logs`: "<RFC 3339 time> <replica id> <execution id> <message>\n", "-" for an empty id,
// the message's own trailing newline (and "\r") dropped.
std::string RenderLogLine(const dodil::ignite::v1::LogLine& line);

// An enum value's name without its type prefix, lowercased: ("RESOURCE_TIER_MEDIUM", "RESOURCE_TIER_") ->
// "medium"; UNSPECIFIED values (and names without the prefix) -> "".
std::string EnumLabel(std::string_view full_name, std::string_view prefix);

// "go", "python", "rust (native)", "deno", or "" when no runtime is set.
std::string RuntimeLabel(const dodil::ignite::v1::Runtime& runtime);

// "512 MB memory, 500 millicores CPU, timeout 120s"; zero values are left out; "" when all are zero.
std::string LimitsLabel(const dodil::ignite::v1::ResourceLimits& limits);

// Byte counts for people: "812 B", "14.2 KiB", "3.0 MiB".
std::string FormatBytes(int64_t bytes);

// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);

// True if `bytes` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

}  // namespace ignite::cli
