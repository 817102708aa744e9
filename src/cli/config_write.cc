#include "cli/config_write.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "cli/errors.h"

namespace ignite::cli {
namespace {

std::string ParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

bool IsKnownConfigKey(std::string_view key) {
  for (std::string_view known : kConfigKeys) {
    if (key == known) return true;
  }
  return false;
}

Result<std::string> ConfigWritePath(const std::string& config_flag, const EnvMap& env, const FileSystem& fs) {
  if (!config_flag.empty()) return config_flag;
  for (const char* var : {"DODIL_CONFIG_DIR", "IGNITE_CONFIG_DIR"}) {
    std::string dir = EnvValue(env, var);
    if (!dir.empty()) return JoinPath(dir, "config.yaml");
  }
  std::vector<std::string> candidates = ConfigFileCandidates(env, fs);
  for (const std::string& candidate : candidates) {
    if (fs.IsRegularFile(candidate)) return candidate;
  }
  if (candidates.empty()) {
    return LocalError("no place for the config file: HOME is not set; set DODIL_CONFIG_DIR or pass --config PATH");
  }
  return candidates.front();
}

Result<std::string> SetIgniteKeys(std::string_view existing, const ConfigValues& values, std::string_view path) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(existing));
  } catch (const YAML::Exception& e) {
    return LocalError(fmt::format("config file {} is not valid YAML ({}); fix or remove it first", path, e.what()));
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) {
    return LocalError(fmt::format("config file {} is not a YAML map; fix or remove it first", path));
  }
  YAML::Node ignite = root["ignite"];
  if (ignite && !ignite.IsNull() && !ignite.IsMap()) {
    return LocalError(fmt::format("config file {}: ignite must be a map of keys; fix or remove it first", path));
  }
  if (!ignite || ignite.IsNull()) {
    root["ignite"] = YAML::Node(YAML::NodeType::Map);
    ignite = root["ignite"];
  }
  for (const auto& [key, value] : values) {
    ignite[key] = value;
    root.remove("ignite." + key);
  }
  YAML::Emitter out;
  out << root;
  if (!out.good()) return LocalError(fmt::format("cannot write config file {}: {}", path, out.GetLastError()));
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

Status WriteIgniteKeys(const FileSystem& fs, const std::string& path, const ConfigValues& values) {
  std::string existing;
  if (fs.IsRegularFile(path)) {
    std::optional<std::string> content = fs.ReadFile(path);
    if (!content) return LocalError(fmt::format("cannot read config file {}", path));
    existing = std::move(*content);
  } else if (fs.IsDirectory(path)) {
    return LocalError(fmt::format("cannot write config file {}: it is a directory", path));
  }
  IGNITE_ASSIGN_OR_RETURN(std::string text, SetIgniteKeys(existing, values, path));
  std::string dir = ParentDir(path);
  if (!dir.empty() && !fs.IsDirectory(dir)) IGNITE_RETURN_IF_ERROR(fs.CreateDirectories(dir));
  return fs.WritePrivateFile(path, text);
}

std::string MaskToken(std::string_view token) {
  if (token.empty()) return "";
  if (token.size() <= 8) return "****";
  return "****" + std::string(token.substr(token.size() - 4));
}

}  // namespace ignite::cli
