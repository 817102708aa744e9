// Pure helpers for archive entry names: UTF-8 validation, normalization, human-readable sizes.
// No I/O; all functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ignite::archive {

// True if `s` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// "256 MiB", "4 KiB", "1000 bytes" (MiB/KiB only when the value is an exact multiple).
std::string FormatBytes(uint64_t n);

// A name as it may be quoted in a message: invalid UTF-8 bytes and control characters shown as \xNN.
std::string QuoteName(std::string_view raw);

// Normalizes an entry name from an archive into a relative path "a/b/c": "." and empty components are
// dropped, as is a trailing "/". Returns "" for the root itself ("./" or "."). InvalidArgument naming the
// entry for: an empty name, invalid UTF-8, control characters, backslashes, absolute paths, any ".."
// component.
Result<std::string> NormalizeEntryPath(std::string_view raw);

// Splits "a/b/c" into {"a","b","c"}, dropping empty components.
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace ignite::archive
