#include "store/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "common/clock.h"
#include "store/migrations.h"
#include "store/sqlite_stmt.h"

namespace ignite::store {
namespace {

// dodil.ignite.v1.BuildStatus numbers. The store keeps them as plain ints so it does not depend on the
// generated protobuf code; store_test checks them against the enum.
constexpr int kBuildPending = 1;
constexpr int kBuildRunning = 2;
constexpr int kBuildFailed = 4;
// dodil.ignite.v1.ExecutionStatus numbers (PENDING and RUNNING are also literal in migration 2's index).
constexpr int kExecutionFailed = 4;

constexpr int kBusyTimeoutMs = 5000;

std::string AppId(std::string_view org_id, std::string_view name) { return fmt::format("{}/{}", org_id, name); }

Status AppNotFound(std::string_view org_id, std::string_view name) {
  return NotFound(fmt::format("app {} not found", AppId(org_id, name)));
}

Status OrgIdNotFound(std::string_view org_id) {
  return NotFound(fmt::format("organization with id {} not found", org_id));
}

// Column lists and readers, one per record, so every SELECT reads columns in the same order.
constexpr std::string_view kOrgColumns = "id, name, created_at_ms";
OrgRecord ReadOrg(const Stmt& s) {
  return OrgRecord{.id = s.ColumnText(0), .name = s.ColumnText(1), .created_at_ms = s.ColumnInt(2)};
}

constexpr std::string_view kTokenColumns =
    "id, org_id, role, secret_hash, salt, description, created_at_ms, expires_at_ms, service_account_id";
TokenRecord ReadToken(const Stmt& s) {
  return TokenRecord{.id = s.ColumnText(0),
                     .org_id = s.ColumnText(1),
                     .role = s.ColumnText(2),
                     .secret_hash = s.ColumnText(3),
                     .salt = s.ColumnText(4),
                     .description = s.ColumnText(5),
                     .created_at_ms = s.ColumnInt(6),
                     .expires_at_ms = s.ColumnInt(7),
                     .service_account_id = s.ColumnText(8)};
}

constexpr std::string_view kAppColumns =
    "org_id, name, spec, active_version, latest_version, created_at_ms, updated_at_ms";
AppRecord ReadApp(const Stmt& s) {
  return AppRecord{.org_id = s.ColumnText(0),
                   .name = s.ColumnText(1),
                   .spec = s.ColumnBlob(2),
                   .active_version = static_cast<uint32_t>(s.ColumnInt(3)),
                   .latest_version = static_cast<uint32_t>(s.ColumnInt(4)),
                   .created_at_ms = s.ColumnInt(5),
                   .updated_at_ms = s.ColumnInt(6)};
}

constexpr std::string_view kDraftColumns =
    "code_hash, code_size, runtime, file_name, build_id, created_at_ms, updated_at_ms";
DraftRecord ReadDraft(const Stmt& s) {
  return DraftRecord{.code_hash = s.ColumnText(0),
                     .code_size = s.ColumnInt(1),
                     .runtime = s.ColumnBlob(2),
                     .file_name = s.ColumnText(3),
                     .build_id = s.ColumnText(4),
                     .created_at_ms = s.ColumnInt(5),
                     .updated_at_ms = s.ColumnInt(6)};
}

constexpr std::string_view kBuildColumns =
    "id, org_id, app_name, code_hash, status, error, log, artifact_hash, artifact_size, sdk_version, "
    "created_at_ms, finished_at_ms, source_ref";
BuildRecord ReadBuild(const Stmt& s) {
  return BuildRecord{.id = s.ColumnText(0),
                     .org_id = s.ColumnText(1),
                     .app_name = s.ColumnText(2),
                     .code_hash = s.ColumnText(3),
                     .status = static_cast<int>(s.ColumnInt(4)),
                     .error = s.ColumnText(5),
                     .log = s.ColumnText(6),
                     .artifact_hash = s.ColumnText(7),
                     .artifact_size = s.ColumnInt(8),
                     .sdk_version = s.ColumnText(9),
                     .created_at_ms = s.ColumnInt(10),
                     .finished_at_ms = s.ColumnInt(11),
                     .source_ref = s.ColumnText(12)};
}

constexpr std::string_view kVersionColumns =
    "version, code_hash, artifact_hash, artifact_size, build_id, spec, runtime, created_at_ms";
VersionRecord ReadVersion(const Stmt& s) {
  return VersionRecord{.version = static_cast<uint32_t>(s.ColumnInt(0)),
                       .code_hash = s.ColumnText(1),
                       .artifact_hash = s.ColumnText(2),
                       .artifact_size = s.ColumnInt(3),
                       .build_id = s.ColumnText(4),
                       .spec = s.ColumnBlob(5),
                       .runtime = s.ColumnBlob(6),
                       .created_at_ms = s.ColumnInt(7)};
}

constexpr std::string_view kExecutionColumns =
    "id, org_id, app_id, version, status, response_status, output, error, cold_start, created_at_ms, "
    "started_at_ms, finished_at_ms, duration_ms, invocation_id";
ExecutionRecord ReadExecution(const Stmt& s) {
  return ExecutionRecord{.id = s.ColumnText(0),
                         .org_id = s.ColumnText(1),
                         .app_id = s.ColumnText(2),
                         .version = static_cast<uint32_t>(s.ColumnInt(3)),
                         .status = static_cast<int>(s.ColumnInt(4)),
                         .response_status = static_cast<uint32_t>(s.ColumnInt(5)),
                         .output = s.ColumnBlob(6),
                         .error = s.ColumnText(7),
                         .cold_start = s.ColumnInt(8) != 0,
                         .created_at_ms = s.ColumnInt(9),
                         .started_at_ms = s.ColumnInt(10),
                         .finished_at_ms = s.ColumnInt(11),
                         .duration_ms = s.ColumnInt(12),
                         .invocation_id = s.ColumnText(13)};
}

constexpr std::string_view kSecretColumns = "org_id, name, type, sealed, created_at_ms, updated_at_ms";
SecretRecord ReadSecret(const Stmt& s) {
  return SecretRecord{.org_id = s.ColumnText(0),
                      .name = s.ColumnText(1),
                      .type = s.ColumnText(2),
                      .sealed = s.ColumnBlob(3),
                      .created_at_ms = s.ColumnInt(4),
                      .updated_at_ms = s.ColumnInt(5)};
}

Status SecretNotFound(std::string_view name) {
  return NotFound(fmt::format("secret \"{}\" not found", name));
}

Status WithPath(const std::string& path, const Status& st) {
  return Status(st.code(), fmt::format("{}: {}", path, st.message()));
}

// Reads PRAGMA journal_mode=WAL's answer: the mode actually in effect.
Result<std::string> EnableWal(sqlite3* db) {
  IGNITE_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, "PRAGMA journal_mode=WAL"));
  IGNITE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnText(0) : std::string();
}

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: the store's own mutex already serializes use of the connection.
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  // Owned from here on: even a failed open returns a handle that must be closed.
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  if (rc != SQLITE_OK) {
    return Internal(fmt::format("cannot open database {}: {}", path,
                                db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(db, 1);  // Tells a UNIQUE clash from a foreign-key miss.

  // busy_timeout first, so that switching to WAL waits for another process's lock instead of failing.
  Status st = Exec(db, fmt::format("PRAGMA busy_timeout={}", kBusyTimeoutMs));
  if (!st.ok()) return WithPath(path, st);
  // WAL: readers do not block the writer, and a commit is one sequential append to the log.
  Result<std::string> mode = EnableWal(db);
  if (!mode.ok()) return WithPath(path, mode.status());
  bool in_memory = path.empty() || path == ":memory:";
  if (*mode != "wal" && !in_memory) {
    return Internal(fmt::format("{}: cannot enable WAL journaling (journal_mode is \"{}\"); the "
                                "file system may not support shared memory (e.g. some network file systems)",
                                path, *mode));
  }
  // FULL rather than NORMAL: in WAL mode NORMAL may lose the last commits on power loss. Losing a
  // PublishVersion the user was told about would hand out its version number again for different code, and
  // the write rate (deploys, builds) is low enough that one fsync per commit costs nothing noticeable.
  // foreign_keys makes DeleteApp cascade and rejects children of missing apps/orgs; it is per connection.
  st = Exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
  if (!st.ok()) return WithPath(path, st);

  st = Migrate(db, Migrations(), SystemClock().NowUnixMs());
  if (!st.ok()) return WithPath(path, st);
  return store;
}

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }  // A no-op on nullptr.

Status SqliteStore::CheckAppExists(std::string_view org_id, std::string_view name) {
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "SELECT 1 FROM apps WHERE org_id = ? AND name = ?"));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, org_id).BindText(2, name).Step());
  return found ? OkStatus() : AppNotFound(org_id, name);
}

