#include "common/names.h"

#include <fmt/format.h>

namespace ignite {
namespace {
bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Status Validate(std::string_view kind, std::string_view name, bool allow_dot) {
  const std::string rule = fmt::format(
      "{} names must be 1-63 characters of lowercase letters, digits{} and '-', starting and ending with a "
      "letter or digit",
      kind, allow_dot ? ", '.'" : "");
  if (name.empty()) return InvalidArgument(fmt::format("{} name is empty: {}", kind, rule));
  bool ok = name.size() <= 63 && IsAlnum(name.front()) && IsAlnum(name.back());
  for (char c : name) {
    if (!(IsAlnum(c) || c == '-' || (allow_dot && c == '.'))) ok = false;
  }
  if (!ok) return InvalidArgument(fmt::format("invalid {} name \"{}\": {}", kind, name, rule));
  return OkStatus();
}
}  // namespace

Status ValidateOrgName(std::string_view name) { return Validate("organization", name, false); }
Status ValidateAppName(std::string_view name) { return Validate("app", name, true); }

Result<AppRef> ParseAppRef(std::string_view text, std::string_view default_org) {
  AppRef ref;
  size_t sep = text.find_first_of(":/");
  if (sep == std::string_view::npos) {
    if (default_org.empty()) {
      return InvalidArgument(fmt::format(
          "app \"{}\" has no organization: write it as org:app, or set one with --org or IGNITE_ORG_ID", text));
    }
    ref.org = std::string(default_org);
    ref.app = std::string(text);
  } else {
    ref.org = std::string(text.substr(0, sep));
    ref.app = std::string(text.substr(sep + 1));
  }
  IGNITE_RETURN_IF_ERROR(ValidateOrgName(ref.org));
  IGNITE_RETURN_IF_ERROR(ValidateAppName(ref.app));
  return ref;
}

}  // namespace ignite
