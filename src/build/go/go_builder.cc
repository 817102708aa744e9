// BuildGo: extract, check, go mod init/edit/tidy, go build, verify the ELF.
#include "build/go/go_builder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "archive/paths.h"
#include "build/build_step.h"
#include "build/elf_check.h"
#include "build/go/go_sandbox.h"
#include "build/go/go_env.h"
#include "build/go/go_mod.h"
#include "build/tool_text.h"
#include "build/go/source_check.h"
#include "common/ids.h"
#include "common/process.h"

namespace ignite::build {
namespace {

namespace fs = std::filesystem;
// <work_dir>/<kSdkLink> -> tc.sdk_dir
constexpr const char* kSdkLink = "ignite-sdk";

class GoBuild {
 public:
  GoBuild(const GoToolchain& tc, const GoBuildOptions& opts)
      : tc_(tc), opts_(opts), steps_(opts.timeout, opts.cancel, "") {}

  Result<GoBuildOutput> Run(std::string_view archive, std::string_view file_name) {
    IGNITE_RETURN_IF_ERROR(Prepare());

    Step("extracting the source");
    IGNITE_RETURN_IF_ERROR(archive::ExtractTo(archive, file_name, "main.go", src_, opts_.limits));
    bool has_go_mod = fs::exists(fs::path(src_) / "go.mod");
    std::string module = opts_.app_name.empty() ? "app" : opts_.app_name;

    Step("checking the source layout");
    if (Remaining().count() <= 0) return TimedOut("the source check");
    std::optional<std::vector<std::string>> external;
    Status check = RunGoCheck(tc_, src_, has_go_mod ? "" : module, Remaining(std::chrono::seconds(30)), &external,
                              GoCheckIsolation{opts_.sandbox_bwrap, opts_.cgroup_procs});
    if (check.code() == StatusCode::kDeadlineExceeded && Remaining().count() <= 0) return TimedOut("the source check");
    IGNITE_RETURN_IF_ERROR(check);

    if (!has_go_mod) {
      Step("no go.mod in the archive: go mod init " + module);
      IGNITE_ASSIGN_OR_RETURN(auto init, Go({"mod", "init", module}, "go mod init"));
      if (init.exit_code != 0) {
        return InvalidArgument(fmt::format("creating go.mod failed: {}; add a go.mod to the archive root",
                                           ToolOutput(init)));
      }
    }

    Step(fmt::format("using the bundled Ignite SDK {} ({}) for import \"ignite\"", tc_.sdk_version, tc_.sdk_dir));
    IGNITE_ASSIGN_OR_RETURN(auto json, Go({"mod", "edit", "-json"}, "go mod edit", /*log_output=*/false));
    if (json.exit_code != 0) return InvalidArgument("go.mod is invalid: " + ToolOutput(json));
    IGNITE_RETURN_IF_ERROR(CheckLocalReplaces(json.output));
    IGNITE_ASSIGN_OR_RETURN(auto edit_args, SdkModEditArgs(json.output, "../" + std::string(kSdkLink)));
    IGNITE_ASSIGN_OR_RETURN(auto edit, Go(edit_args, "go mod edit"));
    if (edit.exit_code != 0) return InvalidArgument("go.mod is invalid: " + ToolOutput(edit));

    if (external && external->empty() && !RequiresModules(json.output)) {
      // Only the standard library, the SDK (a local replace) and the module's own packages: there is nothing
      // for tidy to resolve, and go build needs no go.sum entries.
      Step("no third-party imports or requirements: go mod tidy is not needed");
    } else {
      Step("go mod tidy");
      // The only step with network: it fetches modules from the proxy. The go command runs no user code
      // here or anywhere in the build (CGO_ENABLED=0, GOTOOLCHAIN=local, no go generate, no tests).
      IGNITE_ASSIGN_OR_RETURN(auto tidy, Go({"mod", "tidy"}, "go mod tidy", /*log_output=*/true, /*network=*/true));
      if (tidy.exit_code != 0) return InvalidArgument("resolving dependencies failed: " + ToolOutput(tidy));
    }

    std::string binary = out_ + "/app";
    Step("go build -trimpath -buildvcs=false -ldflags=\"-s -w -buildid=\" -o out/app .");
    IGNITE_ASSIGN_OR_RETURN(
        auto build,
        Go({"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", binary, "."}, "go build"));
    if (build.exit_code != 0) return InvalidArgument("build failed:\n" + ToolOutput(build));

    Step("checking the binary");
    Status elf = CheckStaticElf(binary);
    if (!elf.ok()) return Internal("the Go build produced an unexpected binary: " + elf.message());
    std::ifstream in(binary, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    if (!in) return Internal(fmt::format("cannot read the built binary {}", binary));

    GoBuildOutput out;
    out.binary_path = binary;
    out.binary_size = content.str().size();
    out.binary_sha256 = Sha256Hex(content.str());
    out.sdk_version = tc_.sdk_version;
    out.go_version = tc_.go_version;
    Step(fmt::format("built a static linux/amd64 binary: {} bytes, sha256 {}", out.binary_size, out.binary_sha256));
    out.log = std::move(log_);
    return out;
  }

 private:
  Status Prepare() {
    if (tc_.go_binary.empty() || access(tc_.go_binary.c_str(), X_OK) != 0) {
      return FailedPrecondition(fmt::format(
          "the Go toolchain is missing at \"{}\"; install Go 1.26 (https://go.dev/dl) and restart ignited",
          tc_.go_binary));
    }
    std::error_code ec;
    if (tc_.sdk_dir.empty() || !fs::is_regular_file(fs::path(tc_.sdk_dir) / "go.mod", ec)) {
      return FailedPrecondition(fmt::format(
          "the Ignite Go SDK is missing at \"{}\" (no go.mod); point --sdk-dir or IGNITE_GO_SDK_DIR at sdk/go",
          tc_.sdk_dir));
    }
    fs::path work = fs::canonical(opts_.work_dir, ec);
    if (ec || !fs::is_directory(work)) {
      return FailedPrecondition(fmt::format("the build directory {} does not exist", opts_.work_dir));
    }
    work_ = work.string();
    src_ = work_ + "/src";
    out_ = work_ + "/out";
    steps_.set_trim_dir(src_);
    env_ = GoCommandEnv(tc_, work_);
    if (!opts_.sandbox_bwrap.empty()) {
      // The server's HOME is not in the sandbox's view.
      AdaptEnvForSandbox(&env_, work_ + "/home", [](const std::string& p) {
        std::error_code ec;
        return fs::is_regular_file(p, ec);
      });
      go_root_ = GoRoot(tc_.go_binary);
      if (go_root_.empty()) return Internal(fmt::format("cannot resolve the Go toolchain root of {}", tc_.go_binary));
    }
    std::vector<std::string> dirs = {src_, out_, work_ + "/tmp", env_["GOCACHE"], env_["GOMODCACHE"]};
    if (env_["HOME"] == work_ + "/home") dirs.push_back(work_ + "/home");
    for (const auto& d : dirs) {
      fs::create_directories(d, ec);
      if (ec) return Internal(fmt::format("cannot create {}: {}", d, ec.message()));
    }
    IGNITE_RETURN_IF_ERROR(PrepareGoConfigDir(tc_.cache_dir));
    // The SDK is reached through a link next to src/, and go.mod names it by that relative path: the build
    // info embedded in the binary then holds no machine-specific path, so the artifact hash does not depend
    // on where the platform is installed.
    fs::create_directory_symlink(tc_.sdk_dir, work_ + "/" + kSdkLink, ec);
    if (ec) return Internal(fmt::format("cannot link the SDK into {}: {}", work_, ec.message()));
    return OkStatus();
  }

  void Log(std::string_view line) {
    log_.append(line);
    log_.push_back('\n');
    if (opts_.on_log) opts_.on_log(line);
  }
  void Step(std::string_view what) { Log(fmt::format("==> {}", what)); }

  // Runs go with `args` in src/ (in the sandbox when there is one; with network only if `network`).
  // DeadlineExceeded when the build's time is up, Internal when go could not start, was killed by a signal
  // or could not join the build's cgroups; otherwise the result (exit code to be judged by the caller).
  Result<CommandResult> Go(std::vector<std::string> args, std::string_view step, bool log_output = true,
                           bool network = false) {
    SpawnSpec spec;
    spec.argv.push_back(tc_.go_binary);
    for (auto& a : args) spec.argv.push_back(std::move(a));
    spec.env = env_;
    spec.cwd = src_;
    spec.die_with_parent = true;  // no go process outlives ignited, even after kill -9
    spec.join_cgroups = opts_.cgroup_procs;
    if (!opts_.sandbox_bwrap.empty()) {
      spec.sandbox_prefix = BuildSandboxArgv(
          opts_.sandbox_bwrap, GoStepView(tc_, env_, go_root_, work_, src_, network), ProbeHostPath);
    }
    std::function<void(std::string_view)> on_line;
    if (log_output) on_line = [this](std::string_view line) { Log(line); };
    return steps_.Run(spec, step, on_line);
  }

  std::chrono::milliseconds Remaining(std::chrono::milliseconds cap = std::chrono::milliseconds::max()) const {
    return steps_.Remaining(cap);
  }
  Status TimedOut(std::string_view step) const { return steps_.TimedOut(step); }
  std::string ToolOutput(const CommandResult& r) const { return steps_.ToolOutput(r); }

  const GoToolchain& tc_;
  const GoBuildOptions& opts_;
  BuildSteps steps_;
  std::string work_, src_, out_;
  std::string go_root_;  // the toolchain's root, shown read-only in the sandbox
  std::map<std::string, std::string> env_;
  std::string log_;
};

}  // namespace

Result<GoBuildOutput> BuildGo(const GoToolchain& tc, std::string_view archive, std::string_view file_name,
                              const GoBuildOptions& opts) {
  return GoBuild(tc, opts).Run(archive, file_name);
}

}  // namespace ignite::build