// ---- Orgs ----

Status SqliteStore::CreateOrg(const OrgRecord& org) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s,
                          Stmt::Prepare(db_, "INSERT INTO orgs(id, name, created_at_ms) VALUES (?, ?, ?)"));
  Status st = s.BindText(1, org.id).BindText(2, org.name).BindInt(3, org.created_at_ms).Run();
  if (s.rc() == SQLITE_CONSTRAINT_UNIQUE) {
    return AlreadyExists(fmt::format("organization \"{}\" already exists", org.name));
  }
  if (s.rc() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(fmt::format("organization with id {} already exists", org.id));
  }
  return st;
}

Result<OrgRecord> SqliteStore::GetOrgByName(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM orgs WHERE name = ?", kOrgColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, name).Step());
  if (!found) return NotFound(fmt::format("organization \"{}\" not found", name));
  return ReadOrg(s);
}

Result<OrgRecord> SqliteStore::GetOrgById(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM orgs WHERE id = ?", kOrgColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, id).Step());
  if (!found) return OrgIdNotFound(id);
  return ReadOrg(s);
}

Result<std::vector<OrgRecord>> SqliteStore::ListOrgs() {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM orgs ORDER BY name", kOrgColumns)));
  std::vector<OrgRecord> orgs;
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    orgs.push_back(ReadOrg(s));
  }
  return orgs;
}

