#include "cli/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
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
  Status CreateDirectories(const std::string& path) const override {
    if (path.empty() || IsDirectory(path)) return OkStatus();
    size_t slash = path.find_last_of('/');
    if (slash != std::string::npos && slash > 0) IGNITE_RETURN_IF_ERROR(CreateDirectories(path.substr(0, slash)));
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return LocalError(fmt::format("cannot create directory {}: {}", path, std::strerror(errno)));
    }
    return OkStatus();
  }
  Status WritePrivateFile(const std::string& path, std::string_view bytes) const override {
    // Written next to the target with mode 0600 and renamed over it: never a moment with a wider mode, and
    // never a truncated file at `path`.
    std::string temp = path + ".tmp-" + std::to_string(::getpid());
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    ::fchmod(fd, 0600);  // in case the temp file existed with another mode
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int saved = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
      }
      done += static_cast<size_t>(n);
    }
    bool synced = ::fsync(fd) == 0;
    int saved = errno;
    if (::close(fd) != 0 && synced) {
      synced = false;
      saved = errno;
    }
    if (!synced) {
      ::unlink(temp.c_str());
      return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      saved = errno;
      ::unlink(temp.c_str());
      return LocalError(fmt::format("cannot write {}: {}", path, std::strerror(saved)));
    }
    return OkStatus();
  }
};

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

std::string EnvValue(const EnvMap& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

Status FileSystem::WriteFile(const std::string& path, std::string_view) const {
  return LocalError(fmt::format("cannot write {}: writing files is not supported here", path));
}

Status FileSystem::CreateDirectories(const std::string& path) const {
  return LocalError(fmt::format("cannot create {}: creating directories is not supported here", path));
}

Status FileSystem::WritePrivateFile(const std::string& path, std::string_view) const {
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
  // The first of `keys` ("section.key") with a value: that value into `value`, its key into `key_out`.
  auto get = [&](std::initializer_list<std::pair<const char*, const char*>> keys, std::string& value,
                 std::string& key_out) -> Status {
    for (const auto& [section, key] : keys) {
      IGNITE_ASSIGN_OR_RETURN(std::string found, Lookup(root, section, key, path));
      if (!found.empty()) {
        value = std::move(found);
        key_out = fmt::format("{}.{}", section, key);
        return OkStatus();
      }
    }
    return OkStatus();
  };
  IGNITE_RETURN_IF_ERROR(get({{"ignite", "api_endpoint"}, {"global", "api_endpoint"}}, config.api_endpoint,
                             config.api_endpoint_key));
  IGNITE_RETURN_IF_ERROR(get({{"ignite", "token"}, {"global", "token"}}, config.token, config.token_key));
  IGNITE_RETURN_IF_ERROR(
      get({{"ignite", "org_id"}, {"ignite", "org_name"}, {"global", "org_id"}, {"global", "org_name"}}, config.org,
          config.org_key));
  return config;
}

std::string DescribeSource(const SettingSource& source) {
  if (source.kind.empty()) return "unset";
  if (source.name.empty()) return source.kind;
  return source.kind + " " + source.name;
}

bool IsTruthy(std::string_view value) {
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "1" || lower == "true" || lower == "yes" || lower == "on";
}

Settings MergeSettings(const ConfigFlags& flags, const EnvMap& env, const FileConfig& file) {
  // The first candidate with a value wins; its source is recorded.
  struct Candidate {
    std::string value;
    SettingSource source;
  };
  auto pick = [](std::initializer_list<Candidate> candidates, std::string& value, SettingSource& source) {
    for (const Candidate& c : candidates) {
      if (!c.value.empty()) {
        value = c.value;
        source = c.source;
        return;
      }
    }
  };
  Settings s;
  pick({{flags.token, {"flag", "--token"}},
        {EnvValue(env, "DODIL_TOKEN"), {"env", "DODIL_TOKEN"}},
        {EnvValue(env, "IGNITE_TOKEN"), {"env", "IGNITE_TOKEN"}},
        {file.token, {"file", file.token_key}}},
       s.token, s.token_source);
  pick({{flags.api_endpoint, {"flag", "--api-endpoint"}},
        {EnvValue(env, "IGNITE_API_ENDPOINT"), {"env", "IGNITE_API_ENDPOINT"}},
        {file.api_endpoint, {"file", file.api_endpoint_key}},
        {std::string(kDefaultApiEndpoint), {"default", ""}}},
       s.api_endpoint, s.api_endpoint_source);
  pick({{flags.org, {"flag", "--org"}},
        {flags.org_name, {"flag", "--org-name"}},
        {EnvValue(env, "IGNITE_ORG_ID"), {"env", "IGNITE_ORG_ID"}},
        {EnvValue(env, "IGNITE_ORG_NAME"), {"env", "IGNITE_ORG_NAME"}},
        {file.org, {"file", file.org_key}},
        {std::string(kDefaultOrg), {"default", ""}}},
       s.org, s.org_source);
  s.debug = flags.debug || IsTruthy(EnvValue(env, "IGNITE_DEBUG"));
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
