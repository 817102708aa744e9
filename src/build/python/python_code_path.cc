#include "build/python/python_code_path.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/ids.h"

namespace ignite::build {
namespace {

namespace fs = std::filesystem;

// An installed tree may be far larger than an upload (numpy, pandas): the tree was made by our own build,
// so these bound only a damaged artifact.
archive::Limits TreeLimits() {
  archive::Limits l;
  l.max_unpacked_bytes = 8ull << 30;
  l.max_entries = 500'000;
  l.max_file_bytes = 2ull << 30;
  return l;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return in || in.eof() ? s.str() : std::string();
}

}  // namespace

bool PythonCodePath::Claims(const std::vector<std::string>& root_files) const {
  // A single .py file is saved as handler.py.
  auto py = [](const std::string& f) { return f.size() > 3 && f.compare(f.size() - 3, 3, ".py") == 0; };
  return std::find(root_files.begin(), root_files.end(), "handler.py") != root_files.end() ||
         (root_files.size() == 1 && py(root_files[0]));
}

Result<ArtifactLayout> PythonCodePath::Layout(const std::string& artifact_path) const {
  std::string tree = trees_dir_ + "/" + fs::path(artifact_path).filename().string();
  std::error_code ec;
  if (!fs::is_directory(tree + "/app", ec)) {
    std::string packed = ReadAll(artifact_path);
    if (packed.empty()) {
      return FailedPrecondition(fmt::format("the Python artifact {} is missing or unreadable", artifact_path));
    }
    fs::create_directories(trees_dir_, ec);
    std::string tmp = tree + ".tmp-" + NewUlid();
    fs::create_directories(tmp, ec);
    if (ec) return Internal(fmt::format("cannot create {}: {}", tmp, ec.message()));
    Status st = archive::ExtractTo(packed, "python-app.tar.gz", "", tmp, TreeLimits());
    if (st.ok()) fs::create_directories(tmp + "/site", ec);  // the tree of an app without requirements
    if (!st.ok()) {
      fs::remove_all(tmp, ec);
      return FailedPrecondition(fmt::format("the Python artifact {} does not unpack: {}", artifact_path, st.message()));
    }
    fs::rename(tmp, tree, ec);
    if (ec) fs::remove_all(tmp, ec);  // unpacked meanwhile by another caller: theirs is the same tree
  }
  ArtifactLayout l;
  l.launcher = launcher_;
  l.binds = {{tree + "/app", "/app"}, {tree + "/site", "/ignite/site"}, {tree + "/sdk", "/ignite/sdk"},
             {tc_.python, tc_.python}};
  if (!tc_.stdlib_dir.empty()) l.binds.push_back({tc_.stdlib_dir, tc_.stdlib_dir});
  // The shared libraries the interpreter and extension modules load (libc, libm, libz, libssl, libffi, ...),
  // and the dynamic loader; on a merged-/usr host /lib and /lib64 are links into /usr, shown as their own
  // mount points.
  if (!tc_.multiarch.empty()) {
    std::string libs = "/usr/lib/" + tc_.multiarch;
    if (fs::is_directory(libs, ec)) {
      l.binds.push_back({libs, libs});
      if (fs::is_directory("/lib/" + tc_.multiarch, ec)) {
        l.binds.push_back({fs::canonical("/lib/" + tc_.multiarch, ec).string(), "/lib/" + tc_.multiarch});
      }
    }
  }
  if (fs::is_directory("/lib64", ec)) l.binds.push_back({fs::canonical("/lib64", ec).string(), "/lib64"});
  l.argv = {tc_.python, "-I", "-S", "-B", "-X", "utf8", "/ignite/sdk/ignite_main.py"};
  l.working_dir = "/app";
  l.env = {{"IGNITE_PYTHONPATH", "/app:/ignite/sdk:/ignite/site"},
           {"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"},
           {"HOME", "/tmp"},
           {"LANG", "C.UTF-8"}};
  return l;
}

}  // namespace ignite::build
