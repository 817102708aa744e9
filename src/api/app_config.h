// UpdateAppConfig's "fields present in the JSON body are replaced, absent ones kept" (decisions.md): which
// config fields a PATCH body names, and copying exactly those from the parsed request into an app's spec.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dodil/ignite/v1/ignite_compute.pb.h"

namespace ignite::api {

// The config fields present in `json` (an UpdateAppConfigRequest body), by proto name: top-level keys
// ("description", "env", "limits"), and for `limits` / `scaling` given as an object, one path per key inside
// ("limits.timeout_secs", "scaling.max_replicas"), in key order. Keys may be JSON (camelCase) or proto names;
// organization_name / app_name are not config and are skipped. An empty or blank body names nothing.
// InvalidArgument for a body that is not a JSON object or a key that is no field.
Result<std::vector<std::string>> ConfigFieldsInBody(std::string_view json);

// The config fields an update_mask names (proto or JSON names, one level of nesting), in the form
// ConfigFieldsInBody returns. InvalidArgument naming a path that is not a config field.
Result<std::vector<std::string>> ConfigFieldsInMask(const google::protobuf::FieldMask& mask);

// Copies the fields named by `fields` (as ConfigFieldsInBody returns them) from `req` into `spec`; the rest
// of `spec` is untouched. A given `env` replaces the whole map; storage_mode UNSPECIFIED means PERSISTENT.
void ApplyConfigFields(const ::dodil::ignite::v1::UpdateAppConfigRequest& req, const std::vector<std::string>& fields,
                       ::dodil::ignite::v1::AppMeta* spec);

}  // namespace ignite::api
