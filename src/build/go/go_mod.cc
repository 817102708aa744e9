#include "build/go/go_mod.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "archive/paths.h"

namespace ignite::build {

Result<std::vector<std::string>> SdkModEditArgs(std::string_view mod_json, const std::string& sdk_dir) {
  auto doc = nlohmann::json::parse(mod_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Internal("cannot parse the output of `go mod edit -json`");
  std::vector<std::string> args = {"mod", "edit"};
  bool requires_ignite = false;
  if (auto it = doc.find("Require"); it != doc.end() && it->is_array()) {
    for (const auto& r : *it) {
      if (r.is_object() && r.value("Path", "") == "ignite") requires_ignite = true;
    }
  }
  if (requires_ignite) args.push_back("-droprequire=ignite");
  if (auto it = doc.find("Replace"); it != doc.end() && it->is_array()) {
    for (const auto& r : *it) {
      if (!r.is_object() || !r.contains("Old") || !r["Old"].is_object()) continue;
      const auto& old = r["Old"];
      if (old.value("Path", "") != "ignite") continue;
      std::string version = old.value("Version", "");
      args.push_back(version.empty() ? "-dropreplace=ignite" : "-dropreplace=ignite@" + version);
    }
  }
  args.push_back("-require=ignite@v0.0.0");
  args.push_back("-replace=ignite=" + sdk_dir);
  return args;
}

bool RequiresModules(std::string_view mod_json) {
  auto doc = nlohmann::json::parse(mod_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return true;
  for (const char* key : {"Require", "Replace"}) {
    auto it = doc.find(key);
    if (it == doc.end() || it->is_null()) continue;
    if (!it->is_array()) return true;
    for (const auto& r : *it) {
      std::string path = key == std::string("Require") ? r.value("Path", "")
                                                        : (r.contains("Old") ? r["Old"].value("Path", "") : "");
      if (path != "ignite") return true;
    }
  }
  return false;
}

Status CheckLocalReplaces(std::string_view mod_json) {
  auto doc = nlohmann::json::parse(mod_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Internal("cannot parse the output of `go mod edit -json`");
  auto it = doc.find("Replace");
  if (it == doc.end() || !it->is_array()) return OkStatus();
  for (const auto& r : *it) {
    if (!r.is_object() || !r.contains("Old") || !r.contains("New") || !r["New"].is_object()) continue;
    std::string old_path = r["Old"].is_object() ? r["Old"].value("Path", "") : "";
    if (old_path == "ignite") continue;
    const auto& repl = r["New"];
    if (!repl.value("Version", "").empty()) continue;  // a module replacement, not a directory
    std::string dir = repl.value("Path", "");
    bool inside = !dir.empty() && dir.front() != '/';
    if (inside) {
      int depth = 0;
      for (const auto& part : archive::SplitPath(dir)) {
        if (part == "..") {
          if (--depth < 0) inside = false;
        } else if (part != ".") {
          ++depth;
        }
      }
    }
    if (!inside) {
      return InvalidArgument(fmt::format(
          "go.mod replaces {} with the directory \"{}\", which is outside the uploaded source; put that module "
          "in the archive and use a path inside it (for example `replace {} => ./{}`), or require a published "
          "version",
          old_path, dir, old_path, old_path.substr(old_path.find_last_of('/') + 1)));
    }
  }
  return OkStatus();
}

}  // namespace ignite::build
