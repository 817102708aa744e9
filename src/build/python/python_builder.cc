// CheckPythonSource and BuildPython: extract, check with Python's parser, install wheels, byte-compile, pack.
#include "build/python/python_builder.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "build/build_step.h"
#include "build/sandbox.h"
#include "build/tool_text.h"
#include "common/ids.h"
#include "common/process.h"

#ifndef IGNITE_PYCHECK_PATH
#define IGNITE_PYCHECK_PATH ""
#endif

namespace ignite::build {
namespace {

namespace fs = std::filesystem;
constexpr const char* kArtifactName = "python-app.tar.gz";
constexpr const char* kWheelsOnlyHint =
    "builds install binary wheels only (no source builds during a deploy): check the name and version on "
    "https://pypi.org, and pin a version that publishes a wheel for CPython {} on Linux x86_64 (manylinux), or "
    "vendor a pure-Python package into the archive";

std::string Checker(const PythonToolchain& tc) {
  return tc.checker.empty() ? std::string(IGNITE_PYCHECK_PATH) : tc.checker;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status CheckTools(const PythonToolchain& tc) {
  if (tc.python.empty() || access(tc.python.c_str(), X_OK) != 0) {
    return FailedPrecondition(fmt::format(
        "the Python interpreter is missing at \"{}\"; install it (apt-get install python3.11) or point --python "
        "(IGNITE_PYTHON) at one, and restart ignited",
        tc.python));
  }
  std::string checker = Checker(tc);
  if (checker.empty() || access(checker.c_str(), R_OK) != 0) {
    return FailedPrecondition(fmt::format(
        "the Python source checker is missing at \"{}\"; reinstall the platform (src/build/python/pycheck.py)",
        checker));
  }
  return OkStatus();
}

// Runs pycheck.py over `dir` (absolute) in the build sandbox without network.
Status RunPyCheck(const PythonToolchain& tc, const std::string& dir, const Isolation& isolation,
                  std::chrono::milliseconds timeout) {
  std::error_code ec;
  std::string checker = fs::canonical(Checker(tc), ec).string();
  if (ec) return Internal(fmt::format("cannot resolve {}: {}", Checker(tc), ec.message()));
  SpawnSpec spec;
  spec.argv = {tc.python, "-I", "-S", "-B", checker, dir};
  spec.env = {{"PATH", "/usr/bin:/bin"}, {"LANG", "C.UTF-8"}};
  spec.join_cgroups = isolation.cgroup_procs;
  if (!isolation.bwrap.empty()) {
    SandboxView view;
    view.read_only = {checker, dir};
    spec.sandbox_prefix = BuildSandboxArgv(isolation.bwrap, view, ProbeHostPath);
  }
  IGNITE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(spec, timeout));
  if (r.timed_out) return DeadlineExceeded("checking the Python source took longer than " + FormatGoDuration(timeout));
  if (r.exit_code == 125 && r.output.find(kJoinCgroupFailed) != std::string::npos) {
    return Internal("the Python source checker could not be limited: " + CapForMessage(TrimSpace(r.output), 4000));
  }
  auto doc = nlohmann::json::parse(r.output, nullptr, /*allow_exceptions=*/false);
  if (r.exit_code != 0 || doc.is_discarded() || !doc.is_object() || !doc["errors"].is_array()) {
    return Internal(fmt::format("the Python source checker failed (exit {}, signal {}): {}", r.exit_code,
                                r.term_signal, CapForMessage(r.output, 4000)));
  }
  std::vector<std::string> errors;
  for (const auto& e : doc["errors"]) {
    if (e.is_string()) errors.push_back(TrimSourceDir(e.get<std::string>(), dir));
  }
  if (errors.empty()) return OkStatus();
  if (errors.size() == 1) return InvalidArgument(errors[0]);
  std::string msg = fmt::format("the source has {} problems:", errors.size() + doc.value("more", 0));
  for (const auto& e : errors) msg += "\n" + e;
  if (int more = doc.value("more", 0); more > 0) msg += fmt::format("\n... and {} more", more);
  return InvalidArgument(msg);
}

class PythonBuild {
 public:
  PythonBuild(const PythonToolchain& tc, const BuildContext& ctx)
      : tc_(tc), ctx_(ctx), steps_(ctx.timeout, ctx.cancel, "") {}

