// Each method mirrors the SqliteStore method of the same name (sqlite_store.cc, sqlite_service_accounts.cc,
// sqlite_invocations.cc); comments name the SQL behaviour being reproduced where it is not obvious.
#include "testing/fake_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ignite::fakes {
namespace {

using store::AppRecord;
using store::BuildRecord;
using store::DraftRecord;
using store::ExecutionRecord;
using store::InvocationRecord;
using store::InvocationStats;
using store::OrgRecord;
using store::SecretRecord;
using store::ServiceAccountRecord;
using store::TokenRecord;
using store::VersionRecord;

// dodil.ignite.v1.BuildStatus and ExecutionStatus numbers, as sqlite_store.cc keeps them (store_test checks
// those against the enums). PENDING and RUNNING are 1 and 2 in both enums, FAILED 4.
constexpr int kPending = 1;
constexpr int kRunning = 2;
constexpr int kFailed = 4;

bool Unfinished(int status) { return status == kPending || status == kRunning; }

// The messages below are SqliteStore's, word for word: callers show them to users.
std::string AppId(std::string_view org_id, std::string_view name) { return fmt::format("{}/{}", org_id, name); }

Status AppNotFound(std::string_view org_id, std::string_view name) {
  return NotFound(fmt::format("app {} not found", AppId(org_id, name)));
}

Status OrgIdNotFound(std::string_view org_id) {
  return NotFound(fmt::format("organization with id {} not found", org_id));
}

Status VersionNotFound(uint32_t version, std::string_view org_id, std::string_view app) {
  return NotFound(fmt::format("version {} of app {} not found", version, AppId(org_id, app)));
}

Status AccountNotFound(std::string_view id) {
  return NotFound(fmt::format("service account {} not found; `dodil auth service-account list` shows yours", id));
}

Status SecretNotFound(std::string_view name) { return NotFound(fmt::format("secret \"{}\" not found", name)); }

// Erases the entries `doomed` selects; returns how many (what sqlite3_changes reports for a DELETE).
template <typename Map, typename Pred>
int EraseWhere(Map& map, Pred doomed) {
  return static_cast<int>(std::erase_if(map, [&](const auto& entry) { return doomed(entry.second); }));
}

}  // namespace

FakeStore::App* FakeStore::FindApp(std::string_view org_id, std::string_view name) {
  auto it = apps_.find(AppKey(org_id, name));
  return it == apps_.end() ? nullptr : &it->second;
}

bool FakeStore::OrgIdExists(std::string_view id) const { return orgs_.find(id) != orgs_.end(); }

// ---- Orgs ----

Status FakeStore::CreateOrg(const OrgRecord& org) {
  std::lock_guard<std::mutex> lock(mu_);
  // SQLite checks the UNIQUE name before the id's PRIMARY KEY, so a clash on both reports the name.
  for (const auto& [id, existing] : orgs_) {
    if (existing.name == org.name) return AlreadyExists(fmt::format("organization \"{}\" already exists", org.name));
  }
  if (OrgIdExists(org.id)) return AlreadyExists(fmt::format("organization with id {} already exists", org.id));
  orgs_.emplace(org.id, org);
  return OkStatus();
}

Result<OrgRecord> FakeStore::GetOrgByName(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, org] : orgs_) {
    if (org.name == name) return org;
  }
  return NotFound(fmt::format("organization \"{}\" not found", name));
}

Result<OrgRecord> FakeStore::GetOrgById(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = orgs_.find(id);
  if (it == orgs_.end()) return OrgIdNotFound(id);
  return it->second;
}

Result<std::vector<OrgRecord>> FakeStore::ListOrgs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OrgRecord> orgs;
  for (const auto& [id, org] : orgs_) orgs.push_back(org);
  // Names are unique, so ORDER BY name is a total order. std::string compares bytes like SQLite's BINARY.
  std::sort(orgs.begin(), orgs.end(), [](const OrgRecord& a, const OrgRecord& b) { return a.name < b.name; });
  return orgs;
}

// ---- Tokens ----

