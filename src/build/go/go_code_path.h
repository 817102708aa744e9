// The Go compile path as a Builder (build/builder.h): CheckGoSource and BuildGo (go_builder.h) with one
// toolchain. Registered by ignited under the key "go".
#pragma once

#include "build/builder.h"
#include "build/go/go_builder.h"

namespace ignite::build {

class GoCodePath : public Builder {
 public:
  explicit GoCodePath(GoToolchain toolchain) : tc_(std::move(toolchain)) {}
  Status Check(const Source& source, const CheckContext& ctx) const override;
  Result<BuildOutput> Build(const Source& source, const BuildContext& ctx) const override;
  // One static executable, run as /app/handler with the pre-bound socket (docs/runtimes/go.md).
  Result<ArtifactLayout> Layout(const std::string& artifact_path) const override {
    return ArtifactLayout::Executable(artifact_path);
  }
  // A .go file or go.mod at the root.
  bool Claims(const std::vector<std::string>& root_files) const override {
    for (const auto& f : root_files) {
      if (f == "go.mod" || (f.size() > 3 && f.compare(f.size() - 3, 3, ".go") == 0)) return true;
    }
    return false;
  }
  const GoToolchain& toolchain() const { return tc_; }

 private:
  const GoToolchain tc_;
};

}  // namespace ignite::build
