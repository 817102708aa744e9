#include "store/sqlite_stmt.h"

#include <fmt/format.h>

namespace ignite::store {
namespace {
// Statements quoted in error messages are cut short: a migration can be pages long.
std::string Abbreviate(std::string_view sql) {
  constexpr size_t kMax = 120;
  if (sql.size() <= kMax) return std::string(sql);
  return fmt::format("{}...", sql.substr(0, kMax));
}
}  // namespace

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  // sqlite3_errmsg describes the most recent failure on the connection, which is `rc`'s for our callers
  // (they hold the connection exclusively); fall back to the generic text for the code otherwise.
  bool db_knows = db != nullptr && (sqlite3_extended_errcode(db) == rc || sqlite3_errcode(db) == rc);
  const char* msg = db_knows ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text = fmt::format("{}: {}", what, msg);
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Unavailable(text + " (the database is locked by another process; retry later)");
  }
  return Internal(std::move(text));
}

Status Exec(sqlite3* db, const std::string& sql) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return OkStatus();
  return SqliteError(db, rc, fmt::format("running \"{}\"", Abbreviate(sql)));
}

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db, rc, fmt::format("preparing \"{}\"", Abbreviate(sql)));
  }
  return Stmt(db, stmt);
}

Stmt::Stmt(Stmt&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), rc_(other.rc_), bind_rc_(other.bind_rc_),
      bind_index_(other.bind_index_) {
  other.stmt_ = nullptr;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }  // A no-op on nullptr.

void Stmt::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

Stmt& Stmt::BindText(int index, std::string_view text) {
  // A null data pointer would bind SQL NULL; "" keeps empty strings as empty text.
  const char* data = text.data() != nullptr ? text.data() : "";
  NoteBind(sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  if (bytes.empty()) {
    NoteBind(sqlite3_bind_zeroblob(stmt_, index, 0), index);
  } else {
    NoteBind(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT), index);
  }
  return *this;
}

Stmt& Stmt::BindInt(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) {
    rc_ = bind_rc_;
    return SqliteError(db_, bind_rc_, fmt::format("binding parameter {} of \"{}\"", bind_index_,
                                                  Abbreviate(sqlite3_sql(stmt_))));
  }
  rc_ = sqlite3_step(stmt_);
  if (rc_ == SQLITE_ROW) return true;
  if (rc_ == SQLITE_DONE) return false;
  // With extended result codes on, sqlite3_step returns e.g. SQLITE_CONSTRAINT_UNIQUE rather than the
  // primary SQLITE_CONSTRAINT, which is what callers switch on.
  return SqliteError(db_, rc_, fmt::format("running \"{}\"", Abbreviate(sqlite3_sql(stmt_))));
}

Stmt& Stmt::Reset() {
  sqlite3_reset(stmt_);  // Its return code repeats the last step's error, already reported by Step.
  rc_ = SQLITE_OK;
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
  return *this;
}

Status Stmt::Run() {
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return OkStatus();
  }
}

int64_t Stmt::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Stmt::ColumnText(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  if (data == nullptr) return "";
  // Bytes after the pointer call, as the SQLite docs require: the call may convert the value's encoding.
  return std::string(reinterpret_cast<const char*>(data), sqlite3_column_bytes(stmt_, column));
}

std::string Stmt::ColumnBlob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  if (data == nullptr) return "";  // NULL or a zero-length blob.
  return std::string(static_cast<const char*>(data), sqlite3_column_bytes(stmt_, column));
}

Result<Txn> Txn::Begin(sqlite3* db, Mode mode) {
  IGNITE_RETURN_IF_ERROR(Exec(db, mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Txn(db);
}

Txn::~Txn() {
  // Rollback can only fail if there is no transaction left (SQLite already rolled it back after an I/O
  // error), which is the state we want anyway.
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Txn::Commit() {
  IGNITE_RETURN_IF_ERROR(Exec(db_, "COMMIT"));
  open_ = false;
  return OkStatus();
}

}  // namespace ignite::store
