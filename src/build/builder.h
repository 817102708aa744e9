// Builder: the seam of a code path. One implementation per way code reaches the platform (the Go compile
// path in build/go/, later Python, images, Rust, Deno), registered under a key in a BuilderRegistry that
// ignited's wiring fills. The API chooses the builder from the draft's CodeSource through the registry and
// never names a language itself.
//
// Thread-safety: a Builder is immutable once registered; Check and Build are called concurrently (each build
// with its own work_dir). Both block while child processes run: never call them on an event loop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "archive/archive.h"
#include "common/artifact_layout.h"
#include "common/result.h"

namespace ignite::build {

// The code as it was saved: an archive (zip / tar.gz) or a single file, and the name it was uploaded as
// (only used to explain errors and to name a single file).
struct Source {
  std::string_view archive;
  std::string_view file_name;
};

// How the steps of a check or build are isolated (see build/sandbox.h for what the sandbox gives).
struct Isolation {
  std::string bwrap;                      // bubblewrap: every step runs in the build sandbox; empty: no sandbox
  std::vector<std::string> cgroup_procs;  // cgroup.procs files every step joins first; empty: no groups
};

// A named credential of the code's organization (api/secret_service.h), as a check or build uses it.
struct SecretValue {
  std::string type;            // "registry_secret" or "git_secret"
  std::string username;
  std::string password;        // a registry secret's password, a git secret's token
  std::string server_address;  // a registry secret's registry ("" = docker.io)
};
// Resolves a secret of the code's organization by name: NotFound naming it when it does not exist. Empty
// when the platform keeps no secrets.
using SecretResolver = std::function<Result<SecretValue>(std::string_view name)>;

struct CheckContext {
  std::string scratch_dir;  // an existing directory for temporary extraction; the check cleans up after itself
  archive::Limits limits;
  Isolation isolation;
  SecretResolver secrets;
};

struct BuildContext {
  std::string app_name;  // the app's name (e.g. a module name when the source has none)
  std::string work_dir;  // an empty, existing directory owned by this build; the caller removes it afterwards
  std::chrono::milliseconds timeout{10 * 60 * 1000};  // wall clock for the whole build
  archive::Limits limits;
  // Each log line as the build runs (may be empty); called on the building thread.
  std::function<void(std::string_view)> on_log;
  const std::atomic<bool>* cancel = nullptr;  // when it becomes true the running step is killed: Cancelled
  Isolation isolation;
  SecretResolver secrets;
};

// What a successful build produced.
struct BuildOutput {
  std::string artifact_path;  // a file under work_dir, stored as the version's artifact
  bool executable = true;     // stored with the executable bit
  uint64_t artifact_size = 0;
  std::string sdk_version;        // the SDK the artifact was built against, recorded with the build
  std::string toolchain_version;  // the toolchain that built it
  // Files under work_dir the artifact refers to by sha256 (an image's layers), stored as blobs of their own
  // before the artifact (content-addressed: a layer two images share is stored once).
  std::vector<std::string> blobs;
  // What the artifact was made from, pinned, when the code only named it (an image tag -> "repo@sha256:...");
  // recorded with the build and shown on the version.
  std::string source_ref;
};

class Builder {
 public:
  virtual ~Builder() = default;
  // Checks saved code before it is stored: archive safety and the code path's layout and syntax, every
  // problem in one InvalidArgument that says how to fix it. FailedPrecondition when the code path's tools
  // are missing; Internal when they fail.
  virtual Status Check(const Source& source, const CheckContext& ctx) const = 0;
  // Builds the code into an artifact, logging each step through ctx.on_log. Errors as Check's, plus
  // InvalidArgument for build errors (with the tool's messages), DeadlineExceeded when ctx.timeout passes,
  // Cancelled when ctx.cancel is set.
  virtual Result<BuildOutput> Build(const Source& source, const BuildContext& ctx) const = 0;
  // What an instance of an artifact this builder built needs to run, given the stored artifact's path (the
  // blob of BuildOutput::artifact_path). Cheap and deterministic: called whenever a route is made. Errors:
  // FailedPrecondition when the artifact cannot be run (e.g. a stored description that does not parse).
  virtual Result<ArtifactLayout> Layout(const std::string& artifact_path) const = 0;
  // Whether code with these regular files at its root (names, no directories) is this code path's, for code
  // saved without a runtime (e.g. Go: a .go file or go.mod; Python: handler.py). Cheap and pure.
  virtual bool Claims(const std::vector<std::string>& root_files) const {
    (void)root_files;
    return false;
  }
};

// Builders by key ("go", "python", ..., the CodeSource's runtime field names). Filled once at start-up, then
// only read (thread-safe for reads).
class BuilderRegistry {
 public:
  // Registers `builder` under `key`; the first one registered is the default (code saved without a runtime).
  void Register(std::string key, std::unique_ptr<Builder> builder);
  // The builder of `key`, or the default for "" ; nullptr when there is none.
  const Builder* Find(std::string_view key) const;
  // The key Find("") resolves to; "" when nothing is registered.
  const std::string& default_key() const { return default_key_; }
  // The key of the code path that claims `root_files` (Builder::Claims), asking the default first, then the
  // others in registration order; "" when none does.
  std::string Detect(const std::vector<std::string>& root_files) const;
  // Every registered key, sorted (for messages such as "this platform builds go, python").
  std::vector<std::string> keys() const;

 private:
  std::map<std::string, std::unique_ptr<Builder>, std::less<>> builders_;
  std::string default_key_;
  std::vector<std::string> order_;  // registration order
};

}  // namespace ignite::build
