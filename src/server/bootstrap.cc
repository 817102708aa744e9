#include "server/bootstrap.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "server/admin.h"

namespace ignite::server {
namespace {

constexpr char kMarker[] = "managed-by: ignited";

Status WritePrivateFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return Internal(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return OkStatus();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

Result<BootstrapResult> Bootstrap(store::Store* store, api::Authenticator* auth, const Clock& clock,
                                  const std::string& data_dir, const std::string& org_name) {
  BootstrapResult r;
  r.org_name = org_name;
  r.token_path = data_dir + "/admin-token";
  auto org = store->GetOrgByName(org_name);
  if (org.ok()) {
    auto token = ReadFile(r.token_path);
    if (!token.ok()) {
      return FailedPrecondition(fmt::format("organization {} exists but its admin token file {} is missing", org_name,
                                            r.token_path));
    }
    r.token = *token;
    while (!r.token.empty() && (r.token.back() == '\n' || r.token.back() == ' ')) r.token.pop_back();
    return r;
  }
  if (org.status().code() != StatusCode::kNotFound) return org.status();
  IGNITE_ASSIGN_OR_RETURN(store::OrgRecord rec, CreateOrg(store, clock, org_name));
  IGNITE_ASSIGN_OR_RETURN(r.token, auth->IssueToken(rec.id, "admin", "bootstrap admin token", std::chrono::seconds(0)));
  IGNITE_RETURN_IF_ERROR(WritePrivateFile(r.token_path, r.token + "\n"));
  return r;
}

std::string CliConfigPath(const std::map<std::string, std::string>& env) {
  for (const char* key : {"DODIL_CONFIG_DIR", "IGNITE_CONFIG_DIR"}) {
    auto it = env.find(key);
    if (it != env.end() && !it->second.empty()) return it->second + "/config.yaml";
  }
  auto home = env.find("HOME");
  std::string h = home != env.end() ? home->second : "/root";
  return h + "/.config/unified-cli/config.yaml";
}

Result<bool> WriteCliConfig(const std::string& path, const std::string& endpoint, const BootstrapResult& b) {
  auto existing = ReadFile(path);
  if (existing.ok() && existing->find(kMarker) == std::string::npos) return false;
  YAML::Emitter out;
  out << YAML::Comment(std::string(kMarker) +
                       ". Written by ignited for the local platform; delete this line to keep your own settings.");
  out << YAML::BeginMap << YAML::Key << "ignite" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "api_endpoint" << YAML::Value << endpoint;
  out << YAML::Key << "token" << YAML::Value << b.token;
  out << YAML::Key << "org_id" << YAML::Value << b.org_name;
  out << YAML::EndMap << YAML::EndMap;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  IGNITE_RETURN_IF_ERROR(WritePrivateFile(path, std::string(out.c_str()) + "\n"));
  return true;
}

}  // namespace ignite::server
