// SqliteStore's service accounts (schema migration 3). Contracts in store.h.
#include <fmt/format.h>
#include <sqlite3.h>

#include "store/sqlite_stmt.h"
#include "store/sqlite_store.h"

namespace ignite::store {
namespace {

constexpr std::string_view kColumns = "id, org_id, name, role, secret_hash, salt, description, created_at_ms";

ServiceAccountRecord Read(const Stmt& s) {
  return ServiceAccountRecord{.id = s.ColumnText(0),
                              .org_id = s.ColumnText(1),
                              .name = s.ColumnText(2),
                              .role = s.ColumnText(3),
                              .secret_hash = s.ColumnText(4),
                              .salt = s.ColumnText(5),
                              .description = s.ColumnText(6),
                              .created_at_ms = s.ColumnInt(7)};
}

Status AccountNotFound(std::string_view id) {
  return NotFound(fmt::format("service account {} not found; `dodil auth service-account list` shows yours", id));
}

}  // namespace

Status SqliteStore::CreateServiceAccount(const ServiceAccountRecord& a) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("INSERT INTO service_accounts({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                             kColumns)));
  Status st = s.BindText(1, a.id)
                  .BindText(2, a.org_id)
                  .BindText(3, a.name)
                  .BindText(4, a.role)
                  .BindText(5, a.secret_hash)
                  .BindText(6, a.salt)
                  .BindText(7, a.description)
                  .BindInt(8, a.created_at_ms)
                  .Run();
  if (s.rc() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return AlreadyExists(fmt::format("service account {} already exists", a.id));
  }
  if (s.rc() == SQLITE_CONSTRAINT_UNIQUE) {
    return AlreadyExists(fmt::format("a service account named \"{}\" already exists in this organization; pick "
                                     "another name or delete it first",
                                     a.name));
  }
  if (s.rc() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    return NotFound(fmt::format("organization with id {} not found", a.org_id));
  }
  return st;
}

Result<ServiceAccountRecord> SqliteStore::GetServiceAccount(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s,
                          Stmt::Prepare(db_, fmt::format("SELECT {} FROM service_accounts WHERE id = ?", kColumns)));
  IGNITE_ASSIGN_OR_RETURN(bool found, s.BindText(1, id).Step());
  if (!found) return AccountNotFound(id);
  return Read(s);
}

Result<std::vector<ServiceAccountRecord>> SqliteStore::ListServiceAccounts(std::string_view org_id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT {} FROM service_accounts WHERE org_id = ? ORDER BY name",
                                             kColumns)));
  s.BindText(1, org_id);
  std::vector<ServiceAccountRecord> out;
  while (true) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(Read(s));
  }
  return out;
}

Result<int> SqliteStore::DeleteServiceAccount(std::string_view org_id, std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_ASSIGN_OR_RETURN(Stmt del, Stmt::Prepare(db_, "DELETE FROM service_accounts WHERE id = ? AND org_id = ?"));
  IGNITE_RETURN_IF_ERROR(del.BindText(1, id).BindText(2, org_id).Run());
  if (sqlite3_changes(db_) == 0) return AccountNotFound(id);
  IGNITE_ASSIGN_OR_RETURN(Stmt tokens, Stmt::Prepare(db_, "DELETE FROM tokens WHERE service_account_id = ?"));
  IGNITE_RETURN_IF_ERROR(tokens.BindText(1, id).Run());
  int revoked = sqlite3_changes(db_);
  IGNITE_RETURN_IF_ERROR(txn.Commit());
  return revoked;
}

}  // namespace ignite::store
