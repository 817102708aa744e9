#include "archive/paths.h"

#include <fmt/format.h>

namespace ignite::archive {

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string FormatBytes(uint64_t n) {
  if (n != 0 && n % (1ull << 30) == 0) return fmt::format("{} GiB", n >> 30);
  if (n != 0 && n % (1ull << 20) == 0) return fmt::format("{} MiB", n >> 20);
  if (n != 0 && n % (1ull << 10) == 0) return fmt::format("{} KiB", n >> 10);
  return fmt::format("{} bytes", n);
}

std::string QuoteName(std::string_view raw) {
  std::string out;
  bool valid = IsValidUtf8(raw);
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || (!valid && c >= 0x80)) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

Result<std::string> NormalizeEntryPath(std::string_view raw) {
  if (raw.empty()) return InvalidArgument("the archive has an entry with an empty name; re-create the archive");
  if (!IsValidUtf8(raw)) {
    return InvalidArgument(fmt::format(
        "entry \"{}\" has a name that is not valid UTF-8; rename the file using UTF-8 (or plain ASCII) and "
        "re-create the archive",
        QuoteName(raw)));
  }
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) {
      return InvalidArgument(fmt::format(
          "entry \"{}\" has a control character in its name; rename the file and re-create the archive",
          QuoteName(raw)));
    }
  }
  if (raw.find('\\') != std::string_view::npos) {
    return InvalidArgument(fmt::format(
        "entry \"{}\" contains a backslash; archive paths must use '/' as the separator (re-create the archive "
        "with a standard zip or tar tool)",
        raw));
  }
  if (raw.front() == '/') {
    return InvalidArgument(fmt::format(
        "entry \"{}\" has an absolute path; archive paths must be relative to the archive root", raw));
  }
  std::string out;
  for (const auto& part : SplitPath(raw)) {
    if (part == ".") continue;
    if (part == "..") {
      return InvalidArgument(fmt::format(
          "entry \"{}\" contains a \"..\" component; archive paths must stay inside the archive root", raw));
    }
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

}  // namespace ignite::archive
