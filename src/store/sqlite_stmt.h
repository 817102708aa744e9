// Thin RAII wrappers over the SQLite C API: a prepared statement and a transaction. They turn SQLite result
// codes into Status so the store's methods read as straight-line code.
//
// Not thread-safe: a Stmt or Txn belongs to the caller that holds the connection's lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ignite::store {

// The Status for a failed SQLite call on `db`: Unavailable when the database stayed locked past the busy
// timeout (another process holds it; retrying may work), otherwise Internal. The message is
// "<what>: <sqlite's message>".
Status SqliteError(sqlite3* db, int rc, std::string_view what);

// Runs one or more SQL statements that return no rows (schema changes, pragmas, BEGIN/COMMIT).
Status Exec(sqlite3* db, const std::string& sql);

// A prepared statement. Bind* calls take 1-based parameter indexes and copy their arguments; a bind error is
// remembered and returned by the next Step/Run, so binds chain without checks.
class Stmt {
 public:
  // Internal when the SQL does not compile (a bug) or the database cannot be read.
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);

  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& BindText(int index, std::string_view text);
  // Arbitrary bytes, NULs included; an empty value is stored as a zero-length blob, never NULL.
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& BindInt(int index, int64_t value);

  // Advances the statement: true when a row is ready to read, false when it has finished. On failure returns
  // SqliteError; rc() then tells which constraint, if any, was violated.
  Result<bool> Step();
  // Steps until the statement finishes (for INSERT/UPDATE/DELETE).
  Status Run();
  // Makes the statement ready to run again with new bindings (bindings are kept until rebound).
  Stmt& Reset();
  // The extended result code of the last Step (e.g. SQLITE_CONSTRAINT_PRIMARYKEY).
  int rc() const { return rc_; }

  // Columns of the current row, 0-based. NULL reads as 0 or "".
  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;

 private:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int rc_ = SQLITE_OK;
  int bind_rc_ = SQLITE_OK;  // First failed bind, reported by Step.
  int bind_index_ = 0;
};

// A transaction that rolls back when destroyed uncommitted, so every early `return` undoes the call's writes.
class Txn {
 public:
  // Immediate takes the write lock up front: a read-then-write transaction that started deferred could hit
  // SQLITE_BUSY on its first write with no way to wait, because the lock upgrade would deadlock.
  enum class Mode { kDeferred, kImmediate };
  static Result<Txn> Begin(sqlite3* db, Mode mode);

  Txn(Txn&& other) noexcept : db_(other.db_), open_(other.open_) { other.open_ = false; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();

  // Internal/Unavailable if COMMIT fails; the transaction is then rolled back by the destructor.
  Status Commit();

 private:
  explicit Txn(sqlite3* db) : db_(db), open_(true) {}
  sqlite3* db_;
  bool open_;
};

}  // namespace ignite::store
