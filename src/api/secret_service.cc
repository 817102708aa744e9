#include "api/secret_service.h"

#include <regex>

#include <fmt/format.h>

#include "api/roles.h"

namespace ignite::api {
namespace {

Status ValidateSecretName(std::string_view name) {
  static const std::regex kName("[A-Za-z0-9_-]{1,64}");
  if (!std::regex_match(name.begin(), name.end(), kName)) {
    return InvalidArgument(fmt::format("invalid secret name \"{}\": use 1-64 letters, digits, '-' and '_'",
                                       std::string(name.substr(0, 80))));
  }
  return OkStatus();
}

std::string TypeOf(const pb::SecretValue& v) {
  switch (v.kind_case()) {
    case pb::SecretValue::kGitSecret: return "git_secret";
    case pb::SecretValue::kRegistrySecret: return "registry_secret";
    case pb::SecretValue::KIND_NOT_SET: break;
  }
  return "";
}

std::string Aad(const std::string& org_id, std::string_view name) { return org_id + "/" + std::string(name); }

pb::SecretMetadata Metadata(const store::SecretRecord& r) {
  pb::SecretMetadata m;
  m.set_name(r.name);
  m.set_type(r.type);
  m.set_created_at_ms(r.created_at_ms);
  m.set_updated_at_ms(r.updated_at_ms);
  return m;
}

}  // namespace

Result<pb::CreateSecretResponse> SecretService::CreateSecret(const Principal& p, const pb::CreateSecretRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "CreateSecret"));
  IGNITE_RETURN_IF_ERROR(ValidateSecretName(req.name()));
  const pb::SecretValue& v = req.value();
  if (v.has_registry_secret()) {
    if (v.registry_secret().username().empty() || v.registry_secret().password().empty()) {
      return InvalidArgument("a registry secret needs a username and a password (--username, --password)");
    }
  } else if (v.has_git_secret()) {
    if (v.git_secret().token().empty()) return InvalidArgument("a git secret needs a token (--pat)");
  } else {
    return InvalidArgument(
        "missing \"value\": send {\"registrySecret\": {\"username\", \"password\", \"serverAddress\"}} or "
        "{\"gitSecret\": {\"username\", \"token\"}}");
  }
  store::SecretRecord rec;
  rec.org_id = p.org_id;
  rec.name = req.name();
  rec.type = TypeOf(v);
  rec.sealed = box_->Seal(v.SerializeAsString(), Aad(p.org_id, req.name()));
  rec.created_at_ms = rec.updated_at_ms = clock_->NowUnixMs();
  IGNITE_RETURN_IF_ERROR(store_->PutSecret(rec));
  IGNITE_ASSIGN_OR_RETURN(auto stored, store_->GetSecret(p.org_id, req.name()));
  pb::CreateSecretResponse resp;
  *resp.mutable_metadata() = Metadata(stored);
  return resp;
}

Result<pb::SecretValue> SecretService::Load(const std::string& org_id, std::string_view name,
                                            store::SecretRecord* rec) const {
  IGNITE_RETURN_IF_ERROR(ValidateSecretName(name));
  auto found = store_->GetSecret(org_id, std::string(name));
  if (!found.ok() && found.status().code() == StatusCode::kNotFound) {
    return NotFound(fmt::format("secret \"{}\" does not exist in this organization", name));
  }
  IGNITE_ASSIGN_OR_RETURN(*rec, std::move(found));
  IGNITE_ASSIGN_OR_RETURN(std::string plain, box_->Open(rec->sealed, Aad(org_id, name)));
  pb::SecretValue v;
  if (!v.ParseFromString(plain)) return Status(StatusCode::kDataLoss, fmt::format("secret \"{}\" is damaged", name));
  return v;
}

Result<pb::GetSecretResponse> SecretService::GetSecret(const Principal& p, const pb::GetSecretRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "GetSecret"));
  store::SecretRecord rec;
  IGNITE_ASSIGN_OR_RETURN(auto value, Load(p.org_id, req.name(), &rec));
  pb::GetSecretResponse resp;
  *resp.mutable_metadata() = Metadata(rec);
  *resp.mutable_value() = std::move(value);
  return resp;
}

Result<pb::ListSecretsResponse> SecretService::ListSecrets(const Principal& p, const pb::ListSecretsRequest&) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "ListSecrets"));
  IGNITE_ASSIGN_OR_RETURN(auto all, store_->ListSecrets(p.org_id));
  pb::ListSecretsResponse resp;
  for (const auto& r : all) *resp.add_secrets() = Metadata(r);
  return resp;
}

Result<pb::DeleteSecretResponse> SecretService::DeleteSecret(const Principal& p, const pb::DeleteSecretRequest& req) {
  IGNITE_RETURN_IF_ERROR(CheckRole(p, "DeleteSecret"));
  IGNITE_RETURN_IF_ERROR(ValidateSecretName(req.name()));
  bool removed = false;
  IGNITE_RETURN_IF_ERROR(store_->DeleteSecret(p.org_id, req.name(), &removed));
  pb::DeleteSecretResponse resp;
  resp.set_deleted(removed);
  return resp;
}

Result<build::SecretValue> SecretService::Resolve(const std::string& org_id, std::string_view name) const {
  store::SecretRecord rec;
  IGNITE_ASSIGN_OR_RETURN(auto v, Load(org_id, name, &rec));
  build::SecretValue out;
  out.type = rec.type;
  if (v.has_registry_secret()) {
    out.username = v.registry_secret().username();
    out.password = v.registry_secret().password();
    out.server_address = v.registry_secret().server_address();
  } else {
    out.username = v.git_secret().username();
    out.password = v.git_secret().token();
  }
  return out;
}

}  // namespace ignite::api
