// Store: the metadata store interface (SQLite now, PostgreSQL later).
//
// Contract for every method: thread-safe; returns NotFound when the named org/app/version/build does not
// exist, AlreadyExists on a unique-name clash, Internal (with the database's message) on I/O or corruption.
// A failed call changes nothing (each call is one transaction). Records are returned by value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/records.h"

namespace ignite::store {

class Store {
 public:
  virtual ~Store() = default;

  virtual Status CreateOrg(const OrgRecord& org) = 0;
  virtual Result<OrgRecord> GetOrgByName(std::string_view name) = 0;
  virtual Result<OrgRecord> GetOrgById(std::string_view id) = 0;
  // Every organization, ordered by name.
  virtual Result<std::vector<OrgRecord>> ListOrgs() = 0;

  // Insert; AlreadyExists on a duplicate id. A token with a service_account_id is inserted only while that
  // service account exists (NotFound otherwise), so a token cannot outlive a concurrent delete of its account.
  virtual Status PutToken(const TokenRecord& token) = 0;
  virtual Result<TokenRecord> GetToken(std::string_view id) = 0;
  // Deletes tokens that expired before `ms` (never those with expires_at_ms 0); returns how many.
  virtual Result<int> DeleteTokensExpiredBefore(int64_t ms) = 0;

  // Service accounts (store/service_accounts in the SQLite store). AlreadyExists when the id, or the name
  // within the org, is taken; NotFound when the org does not exist.
  virtual Status CreateServiceAccount(const ServiceAccountRecord& account) = 0;
  // NotFound when no account has that id (whatever its org: callers check org_id).
  virtual Result<ServiceAccountRecord> GetServiceAccount(std::string_view id) = 0;
  // The org's accounts ordered by name.
  virtual Result<std::vector<ServiceAccountRecord>> ListServiceAccounts(std::string_view org_id) = 0;
  // Deletes the account and every token issued from it, in one transaction. NotFound unless an account with
  // that id exists in that org. Returns how many tokens were deleted.
  virtual Result<int> DeleteServiceAccount(std::string_view org_id, std::string_view id) = 0;

  // Secrets of an org (store/sqlite_store.cc; schema migration 6). The store keeps SecretRecord::sealed as
  // opaque bytes and never sees plaintext.
  // Creates the secret, or replaces type, sealed and updated_at_ms of an existing one of the same org and name
  // (rotation; created_at_ms is kept). NotFound when the org does not exist.
  virtual Status PutSecret(const SecretRecord& secret) = 0;
  // NotFound (naming the secret) when the org has no secret of that name.
  virtual Result<SecretRecord> GetSecret(std::string_view org_id, std::string_view name) = 0;
  // All of the org's secrets, ordered by name; empty (not an error) for an unknown org.
  virtual Result<std::vector<SecretRecord>> ListSecrets(std::string_view org_id) = 0;
  // Removes the secret; OK when there was none (idempotent). Sets *removed (when not null) to whether one was.
  virtual Status DeleteSecret(std::string_view org_id, std::string_view name, bool* removed = nullptr) = 0;

  virtual Status CreateApp(const AppRecord& app) = 0;
  virtual Result<AppRecord> GetApp(std::string_view org_id, std::string_view name) = 0;
  // Apps of an org ordered by name, starting after `after_name` (empty: from the start), at most `limit`.
  virtual Result<std::vector<AppRecord>> ListApps(std::string_view org_id, std::string_view after_name,
                                                  size_t limit) = 0;
  virtual Status UpdateAppSpec(std::string_view org_id, std::string_view name, const std::string& spec,
                               int64_t updated_at_ms) = 0;
  // Deletes the app with its draft, versions and builds. Blobs are not touched (they may be shared).
  virtual Status DeleteApp(std::string_view org_id, std::string_view name) = 0;

  // Replaces the app's draft.
  virtual Status PutDraft(std::string_view org_id, std::string_view app, const DraftRecord& draft) = 0;
  // nullopt when the app exists but has no draft.
  virtual Result<std::optional<DraftRecord>> GetDraft(std::string_view org_id, std::string_view app) = 0;
  // Sets the draft's build_id only if its code_hash still equals `code_hash` (a newer save wins).
  virtual Status SetDraftBuild(std::string_view org_id, std::string_view app, std::string_view code_hash,
                               std::string_view build_id) = 0;

  // Insert or replace by id.
  virtual Status PutBuild(const BuildRecord& build) = 0;
  virtual Result<BuildRecord> GetBuild(std::string_view id) = 0;
  // Marks every build still PENDING or RUNNING as FAILED with `reason` (used at start-up after a crash).
  // Returns how many were changed.
  virtual Result<int> FailUnfinishedBuilds(std::string_view reason, int64_t now_ms) = 0;

  // Atomically assigns the next version number (latest_version + 1), stores the version and makes it
  // active. `v.version` is ignored. Returns the new number.
  virtual Result<uint32_t> PublishVersion(std::string_view org_id, std::string_view app,
                                          const VersionRecord& v) = 0;
  // Newest first.
  virtual Result<std::vector<VersionRecord>> ListVersions(std::string_view org_id, std::string_view app) = 0;
  virtual Result<VersionRecord> GetVersion(std::string_view org_id, std::string_view app, uint32_t version) = 0;
  // Points the app's active version at an existing version (NotFound otherwise).
  virtual Status SetActiveVersion(std::string_view org_id, std::string_view app, uint32_t version) = 0;

  // Inserts or replaces each record by id, all in one transaction (all or nothing).
  virtual Status PutExecutions(const std::vector<ExecutionRecord>& records) = 0;
  // NotFound when no record has that id (whatever its org: callers check org_id).
  virtual Result<ExecutionRecord> GetExecution(std::string_view id) = 0;
  // Deletes the records created before `ms` (Unix ms); returns how many.
  virtual Result<int> DeleteExecutionsBefore(int64_t ms) = 0;
  // Marks every record still PENDING or RUNNING as FAILED with `reason` (at start-up, for executions a
  // previous process did not finish). Returns how many were changed.
  virtual Result<int> FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) = 0;

  // Invocation outcomes for execution stats (api/invocation_stats.h). PutInvocations inserts all in one
  // transaction; InvocationStatsFor aggregates those of `app_id` in org `org_id` finished in [from_ms, to_ms).
  virtual Status PutInvocations(const std::vector<InvocationRecord>& records) = 0;
  virtual Result<InvocationStats> InvocationStatsFor(std::string_view org_id, std::string_view app_id,
                                                     int64_t from_ms, int64_t to_ms) = 0;
  // Deletes the outcomes finished before `ms`; returns how many.
  virtual Result<int> DeleteInvocationsBefore(int64_t ms) = 0;
};

}  // namespace ignite::store
