// Plain records the metadata store keeps. App configuration travels as an opaque serialized
// dodil.ignite.v1.AppMeta ("spec") so the store never needs a migration for a new config field.
#pragma once

#include <cstdint>
#include <string>

namespace ignite::store {

struct OrgRecord {
  std::string id;    // Stable id (a ULID); what handlers see as OrganizationID.
  std::string name;  // Unique; used in API paths.
  int64_t created_at_ms = 0;
};

struct TokenRecord {
  std::string id;           // Public part of the bearer token; primary key.
  std::string org_id;
  std::string role;         // "admin", "app-developer", "app-viewer".
  std::string secret_hash;  // hex sha256(salt + secret); the secret itself is never stored.
  std::string salt;
  std::string description;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;  // 0 = never.
  // The service account the token was issued from (IssueToken); empty for tokens made by `ignited token
  // create` or the bootstrap. Deleting the service account deletes its tokens.
  std::string service_account_id;
};

// A service account: long-lived credentials (id + secret) that IssueToken exchanges for expiring bearer
// tokens with the account's org and role.
struct ServiceAccountRecord {
  std::string id;           // "sa_<32 hex>"; primary key; what `dodil login` takes as its first argument.
  std::string org_id;
  std::string name;         // Unique within the org.
  std::string role;         // "admin", "app-developer", "app-viewer".
  std::string secret_hash;  // hex sha256(salt + secret); the secret itself is never stored.
  std::string salt;
  std::string description;
  int64_t created_at_ms = 0;
};

struct AppRecord {
  std::string org_id;
  std::string name;
  std::string spec;              // Serialized AppMeta holding the app's configuration.
  uint32_t active_version = 0;   // 0 = nothing serving.
  uint32_t latest_version = 0;   // Highest version number published so far.
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct DraftRecord {
  std::string code_hash;   // Blob holding the saved source archive.
  int64_t code_size = 0;
  std::string runtime;     // Serialized dodil.ignite.v1.Runtime.
  std::string file_name;   // What the user uploaded, for messages.
  std::string build_id;    // Latest build of exactly this code; empty before the first build.
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Build status values are dodil.ignite.v1.BuildStatus numbers.
struct BuildRecord {
  std::string id;
  std::string org_id;
  std::string app_name;
  std::string code_hash;
  int status = 0;
  std::string error;          // Why it failed, for users (compiler output included).
  std::string log;            // The whole build log.
  std::string artifact_hash;  // Blob of the built binary when it succeeded.
  int64_t artifact_size = 0;
  std::string sdk_version;
  int64_t created_at_ms = 0;
  int64_t finished_at_ms = 0;
  std::string source_ref;     // What the artifact was made from, pinned (build/builder.h BuildOutput).
};

struct VersionRecord {
  uint32_t version = 0;
  std::string code_hash;
  std::string artifact_hash;
  int64_t artifact_size = 0;
  std::string build_id;
  std::string spec;      // AppMeta snapshot at publish time.
  std::string runtime;   // Serialized Runtime.
  int64_t created_at_ms = 0;
};

// One asynchronous invocation. Status values are dodil.ignite.v1.ExecutionStatus numbers. No foreign keys:
// a record outlives its app (it says what happened) until retention deletes it.
struct ExecutionRecord {
  std::string id;              // Primary key (a ULID).
  std::string org_id;          // The owning org: only its tokens may read the record.
  std::string app_id;          // "org_name/app_name", as users name it.
  uint32_t version = 0;
  int status = 0;
  uint32_t response_status = 0;
  std::string output;          // Response body (bounded by the caller).
  std::string error;
  bool cold_start = false;
  int64_t created_at_ms = 0;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;
  int64_t duration_ms = 0;
  std::string invocation_id;   // The execution id the handler saw; its log lines carry it.
};

// One finished invocation of an app's serving version (any surface), for execution stats. No foreign keys,
// like ExecutionRecord; retention deletes them.
struct InvocationRecord {
  std::string org_id;
  std::string app_id;          // "org_name/app_name".
  uint32_t version = 0;
  int64_t finished_at_ms = 0;
  int64_t duration_ms = 0;
  uint32_t status = 0;         // HTTP status the caller got (2xx = succeeded).
  bool cold_start = false;
};

// A secret of an organization (git credentials, registry passwords) that builds and deploys refer to by name.
// The value is sealed by common/secret_box.h (AES-256-GCM, aad "<org_id>/<name>") before it reaches the
// store: the store never sees plaintext, and a sealed value moved to another org or name does not open.
struct SecretRecord {
  std::string org_id;
  std::string name;    // 1..64 chars of [A-Za-z0-9_-], unique per org (validated by the API, not here).
  std::string type;    // "git_secret" or "registry_secret".
  std::string sealed;  // SecretBox::Seal output (binary).
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// Aggregates over an app's invocations in a time window. Percentiles are nearest-rank; 0 without invocations.
struct InvocationStats {
  int64_t total = 0;
  int64_t succeeded = 0;  // status 2xx
  int64_t cold_starts = 0;
  int64_t p50_ms = 0, p95_ms = 0, p99_ms = 0;
  int64_t max_ms = 0;
  double mean_ms = 0;
};

}  // namespace ignite::store
