// Where the CLI's endpoint, token and organization come from (reference 3.1): flags, then environment, then a
// YAML config file, then built-in defaults. The logic is pure over an environment map and a FileSystem view,
// so tests need neither getenv nor real files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ignite::cli {

using EnvMap = std::map<std::string, std::string>;

// The slice of the filesystem the CLI needs: reads, and `version code -O` writing a file.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  virtual bool IsDirectory(const std::string& path) const = 0;
  virtual bool IsRegularFile(const std::string& path) const = 0;
  // The whole file, or nullopt if it does not exist or cannot be read.
  virtual std::optional<std::string> ReadFile(const std::string& path) const = 0;
  // Creates or replaces the file with exactly `bytes`. Failures are local errors naming the path and why.
  virtual Status WriteFile(const std::string& path, std::string_view bytes) const;
  // Creates the directory and its missing parents, each with mode 0700 (config directories).
  virtual Status CreateDirectories(const std::string& path) const;
  // As WriteFile, but the file has mode 0600 from its creation on (config files hold tokens).
  virtual Status WritePrivateFile(const std::string& path, std::string_view bytes) const;
};

// The value of `name` in `env`, or "" when it is unset.
std::string EnvValue(const EnvMap& env, const std::string& name);
// `dir` + "/" + `name`, without doubling a slash `dir` ends with.
std::string JoinPath(const std::string& dir, const std::string& name);

// The real filesystem. Thread-safe; lives for the whole program.
const FileSystem& RealFileSystem();

// The process environment as a map (for main; the logic below never calls getenv).
EnvMap ProcessEnvironment();

// Values given as flags; empty means "not given".
struct ConfigFlags {
  std::string api_endpoint;
  std::string token;
  std::string org;
  std::string config_path;  // --config
  std::string org_name;     // --org-name (dev/test: direct org-name context; --org wins over it)
  bool debug = false;       // --debug
};

// Values found in a config file; empty means "key absent". The *_key fields name the key that supplied
// each value ("ignite.token", "global.token", "ignite.org_name", ...), for `config view`.
struct FileConfig {
  std::string api_endpoint;
  std::string token;
  std::string org;
  std::string api_endpoint_key;
  std::string token_key;
  std::string org_key;
};

// Where one effective setting came from.
struct SettingSource {
  std::string kind;  // "flag", "env", "file" or "default"; "" when the setting is unset
  std::string name;  // the flag ("--token"), variable ("DODIL_TOKEN") or file key ("ignite.token"); "" for default
};

// The effective settings of one CLI run.
struct Settings {
  std::string api_endpoint;  // never empty
  std::string token;         // empty: requests are sent without Authorization
  std::string org;           // empty: app ids must name their organization
  std::string config_file;   // the file that was read, or "" if none
  bool debug = false;        // --debug or a true $IGNITE_DEBUG (1, true, yes, on): log requests to stderr
  SettingSource api_endpoint_source;
  SettingSource token_source;
  SettingSource org_source;
};

inline constexpr std::string_view kDefaultApiEndpoint = "http://127.0.0.1:7070";
// The organization a fresh ignited creates (decisions.md "Local bootstrap").
inline constexpr std::string_view kDefaultOrg = "org";

// The config files to consider, in order, for a run without --config:
//   - if $DODIL_CONFIG_DIR names an existing directory: only <it>/config.yaml;
//   - else if $IGNITE_CONFIG_DIR names an existing directory: only <it>/config.yaml;
//   - else $HOME/.config/unified-cli/config.yaml, $HOME/.ignite/config.yaml, $HOME/.config/dodil/config.yaml.
// Setting one of the two variables to a directory therefore isolates a run from the home-directory files.
std::vector<std::string> ConfigFileCandidates(const EnvMap& env, const FileSystem& fs);

// The config file to read: --config if given (it must exist, else a local error), otherwise the first
// candidate that is a regular file; "" when there is none.
Result<std::string> FindConfigFile(const ConfigFlags& flags, const EnvMap& env, const FileSystem& fs);

// Reads keys ignite.api_endpoint, ignite.token and ignite.org_id (ignite.org_name is accepted for the org),
// each falling back to the same key under global.*. Nested maps and flat dotted keys ("ignite.token: x")
// both work. An empty document is an empty config. Malformed YAML is a local error naming `path`.
Result<FileConfig> ParseConfigYaml(std::string_view yaml, std::string_view path);

// Precedence (reference 3.1: flags > environment > config file), first non-empty wins:
//   token:    --token, $DODIL_TOKEN, $IGNITE_TOKEN, file
//   endpoint: --api-endpoint, $IGNITE_API_ENDPOINT, file, kDefaultApiEndpoint
//   org:      --org, --org-name, $IGNITE_ORG_ID, $IGNITE_ORG_NAME, file, kDefaultOrg
//   debug:    --debug, or $IGNITE_DEBUG set to 1, true, yes or on (any case)
// Each value's source is recorded in Settings.
Settings MergeSettings(const ConfigFlags& flags, const EnvMap& env, const FileConfig& file);

// "flag --token", "env DODIL_TOKEN", "file ignite.token", "default", or "unset".
std::string DescribeSource(const SettingSource& source);

// "1", "true", "yes", "on" in any case (for $IGNITE_DEBUG).
bool IsTruthy(std::string_view value);

// FindConfigFile + ParseConfigYaml + MergeSettings.
Result<Settings> ResolveSettings(const ConfigFlags& flags, const EnvMap& env, const FileSystem& fs);

}  // namespace ignite::cli
