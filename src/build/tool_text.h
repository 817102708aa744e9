// Pure text helpers of builds: durations as Go prints them (builds report timeouts that way), path trimming and
// size capping of tool output shown to users. Thread-safe, no I/O.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ignite::build {

// A duration the way Go's time.Duration prints it: "10m0s", "30s", "1h0m0s", "1.5s", "250ms".
std::string FormatGoDuration(std::chrono::milliseconds d);

// Rewrites absolute paths of a build so users see their own layout: "<src_dir>/x" -> "./x", "<src_dir>" -> "."
// (only where src_dir is a whole path: "<src_dir>x" is left alone).
std::string TrimSourceDir(std::string_view text, std::string_view src_dir);

// Keeps at most `max_bytes` of `text` (cutting at a line boundary) and says how much was left out.
std::string CapForMessage(std::string_view text, size_t max_bytes);

// Removes leading/trailing whitespace.
std::string TrimSpace(std::string_view s);

}  // namespace ignite::build
