// FakeStore: the metadata Store in memory, for unit tests of one module (API handlers, the builder, the
// gateway) that need a store without a database file.
//
// Contract: thread-safe (one mutex serializes every call, like SqliteStore's connection lock). Faithful to
// store::SqliteStore: the same status codes and messages, the same upsert/replace rules, the same cascades
// (DeleteApp removes the app's draft, versions and builds, never executions or invocations), the same
// orderings and cursors, and the same arithmetic (version numbers, nearest-rank percentiles). Where SQLite
// reports one of two clashing constraints, the fake reports the one SQLite checks first. The fake never
// fails with Internal or Unavailable: it has no I/O. src/testing/store_contract_test.cc runs one suite over
// both, so a difference is a failing test, not a surprise in production.
//
// Records are copied in and out, as the real store does: a test cannot change stored state through a
// returned record.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/records.h"
#include "store/store.h"

namespace ignite::fakes {

class FakeStore : public store::Store {
 public:
  FakeStore() = default;
  FakeStore(const FakeStore&) = delete;
  FakeStore& operator=(const FakeStore&) = delete;

  Status CreateOrg(const store::OrgRecord& org) override;
  Result<store::OrgRecord> GetOrgByName(std::string_view name) override;
  Result<store::OrgRecord> GetOrgById(std::string_view id) override;
  Result<std::vector<store::OrgRecord>> ListOrgs() override;

  Status PutToken(const store::TokenRecord& token) override;
  Result<store::TokenRecord> GetToken(std::string_view id) override;
  Result<int> DeleteTokensExpiredBefore(int64_t ms) override;

  Status CreateServiceAccount(const store::ServiceAccountRecord& account) override;
  Result<store::ServiceAccountRecord> GetServiceAccount(std::string_view id) override;
  Result<std::vector<store::ServiceAccountRecord>> ListServiceAccounts(std::string_view org_id) override;
  Result<int> DeleteServiceAccount(std::string_view org_id, std::string_view id) override;

  Status PutSecret(const store::SecretRecord& secret) override;
  Result<store::SecretRecord> GetSecret(std::string_view org_id, std::string_view name) override;
  Result<std::vector<store::SecretRecord>> ListSecrets(std::string_view org_id) override;
  Status DeleteSecret(std::string_view org_id, std::string_view name, bool* removed = nullptr) override;

  Status CreateApp(const store::AppRecord& app) override;
  Result<store::AppRecord> GetApp(std::string_view org_id, std::string_view name) override;
  Result<std::vector<store::AppRecord>> ListApps(std::string_view org_id, std::string_view after_name,
                                                 size_t limit) override;
  Status UpdateAppSpec(std::string_view org_id, std::string_view name, const std::string& spec,
                       int64_t updated_at_ms) override;
  Status DeleteApp(std::string_view org_id, std::string_view name) override;

  Status PutDraft(std::string_view org_id, std::string_view app, const store::DraftRecord& draft) override;
  Result<std::optional<store::DraftRecord>> GetDraft(std::string_view org_id, std::string_view app) override;
  Status SetDraftBuild(std::string_view org_id, std::string_view app, std::string_view code_hash,
                       std::string_view build_id) override;

  Status PutBuild(const store::BuildRecord& build) override;
  Result<store::BuildRecord> GetBuild(std::string_view id) override;
  Result<int> FailUnfinishedBuilds(std::string_view reason, int64_t now_ms) override;

  Result<uint32_t> PublishVersion(std::string_view org_id, std::string_view app,
                                  const store::VersionRecord& v) override;
  Result<std::vector<store::VersionRecord>> ListVersions(std::string_view org_id, std::string_view app) override;
  Result<store::VersionRecord> GetVersion(std::string_view org_id, std::string_view app,
                                          uint32_t version) override;
  Status SetActiveVersion(std::string_view org_id, std::string_view app, uint32_t version) override;

  Status PutExecutions(const std::vector<store::ExecutionRecord>& records) override;
  Result<store::ExecutionRecord> GetExecution(std::string_view id) override;
  Result<int> DeleteExecutionsBefore(int64_t ms) override;
  Result<int> FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) override;

  Status PutInvocations(const std::vector<store::InvocationRecord>& records) override;
  Result<store::InvocationStats> InvocationStatsFor(std::string_view org_id, std::string_view app_id,
                                                    int64_t from_ms, int64_t to_ms) override;
  Result<int> DeleteInvocationsBefore(int64_t ms) override;

 private:
  // An app with the rows SQLite keeps in child tables that cascade on its deletion. Builds are not here:
  // they are looked up by id alone, so they live in builds_ and DeleteApp removes them by (org, app).
  struct App {
    store::AppRecord record;
    std::optional<store::DraftRecord> draft;
    std::map<uint32_t, store::VersionRecord> versions;  // By number, ascending.
  };
  // (org_id, name): ordered by org, then by name, so one org's apps are a contiguous run sorted by name.
  using AppKey = std::pair<std::string, std::string>;

  // nullptr when the app does not exist. Require mu_.
  App* FindApp(std::string_view org_id, std::string_view name);
  bool OrgIdExists(std::string_view id) const;

  std::mutex mu_;
  std::map<std::string, store::OrgRecord, std::less<>> orgs_;  // guarded by mu_; by id.
  std::map<std::string, store::TokenRecord, std::less<>> tokens_;  // guarded by mu_; by id.
  std::map<std::string, store::ServiceAccountRecord, std::less<>> service_accounts_;  // guarded by mu_; by id.
  std::map<AppKey, App> apps_;  // guarded by mu_.
  // (org_id, name), like apps_: one org's secrets are a contiguous run sorted by name.
  std::map<std::pair<std::string, std::string>, store::SecretRecord> secrets_;  // guarded by mu_.
  std::map<std::string, store::BuildRecord, std::less<>> builds_;  // guarded by mu_; by id.
  std::map<std::string, store::ExecutionRecord, std::less<>> executions_;  // guarded by mu_; by id.
  std::vector<store::InvocationRecord> invocations_;  // guarded by mu_; in insertion order.
};

}  // namespace ignite::fakes