// ---- Tokens ----

Status SqliteStore::PutToken(const TokenRecord& t) {
  std::lock_guard<std::mutex> lock(mu_);
  // One statement: a token of a service account is inserted only while the account exists, so it cannot
  // slip in after a concurrent DeleteServiceAccount.
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO tokens({}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ?9 = '' "
                                             "OR EXISTS (SELECT 1 FROM service_accounts WHERE id = ?9)",
                                             kTokenColumns)));
  Status st = s.BindText(1, t.id)
                  .BindText(2, t.org_id)
                  .BindText(3, t.role)
                  .BindText(4, t.secret_hash)
                  .BindText(5, t.salt)
                  .BindText(6, t.description)
                  .BindInt(7, t.created_at_ms)
                  .BindInt(8, t.expires_at_ms)
                  .BindText(9, t.service_account_id)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_PRIMARYKEY) return AlreadyExists(fmt::format("token {} already exists", t.id));
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) return OrgIdNotFound(t.org_id);
  IGNITE_RETURN_IF_ERROR(st);
  if (sqlite3_changes(db_) == 0) {
    return NotFound(fmt::format("service account {} not found (deleted meanwhile?)", t.service_account_id));
  }
  return OkStatus();
}

Result<TokenRecord> SqliteStore::GetToken(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s,
                          Stmt::Prepare(db_, fmt::format("SELECT {} FROM tokens WHERE id = ?", kTokenColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, id).Step());
  if (!found) return NotFound(fmt::format("token {} not found", id));
  return ReadToken(s);
}

Result<int> SqliteStore::DeleteTokensExpiredBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s,
                          Stmt::Prepare(db_, "DELETE FROM tokens WHERE expires_at_ms != 0 AND expires_at_ms < ?"));
  IGNITE_RETURN_IF_ERROR(s.BindInt(1, ms).Run());
  return sqlite3_changes(db_);
}

// ---- Secrets ----

