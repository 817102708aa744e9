// Offline administration of a data dir, as `ignited` subcommands (works whether or not a server runs on the
// same data dir; SQLite serializes the writers):
//   ignited org create NAME
//   ignited token create --org NAME --role app-viewer|app-developer|admin [--ttl-secs N] [--description D]
//   ignited routes
// Organizations are made only here; tokens too, besides those exchanged for service account credentials
// (api/auth_service.h), which an org's admins manage over the API.
#pragma once

#include <chrono>
#include <string>

#include "api/auth.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/records.h"
#include "store/store.h"

namespace ignite::server {

// Creates organization `name`. InvalidArgument for a bad name, AlreadyExists when it exists.
Result<store::OrgRecord> CreateOrg(store::Store* store, const Clock& clock, const std::string& name);

// A new bearer token for org `org_name` with `role` (ttl 0: no expiry). NotFound for an unknown org,
// InvalidArgument for an unknown role or a negative ttl. The secret exists only in the returned string.
Result<std::string> CreateToken(store::Store* store, api::Authenticator* auth, const std::string& org_name,
                                const std::string& role, std::chrono::seconds ttl, const std::string& description);

}  // namespace ignite::server
