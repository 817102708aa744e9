#include "cli/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cli/errors.h"

extern char** environ;

namespace ignite::cli {
namespace {

class RealFs : public FileSystem {
 public:
  bool IsDirectory(const std::string& path) const override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  bool IsRegularFile(const std::string& path) const override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  }
  std::optional<std::string> ReadFile(const std::string& path) const override {
    if (!IsRegularFile(path)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(content).str();
  }
  Status WriteFile(const std::string& path, std::string_view bytes) const override {
    // A regular file (or a new one) is written next to the target and renamed over it, so a failure never
    // leaves a truncated file at `path`; anything else that exists (/dev/stdout, a FIFO) is written in place.
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
      if (S_ISDIR(st.st_mode)) return LocalError(fmt::format("cannot write {}: it is a directory", path));
      std::ofstream out(path, std::ios::binary);
      if (!out) return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.close();
      if (!out) return LocalError(fmt::format("cannot write {}", path));
      return OkStatus();
    }
    std::string temp = path + ".tmp-" + std::to_string(::getpid());
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      if (!out) return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.close();
      if (!out) {
        int saved = errno;
        ::unlink(temp.c_str());
        return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
      }
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      int saved = errno;
      ::unlink(temp.c_str());
      return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
    }
    return OkStatus();
  }
};

std::string EnvValue(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

template <typename... Rest>
std::string FirstNonEmpty(const std::string& first, const Rest&... rest) {
  if (!first.empty()) return first;
  if constexpr (sizeof...(rest) > 0) {
    return FirstNonEmpty(rest...);
  } else {
    return std::string();
  }
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// Looks up section.key as a nested map entry or a flat "section.key" entry. Non-scalars are an error.
Result<std::string> Lookup(const YAML::Node& root, const std::string& section, const std::string& key,
                           std::string_view path) {
  YAML::Node value;
  YAML::Node nested = root[section];
  if (nested && nested.IsMap() && nested[key]) {
    value = nested[key];
  } else if (root[section + "." + key]) {
    value = root[section + "." + key];
  } else {
    return std::string();
  }
  if (value.IsNull()) return std::string();
  if (!value.IsScalar()) {
    return LocalError(fmt::format("config file {}: {}.{} must be a single value", path, section, key));
  }
  return value.Scalar();
}

}  // namespace

Status FileSystem::WriteFile(const std::string& path, std::string_view) const {
  return LocalError(fmt::format("cannot write {}: writing files is not supported here", path));
}

const FileSystem& RealFileSystem() {
  static const RealFs fs;
  return fs;
}

EnvMap ProcessEnvironment() {
  EnvMap env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::vector<std::string> ConfigFileCandidates(const EnvMap& env, const FileSystem& fs) {
  for (const char* var : {"DODIL_CONFIG_DIR", "IGNITE_CONFIG_DIR"}) {
    std::string dir = EnvValue(env, var);
    if (!dir.empty() && fs.IsDirectory(dir)) return {JoinPath(dir, "config.yaml")};
  }
  std::string home = EnvValue(env, "HOME");
  if (home.empty()) return {};
  return {JoinPath(home, ".config/unified-cli/config.yaml"), JoinPath(home, ".ignite/config.yaml"),
          JoinPath(home, ".config/dodil/config.yaml")};
}

Result<std::string> FindConfigFile(const ConfigFlags& flags, const EnvMap& env, const FileSystem& fs) {
  if (!flags.config_path.empty()) {
    if (!fs.IsRegularFile(flags.config_path)) {
      return LocalError(fmt::format("config file {} (from --config) does not exist", flags.config_path));
    }
    return flags.config_path;
  }
  for (const std::string& candidate : ConfigFileCandidates(env, fs)) {
    if (fs.IsRegularFile(candidate)) return candidate;
  }
  return std::string();
}

Result<FileConfig> ParseConfigYaml(std::string_view yaml, std::string_view path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return LocalError(fmt::format("config file {} is not valid YAML: {}", path, e.what()));
  }
  FileConfig config;
  if (!root || root.IsNull()) return config;
  if (!root.IsMap()) {
    return LocalError(fmt::format("config file {} must be a YAML map with an ignite: section", path));
  }
  auto get = [&](const std::string& key) -> Result<std::string> {
    IGNITE_ASSIGN_OR_RETURN(std::string from_ignite, Lookup(root, "ignite", key, path));
    if (!from_ignite.empty()) return from_ignite;
    return Lookup(root, "global", key, path);
  };
  IGNITE_ASSIGN_OR_RETURN(config.api_endpoint, get("api_endpoint"));
  IGNITE_ASSIGN_OR_RETURN(config.token, get("token"));
  IGNITE_ASSIGN_OR_RETURN(std::string ignite_org_id, Lookup(root, "ignite", "org_id", path));
  IGNITE_ASSIGN_OR_RETURN(std::string ignite_org_name, Lookup(root, "ignite", "org_name", path));
  IGNITE_ASSIGN_OR_RETURN(std::string global_org_id, Lookup(root, "global", "org_id", path));
  IGNITE_ASSIGN_OR_RETURN(std::string global_org_name, Lookup(root, "global", "org_name", path));
  config.org = FirstNonEmpty(ignite_org_id, ignite_org_name, global_org_id, global_org_name);
  return config;
}

Settings MergeSettings(const ConfigFlags& flags, const EnvMap& env, const FileConfig& file) {
  Settings s;
  s.token = FirstNonEmpty(flags.token, EnvValue(env, "DODIL_TOKEN"), EnvValue(env, "IGNITE_TOKEN"), file.token);
  s.api_endpoint = FirstNonEmpty(flags.api_endpoint, EnvValue(env, "IGNITE_API_ENDPOINT"), file.api_endpoint,
                                 std::string(kDefaultApiEndpoint));
  s.org = FirstNonEmpty(flags.org, EnvValue(env, "IGNITE_ORG_ID"), EnvValue(env, "IGNITE_ORG_NAME"), file.org,
                         std::string(kDefaultOrg));
  return s;
}

Result<Settings> ResolveSettings(const ConfigFlags& flags, const EnvMap& env, const FileSystem& fs) {
  IGNITE_ASSIGN_OR_RETURN(std::string path, FindConfigFile(flags, env, fs));
  FileConfig file;
  if (!path.empty()) {
    std::optional<std::string> content = fs.ReadFile(path);
    if (!content) return LocalError(fmt::format("cannot read config file {}", path));
    IGNITE_ASSIGN_OR_RETURN(file, ParseConfigYaml(*content, path));
  }
  Settings settings = MergeSettings(flags, env, file);
  settings.config_file = path;
  return settings;
}

}  // namespace ignite::cli
