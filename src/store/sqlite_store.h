// SqliteStore: the Store on a single SQLite file (the default for a self-hosted ignited).
//
// Thread-safety: every method is thread-safe. The store holds one connection and serializes calls on it
// with a mutex; the metadata workload is small writes and point reads, far below what one connection serves.
// Other processes may open the same file (WAL mode lets them read while we write); a write blocked by
// another process's lock waits up to 5 s, then fails with Unavailable.
//
// Error codes are the Store contract's. Additionally: SetDraftBuild returns OK without changing anything
// when the draft's code has since been replaced (the newer save wins), and NotFound when the app has no
// draft.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "store/store.h"

struct sqlite3;

namespace ignite::store {

class SqliteStore : public Store {
 public:
  // Opens (creating if missing) the database file at `path` and migrates its schema to the newest version.
  // The parent directory must exist. `path` may be ":memory:" for a private, non-persistent database (tests).
  // Returns FailedPrecondition when the file was migrated by a newer ignited, Unavailable when another
  // process keeps it locked for more than 5 s, Internal when it cannot be opened or is not a SQLite database.
  // Error messages start with `path`.
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Status CreateOrg(const OrgRecord& org) override;
  Result<OrgRecord> GetOrgByName(std::string_view name) override;
  Result<OrgRecord> GetOrgById(std::string_view id) override;
  Result<std::vector<OrgRecord>> ListOrgs() override;

  Status PutToken(const TokenRecord& token) override;
  Result<TokenRecord> GetToken(std::string_view id) override;
  Result<int> DeleteTokensExpiredBefore(int64_t ms) override;

  // In sqlite_service_accounts.cc.
  Status CreateServiceAccount(const ServiceAccountRecord& account) override;
  Result<ServiceAccountRecord> GetServiceAccount(std::string_view id) override;
  Result<std::vector<ServiceAccountRecord>> ListServiceAccounts(std::string_view org_id) override;
  Result<int> DeleteServiceAccount(std::string_view org_id, std::string_view id) override;

  Status PutSecret(const SecretRecord& secret) override;
  Result<SecretRecord> GetSecret(std::string_view org_id, std::string_view name) override;
  Result<std::vector<SecretRecord>> ListSecrets(std::string_view org_id) override;
  Status DeleteSecret(std::string_view org_id, std::string_view name, bool* removed = nullptr) override;

  Status CreateApp(const AppRecord& app) override;
  Result<AppRecord> GetApp(std::string_view org_id, std::string_view name) override;
  Result<std::vector<AppRecord>> ListApps(std::string_view org_id, std::string_view after_name,
                                          size_t limit) override;
  Status UpdateAppSpec(std::string_view org_id, std::string_view name, const std::string& spec,
                       int64_t updated_at_ms) override;
  Status DeleteApp(std::string_view org_id, std::string_view name) override;

  Status PutDraft(std::string_view org_id, std::string_view app, const DraftRecord& draft) override;
  Result<std::optional<DraftRecord>> GetDraft(std::string_view org_id, std::string_view app) override;
  Status SetDraftBuild(std::string_view org_id, std::string_view app, std::string_view code_hash,
                       std::string_view build_id) override;

  Status PutBuild(const BuildRecord& build) override;
  Result<BuildRecord> GetBuild(std::string_view id) override;
  Result<int> FailUnfinishedBuilds(std::string_view reason, int64_t now_ms) override;

  Result<uint32_t> PublishVersion(std::string_view org_id, std::string_view app,
                                  const VersionRecord& v) override;
  Result<std::vector<VersionRecord>> ListVersions(std::string_view org_id, std::string_view app) override;
  Result<VersionRecord> GetVersion(std::string_view org_id, std::string_view app, uint32_t version) override;
  Status SetActiveVersion(std::string_view org_id, std::string_view app, uint32_t version) override;

  Status PutExecutions(const std::vector<ExecutionRecord>& records) override;
  Result<ExecutionRecord> GetExecution(std::string_view id) override;
  Result<int> DeleteExecutionsBefore(int64_t ms) override;
  Result<int> FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) override;

  // In sqlite_invocations.cc.
  Status PutInvocations(const std::vector<InvocationRecord>& records) override;
  Result<InvocationStats> InvocationStatsFor(std::string_view org_id, std::string_view app_id, int64_t from_ms,
                                             int64_t to_ms) override;
  Result<int> DeleteInvocationsBefore(int64_t ms) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}

  // NotFound("app <org_id>/<name> not found") unless the app exists. Requires mu_.
  Status CheckAppExists(std::string_view org_id, std::string_view name);

  std::mutex mu_;
  sqlite3* db_;  // guarded by mu_; owned, closed by the destructor.
};

}  // namespace ignite::store
