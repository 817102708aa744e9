#include "api/service_context.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/access.h"
#include "build/sandbox.h"

namespace ignite::api {

ServiceContext::ServiceContext(ServiceOptions opts, Deps d)
    : options(std::move(opts)), deps(d), started_ms(d.clock->NowUnixMs()) {
  if (options.sandbox_builds) {
    auto bwrap = build::DetectBuildSandbox();
    if (bwrap.ok()) {
      build_bwrap = *bwrap;
      spdlog::info("build sandbox: {}", build::DescribeBuildSandbox(build_bwrap));
    } else {
      options.sandbox_builds = false;
      spdlog::warn("builds run WITHOUT a sandbox: {}", bwrap.status().message());
    }
  }
}

Result<store::AppRecord> ServiceContext::LoadApp(const Principal& p, const std::string& org,
                                                 const std::string& app) const {
  IGNITE_RETURN_IF_ERROR(CheckOrgAccess(p, org));
  auto rec = deps.store->GetApp(p.org_id, app);
  if (!rec.ok() && rec.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("app {}/{} does not exist; create it with `dodil ignite app create {}:{}`", org, app,
                                org, app));
  }
  return rec;
}

void ServiceContext::Event(const std::string& app_id, std::string_view type, uint32_t version,
                           std::string message) const {
  if (!deps.events) return;
  instances::AppEvent e;
  e.type = std::string(type);
  e.version = version;
  e.message = std::move(message);
  deps.events->Emit(app_id, std::move(e));
}

}  // namespace ignite::api