  Result<BuildOutput> Run(const Source& source) {
    IGNITE_RETURN_IF_ERROR(Prepare());
    Step("extracting the source");
    IGNITE_RETURN_IF_ERROR(archive::ExtractTo(source.archive, source.file_name, "handler.py", src_, ctx_.limits));
    Step(fmt::format("checking the source with Python {}'s parser", tc_.version));
    if (Remaining().count() <= 0) return TimedOut("the source check");
    IGNITE_RETURN_IF_ERROR(RunPyCheck(tc_, src_, ctx_.isolation, Remaining(std::chrono::seconds(60))));

    if (fs::exists(src_ + "/requirements.txt")) {
      IGNITE_RETURN_IF_ERROR(InstallRequirements());
    } else {
      Step("no requirements.txt: the standard library and the SDK only");
    }
    std::error_code ec;
    fs::rename(src_, out_ + "/app", ec);
    if (ec) return Internal(fmt::format("cannot move the code into place: {}", ec.message()));
    Step(fmt::format("adding the bundled Ignite Python SDK {}", tc_.sdk_version));
    IGNITE_RETURN_IF_ERROR(CopySdk());
    Step("byte-compiling");
    // Unchecked-hash pycs stay valid whatever mtime unpacking gives the sources. A file that does not compile
    // (a package's Python 2 leftovers) only loses its pyc: the user's own files were checked above.
    IGNITE_ASSIGN_OR_RETURN(auto compiled,
                            Python({"-I", "-S", "-m", "compileall", "-q", "-j", "1", "--invalidation-mode",
                                    "unchecked-hash", out_ + "/app", out_ + "/sdk", out_ + "/site"},
                                   "byte-compiling"));
    if (compiled.exit_code != 0) Step("some files of installed packages did not byte-compile; they load from source");
    nlohmann::json manifest = {{"python", tc_.version}, {"sdk", tc_.sdk_version}};
    std::ofstream(out_ + "/ignite-python.json") << manifest.dump() << "\n";

    Step("packing the version's tree");
    auto packed = archive::PackDirectory(out_, {});
    if (!packed.ok()) return Internal("packing the built tree failed: " + packed.status().message());
    std::string artifact = work_ + "/" + kArtifactName;
    {
      std::ofstream f(artifact, std::ios::binary | std::ios::trunc);
      f.write(packed->data(), static_cast<std::streamsize>(packed->size()));
      if (!f) return Internal(fmt::format("cannot write {}", artifact));
    }
    BuildOutput b;
    b.artifact_path = artifact;
    b.executable = false;
    b.artifact_size = packed->size();
    b.sdk_version = tc_.sdk_version;
    b.toolchain_version = "python" + tc_.version;
    Step(fmt::format("built a Python {} tree: {} bytes packed, sha256 {}", tc_.version, b.artifact_size,
                     Sha256Hex(*packed)));
    return b;
  }

 private:
  Status Prepare() {
    IGNITE_RETURN_IF_ERROR(CheckTools(tc_));
    std::error_code ec;
    fs::path work = fs::canonical(ctx_.work_dir, ec);
    if (ec || !fs::is_directory(work)) return FailedPrecondition("the build directory does not exist: " + ctx_.work_dir);
    work_ = work.string();
    src_ = work_ + "/src";
    out_ = work_ + "/out";
    steps_.set_trim_dir(work_);
    for (const auto& d : {src_, out_, out_ + "/site", work_ + "/home", work_ + "/tmp", tc_.cache_dir + "/wheels",
                          tc_.cache_dir + "/pip"}) {
      fs::create_directories(d, ec);
      if (ec) return Internal(fmt::format("cannot create {}: {}", d, ec.message()));
    }
    env_ = tc_.base_env;
    env_["HOME"] = work_ + "/home";
    env_["TMPDIR"] = work_ + "/tmp";
    env_["LANG"] = "C.UTF-8";
    env_["PIP_CACHE_DIR"] = tc_.cache_dir + "/pip";
    env_["PYTHONDONTWRITEBYTECODE"] = "1";
    return OkStatus();
  }

