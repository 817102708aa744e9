#include "api/roles.h"

#include <map>

#include <fmt/format.h>

namespace ignite::api {
namespace {

const std::map<std::string_view, Role>& Table() {
  static const std::map<std::string_view, Role> kTable = {
      // Reads.
      {"GetApp", Role::kViewer},
      {"ListApps", Role::kViewer},
      {"GetAppState", Role::kViewer},
      {"ListAppReplicas", Role::kViewer},
      {"GetAppLogs", Role::kViewer},
      {"StreamAppLogs", Role::kViewer},
      {"GetAppEvents", Role::kViewer},
      {"StreamAppEvents", Role::kViewer},
      {"GetExecutionStats", Role::kViewer},
      {"GetDraftInfo", Role::kViewer},
      {"ListAppVersions", Role::kViewer},
      {"GetAppVersion", Role::kViewer},
      {"GetBuildLog", Role::kViewer},
      {"StreamCompileLogs", Role::kViewer},
      {"GetExecution", Role::kViewer},
      {"WatchExecution", Role::kViewer},
      {"HealthCheck", Role::kViewer},
      {"WhoAmI", Role::kViewer},
      // Takes no bearer (the service account's credentials are its authentication), so no role is checked;
      // listed so that every route has an entry.
      {"IssueToken", Role::kViewer},
      // Changes, code and invocations.
      {"CreateApp", Role::kDeveloper},
      {"UpdateAppConfig", Role::kDeveloper},
      {"DeleteApp", Role::kDeveloper},
      {"SaveDraft", Role::kDeveloper},
      {"CompileDraft", Role::kDeveloper},
      {"CancelCompile", Role::kDeveloper},
      {"PublishDraft", Role::kDeveloper},
      {"RollbackApp", Role::kDeveloper},
      {"TestDraft", Role::kDeveloper},
      {"TestAppVersion", Role::kDeveloper},
      {"GetAppCode", Role::kDeveloper},
      {"Invoke", Role::kDeveloper},
      {"InvokeAsync", Role::kDeveloper},
      // Secrets (api/secret_service.h): anyone may see which exist; values are a developer's.
      {"ListSecrets", Role::kViewer},
      {"GetSecret", Role::kDeveloper},
      {"CreateSecret", Role::kDeveloper},
      {"DeleteSecret", Role::kDeveloper},
      // Service accounts (api/auth_service.h).
      {"CreateServiceAccount", Role::kAdmin},
      {"ListServiceAccounts", Role::kAdmin},
      {"DeleteServiceAccount", Role::kAdmin},
  };
  return kTable;
}

}  // namespace

Result<Role> ParseRole(std::string_view name) {
  if (name == "app-viewer") return Role::kViewer;
  if (name == "app-developer") return Role::kDeveloper;
  if (name == "admin") return Role::kAdmin;
  return InvalidArgument(fmt::format("unknown role \"{}\": use app-viewer, app-developer or admin", name));
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "app-viewer";
    case Role::kDeveloper: return "app-developer";
    case Role::kAdmin: return "admin";
  }
  return "admin";
}

Role RequiredRole(std::string_view rpc) {
  auto it = Table().find(rpc);
  return it == Table().end() ? Role::kAdmin : it->second;
}

Status CheckRole(const Principal& p, std::string_view rpc) {
  Role need = RequiredRole(rpc);
  auto have = ParseRole(p.role);
  if (have.ok() && *have >= need) return OkStatus();
  return PermissionDenied(fmt::format("your token's role {} cannot call {}; it needs {} (ask an admin of "
                                      "organization \"{}\" for a token with that role)",
                                      p.role.empty() ? "(none)" : p.role, rpc, RoleName(need), p.org_name));
}

std::vector<std::string> KnownRpcs() {
  std::vector<std::string> out;
  for (const auto& [name, role] : Table()) out.emplace_back(name);
  return out;
}

}  // namespace ignite::api