Status SqliteStore::PutSecret(const SecretRecord& secret) {
  std::lock_guard<std::mutex> lock(mu_);
  // One upsert: a rotation replaces the value and keeps created_at_ms, and two concurrent puts of a new name
  // cannot both insert.
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO secrets({}) VALUES (?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT(org_id, name) DO UPDATE SET "
                                             "type = excluded.type, sealed = excluded.sealed, "
                                             "updated_at_ms = excluded.updated_at_ms",
                                             kSecretColumns)));
  Status st = s.BindText(1, secret.org_id)
                  .BindText(2, secret.name)
                  .BindText(3, secret.type)
                  .BindBlob(4, secret.sealed)
                  .BindInt(5, secret.created_at_ms)
                  .BindInt(6, secret.updated_at_ms)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) return OrgIdNotFound(secret.org_id);
  return st;
}

Result<SecretRecord> SqliteStore::GetSecret(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db_, fmt::format("SELECT {} FROM secrets WHERE org_id = ? AND name = ?", kSecretColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, org_id).BindText(2, name).Step());
  if (!found) return SecretNotFound(name);
  return ReadSecret(s);
}

Result<std::vector<SecretRecord>> SqliteStore::ListSecrets(std::string_view org_id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM secrets WHERE org_id = ? ORDER BY name", kSecretColumns)));
  s.BindText(1, org_id);
  std::vector<SecretRecord> secrets;
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    secrets.push_back(ReadSecret(s));
  }
  return secrets;
}

Status SqliteStore::DeleteSecret(std::string_view org_id, std::string_view name, bool* removed) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "DELETE FROM secrets WHERE org_id = ? AND name = ?"));
  IGNITE_RETURN_IF_ERROR(s.BindText(1, org_id).BindText(2, name).Run());
  if (removed != nullptr) *removed = sqlite3_changes(db_) > 0;
  return OkStatus();
}

// ---- Apps ----

Status SqliteStore::CreateApp(const AppRecord& app) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO apps({}) VALUES (?, ?, ?, ?, ?, ?, ?)", kAppColumns)));
  Status st = s.BindText(1, app.org_id)
                  .BindText(2, app.name)
                  .BindBlob(3, app.spec)
                  .BindInt(4, app.active_version)
                  .BindInt(5, app.latest_version)
                  .BindInt(6, app.created_at_ms)
                  .BindInt(7, app.updated_at_ms)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(fmt::format("app {} already exists", AppId(app.org_id, app.name)));
  }
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) return OrgIdNotFound(app.org_id);
  return st;
}

Result<AppRecord> SqliteStore::GetApp(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM apps WHERE org_id = ? AND name = ?", kAppColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, org_id).BindText(2, name).Step());
  if (!found) return AppNotFound(org_id, name);
  return ReadApp(s);
}

Result<std::vector<AppRecord>> SqliteStore::ListApps(std::string_view org_id, std::string_view after_name,
                                                     size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kDeferred));
  IGNITE_ASSIGN_OR_RETURN(Stmt org, Stmt::Prepare(db_, "SELECT 1 FROM orgs WHERE id = ?"));
  IGNITE_ASSIGN_OR_RETURN(bool org_found, org.BindText(1, org_id).Step());
  if (!org_found) return OrgIdNotFound(org_id);

  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM apps WHERE org_id = ? AND name > ? ORDER BY name LIMIT ?",
                                             kAppColumns)));
  const auto capped = static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max()));
  s.BindText(1, org_id).BindText(2, after_name).BindInt(3, capped);
  std::vector<AppRecord> apps;
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    apps.push_back(ReadApp(s));
  }
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return apps;
}

Status SqliteStore::UpdateAppSpec(std::string_view org_id, std::string_view name, const std::string& spec,
                                  int64_t updated_at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, "UPDATE apps SET spec = ?, updated_at_ms = ? WHERE org_id = ? AND name = ?"));
  IGNITE_RETURN_IF_ERROR(s.BindBlob(1, spec).BindInt(2, updated_at_ms).BindText(3, org_id).BindText(4, name).Run());
  if (sqlite3_changes(db_) == 0) return AppNotFound(org_id, name);
  return OkStatus();
}