  // pip download into the wheel cache (network), then pip install from it (none).
  Status InstallRequirements() {
    std::string reqs = ReadFile(src_ + "/requirements.txt");
    std::string key = Sha256Hex(reqs + "\npython " + tc_.version + "\n").substr(0, 32);
    std::string wheels = tc_.cache_dir + "/wheels/" + key;
    std::error_code ec;
    if (fs::is_directory(wheels, ec)) {
      Step("requirements.txt: wheels from the cache (" + key + "), no network");
    } else {
      Step("pip download --only-binary=:all: -r requirements.txt");
      std::string tmp = wheels + ".tmp-" + NewUlid();
      fs::create_directories(tmp, ec);
      if (ec) return Internal(fmt::format("cannot create {}: {}", tmp, ec.message()));
      auto dl = Python({"-m", "pip", "download", "--disable-pip-version-check", "--no-input",
                        "--progress-bar", "off", "--only-binary=:all:", "--dest", tmp, "-r", "requirements.txt"},
                       "pip download", /*network=*/true, {tmp});
      if (!dl.ok() || dl->exit_code != 0) {
        fs::remove_all(tmp, ec);
        IGNITE_RETURN_IF_ERROR(dl.status());
        return InvalidArgument(fmt::format("installing requirements failed: {}\n{}", ToolOutput(*dl),
                                           fmt::format(kWheelsOnlyHint, tc_.version)));
      }
      fs::rename(tmp, wheels, ec);
      if (ec) fs::remove_all(tmp, ec);  // another build cached the same set meanwhile
    }
    Step("pip install --no-index --target site -r requirements.txt");
    IGNITE_ASSIGN_OR_RETURN(
        auto in, Python({"-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                         "--progress-bar", "off", "--root-user-action=ignore", "--no-compile", "--no-index",
                         "--only-binary=:all:", "--find-links", wheels, "--target", out_ + "/site", "-r",
                         "requirements.txt"},
                        "pip install", /*network=*/false, {}, {wheels}));
    if (in.exit_code != 0) {
      return InvalidArgument(fmt::format("installing requirements failed: {}\n{}", ToolOutput(in),
                                         fmt::format(kWheelsOnlyHint, tc_.version)));
    }
    return OkStatus();
  }

