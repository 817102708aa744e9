// ArtifactLayout: what an instance of a version needs to run, as its code path's builder describes it and
// the launchers carry it out. The builder (build/) produces it from the stored artifact; the instance
// supervisor (instances/) consumes it; neither knows the other, and neither knows a language. Go's layout
// is one executable bound at /app/handler, run with the pre-bound socket; an interpreter's adds its runtime
// tree; an image's names a root filesystem and a port.
//
// A plain value: copy it freely. Paths inside the instance are absolute.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ignite {

// A host file or directory made visible read-only inside the instance.
struct Bind {
  std::string source;  // host path (a blob, a runtime tree)
  std::string target;  // absolute path inside the instance
  bool operator==(const Bind&) const = default;
};

// How the instance's server gets its listener (docs/instance-protocol.md).
enum class Listen {
  kInheritedSocket,  // a listening Unix socket as fd 3, IGNITE_LISTEN_FD=3 (the platform's SDKs)
  kPort,             // the instance binds `port` itself on its own loopback (images that own their server)
};

// The launcher that knows how to start the layout, as a DispatchingLauncher key.
inline constexpr char kProcessLauncher[] = "process";

struct ArtifactLayout {
  std::string launcher = kProcessLauncher;
  // Files at /app (the code) first, then read-only runtime trees (an interpreter, a shared runtime).
  std::vector<Bind> binds;
  // argv[0] is the program to exec, as a path inside the instance.
  std::vector<std::string> argv;
  std::string working_dir = "/";
  // The layout's own environment (e.g. PYTHONPATH); the app's env and the platform's variables go on top.
  std::map<std::string, std::string> env;
  Listen listen = Listen::kInheritedSocket;
  uint16_t port = 0;  // with Listen::kPort
  // With Listen::kPort: the path whose GET answering 2xx says the server is ready (the image contract's
  // health check).
  std::string health_path;
  // A root filesystem on the host (an unpacked image) the instance runs in as its "/", instead of the
  // platform's minimal root plus `binds`; empty for the managed runtimes.
  std::string root;
  // The user to run as (an image's numeric USER); 0: the platform's default unprivileged user.
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool operator==(const ArtifactLayout&) const = default;

  // The single-executable layout (Go, Rust native): `executable` bound at /app/handler and run as itself.
  static ArtifactLayout Executable(std::string executable) {
    ArtifactLayout l;
    l.binds.push_back({std::move(executable), "/app/handler"});
    l.argv = {"/app/handler"};
    return l;
  }
  // The host path behind `target` when one bind holds it (itself or an ancestor directory), for running the
  // layout without a mount namespace; "" when none does.
  std::string HostPath(const std::string& target) const {
    for (const Bind& b : binds) {
      if (target == b.target) return b.source;
      if (target.size() > b.target.size() && target.compare(0, b.target.size(), b.target) == 0 &&
          target[b.target.size()] == '/') {
        return b.source + target.substr(b.target.size());
      }
    }
    return "";
  }
  // `value` with each ':'-separated absolute path that a bind holds replaced by its HostPath (argv
  // elements and environment values, for running the layout without a mount namespace).
  std::string HostPaths(const std::string& value) const {
    std::string out;
    size_t start = 0;
    for (;;) {
      size_t colon = value.find(':', start);
      std::string part = value.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      std::string host = part.empty() || part[0] != '/' ? "" : HostPath(part);
      out += host.empty() ? part : host;
      if (colon == std::string::npos) return out;
      out += ':';
      start = colon + 1;
    }
  }
};

}  // namespace ignite
