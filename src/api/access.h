// Who may reach what: the API's access rules, written once for every surface (HTTP and gRPC methods, the
// per-app URLs, async invocations). Roles (which methods a token may call) are api/roles.h's; these rules
// say which organization's apps. No I/O: safe on an event loop.
#pragma once

#include <string_view>

#include "api/auth.h"
#include "common/status.h"

namespace ignite::api {

// Management of an organization's apps, and async invocations: only the organization's own tokens.
// PermissionDenied otherwise.
Status CheckOrgAccess(const Principal& p, std::string_view org);

// Synchronous invocation of org/app: the organization's own tokens, and any organization's for apps of the
// `public` organization (decisions.md). PermissionDenied otherwise, naming the app.
Status CheckInvokeAccess(const Principal& p, std::string_view org, std::string_view app);

}  // namespace ignite::api
