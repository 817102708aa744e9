#include "build/sandbox.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "build/tool_text.h"
#include "common/process.h"

namespace ignite::build {
namespace {

namespace fs = std::filesystem;

// `path` is `dir` or inside it (both absolute and normalized).
bool IsWithin(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

std::string Normalize(const std::string& path) {
  std::string p = fs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

size_t Depth(const std::string& path) { return static_cast<size_t>(std::count(path.begin(), path.end(), '/')); }

}  // namespace

HostPath ProbeHostPath(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return {};
  if (!S_ISLNK(st.st_mode)) return {HostPath::Kind::kOther, ""};
  std::error_code ec;
  fs::path target = fs::read_symlink(path, ec);
  if (ec) return {};
  return {HostPath::Kind::kSymlink, target.string()};
}

const std::vector<std::string>& SandboxSystemPaths() {
  static const std::vector<std::string> kPaths = {
      "/usr",       "/lib",      "/lib64",           "/bin",           "/sbin",
      "/etc/ssl",   "/etc/ca-certificates",          "/etc/resolv.conf", "/etc/hosts",
      "/etc/nsswitch.conf",      "/etc/passwd",      "/etc/group"};
  return kPaths;
}

std::vector<std::string> BuildSandboxArgv(const std::string& bwrap, const SandboxView& view,
                                          const HostPathProbe& probe) {
  std::vector<std::string> argv = {bwrap,
                                   "--unshare-pid",
                                   "--unshare-ipc",
                                   "--unshare-uts",
                                   "--unshare-cgroup-try",
                                   view.network ? "--share-net" : "--unshare-net",
                                   "--die-with-parent",
                                   "--new-session",
                                   "--cap-drop",
                                   "ALL",
                                   // A fresh /proc for the PID namespace, read-only: uid 0 could write the
                                   // host's sysctls under /proc/sys otherwise.
                                   "--proc",
                                   "/proc",
                                   "--remount-ro",
                                   "/proc",
                                   "--dev",
                                   "/dev",
                                   "--tmpfs",
                                   "/tmp"};
  std::vector<std::string> visible;  // read-only trees already shown
  for (const auto& path : SandboxSystemPaths()) {
    HostPath hp = probe(path);
    if (hp.kind == HostPath::Kind::kMissing) continue;
    if (hp.kind == HostPath::Kind::kSymlink) {
      argv.insert(argv.end(), {"--symlink", hp.link_target, path});
    } else {
      argv.insert(argv.end(), {"--ro-bind", path, path});
      visible.push_back(path);
    }
  }

  struct Bind {
    std::string path;
    bool writable;
  };
  std::vector<Bind> binds;
  auto add = [&](const std::string& raw, bool writable) {
    if (raw.empty() || raw.front() != '/') return;
    std::string path = Normalize(raw);
    if (probe(path).kind == HostPath::Kind::kMissing) return;
    for (const auto& b : binds) {
      if (b.path == path && b.writable == writable) return;
    }
    binds.push_back({path, writable});
  };
  for (const auto& p : view.read_write) add(p, true);
  for (const auto& p : view.read_only) add(p, false);
  // A read-only path inside a read-only tree that is shown anyway, and not inside a writable bind, needs
  // no mount of its own.
  std::vector<Bind> kept;
  for (const auto& b : binds) {
    if (!b.writable) {
      bool under_ro = std::any_of(visible.begin(), visible.end(), [&](const std::string& v) { return IsWithin(b.path, v); });
      for (const auto& o : binds) {
        if (!o.writable && o.path != b.path && IsWithin(b.path, o.path)) under_ro = true;
      }
      bool under_rw = std::any_of(binds.begin(), binds.end(),
                                  [&](const Bind& o) { return o.writable && IsWithin(b.path, o.path); });
      if (under_ro && !under_rw) continue;
    }
    kept.push_back(b);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Bind& a, const Bind& b) { return Depth(a.path) < Depth(b.path); });
  for (const auto& b : kept) argv.insert(argv.end(), {b.writable ? "--bind" : "--ro-bind", b.path, b.path});
  if (!view.cwd.empty()) argv.insert(argv.end(), {"--chdir", view.cwd});
  argv.push_back("--");
  return argv;
}

std::vector<std::string> SandboxEnvFiles(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const char* key : {"SSL_CERT_FILE", "SSL_CERT_DIR", "NETRC", "GIT_CONFIG_GLOBAL", "GOENV", "SSH_AUTH_SOCK"}) {
    auto it = env.find(key);
    if (it == env.end()) continue;
    std::string_view value = it->second;
    // SSL_CERT_DIR is a list; the others are single paths (which may contain ':', rarely).
    if (std::string_view(key) != "SSL_CERT_DIR") {
      if (!value.empty() && value.front() == '/') out.emplace_back(value);
      continue;
    }
    while (!value.empty()) {
      size_t colon = value.find(':');
      std::string_view part = value.substr(0, colon);
      if (!part.empty() && part.front() == '/') out.emplace_back(part);
      value = colon == std::string_view::npos ? std::string_view() : value.substr(colon + 1);
    }
  }
  return out;
}

void AdaptEnvForSandbox(std::map<std::string, std::string>* env, const std::string& home,
                        const std::function<bool(const std::string&)>& exists) {
  auto old = env->find("HOME");
  if (old != env->end() && !old->second.empty() && old->second != home) {
    std::string old_home = old->second;
    if (!env->count("NETRC") && exists(old_home + "/.netrc")) (*env)["NETRC"] = old_home + "/.netrc";
    if (!env->count("GIT_CONFIG_GLOBAL") && exists(old_home + "/.gitconfig")) {
      (*env)["GIT_CONFIG_GLOBAL"] = old_home + "/.gitconfig";
    }
  }
  (*env)["HOME"] = home;
}

Result<std::string> DetectBuildSandbox() {
  std::string bwrap = FindInPath("bwrap");
  if (bwrap.empty() && access("/usr/bin/bwrap", X_OK) == 0) bwrap = "/usr/bin/bwrap";
  if (bwrap.empty()) {
    return FailedPrecondition("bubblewrap (bwrap) is not installed; install it (apt-get install bubblewrap) and "
                              "restart ignited to sandbox builds");
  }
  SpawnSpec spec;
  spec.sandbox_prefix = BuildSandboxArgv(bwrap, SandboxView{}, ProbeHostPath);
  spec.argv = {"/bin/true"};
  spec.env = {{"PATH", "/usr/bin:/bin"}};
  auto r = RunCommand(spec, std::chrono::seconds(20));
  if (!r.ok()) return FailedPrecondition(fmt::format("{} does not run: {}", bwrap, r.status().message()));
  if (r->exit_code != 0) {
    return FailedPrecondition(fmt::format("{} cannot create the build sandbox on this host (exit {}, signal {}): {}",
                                          bwrap, r->exit_code, r->term_signal,
                                          CapForMessage(TrimSpace(r->output), 2000)));
  }
  return bwrap;
}

std::string DescribeBuildSandbox(const std::string& bwrap) {
  return fmt::format("bubblewrap {} (pid, ipc, uts, cgroup namespaces; read-only host view with only the build's "
                     "own directory and the toolchain caches writable; uid 0 without capabilities; network only "
                     "for steps that fetch dependencies)",
                     bwrap);
}

}  // namespace ignite::build
