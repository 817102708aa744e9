// Writing the CLI config file (`config set`, `ignite login`, `dodil login`): which file, and how a key is set
// without disturbing the rest of the file.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/config.h"
#include "common/result.h"
#include "common/status.h"

namespace ignite::cli {

// The keys `config set` accepts (reference 3.1), written as ignite.<key>.
inline constexpr std::string_view kConfigKeys[] = {"api_endpoint", "org_id", "token"};

// Whether `key` is one of kConfigKeys.
bool IsKnownConfigKey(std::string_view key);

// The file to write, so that the next run reads what was written:
//   --config PATH if given (created if missing);
//   else $DODIL_CONFIG_DIR/config.yaml, else $IGNITE_CONFIG_DIR/config.yaml, when the variable is set (the
//   directory is created if missing, and is then the one read first);
//   else the first existing file of ConfigFileCandidates (~/.config/unified-cli, ~/.ignite, ~/.config/dodil);
//   else $HOME/.config/unified-cli/config.yaml.
// A local error when none applies (no HOME and no variable).
Result<std::string> ConfigWritePath(const std::string& config_flag, const EnvMap& env, const FileSystem& fs);

using ConfigValues = std::vector<std::pair<std::string, std::string>>;  // key (without "ignite.") -> value

// The YAML text `existing` (empty for a new file) with ignite.<key> set to each value: the nested `ignite:`
// map is created or extended, a flat "ignite.<key>" entry for the same key is removed (the nested key would
// win anyway), and every other key and section is kept (comments are not: yaml-cpp drops them). A document
// that is not a map, or an `ignite:` that is not a map, is a local error naming `path`. Ends in '\n'.
Result<std::string> SetIgniteKeys(std::string_view existing, const ConfigValues& values, std::string_view path);

// Reads `path` if it exists, applies SetIgniteKeys, creates the parent directory (mode 0700) when missing and
// writes the file with mode 0600 (it holds a token). Failures are local errors naming the path.
Status WriteIgniteKeys(const FileSystem& fs, const std::string& path, const ConfigValues& values);

// "****" followed by the token's last 4 characters; "****" alone for tokens of 8 characters or fewer; "" for
// an empty token.
std::string MaskToken(std::string_view token);

}  // namespace ignite::cli
