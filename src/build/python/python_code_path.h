// The Python compile path as a Builder (build/builder.h): CheckPythonSource and BuildPython
// (python_builder.h) with one interpreter, and the layout its artifacts run with. Registered by ignited under
// the key "python".
//
// An artifact is a packed tree (app/, site/, sdk/). Layout unpacks it once into `trees_dir`/<artifact file
// name> (a temporary directory renamed into place, so concurrent and interrupted unpacks are harmless) and
// binds the parts and the interpreter's own trees read-only:
//   /app          the code (working directory, first on sys.path)
//   /ignite/site  the installed requirements
//   /ignite/sdk   the SDK the version was built with
//   the interpreter, its standard library, and the shared-library directories it loads from, at their
//   host paths (read-only; nothing else of the host).
// The instance runs `<python> -I -S -B -X utf8 /ignite/sdk/ignite_main.py`: isolated mode with no site
// packages, so nothing of the host's Python installation leaks in.
#pragma once

#include <string>

#include "build/builder.h"
#include "build/python/python_builder.h"

namespace ignite::build {

class PythonCodePath : public Builder {
 public:
  // `launcher`: the DispatchingLauncher key instances start through ("zygote", or "process" to exec each
  // instance afresh). `trees_dir`: where artifacts are unpacked (created when missing).
  PythonCodePath(PythonToolchain toolchain, std::string trees_dir, std::string launcher)
      : tc_(std::move(toolchain)), trees_dir_(std::move(trees_dir)), launcher_(std::move(launcher)) {}
  Status Check(const Source& source, const CheckContext& ctx) const override {
    return CheckPythonSource(tc_, source, ctx);
  }
  Result<BuildOutput> Build(const Source& source, const BuildContext& ctx) const override {
    return BuildPython(tc_, source, ctx);
  }
  bool Claims(const std::vector<std::string>& root_files) const override;
  // Unpacks the artifact the first time (blocking: a large tree takes a moment); errors: FailedPrecondition
  // when it is missing or does not unpack, naming the artifact.
  Result<ArtifactLayout> Layout(const std::string& artifact_path) const override;
  const PythonToolchain& toolchain() const { return tc_; }

 private:
  const PythonToolchain tc_;
  const std::string trees_dir_;
  const std::string launcher_;
};

}  // namespace ignite::build
