// Views: stored records as the API's messages (what GetApp, ListAppVersions, GetAppState and the build
// routes answer). Pure functions; shared by the services of the ComputeService split.
#pragma once

#include <cstdint>
#include <string>

#include "build/build_queue.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"
#include "instances/instance_manager.h"
#include "store/records.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

// The app as the API shows it to members of `org_name`, with the limits it runs with.
pb::AppMeta ToAppMeta(const std::string& org_name, const store::AppRecord& rec, uint32_t default_body_limit_mb);
// A version; `active` is the app's active version number.
pb::AppVersionInfo ToVersionInfo(const store::VersionRecord& v, uint32_t active, uint32_t default_body_limit_mb);
pb::ReplicaInfo ToReplicaInfo(const instances::ReplicaSnapshot& r);
pb::BuildStatus ToBuildStatus(build::JobState s);

}  // namespace ignite::api
