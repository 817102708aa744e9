#include "server/admin.h"

#include <fmt/format.h>

#include "api/roles.h"
#include "common/ids.h"
#include "common/names.h"

namespace ignite::server {

Result<store::OrgRecord> CreateOrg(store::Store* store, const Clock& clock, const std::string& name) {
  IGNITE_RETURN_IF_ERROR(ValidateOrgName(name));
  auto existing = store->GetOrgByName(name);
  if (existing.ok()) return AlreadyExists(fmt::format("organization \"{}\" already exists", name));
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  store::OrgRecord rec;
  rec.id = NewUlid();
  rec.name = name;
  rec.created_at_ms = clock.NowUnixMs();
  IGNITE_RETURN_IF_ERROR(store->CreateOrg(rec));
  return rec;
}

Result<std::string> CreateToken(store::Store* store, api::Authenticator* auth, const std::string& org_name,
                                const std::string& role, std::chrono::seconds ttl, const std::string& description) {
  IGNITE_RETURN_IF_ERROR(api::ParseRole(role).status());
  if (ttl.count() < 0) return InvalidArgument("--ttl-secs must be 0 (no expiry) or more");
  auto org = store->GetOrgByName(org_name);
  if (!org.ok()) {
    if (org.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("no organization \"{}\"; create it with `ignited org create {}`", org_name, org_name));
    }
    return org.status();
  }
  return auth->IssueToken(org->id, role, description, ttl);
}

}  // namespace ignite::server
