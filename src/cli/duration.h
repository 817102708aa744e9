// Parsing the CLI's duration flags ("30s", "5m", "1h30m", "250ms").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::cli {

// A sequence of <number><unit> with units ms, s, m, h (e.g. "1h30m", "90s", "250ms"); a bare number is
// seconds. "0" means no deadline. Anything else is InvalidArgument naming the accepted forms.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// "5m", "1m30s", "250ms", "0s": the shortest form ParseDuration reads back.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace ignite::cli