Status SqliteStore::DeleteApp(std::string_view org_id, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  // The foreign keys' ON DELETE CASCADE removes the draft, builds and versions in the same statement.
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "DELETE FROM apps WHERE org_id = ? AND name = ?"));
  IGNITE_RETURN_IF_ERROR(s.BindText(1, org_id).BindText(2, name).Run());
  if (sqlite3_changes(db_) == 0) return AppNotFound(org_id, name);
  return OkStatus();
}

// ---- Drafts ----

Status SqliteStore::PutDraft(std::string_view org_id, std::string_view app, const DraftRecord& d) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO drafts(org_id, app_name, {}) "
                                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT(org_id, app_name) DO UPDATE SET "
                                             "code_hash = excluded.code_hash, code_size = excluded.code_size, "
                                             "runtime = excluded.runtime, file_name = excluded.file_name, "
                                             "build_id = excluded.build_id, created_at_ms = excluded.created_at_ms, "
                                             "updated_at_ms = excluded.updated_at_ms",
                                             kDraftColumns)));
  Status st = s.BindText(1, org_id)
                  .BindText(2, app)
                  .BindText(3, d.code_hash)
                  .BindInt(4, d.code_size)
                  .BindBlob(5, d.runtime)
                  .BindText(6, d.file_name)
                  .BindText(7, d.build_id)
                  .BindInt(8, d.created_at_ms)
                  .BindInt(9, d.updated_at_ms)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) return AppNotFound(org_id, app);
  return st;
}

Result<std::optional<DraftRecord>> SqliteStore::GetDraft(std::string_view org_id, std::string_view app) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kDeferred));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db_, fmt::format("SELECT {} FROM drafts WHERE org_id = ? AND app_name = ?", kDraftColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, org_id).BindText(2, app).Step());
  std::optional<DraftRecord> draft;
  if (found) {
    draft = ReadDraft(s);
  } else {
    IGNITE_RETURN_IF_ERROR(CheckAppExists(org_id, app));
  }
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return draft;
}

Status SqliteStore::SetDraftBuild(std::string_view org_id, std::string_view app, std::string_view code_hash,
                                  std::string_view build_id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db_, "UPDATE drafts SET build_id = ? WHERE org_id = ? AND app_name = ? AND code_hash = ?"));
  IGNITE_RETURN_IF_ERROR(s.BindText(1, build_id).BindText(2, org_id).BindText(3, app).BindText(4, code_hash).Run());
  if (sqlite3_changes(db_) == 0) {
    // Either a newer save replaced the code (fine: that save's build will set its own id) or there is nothing
    // to update at all.
    IGNITE_RETURN_IF_ERROR(CheckAppExists(org_id, app));
    IGNITE_ASSIGN_OR_RETURN(Stmt d, Stmt::Prepare(db_, "SELECT 1 FROM drafts WHERE org_id = ? AND app_name = ?"));
    IGNITE_ASSIGN_OR_RETURN(bool has_draft, d.BindText(1, org_id).BindText(2, app).Step());
    if (!has_draft) return NotFound(fmt::format("app {} has no draft", AppId(org_id, app)));
  }
  return txn.Commit();
}

// ---- Builds ----

Status SqliteStore::PutBuild(const BuildRecord& b) {
  std::lock_guard<std::mutex> lock(mu_);
  // An upsert rather than INSERT OR REPLACE: REPLACE deletes the old row first, which would fire cascades if
  // anything ever referenced builds.
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db_, fmt::format("INSERT INTO builds({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                     "ON CONFLICT(id) DO UPDATE SET "
                                     "org_id = excluded.org_id, app_name = excluded.app_name, "
                                     "code_hash = excluded.code_hash, status = excluded.status, "
                                     "error = excluded.error, log = excluded.log, "
                                     "artifact_hash = excluded.artifact_hash, artifact_size = excluded.artifact_size, "
                                     "sdk_version = excluded.sdk_version, created_at_ms = excluded.created_at_ms, "
                                     "finished_at_ms = excluded.finished_at_ms, source_ref = excluded.source_ref",
                                     kBuildColumns)));
  Status st = s.BindText(1, b.id)
                  .BindText(2, b.org_id)
                  .BindText(3, b.app_name)
                  .BindText(4, b.code_hash)
                  .BindInt(5, b.status)
                  .BindText(6, b.error)
                  .BindText(7, b.log)
                  .BindText(8, b.artifact_hash)
                  .BindInt(9, b.artifact_size)
                  .BindText(10, b.sdk_version)
                  .BindInt(11, b.created_at_ms)
                  .BindInt(12, b.finished_at_ms)
                  .BindText(13, b.source_ref)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) return AppNotFound(b.org_id, b.app_name);
  return st;
}

