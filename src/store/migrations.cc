#include "store/migrations.h"

#include <fmt/format.h>

#include "store/sqlite_stmt.h"

namespace ignite::store {
namespace {

// Version 1: the initial schema.
//
// Child rows of an app (draft, builds, versions) cascade on DeleteApp. Orgs are never deleted, so their
// foreign keys only enforce that the org exists. spec/runtime hold serialized protobuf, hence BLOB.
// Build status numbers are dodil.ignite.v1.BuildStatus values.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE orgs (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL
);

CREATE TABLE tokens (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL REFERENCES orgs(id),
  role          TEXT NOT NULL,
  secret_hash   TEXT NOT NULL,
  salt          TEXT NOT NULL,
  description   TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX tokens_by_org ON tokens(org_id);

CREATE TABLE apps (
  org_id         TEXT NOT NULL REFERENCES orgs(id),
  name           TEXT NOT NULL,
  spec           BLOB NOT NULL,
  active_version INTEGER NOT NULL,
  latest_version INTEGER NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (org_id, name)
);

CREATE TABLE drafts (
  org_id        TEXT NOT NULL,
  app_name      TEXT NOT NULL,
  code_hash     TEXT NOT NULL,
  code_size     INTEGER NOT NULL,
  runtime       BLOB NOT NULL,
  file_name     TEXT NOT NULL,
  build_id      TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, app_name),
  FOREIGN KEY (org_id, app_name) REFERENCES apps(org_id, name) ON DELETE CASCADE
);

CREATE TABLE builds (
  id             TEXT PRIMARY KEY,
  org_id         TEXT NOT NULL,
  app_name       TEXT NOT NULL,
  code_hash      TEXT NOT NULL,
  status         INTEGER NOT NULL,
  error          TEXT NOT NULL,
  log            TEXT NOT NULL,
  artifact_hash  TEXT NOT NULL,
  artifact_size  INTEGER NOT NULL,
  sdk_version    TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL,
  FOREIGN KEY (org_id, app_name) REFERENCES apps(org_id, name) ON DELETE CASCADE
);
-- Serves the cascade from apps (SQLite scans the child table without it) and per-app listings.
CREATE INDEX builds_by_app ON builds(org_id, app_name);

CREATE TABLE versions (
  org_id        TEXT NOT NULL,
  app_name      TEXT NOT NULL,
  version       INTEGER NOT NULL,
  code_hash     TEXT NOT NULL,
  artifact_hash TEXT NOT NULL,
  artifact_size INTEGER NOT NULL,
  build_id      TEXT NOT NULL,
  spec          BLOB NOT NULL,
  runtime       BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, app_name, version),
  FOREIGN KEY (org_id, app_name) REFERENCES apps(org_id, name) ON DELETE CASCADE
);
)sql";

// Version 2: execution records of asynchronous invocations (written in batches by the API's
// ExecutionRecorder). No foreign keys: a record outlives its app until retention deletes it, and a batch must
// never fail because an app was deleted meanwhile. Status numbers are dodil.ignite.v1.ExecutionStatus values;
// the partial index serves the start-up sweep of unfinished (PENDING = 1, RUNNING = 2) records.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE executions (
  id              TEXT PRIMARY KEY,
  org_id          TEXT NOT NULL,
  app_id          TEXT NOT NULL,
  version         INTEGER NOT NULL,
  status          INTEGER NOT NULL,
  response_status INTEGER NOT NULL,
  output          BLOB NOT NULL,
  error           TEXT NOT NULL,
  cold_start      INTEGER NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  finished_at_ms  INTEGER NOT NULL,
  duration_ms     INTEGER NOT NULL,
  invocation_id   TEXT NOT NULL
);
CREATE INDEX executions_by_created ON executions(created_at_ms);
CREATE INDEX executions_unfinished ON executions(status) WHERE status IN (1, 2);
)sql";

// Version 3: service accounts (issue 5) and the tokens issued from them. Tokens made before keep
// service_account_id '' (not issued from an account). No foreign key from tokens: SQLite cannot add one to
// an existing table, so DeleteServiceAccount deletes the account's tokens in the same transaction, and
// PutToken inserts an account's token only while the account exists. The partial index serves that delete;
// the expiry index the sweep of expired tokens.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE service_accounts (
  id            TEXT PRIMARY KEY,
  org_id        TEXT NOT NULL REFERENCES orgs(id),
  name          TEXT NOT NULL,
  role          TEXT NOT NULL,
  secret_hash   TEXT NOT NULL,
  salt          TEXT NOT NULL,
  description   TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (org_id, name)
);