Status FakeStore::PutToken(const TokenRecord& t) {
  std::lock_guard<std::mutex> lock(mu_);
  // SqliteStore's INSERT ... SELECT ... WHERE inserts no row at all when the account is gone, before any
  // constraint is looked at; then the PRIMARY KEY is checked before the org's foreign key.
  if (!t.service_account_id.empty() && service_accounts_.find(t.service_account_id) == service_accounts_.end()) {
    return NotFound(fmt::format("service account {} not found (deleted meanwhile?)", t.service_account_id));
  }
  if (tokens_.find(t.id) != tokens_.end()) return AlreadyExists(fmt::format("token {} already exists", t.id));
  if (!OrgIdExists(t.org_id)) return OrgIdNotFound(t.org_id);
  tokens_.emplace(t.id, t);
  return OkStatus();
}

Result<TokenRecord> FakeStore::GetToken(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return NotFound(fmt::format("token {} not found", id));
  return it->second;
}

Result<int> FakeStore::DeleteTokensExpiredBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return EraseWhere(tokens_, [&](const TokenRecord& t) { return t.expires_at_ms != 0 && t.expires_at_ms < ms; });
}

// ---- Service accounts ----

Status FakeStore::CreateServiceAccount(const ServiceAccountRecord& a) {
  std::lock_guard<std::mutex> lock(mu_);
  // SQLite's order: UNIQUE (org_id, name), then the id's PRIMARY KEY, then the org's foreign key.
  for (const auto& [id, existing] : service_accounts_) {
    if (existing.org_id == a.org_id && existing.name == a.name) {
      return AlreadyExists(fmt::format("a service account named \"{}\" already exists in this organization; pick "
                                       "another name or delete it first",
                                       a.name));
    }
  }
  if (service_accounts_.find(a.id) != service_accounts_.end()) {
    return AlreadyExists(fmt::format("service account {} already exists", a.id));
  }
  if (!OrgIdExists(a.org_id)) return OrgIdNotFound(a.org_id);
  service_accounts_.emplace(a.id, a);
  return OkStatus();
}

Result<ServiceAccountRecord> FakeStore::GetServiceAccount(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = service_accounts_.find(id);
  if (it == service_accounts_.end()) return AccountNotFound(id);
  return it->second;
}

Result<std::vector<ServiceAccountRecord>> FakeStore::ListServiceAccounts(std::string_view org_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // An unknown org is not an error: SQLite just finds no rows.
  std::vector<ServiceAccountRecord> out;
  for (const auto& [id, a] : service_accounts_) {
    if (a.org_id == org_id) out.push_back(a);
  }
  std::sort(out.begin(), out.end(),
            [](const ServiceAccountRecord& x, const ServiceAccountRecord& y) { return x.name < y.name; });
  return out;
}

Result<int> FakeStore::DeleteServiceAccount(std::string_view org_id, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = service_accounts_.find(id);
  if (it == service_accounts_.end() || it->second.org_id != org_id) return AccountNotFound(id);
  service_accounts_.erase(it);
  // By account id alone, whatever org the tokens name, as SqliteStore's DELETE does.
  return EraseWhere(tokens_, [&](const TokenRecord& t) { return t.service_account_id == id; });
}

// ---- Secrets ----

Status FakeStore::PutSecret(const SecretRecord& secret) {
  std::lock_guard<std::mutex> lock(mu_);
  // The upsert's foreign key is checked whether it inserts or updates; an existing secret implies its org.
  if (!OrgIdExists(secret.org_id)) return OrgIdNotFound(secret.org_id);
  auto [it, inserted] = secrets_.try_emplace({secret.org_id, secret.name}, secret);
  if (!inserted) {
    // ON CONFLICT DO UPDATE SET type, sealed, updated_at_ms: created_at_ms stays.
    it->second.type = secret.type;
    it->second.sealed = secret.sealed;
    it->second.updated_at_ms = secret.updated_at_ms;
  }
  return OkStatus();
}

Result<SecretRecord> FakeStore::GetSecret(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = secrets_.find({std::string(org_id), std::string(name)});
  if (it == secrets_.end()) return SecretNotFound(name);
  return it->second;
}

