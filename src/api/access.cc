#include "api/access.h"

#include <fmt/format.h>

#include "common/names.h"

namespace ignite::api {

Status CheckOrgAccess(const Principal& p, std::string_view org) {
  if (p.org_name == org) return OkStatus();
  return PermissionDenied(fmt::format(
      "your token belongs to organization \"{}\" and cannot access organization \"{}\"", p.org_name, org));
}

Status CheckInvokeAccess(const Principal& p, std::string_view org, std::string_view app) {
  if (p.org_name == org || org == kPublicOrg) return OkStatus();
  return PermissionDenied(fmt::format("your token belongs to organization \"{}\"; {}/{} can be called only by its "
                                      "own organization",
                                      p.org_name, org, app));
}

}  // namespace ignite::api
