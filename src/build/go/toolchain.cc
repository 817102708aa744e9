// DefaultGoToolchain: locate go, the SDK and the checker once at startup.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "build/go/go_builder.h"
#include "build/go/go_env.h"
#include "build/tool_text.h"
#include "common/process.h"

namespace ignite::build {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<GoToolchain> DefaultGoToolchain(const std::string& sdk_dir, const std::string& cache_dir,
                                       const std::map<std::string, std::string>& env) {
  namespace fs = std::filesystem;
  GoToolchain tc;
  tc.base_env = FilterGoBaseEnv(env);
  tc.go_binary = FindGoBinary(tc.base_env, IsExecutableFile);
  if (tc.go_binary.empty()) {
    return FailedPrecondition(fmt::format(
        "the Go toolchain was not found (looked in PATH={}, /usr/local/go/bin/go and /usr/lib/go/bin/go); install "
        "Go 1.26 from https://go.dev/dl and put its bin directory on PATH",
        tc.base_env["PATH"]));
  }

  std::error_code ec;
  fs::path sdk = fs::weakly_canonical(fs::absolute(sdk_dir, ec), ec);
  tc.sdk_dir = sdk.string();
  std::ifstream version_file(sdk / "VERSION");
  if (!version_file || !fs::is_regular_file(sdk / "go.mod", ec)) {
    return FailedPrecondition(fmt::format(
        "the Ignite Go SDK was not found at {} (it needs go.mod and VERSION); point --sdk-dir or IGNITE_GO_SDK_DIR "
        "at the sdk/go directory of the Ignite source tree",
        tc.sdk_dir));
  }
  std::ostringstream ss;
  ss << version_file.rdbuf();
  tc.sdk_version = TrimSpace(ss.str());
  tc.cache_dir = fs::absolute(cache_dir, ec).lexically_normal().string();
  if (!tc.cache_dir.empty() && tc.cache_dir.back() == '/') tc.cache_dir.pop_back();

  if (auto it = env.find("IGNITE_GOCHECK"); it != env.end() && !it->second.empty()) tc.gocheck_binary = it->second;

  IGNITE_RETURN_IF_ERROR(PrepareGoConfigDir(tc.cache_dir));
  SpawnSpec spec;
  spec.argv = {tc.go_binary, "env", "GOVERSION"};
  spec.env = GoCommandEnv(tc, tc.cache_dir);
  auto r = RunCommand(spec, std::chrono::seconds(30));
  if (!r.ok() || r->exit_code != 0) {
    return FailedPrecondition(fmt::format("{} does not run ({}); reinstall Go 1.26", tc.go_binary,
                                          r.ok() ? CapForMessage(TrimSpace(r->output), 2000) : r.status().message()));
  }
  tc.go_version = TrimSpace(r->output);
  return tc;
}

}  // namespace ignite::build