Result<std::vector<SecretRecord>> FakeStore::ListSecrets(std::string_view org_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // An unknown org is not an error: SQLite just finds no rows. The org's secrets are contiguous, by name.
  std::vector<SecretRecord> out;
  for (auto it = secrets_.lower_bound({std::string(org_id), std::string()});
       it != secrets_.end() && it->first.first == org_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status FakeStore::DeleteSecret(std::string_view org_id, std::string_view name, bool* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool erased = secrets_.erase({std::string(org_id), std::string(name)}) > 0;
  if (removed != nullptr) *removed = erased;
  return OkStatus();
}

// ---- Apps ----

Status FakeStore::CreateApp(const AppRecord& app) {
  std::lock_guard<std::mutex> lock(mu_);
  if (FindApp(app.org_id, app.name) != nullptr) {
    return AlreadyExists(fmt::format("app {} already exists", AppId(app.org_id, app.name)));
  }
  if (!OrgIdExists(app.org_id)) return OrgIdNotFound(app.org_id);
  // The record is stored as given, active_version and latest_version included.
  apps_[AppKey(app.org_id, app.name)].record = app;  // No draft, no versions.
  return OkStatus();
}

Result<AppRecord> FakeStore::GetApp(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, name);
  if (app == nullptr) return AppNotFound(org_id, name);
  return app->record;
}

Result<std::vector<AppRecord>> FakeStore::ListApps(std::string_view org_id, std::string_view after_name,
                                                   size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!OrgIdExists(org_id)) return OrgIdNotFound(org_id);
  std::vector<AppRecord> apps;
  // WHERE org_id = ? AND name > ? ORDER BY name LIMIT ?: the org's apps are contiguous in apps_, by name.
  for (auto it = apps_.upper_bound(AppKey(org_id, after_name));
       it != apps_.end() && it->first.first == org_id && apps.size() < limit; ++it) {
    apps.push_back(it->second.record);
  }
  return apps;
}

Status FakeStore::UpdateAppSpec(std::string_view org_id, std::string_view name, const std::string& spec,
                                int64_t updated_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, name);
  if (app == nullptr) return AppNotFound(org_id, name);
  app->record.spec = spec;
  app->record.updated_at_ms = updated_at_ms;
  return OkStatus();
}

Status FakeStore::DeleteApp(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (apps_.erase(AppKey(org_id, name)) == 0) return AppNotFound(org_id, name);
  // The draft and versions went with the App; builds cascade through their (org_id, app_name) foreign key.
  // Executions and invocations have no foreign key and stay.
  EraseWhere(builds_, [&](const BuildRecord& b) { return b.org_id == org_id && b.app_name == name; });
  return OkStatus();
}

// ---- Drafts ----

Status FakeStore::PutDraft(std::string_view org_id, std::string_view app_name, const DraftRecord& draft) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  app->draft = draft;  // The upsert replaces every column, build_id and created_at_ms included.
  return OkStatus();
}

Result<std::optional<DraftRecord>> FakeStore::GetDraft(std::string_view org_id, std::string_view app_name) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  return app->draft;
}

Status FakeStore::SetDraftBuild(std::string_view org_id, std::string_view app_name, std::string_view code_hash,
                                std::string_view build_id) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  if (!app->draft.has_value()) return NotFound(fmt::format("app {} has no draft", AppId(org_id, app_name)));
  // A newer save replaced the code: OK without a change (that save's build sets its own id).
  if (app->draft->code_hash == code_hash) app->draft->build_id = std::string(build_id);
  return OkStatus();
}

// ---- Builds ----

Status FakeStore::PutBuild(const BuildRecord& build) {
  std::lock_guard<std::mutex> lock(mu_);
  // The foreign key is checked on insert and on update alike, so even replacing a build needs its app.
  if (FindApp(build.org_id, build.app_name) == nullptr) return AppNotFound(build.org_id, build.app_name);
  builds_.insert_or_assign(build.id, build);
  return OkStatus();
}

Result<BuildRecord> FakeStore::GetBuild(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = builds_.find(id);
  if (it == builds_.end()) return NotFound(fmt::format("build {} not found", id));
  return it->second;
}

Result<int> FakeStore::FailUnfinishedBuilds(std::string_view reason, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  int changed = 0;
  for (auto& [id, b] : builds_) {
    if (!Unfinished(b.status)) continue;
    b.status = kFailed;
    b.error = std::string(reason);
    b.finished_at_ms = now_ms;
    ++changed;
  }
  return changed;
}

// ---- Versions ----

Result<uint32_t> FakeStore::PublishVersion(std::string_view org_id, std::string_view app_name,
                                           const VersionRecord& v) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  const int64_t next = static_cast<int64_t>(app->record.latest_version) + 1;
  if (next > std::numeric_limits<uint32_t>::max()) {
    return FailedPrecondition(fmt::format("app {} has used up its version numbers", AppId(org_id, app_name)));
  }
  const auto number = static_cast<uint32_t>(next);
  if (app->versions.contains(number)) {
    // Unreachable through the Store API (versions come only from here); SQLite would fail the INSERT.
    return Internal(fmt::format("UNIQUE constraint failed: version {} of app {} exists", number,
                                AppId(org_id, app_name)));
  }
  VersionRecord stored = v;
  stored.version = number;
  app->versions.emplace(number, std::move(stored));
  // Only the two numbers change: updated_at_ms is the spec's, not the app's.
  app->record.latest_version = number;
  app->record.active_version = number;
  return number;
}