Result<BuildRecord> SqliteStore::GetBuild(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s,
                          Stmt::Prepare(db_, fmt::format("SELECT {} FROM builds WHERE id = ?", kBuildColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, id).Step());
  if (!found) return NotFound(fmt::format("build {} not found", id));
  return ReadBuild(s);
}

Result<int> SqliteStore::FailUnfinishedBuilds(std::string_view reason, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, "UPDATE builds SET status = ?, error = ?, finished_at_ms = ? WHERE status IN (?, ?)"));
  IGNITE_RETURN_IF_ERROR(s.BindInt(1, kBuildFailed)
                             .BindText(2, reason)
                             .BindInt(3, now_ms)
                             .BindInt(4, kBuildPending)
                             .BindInt(5, kBuildRunning)
                             .Run());
  return sqlite3_changes(db_);
}

// ---- Versions ----

Result<uint32_t> SqliteStore::PublishVersion(std::string_view org_id, std::string_view app,
                                             const VersionRecord& v) {
  std::lock_guard<std::mutex> lock(mu_);
  // IMMEDIATE: the read of latest_version and the writes that depend on it must not interleave with another
  // process's publish.
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_ASSIGN_OR_RETURN(Stmt latest,
                          Stmt::Prepare(db_, "SELECT latest_version FROM apps WHERE org_id = ? AND name = ?"));
  IGNITE_ASSIGN_OR_RETURN(bool found, latest.BindText(1, org_id).BindText(2, app).Step());
  if (!found) return AppNotFound(org_id, app);
  const int64_t next = latest.ColumnInt(0) + 1;
  if (next > std::numeric_limits<uint32_t>::max()) {
    return FailedPrecondition(fmt::format("app {} has used up its version numbers", AppId(org_id, app)));
  }

  IGNITE_ASSIGN_OR_RETURN(
      Stmt insert,
      Stmt::Prepare(db_, fmt::format("INSERT INTO versions(org_id, app_name, {}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                     kVersionColumns)));
  IGNITE_RETURN_IF_ERROR(insert.BindText(1, org_id)
                             .BindText(2, app)
                             .BindInt(3, next)
                             .BindText(4, v.code_hash)
                             .BindText(5, v.artifact_hash)
                             .BindInt(6, v.artifact_size)
                             .BindText(7, v.build_id)
                             .BindBlob(8, v.spec)
                             .BindBlob(9, v.runtime)
                             .BindInt(10, v.created_at_ms)
                             .Run());

  IGNITE_ASSIGN_OR_RETURN(
      Stmt update,
      Stmt::Prepare(db_, "UPDATE apps SET latest_version = ?, active_version = ? WHERE org_id = ? AND name = ?"));
  IGNITE_RETURN_IF_ERROR(update.BindInt(1, next).BindInt(2, next).BindText(3, org_id).BindText(4, app).Run());
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return static_cast<uint32_t>(next);
}

Result<std::vector<VersionRecord>> SqliteStore::ListVersions(std::string_view org_id, std::string_view app) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kDeferred));
  IGNITE_RETURN_IF_ERROR(CheckAppExists(org_id, app));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM versions WHERE org_id = ? AND app_name = ? "
                                             "ORDER BY version DESC",
                                             kVersionColumns)));
  s.BindText(1, org_id).BindText(2, app);
  std::vector<VersionRecord> versions;
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    versions.push_back(ReadVersion(s));
  }
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return versions;
}

