// SecretService: the org's named credentials (ignite_secret.proto; reference 2.10, 4.8), transport-
// independent like ComputeService: the HTTP binding (secret_http.h) and gRPC call these methods.
//
// A value is stored sealed (common/secret_box.h: AES-256-GCM, bound to "<org id>/<name>") with a key that
// is never in the database, so a copy of ignite.db alone reveals no credential. Values are never logged;
// only CreateSecret's caller and GetSecret's see one. Every method acts on the principal's org only and
// checks its role itself too (GetSecret, CreateSecret and DeleteSecret: developer; ListSecrets: viewer).
// Methods block (database): call them from a blocking pool. Thread-safe.
#pragma once

#include "api/auth.h"
#include "build/builder.h"
#include "common/clock.h"
#include "common/result.h"
#include "common/secret_box.h"
#include "dodil/ignite/v1/ignite_secret.pb.h"
#include "store/store.h"

namespace ignite::api {

namespace pb = ::dodil::ignite::v1;

class SecretService {
 public:
  // All must outlive the service.
  SecretService(store::Store* store, const SecretBox* box, const Clock* clock)
      : store_(store), box_(box), clock_(clock) {}

  // InvalidArgument for a bad name, a missing value, or a value without its required fields (a registry
  // secret needs username and password, a git secret a token).
  Result<pb::CreateSecretResponse> CreateSecret(const Principal& p, const pb::CreateSecretRequest& req);
  // NotFound when the org has no such secret; DataLoss when it cannot be decrypted (another key).
  Result<pb::GetSecretResponse> GetSecret(const Principal& p, const pb::GetSecretRequest& req);
  Result<pb::ListSecretsResponse> ListSecrets(const Principal& p, const pb::ListSecretsRequest& req);
  Result<pb::DeleteSecretResponse> DeleteSecret(const Principal& p, const pb::DeleteSecretRequest& req);

  // The value of the org's secret `name` for a build or a pull, on behalf of the platform (no role check:
  // the caller decided the code may use it). NotFound naming the secret; DataLoss as GetSecret.
  Result<build::SecretValue> Resolve(const std::string& org_id, std::string_view name) const;

 private:
  Result<pb::SecretValue> Load(const std::string& org_id, std::string_view name, store::SecretRecord* rec) const;

  store::Store* const store_;
  const SecretBox* const box_;
  const Clock* const clock_;
};

}  // namespace ignite::api
