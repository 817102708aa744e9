#include "build/go/go_code_path.h"

namespace ignite::build {

Status GoCodePath::Check(const Source& source, const CheckContext& ctx) const {
  return CheckGoSource(tc_, source.archive, source.file_name, ctx.scratch_dir, ctx.limits, ctx.isolation.bwrap);
}

Result<BuildOutput> GoCodePath::Build(const Source& source, const BuildContext& ctx) const {
  GoBuildOptions opts;
  opts.app_name = ctx.app_name;
  opts.work_dir = ctx.work_dir;
  opts.timeout = ctx.timeout;
  opts.limits = ctx.limits;
  opts.on_log = ctx.on_log;
  opts.cancel = ctx.cancel;
  opts.sandbox_bwrap = ctx.isolation.bwrap;
  opts.cgroup_procs = ctx.isolation.cgroup_procs;
  IGNITE_ASSIGN_OR_RETURN(GoBuildOutput out, BuildGo(tc_, source.archive, source.file_name, opts));
  BuildOutput b;
  b.artifact_path = std::move(out.binary_path);
  b.executable = true;
  b.artifact_size = out.binary_size;
  b.sdk_version = std::move(out.sdk_version);
  b.toolchain_version = std::move(out.go_version);
  return b;
}

}  // namespace ignite::build
