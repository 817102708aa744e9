#include "build/go/go_sandbox.h"

#include <filesystem>

namespace ignite::build {

namespace fs = std::filesystem;

SandboxView GoStepView(const GoToolchain& tc, const std::map<std::string, std::string>& env,
                       const std::string& go_root, const std::string& work_dir, const std::string& cwd,
                       bool network) {
  SandboxView view;
  view.read_only = {go_root, tc.sdk_dir};
  for (auto& f : SandboxEnvFiles(env)) view.read_only.push_back(std::move(f));
  view.read_write = {work_dir};
  for (const char* key : {"GOCACHE", "GOMODCACHE", "XDG_CONFIG_HOME"}) {
    auto it = env.find(key);
    if (it != env.end()) view.read_write.push_back(it->second);
  }
  view.network = network;
  view.cwd = cwd;
  return view;
}

SandboxView GoCheckView(const std::string& checker, const std::string& source_dir) {
  SandboxView view;
  view.read_only = {checker, source_dir};
  view.cwd = source_dir;
  return view;
}

std::string GoRoot(const std::string& go_binary) {
  std::error_code ec;
  fs::path bin = fs::canonical(go_binary, ec);
  if (ec) return "";
  return bin.parent_path().parent_path().string();
}

}  // namespace ignite::build
