#include "cli/duration.h"

#include <cstdint>

#include <fmt/format.h>

namespace ignite::cli {
namespace {
Status BadDuration(std::string_view text) {
  return InvalidArgument(fmt::format(
      "invalid duration \"{}\": use a number with a unit, e.g. 30s, 5m, 1h30m or 250ms", text));
}
}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return BadDuration(text);
  bool all_digits = text.find_first_not_of("0123456789") == std::string_view::npos;
  if (all_digits && text.size() <= 9) {
    int64_t seconds = 0;
    for (char c : text) seconds = seconds * 10 + (c - '0');
    return std::chrono::milliseconds(seconds * 1000);
  }
  int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (i - start >= 9) return BadDuration(text);
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start) return BadDuration(text);
    int64_t unit_ms;
    if (text.substr(i, 2) == "ms") {
      unit_ms = 1;
      i += 2;
    } else if (i < text.size() && text[i] == 's') {
      unit_ms = 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'm') {
      unit_ms = 60 * 1000;
      ++i;
    } else if (i < text.size() && text[i] == 'h') {
      unit_ms = 3600 * 1000;
      ++i;
    } else {
      return BadDuration(text);
    }
    total_ms += number * unit_ms;
  }
  return std::chrono::milliseconds(total_ms);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms % 1000 != 0) return fmt::format("{}ms", ms);
  int64_t s = ms / 1000;
  if (s >= 3600) {
    out += fmt::format("{}h", s / 3600);
    s %= 3600;
  }
  if (s >= 60) {
    out += fmt::format("{}m", s / 60);
    s %= 60;
  }
  if (s > 0) out += fmt::format("{}s", s);
  return out;
}

}  // namespace ignite::cli
