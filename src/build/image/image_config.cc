#include "build/image/image_config.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ignite::build::image {
namespace {

using nlohmann::json;

constexpr std::string_view kRebuild = "rebuild the image with a standard tool (docker build, buildah, kaniko)";

Status BadField(std::string_view field, std::string_view want) {
  return InvalidArgument(fmt::format("in the image config, {} is not {}; {}", field, want, kRebuild));
}

// A string field that may be absent or null ("" then).
Result<std::string> OptString(const json& obj, const char* key, std::string_view field) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return BadField(field, "a string");
  return it->get<std::string>();
}

// An array-of-strings field that may be absent or null (empty then).
Result<std::vector<std::string>> OptStrings(const json& obj, const char* key, std::string_view field) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return BadField(field, "an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return BadField(field, "an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Digits only, fitting uint32; nullopt otherwise. 4294967295 is (uid_t)-1, which setresuid and friends read
// as "leave unchanged" (so a process started as root would stay root): it is not accepted as an id.
std::optional<uint32_t> ParseId(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v >= std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(v);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// USER is "uid" or "uid:gid". Only numbers are accepted: the platform runs the instance with runAsNonRoot
// semantics and cannot look names up in the image's /etc/passwd.
Status ParseUser(std::string_view user, ImageConfig* out) {
  if (user.empty()) {
    return InvalidArgument(
        "the image sets no USER, so it would run as root; add a numeric non-root USER such as `USER 65534`");
  }
  size_t colon = user.find(':');
  std::string_view uid_s = user.substr(0, colon);
  std::string_view gid_s = colon == std::string_view::npos ? std::string_view() : user.substr(colon + 1);
  bool has_group = colon != std::string_view::npos;
  // A part with anything but digits is a name (Docker resolves it through the image's passwd/group files).
  if ((!uid_s.empty() && !AllDigits(uid_s)) || (has_group && !gid_s.empty() && !AllDigits(gid_s))) {
    return InvalidArgument(fmt::format(
        "the image runs as a named user (\"{}\"); the platform cannot verify it is non-root: use a numeric USER "
        "such as `USER 65534` or `USER 1000:1000`",
        user));
  }
  std::optional<uint32_t> uid = ParseId(uid_s);
  std::optional<uint32_t> gid = has_group ? ParseId(gid_s) : uid;
  if (!uid || !gid) {
    return InvalidArgument(fmt::format(
        "the image's USER \"{}\" is not a valid uid[:gid] (each a number below 4294967295); use a numeric "
        "non-root USER such as `USER 65534` or `USER 1000:1000`",
        user));
  }
  // Whatever the group, uid 0 is root.
  if (*uid == 0) {
    return InvalidArgument(fmt::format(
        "the image runs as root (USER {}); use a numeric non-root USER such as `USER 65534`", user));
  }
  out->uid = *uid;
  out->gid = *gid;
  return OkStatus();
}

// ExposedPorts keys are "<port>/<proto>"; Docker reads a bare "<port>" as tcp. Non-tcp ports are skipped:
// instances are reached over HTTP only.
Result<std::vector<uint16_t>> ParsePorts(const json& config) {
  std::vector<uint16_t> out;
  auto it = config.find("ExposedPorts");
  if (it == config.end() || it->is_null()) return out;
  if (!it->is_object()) return BadField("config.ExposedPorts", "an object such as {\"8080/tcp\": {}}");
  for (const auto& [key, unused] : it->items()) {
    std::string_view k = key;
    size_t slash = k.find('/');
    std::string_view port_s = k.substr(0, slash);
    std::string_view proto = slash == std::string_view::npos ? "tcp" : k.substr(slash + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_s.data(), port_s.data() + port_s.size(), port);
    if (!AllDigits(port_s) || ec != std::errc() || end != port_s.data() + port_s.size() || port < 1 ||
        port > 65535) {
      return InvalidArgument(fmt::format(
          "the image exposes \"{}\", which is not a port from 1 to 65535; write EXPOSE with a port number such "
          "as `EXPOSE 8080`",
          key));
    }
    if (proto == "tcp") out.push_back(static_cast<uint16_t>(port));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status CheckPlatform(const json& doc, const char* key, std::string_view want) {
  IGNITE_ASSIGN_OR_RETURN(std::string got, OptString(doc, key, key));
  if (!got.empty() && got != want) {
    return InvalidArgument(fmt::format(
        "the image is built for {} \"{}\", but the platform runs only linux/amd64 images; build it for "
        "linux/amd64 (for example `docker build --platform linux/amd64`)",
        key, got));
  }
  return OkStatus();
}

}  // namespace

std::vector<std::string> ImageConfig::Argv() const {
  std::vector<std::string> argv = entrypoint;
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

Result<ImageConfig> ParseImageConfig(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument(fmt::format("the image config is not a JSON object; {}", kRebuild));
  }
  IGNITE_RETURN_IF_ERROR(CheckPlatform(doc, "os", "linux"));
  IGNITE_RETURN_IF_ERROR(CheckPlatform(doc, "architecture", "amd64"));

  ImageConfig out;
  IGNITE_ASSIGN_OR_RETURN(out.os, OptString(doc, "os", "os"));
  IGNITE_ASSIGN_OR_RETURN(out.architecture, OptString(doc, "architecture", "architecture"));

  // "config" may be absent or null (an image with nothing set); it then has no command and no user, which
  // the checks below report.
  static const json kEmpty = json::object();
  const json* config = &kEmpty;
  if (auto it = doc.find("config"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return BadField("\"config\"", "an object");
    config = &*it;
  }

  IGNITE_ASSIGN_OR_RETURN(out.entrypoint, OptStrings(*config, "Entrypoint", "config.Entrypoint"));
  IGNITE_ASSIGN_OR_RETURN(out.cmd, OptStrings(*config, "Cmd", "config.Cmd"));
  if (out.entrypoint.empty() && out.cmd.empty()) {
    return InvalidArgument(
        "the image has neither ENTRYPOINT nor CMD, so there is nothing to run; add one such as "
        "`CMD [\"/app/server\"]`");
  }
  IGNITE_ASSIGN_OR_RETURN(std::string user, OptString(*config, "User", "config.User"));
  IGNITE_RETURN_IF_ERROR(ParseUser(user, &out));

  IGNITE_ASSIGN_OR_RETURN(out.env, OptStrings(*config, "Env", "config.Env"));
  for (auto& e : out.env) {
    if (e.find('=') == std::string::npos) e += '=';
  }
  IGNITE_ASSIGN_OR_RETURN(out.working_dir, OptString(*config, "WorkingDir", "config.WorkingDir"));
  if (out.working_dir.empty()) out.working_dir.push_back('/');  // not `= "/"`: g++ 12 -O2 false -Wrestrict
  IGNITE_ASSIGN_OR_RETURN(out.exposed_ports, ParsePorts(*config));
  return out;
}

}  // namespace ignite::build::image
