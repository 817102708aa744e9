#include "api/app_config.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <nlohmann/json.hpp>

namespace ignite::api {
namespace {

namespace pb = ::dodil::ignite::v1;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

const FieldDescriptor* FindField(const Descriptor* d, const std::string& key) {
  if (const FieldDescriptor* f = d->FindFieldByName(key)) return f;
  for (int i = 0; i < d->field_count(); ++i) {
    if (d->field(i)->json_name() == key) return d->field(i);
  }
  return nullptr;
}

}  // namespace

Result<std::vector<std::string>> ConfigFieldsInBody(std::string_view json) {
  std::vector<std::string> out;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  nlohmann::json body = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return InvalidArgument("the request body must be a JSON object of the config fields to change");
  }
  const Descriptor* d = pb::UpdateAppConfigRequest::descriptor();
  for (const auto& [key, value] : body.items()) {
    const FieldDescriptor* f = FindField(d, key);
    if (f == nullptr) return InvalidArgument(fmt::format("unknown field \"{}\" in the request body", key));
    if (f->name() == "organization_name" || f->name() == "app_name" || f->name() == "update_mask") continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map() && value.is_object()) {
      for (const auto& [sub, unused] : value.items()) {
        const FieldDescriptor* sf = FindField(f->message_type(), sub);
        if (sf == nullptr) return InvalidArgument(fmt::format("unknown field \"{}.{}\" in the request body", key, sub));
        out.push_back(f->name() + "." + sf->name());
      }
    } else {
      out.push_back(f->name());
    }
  }
  return out;
}

Result<std::vector<std::string>> ConfigFieldsInMask(const google::protobuf::FieldMask& mask) {
  std::vector<std::string> out;
  const Descriptor* d = pb::UpdateAppConfigRequest::descriptor();
  for (const std::string& path : mask.paths()) {
    const size_t dot = path.find('.');
    const FieldDescriptor* f = FindField(d, path.substr(0, dot));
    const bool config = f != nullptr && f->name() != "organization_name" && f->name() != "app_name" &&
                        f->name() != "update_mask";
    const bool nested_ok = dot == std::string::npos ||
                           (config && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map() &&
                            path.find('.', dot + 1) == std::string::npos &&
                            FindField(f->message_type(), path.substr(dot + 1)) != nullptr);
    if (!config || !nested_ok) {
      return InvalidArgument(fmt::format(
          "update_mask names \"{}\", which is not a config field of UpdateAppConfigRequest; use proto field "
          "paths such as resource_tier, limits.memory_mb, scaling.max_replicas, env",
          path));
    }
    out.push_back(dot == std::string::npos ? f->name()
                                           : f->name() + "." + FindField(f->message_type(), path.substr(dot + 1))->name());
  }
  return out;
}

void ApplyConfigFields(const pb::UpdateAppConfigRequest& req, const std::vector<std::string>& fields,
                       pb::AppMeta* spec) {
  for (const std::string& f : fields) {
    if (f == "resource_tier") spec->set_resource_tier(req.resource_tier());
    else if (f == "limits") *spec->mutable_limits() = req.limits();
    else if (f == "limits.memory_mb") spec->mutable_limits()->set_memory_mb(req.limits().memory_mb());
    else if (f == "limits.cpu_millicores") spec->mutable_limits()->set_cpu_millicores(req.limits().cpu_millicores());
    else if (f == "limits.timeout_secs") spec->mutable_limits()->set_timeout_secs(req.limits().timeout_secs());
    else if (f == "limits.body_limit_mb") spec->mutable_limits()->set_body_limit_mb(req.limits().body_limit_mb());
    else if (f == "env") *spec->mutable_env() = req.env();
    else if (f == "scaling") *spec->mutable_scaling() = req.scaling();
    else if (f == "scaling.max_replicas") spec->mutable_scaling()->set_max_replicas(req.scaling().max_replicas());
    else if (f == "scaling.reserved") spec->mutable_scaling()->set_reserved(req.scaling().reserved());
    else if (f == "scaling.auto_mode") spec->mutable_scaling()->set_auto_mode(req.scaling().auto_mode());
    else if (f == "scaling.idle_timeout_secs") {
      spec->mutable_scaling()->set_idle_timeout_secs(req.scaling().idle_timeout_secs());
    } else if (f == "storage_mode") {
      spec->set_storage_mode(req.storage_mode() == pb::STORAGE_MODE_UNSPECIFIED ? pb::STORAGE_MODE_PERSISTENT
                                                                                 : req.storage_mode());
    } else if (f == "ttl_secs") spec->set_ttl_secs(req.ttl_secs());
    else if (f == "description") spec->set_description(req.description());
    else if (f == "input_schema") spec->set_input_schema(req.input_schema());
    else if (f == "output_schema") spec->set_output_schema(req.output_schema());
    else if (f == "mcp_enabled") spec->set_mcp_enabled(req.mcp_enabled());
    else if (f == "max_concurrency") spec->set_max_concurrency(req.max_concurrency());
    else if (f == "allow_unauthenticated") spec->set_allow_unauthenticated(req.allow_unauthenticated());
    else if (f == "ports") *spec->mutable_ports() = req.ports();
    else if (f == "health_path") spec->set_health_path(req.health_path());
  }
}

}  // namespace ignite::api
