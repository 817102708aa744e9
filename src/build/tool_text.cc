#include "build/tool_text.h"

#include <cctype>

#include <fmt/format.h>

namespace ignite::build {

std::string FormatGoDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  if (ms < 0) ms = -ms;
  if (ms < 1000) return fmt::format("{}{}ms", sign, ms);
  int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
  std::string secs = fmt::format("{}", s);
  if (frac != 0) {
    std::string f = fmt::format("{:03}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  if (h > 0) return fmt::format("{}{}h{}m{}s", sign, h, m, secs);
  if (m > 0) return fmt::format("{}{}m{}s", sign, m, secs);
  return fmt::format("{}{}s", sign, secs);
}

std::string TrimSourceDir(std::string_view text, std::string_view src_dir) {
  if (src_dir.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t hit = text.find(src_dir, pos);
    if (hit == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, hit - pos));
    size_t after = hit + src_dir.size();
    auto path_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; };
    if (after < text.size() && text[after] == '/') {
      out += "./";
      pos = after + 1;
    } else if (after == text.size() || !path_char(text[after])) {
      out += ".";
      pos = after;
    } else {  // a longer name that merely starts like src_dir
      out.append(text.substr(hit, src_dir.size()));
      pos = after;
    }
  }
  return out;
}

std::string CapForMessage(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = text.rfind('\n', max_bytes);
  if (cut == std::string_view::npos || cut == 0) cut = max_bytes;
  return fmt::format("{}\n... ({} more bytes; see the build log)", text.substr(0, cut), text.size() - cut);
}

std::string TrimSpace(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace ignite::build
