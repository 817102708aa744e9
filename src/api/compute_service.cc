#include "api/compute_service.h"

namespace ignite::api {

ComputeService::ComputeService(ServiceOptions options, Deps deps)
    : ComputeServiceCore(std::move(options), deps),
      DraftService(&ctx, &routing),
      AppService(&ctx, &routing, this),
      VersionService(&ctx, &routing, this),
      InvokeService(&ctx, &routing, this),
      ObserveService(&ctx) {}

}  // namespace ignite::api
