// Roles and what each may call (issue 5, decisions.md "Roles"). A token carries one role:
//   app-viewer     reads: apps, state, replicas, logs, drafts' status, versions, build logs, executions;
//   app-developer  everything a viewer may, plus changing apps (create, update, delete, save, compile,
//                  publish, rollback), reading saved code, and invoking;
//   admin          everything, including service accounts (create, list, delete).
// HealthCheck and IssueToken (exchanging service account credentials for a token) take no bearer at all.
// Every route checks the caller's role by its RPC name; a name missing from the table needs admin, so a new
// route is closed until it is given a role. The org always comes from the token, never from the request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "common/result.h"

namespace ignite::api {

enum class Role { kViewer = 0, kDeveloper = 1, kAdmin = 2 };

// "app-viewer", "app-developer", "admin"; InvalidArgument otherwise (naming the choices).
Result<Role> ParseRole(std::string_view name);
std::string_view RoleName(Role role);

// The least role that may call `rpc` (a route name such as "SaveDraft"); kAdmin for unknown names.
Role RequiredRole(std::string_view rpc);

// OK when p's role may call `rpc`; else PermissionDenied saying which role it needs.
Status CheckRole(const Principal& p, std::string_view rpc);

// The RPC names the table knows, for tests that check every route has an entry.
std::vector<std::string> KnownRpcs();

}  // namespace ignite::api
