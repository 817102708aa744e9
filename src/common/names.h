// Validation of user-chosen names (decisions.md "Names and identities").
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace ignite {

// Organization names: lowercase, 1-63 chars of [a-z0-9-], starting and ending with a letter or digit.
// Returns InvalidArgument stating the rule.
Status ValidateOrgName(std::string_view name);

// The organization whose apps any organization's token may invoke (decisions.md "The public organization").
inline constexpr std::string_view kPublicOrg = "public";
// App names: as org names, and may also contain '.'.
Status ValidateAppName(std::string_view name);

struct AppRef {
  std::string org;
  std::string app;
  std::string id() const { return org + "/" + app; }
};

// Parses "org:app", "org/app" or "app" (then `default_org` is used; empty default_org is an error).
Result<AppRef> ParseAppRef(std::string_view text, std::string_view default_org);

}  // namespace ignite