  Status CopySdk() {
    std::error_code ec;
    fs::create_directories(out_ + "/sdk", ec);
    fs::copy(tc_.sdk_dir + "/ignite", out_ + "/sdk/ignite", fs::copy_options::recursive, ec);
    if (!ec) fs::copy_file(tc_.sdk_dir + "/ignite_main.py", out_ + "/sdk/ignite_main.py", ec);
    if (!ec) fs::copy_file(tc_.sdk_dir + "/VERSION", out_ + "/sdk/VERSION", ec);
    if (ec) return Internal(fmt::format("cannot copy the Python SDK from {}: {}", tc_.sdk_dir, ec.message()));
    // Caches a local run of the SDK left behind are not part of it.
    for (auto it = fs::recursive_directory_iterator(out_ + "/sdk", ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (it->path().filename() == "__pycache__") {
        fs::remove_all(it->path(), ec);
        it.disable_recursion_pending();
      }
    }
    return OkStatus();
  }

  void Step(std::string_view what) {
    std::string line = fmt::format("==> {}", what);
    if (ctx_.on_log) ctx_.on_log(line);
  }

  // Runs the interpreter with `args` in src/ (in the sandbox, which shows the work dir and pip's cache
  // read-write, plus `extra_rw` and `extra_ro`; network only if `network`).
  Result<CommandResult> Python(std::vector<std::string> args, std::string_view step, bool network = false,
                               std::vector<std::string> extra_rw = {}, std::vector<std::string> extra_ro = {}) {
    SpawnSpec spec;
    spec.argv.push_back(tc_.python);
    for (auto& a : args) spec.argv.push_back(std::move(a));
    spec.env = env_;
    spec.cwd = fs::exists(src_) ? src_ : out_;
    spec.die_with_parent = true;
    spec.join_cgroups = ctx_.isolation.cgroup_procs;
    if (!ctx_.isolation.bwrap.empty()) {
      SandboxView view;
      view.read_only = SandboxEnvFiles(env_);
      for (auto& p : extra_ro) view.read_only.push_back(std::move(p));
      view.read_write = {work_, tc_.cache_dir + "/pip"};
      for (auto& p : extra_rw) view.read_write.push_back(std::move(p));
      view.network = network;
      view.cwd = spec.cwd;
      spec.sandbox_prefix = BuildSandboxArgv(ctx_.isolation.bwrap, view, ProbeHostPath);
    }
    auto on_line = [this](std::string_view line) {
      if (ctx_.on_log) ctx_.on_log(line);
    };
    return steps_.Run(spec, step, on_line);
  }

  std::chrono::milliseconds Remaining(std::chrono::milliseconds cap = std::chrono::milliseconds::max()) const {
    return steps_.Remaining(cap);
  }
  Status TimedOut(std::string_view step) const { return steps_.TimedOut(step); }
  std::string ToolOutput(const CommandResult& r) const { return steps_.ToolOutput(r); }

  const PythonToolchain& tc_;
  const BuildContext& ctx_;
  BuildSteps steps_;
  std::string work_, src_, out_;
  std::map<std::string, std::string> env_;
};

}  // namespace

Status CheckPythonSource(const PythonToolchain& tc, const Source& source, const CheckContext& ctx) {
  IGNITE_RETURN_IF_ERROR(CheckTools(tc));
  IGNITE_ASSIGN_OR_RETURN(auto scratch, ScratchDir::Make(ctx.scratch_dir, "pycheck-"));
  const std::string& tmpl = scratch.path();
  IGNITE_RETURN_IF_ERROR(archive::ExtractTo(source.archive, source.file_name, "handler.py", tmpl, ctx.limits));
  std::error_code ec;
  std::string dir = fs::canonical(tmpl, ec).string();
  if (ec) return Internal(fmt::format("cannot resolve {}: {}", tmpl, ec.message()));
  return RunPyCheck(tc, dir, ctx.isolation, std::chrono::seconds(30));
}

Result<BuildOutput> BuildPython(const PythonToolchain& tc, const Source& source, const BuildContext& ctx) {
  return PythonBuild(tc, ctx).Run(source);
}

Result<PythonToolchain> DefaultPythonToolchain(const std::string& python, const std::string& sdk_dir,
                                               const std::string& cache_dir,
                                               const std::map<std::string, std::string>& env) {
  PythonToolchain tc;
  tc.python = python;
  if (tc.python.empty()) {
    auto it = env.find("IGNITE_PYTHON");
    tc.python = it != env.end() && !it->second.empty() ? it->second : IGNITE_DEFAULT_PYTHON;
  }
  if (access(tc.python.c_str(), X_OK) != 0) {
    return FailedPrecondition(fmt::format("the Python interpreter {} is missing: install it (apt-get install "
                                          "python3.11 python3-pip) or point --python at one",
                                          tc.python));
  }
  SpawnSpec probe;
  probe.argv = {tc.python, "-I", "-S", "-c",
                "import sys, sysconfig, json; print(json.dumps({'version': sys.version.split()[0], "
                "'stdlib': sysconfig.get_paths()['stdlib'], 'multiarch': sysconfig.get_config_var('MULTIARCH') "
                "or ''}))"};
  probe.env = {{"PATH", "/usr/bin:/bin"}};
  IGNITE_ASSIGN_OR_RETURN(CommandResult r, RunCommand(probe, std::chrono::seconds(20)));
  auto doc = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || doc.is_discarded() || !doc.is_object()) {
    return FailedPrecondition(fmt::format("{} does not run: {}", tc.python, CapForMessage(r.output, 2000)));
  }
  tc.version = doc.value("version", "");
  tc.stdlib_dir = doc.value("stdlib", "");
  tc.multiarch = doc.value("multiarch", "");
  std::error_code ec;
  tc.python = fs::canonical(tc.python, ec).string();
  tc.sdk_dir = fs::absolute(sdk_dir, ec).string();
  if (!fs::is_regular_file(tc.sdk_dir + "/ignite_main.py") || !fs::is_regular_file(tc.sdk_dir + "/VERSION")) {
    return FailedPrecondition(fmt::format("the Ignite Python SDK is missing at \"{}\" (no ignite_main.py or "
                                          "VERSION); point --python-sdk-dir at sdk/python",
                                          tc.sdk_dir));
  }
  tc.sdk_version = TrimSpace(ReadFile(tc.sdk_dir + "/VERSION"));
  tc.cache_dir = fs::absolute(cache_dir, ec).string();
  fs::create_directories(tc.cache_dir, ec);
  if (ec) return Internal(fmt::format("cannot create the Python cache {}: {}", tc.cache_dir, ec.message()));
  tc.base_env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                           "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "SSL_CERT_FILE",
                           "SSL_CERT_DIR"}) {
    if (auto it = env.find(name); it != env.end()) tc.base_env[name] = it->second;
  }
  return tc;
}

}  // namespace ignite::build
