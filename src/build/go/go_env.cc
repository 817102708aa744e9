#include "build/go/go_env.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <fmt/format.h>

#include "common/ids.h"

namespace ignite::build {

Env FilterGoBaseEnv(const Env& env) {
  static constexpr std::array<std::string_view, 27> kKeep = {
      "PATH",        "HOME",          "GOPROXY",     "GONOPROXY",  "GOPRIVATE",       "GONOSUMDB",
      "GONOSUMCHECK", "GOSUMDB",      "GOINSECURE",  "GOVCS",      "GOAUTH",          "NETRC",
      "GOENV",       "HTTP_PROXY",    "HTTPS_PROXY", "NO_PROXY",   "ALL_PROXY",       "http_proxy",
      "https_proxy", "no_proxy",      "all_proxy",   "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSH_COMMAND",
      "SSH_AUTH_SOCK", "GIT_CONFIG_GLOBAL", "GOTELEMETRY"};
  Env out;
  for (auto key : kKeep) {
    auto it = env.find(std::string(key));
    if (it != env.end()) out.emplace(it->first, it->second);
  }
  if (!out.count("PATH")) out["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return out;
}

Env GoCommandEnv(const GoToolchain& tc, const std::string& work_dir) {
  Env env = tc.base_env;
  env["CGO_ENABLED"] = "0";
  env["GOOS"] = "linux";
  env["GOARCH"] = "amd64";
  env["GOTOOLCHAIN"] = "local";
  env["GOWORK"] = "off";
  // -modcacherw: module cache files stay writable, so the cache can be pruned or removed by the platform.
  env["GOFLAGS"] = "-mod=mod -modcacherw";
  env["GOCACHE"] = tc.cache_dir + "/go-build";
  env["GOMODCACHE"] = tc.cache_dir + "/gomod";
  env["GOPATH"] = tc.cache_dir + "/gopath";
  env["TMPDIR"] = work_dir + "/tmp";
  env["XDG_CONFIG_HOME"] = tc.cache_dir + "/config";
  env["GIT_TERMINAL_PROMPT"] = "0";  // a private module must fail, not wait for a password
  if (!env.count("HOME")) env["HOME"] = work_dir + "/home";
  return env;
}

std::string FindGoBinary(const Env& env, const std::function<bool(const std::string&)>& is_executable) {
  auto path = env.find("PATH");
  if (path != env.end()) {
    std::string_view p = path->second;
    size_t start = 0;
    while (start <= p.size()) {
      size_t colon = p.find(':', start);
      if (colon == std::string_view::npos) colon = p.size();
      std::string dir(p.substr(start, colon - start));
      if (!dir.empty() && dir.front() == '/') {
        std::string candidate = dir + "/go";
        if (is_executable(candidate)) return candidate;
      }
      start = colon + 1;
    }
  }
  for (const char* candidate : {"/usr/local/go/bin/go", "/usr/lib/go/bin/go"}) {
    if (is_executable(candidate)) return candidate;
  }
  return "";
}

Status PrepareGoConfigDir(const std::string& cache_dir) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(cache_dir) / "config" / "go" / "telemetry";
  fs::path mode = dir / "mode";
  std::error_code ec;
  if (fs::exists(mode, ec)) return OkStatus();
  fs::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  fs::path tmp = dir / ("mode." + RandomHex(8));
  {
    std::ofstream out(tmp);
    out << "off\n";
    if (!out) return Internal(fmt::format("cannot write {}", tmp.string()));
  }
  fs::rename(tmp, mode, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Internal(fmt::format("cannot write {}: {}", mode.string(), ec.message()));
  }
  return OkStatus();
}

}  // namespace ignite::build
