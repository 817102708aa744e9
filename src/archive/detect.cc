// DetectFormat: magic bytes first, then the file name's suffix must agree.
#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "archive/archive.h"
#include "archive/paths.h"

namespace ignite::archive {
namespace {

constexpr std::array<std::string_view, 18> kSourceExtensions = {
    ".go", ".py", ".rs", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx",
    ".java", ".kt", ".rb", ".php", ".c", ".cc", ".cpp", ".h", ".cs"};

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kTarGz: return "a tar.gz archive";
    case Format::kZip: return "a zip archive";
    case Format::kSingleFile: return "a single source file";
  }
  return "?";
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// What the name's suffix promises, if anything.
std::optional<Format> FormatFromName(std::string_view file_name) {
  std::string lower(file_name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (EndsWith(lower, ".zip")) return Format::kZip;
  if (EndsWith(lower, ".tar.gz") || EndsWith(lower, ".tgz")) return Format::kTarGz;
  for (auto ext : kSourceExtensions) {
    if (EndsWith(lower, ext)) return Format::kSingleFile;
  }
  return std::nullopt;
}

// UTF-8 without NUL or other control characters than tab, newlines, form feed and vertical tab.
bool LooksLikeText(std::string_view data) {
  for (char ch : data) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') return false;
  }
  return IsValidUtf8(data);
}

std::optional<Format> FormatFromContent(std::string_view data) {
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b) {
    return Format::kTarGz;
  }
  if (data.size() >= 4 && (data.substr(0, 4) == std::string_view("PK\x03\x04", 4) ||
                           data.substr(0, 4) == std::string_view("PK\x05\x06", 4))) {
    return Format::kZip;
  }
  if (LooksLikeText(data)) return Format::kSingleFile;
  return std::nullopt;
}

// A hint for common near-misses, appended to the "not an archive" message.
std::string Hint(std::string_view data) {
  if (data.size() >= 262 && data.substr(257, 5) == "ustar") {
    return " (this is an uncompressed tar archive: compress it with gzip, e.g. `tar czf code.tar.gz .`)";
  }
  if (data.size() >= 3 && data.substr(0, 3) == "BZh") return " (this is bzip2 data: use gzip or zip instead)";
  if (data.size() >= 6 && data.substr(0, 6) == std::string_view("\xfd" "7zXZ\0", 6)) {
    return " (this is xz data: use gzip or zip instead)";
  }
  if (data.size() >= 4 && data.substr(0, 4) == std::string_view("\x28\xb5\x2f\xfd", 4)) {
    return " (this is zstd data: use gzip or zip instead)";
  }
  if (data.size() >= 6 && data.substr(0, 6) == "7z\xbc\xaf\x27\x1c") return " (this is a 7z archive: use zip instead)";
  if (data.size() >= 4 && data.substr(0, 4) == "Rar!") return " (this is a rar archive: use zip instead)";
  return "";
}

}  // namespace

Result<Format> DetectFormat(std::string_view data, std::string_view file_name) {
  if (data.empty()) {
    return InvalidArgument("the uploaded code is empty; upload a zip or tar.gz archive, or a source file");
  }
  auto by_content = FormatFromContent(data);
  std::string name_part = file_name.empty() ? std::string() : fmt::format(" ({})", QuoteName(file_name));
  if (!by_content) {
    return InvalidArgument(fmt::format(
        "the uploaded code{} is not a zip or tar.gz archive, nor a source file{}; upload a .zip, a .tar.gz or a "
        "single UTF-8 source file",
        name_part, Hint(data)));
  }
  if (!file_name.empty()) {
    auto by_name = FormatFromName(file_name);
    if (by_name && *by_name != *by_content) {
      return InvalidArgument(fmt::format(
          "\"{}\" is named like {} but its content is {}; rename the file to match its content or upload the "
          "right file",
          QuoteName(file_name), FormatName(*by_name), FormatName(*by_content)));
    }
  }
  return *by_content;
}

}  // namespace ignite::archive