ALTER TABLE tokens ADD COLUMN service_account_id TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_by_service_account ON tokens(service_account_id) WHERE service_account_id != '';
CREATE INDEX tokens_by_expiry ON tokens(expires_at_ms) WHERE expires_at_ms != 0;
)sql";

// Version 4: invocation outcomes for execution stats (api/invocation_stats.h), written in batches off the
// invoke path. No foreign keys (like executions); stats only count rows finished after the app was created,
// so a re-created app starts from zero. by_app serves the stats query, by_time the retention sweep.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE invocations (
  org_id         TEXT NOT NULL,
  app_id         TEXT NOT NULL,
  version        INTEGER NOT NULL,
  finished_at_ms INTEGER NOT NULL,
  duration_ms    INTEGER NOT NULL,
  status         INTEGER NOT NULL,
  cold_start     INTEGER NOT NULL
);
CREATE INDEX invocations_by_app ON invocations(org_id, app_id, finished_at_ms);
CREATE INDEX invocations_by_time ON invocations(finished_at_ms);
)sql";

// Version 5: what a build's artifact was made from, pinned (an image reference -> repo@sha256:...).
constexpr std::string_view kV5 = R"sql(
ALTER TABLE builds ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';
)sql";

// Version 6: secrets of an organization (git credentials, registry passwords) for builds and deploys. `sealed`
// is the value as common/secret_box.h sealed it (AES-256-GCM with aad "<org_id>/<name>"), hence BLOB: the
// store never holds plaintext. Orgs are never deleted, so the foreign key only enforces that the org exists;
// the primary key makes names unique per org and serves the per-org listing by name.
constexpr std::string_view kV6 = R"sql(
CREATE TABLE secrets (
  org_id        TEXT NOT NULL REFERENCES orgs(id),
  name          TEXT NOT NULL,
  type          TEXT NOT NULL,
  sealed        BLOB NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, name)
);
)sql";

Status ApplyOne(sqlite3* db, int64_t version, std::string_view sql, int64_t now_ms) {
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db, Txn::Mode::kImmediate));
  // Re-read under the write lock: another ignited opening the same file may have applied it meanwhile.
  IGNITE_ASSIGN_OR_RETURN(int64_t applied, SchemaVersion(db));
  if (applied >= version) return OkStatus();
  Status st = Exec(db, std::string(sql));
  if (!st.ok()) {
    return Status(st.code(), fmt::format("applying schema migration {}: {}", version, st.message()));
  }
  IGNITE_ASSIGN_OR_RETURN(
      Stmt insert, Stmt::Prepare(db, "INSERT INTO schema_migrations(version, applied_at_ms) VALUES (?, ?)"));
  IGNITE_RETURN_IF_ERROR(insert.BindInt(1, version).BindInt(2, now_ms).Run());
  return txn.Commit();
}

}  // namespace

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> migrations = {kV1, kV2, kV3, kV4, kV5, kV6};
  return migrations;
}

Result<int64_t> SchemaVersion(sqlite3* db) {
  IGNITE_ASSIGN_OR_RETURN(Stmt stmt, Stmt::Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  IGNITE_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

Status Migrate(sqlite3* db, const std::vector<std::string_view>& migrations, int64_t now_ms) {
  IGNITE_RETURN_IF_ERROR(Exec(db,
                              "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"));
  IGNITE_ASSIGN_OR_RETURN(int64_t applied, SchemaVersion(db));
  const auto known = static_cast<int64_t>(migrations.size());
  if (applied > known) {
    return FailedPrecondition(fmt::format(
        "database schema version {} is newer than this ignited supports ({}); upgrade ignited", applied, known));
  }
  for (int64_t v = applied + 1; v <= known; ++v) {
    IGNITE_RETURN_IF_ERROR(ApplyOne(db, v, migrations[v - 1], now_ms));
  }
  return OkStatus();
}

}  // namespace ignite::store