Result<VersionRecord> SqliteStore::GetVersion(std::string_view org_id, std::string_view app, uint32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kDeferred));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM versions "
                                             "WHERE org_id = ? AND app_name = ? AND version = ?",
                                             kVersionColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, org_id).BindText(2, app).BindInt(3, version).Step());
  if (!found) {
    IGNITE_RETURN_IF_ERROR(CheckAppExists(org_id, app));
    return NotFound(fmt::format("version {} of app {} not found", version, AppId(org_id, app)));
  }
  VersionRecord record = ReadVersion(s);
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return record;
}

Status SqliteStore::SetActiveVersion(std::string_view org_id, std::string_view app, uint32_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_RETURN_IF_ERROR(CheckAppExists(org_id, app));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt exists, Stmt::Prepare(db_, "SELECT 1 FROM versions WHERE org_id = ? AND app_name = ? AND version = ?"));
  IGNITE_ASSIGN_OR_RETURN(bool found, exists.BindText(1, org_id).BindText(2, app).BindInt(3, version).Step());
  if (!found) return NotFound(fmt::format("version {} of app {} not found", version, AppId(org_id, app)));
  IGNITE_ASSIGN_OR_RETURN(Stmt update,
                          Stmt::Prepare(db_, "UPDATE apps SET active_version = ? WHERE org_id = ? AND name = ?"));
  IGNITE_RETURN_IF_ERROR(update.BindInt(1, version).BindText(2, org_id).BindText(3, app).Run());
  return txn.Commit();
}

// ---- Executions ----

Status SqliteStore::PutExecutions(const std::vector<ExecutionRecord>& records) {
  if (records.empty()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO executions({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT(id) DO UPDATE SET "
                                             "org_id = excluded.org_id, app_id = excluded.app_id, "
                                             "version = excluded.version, status = excluded.status, "
                                             "response_status = excluded.response_status, output = excluded.output, "
                                             "error = excluded.error, cold_start = excluded.cold_start, "
                                             "created_at_ms = excluded.created_at_ms, "
                                             "started_at_ms = excluded.started_at_ms, "
                                             "finished_at_ms = excluded.finished_at_ms, "
                                             "duration_ms = excluded.duration_ms, "
                                             "invocation_id = excluded.invocation_id",
                                             kExecutionColumns)));
  for (const ExecutionRecord& e : records) {
    IGNITE_RETURN_IF_ERROR(s.Reset()
                               .BindText(1, e.id)
                               .BindText(2, e.org_id)
                               .BindText(3, e.app_id)
                               .BindInt(4, e.version)
                               .BindInt(5, e.status)
                               .BindInt(6, e.response_status)
                               .BindBlob(7, e.output)
                               .BindText(8, e.error)
                               .BindInt(9, e.cold_start ? 1 : 0)
                               .BindInt(10, e.created_at_ms)
                               .BindInt(11, e.started_at_ms)
                               .BindInt(12, e.finished_at_ms)
                               .BindInt(13, e.duration_ms)
                               .BindText(14, e.invocation_id)
                               .Run());
  }
  return txn.Commit();
}

Result<ExecutionRecord> SqliteStore::GetExecution(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM executions WHERE id = ?", kExecutionColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, id).Step());
  if (!found) return NotFound(fmt::format("execution {} not found", id));
  return ReadExecution(s);
}

Result<int> SqliteStore::DeleteExecutionsBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "DELETE FROM executions WHERE created_at_ms < ?"));
  IGNITE_RETURN_IF_ERROR(s.BindInt(1, ms).Run());
  return sqlite3_changes(db_);
}

Result<int> SqliteStore::FailUnfinishedExecutions(std::string_view reason, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  // The literal IN (1, 2) matches the partial index executions_unfinished, so this does not scan the table.
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "UPDATE executions SET status = ?, error = ?, finished_at_ms = ? "
                                                     "WHERE status IN (1, 2)"));
  IGNITE_RETURN_IF_ERROR(s.BindInt(1, kExecutionFailed).BindText(2, reason).BindInt(3, now_ms).Run());
  return sqlite3_changes(db_);
}

}  // namespace ignite::store