Result<std::vector<VersionRecord>> FakeStore::ListVersions(std::string_view org_id, std::string_view app_name) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  std::vector<VersionRecord> newest_first;
  for (auto it = app->versions.rbegin(); it != app->versions.rend(); ++it) newest_first.push_back(it->second);
  return newest_first;
}

Result<VersionRecord> FakeStore::GetVersion(std::string_view org_id, std::string_view app_name, uint32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  auto it = app->versions.find(version);
  if (it == app->versions.end()) return VersionNotFound(version, org_id, app_name);
  return it->second;
}

Status FakeStore::SetActiveVersion(std::string_view org_id, std::string_view app_name, uint32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  App* app = FindApp(org_id, app_name);
  if (app == nullptr) return AppNotFound(org_id, app_name);
  if (!app->versions.contains(version)) return VersionNotFound(version, org_id, app_name);
  app->record.active_version = version;
  return OkStatus();
}

// ---- Executions ----

Status FakeStore::PutExecutions(const std::vector<ExecutionRecord>& records) {
  std::lock_guard<std::mutex> lock(mu_);
  // No constraint can fail, so the batch is trivially all or nothing; a later record of the same id wins.
  for (const ExecutionRecord& e : records) executions_.insert_or_assign(e.id, e);
  return OkStatus();
}

Result<ExecutionRecord> FakeStore::GetExecution(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = executions_.find(id);
  if (it == executions_.end()) return NotFound(fmt::format("execution {} not found", id));
  return it->second;
}

Result<int> FakeStore::DeleteExecutionsBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return EraseWhere(executions_, [&](const ExecutionRecord& e) { return e.created_at_ms < ms; });
}

Result<int> FakeStore::FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  int changed = 0;
  for (auto& [id, e] : executions_) {
    if (!Unfinished(e.status)) continue;
    e.status = kFailed;
    e.error = std::string(reason);
    e.finished_at_ms = now_ms;
    ++changed;
  }
  return changed;
}

// ---- Invocations ----

Status FakeStore::PutInvocations(const std::vector<InvocationRecord>& records) {
  std::lock_guard<std::mutex> lock(mu_);
  invocations_.insert(invocations_.end(), records.begin(), records.end());
  return OkStatus();
}

Result<InvocationStats> FakeStore::InvocationStatsFor(std::string_view org_id, std::string_view app_id,
                                                      int64_t from_ms, int64_t to_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  InvocationStats out;
  std::vector<int64_t> durations;
  int64_t duration_sum = 0;
  for (const InvocationRecord& r : invocations_) {
    if (r.org_id != org_id || r.app_id != app_id || r.finished_at_ms < from_ms || r.finished_at_ms >= to_ms) continue;
    ++out.total;
    if (r.status >= 200 && r.status <= 299) ++out.succeeded;
    if (r.cold_start) ++out.cold_starts;
    // MAX over rows (COALESCE(..., 0) only for no rows), so all-negative durations give a negative max.
    out.max_ms = out.total == 1 ? r.duration_ms : std::max(out.max_ms, r.duration_ms);
    duration_sum += r.duration_ms;
    durations.push_back(r.duration_ms);
  }
  if (out.total == 0) return out;
  out.mean_ms = static_cast<double>(duration_sum) / static_cast<double>(out.total);
  // Nearest rank, with SqliteStore's exact rank arithmetic (same doubles, same rounding): the 1-based
  // ceil(p * n)-th smallest duration, at least the first.
  std::sort(durations.begin(), durations.end());
  auto at_rank = [&](double p) {
    const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p * out.total)));
    return durations[static_cast<size_t>(rank - 1)];
  };
  out.p50_ms = at_rank(0.50);
  out.p95_ms = at_rank(0.95);
  out.p99_ms = at_rank(0.99);
  return out;
}

Result<int> FakeStore::DeleteInvocationsBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(
      std::erase_if(invocations_, [&](const InvocationRecord& r) { return r.finished_at_ms < ms; }));
}

}  // namespace ignite::fakes
