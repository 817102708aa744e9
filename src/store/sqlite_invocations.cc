// SqliteStore's invocation outcomes for execution stats (schema migration 4). Contracts in store.h.
#include <cmath>

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/sqlite_stmt.h"
#include "store/sqlite_store.h"

namespace ignite::store {

Status SqliteStore::PutInvocations(const std::vector<InvocationRecord>& records) {
  if (records.empty()) return OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Txn txn, Txn::Begin(db_, Txn::Mode::kImmediate));
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "INSERT INTO invocations(org_id, app_id, version, finished_at_ms, "
                                                     "duration_ms, status, cold_start) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  for (const InvocationRecord& r : records) {
    IGNITE_RETURN_IF_ERROR(s.Reset()
                               .BindText(1, r.org_id)
                               .BindText(2, r.app_id)
                               .BindInt(3, r.version)
                               .BindInt(4, r.finished_at_ms)
                               .BindInt(5, r.duration_ms)
                               .BindInt(6, r.status)
                               .BindInt(7, r.cold_start ? 1 : 0)
                               .Run());
  }
  return txn.Commit();
}

Result<InvocationStats> SqliteStore::InvocationStatsFor(std::string_view org_id, std::string_view app_id,
                                                        int64_t from_ms, int64_t to_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  constexpr std::string_view kWhere = "WHERE org_id = ? AND app_id = ? AND finished_at_ms >= ? AND finished_at_ms < ?";
  InvocationStats out;
  {
    IGNITE_ASSIGN_OR_RETURN(
        Stmt s, Stmt::Prepare(db_, fmt::format("SELECT COUNT(*), COALESCE(SUM(status BETWEEN 200 AND 299), 0), "
                                               "COALESCE(SUM(cold_start), 0), COALESCE(MAX(duration_ms), 0), "
                                               "COALESCE(SUM(duration_ms), 0) FROM invocations {}",
                                               kWhere)));
    IGNITE_ASSIGN_OR_RETURN(bool row,
                            s.BindText(1, org_id).BindText(2, app_id).BindInt(3, from_ms).BindInt(4, to_ms).Step());
    if (!row) return out;
    out.total = s.ColumnInt(0);
    out.succeeded = s.ColumnInt(1);
    out.cold_starts = s.ColumnInt(2);
    out.max_ms = s.ColumnInt(3);
    if (out.total > 0) out.mean_ms = static_cast<double>(s.ColumnInt(4)) / static_cast<double>(out.total);
  }
  if (out.total == 0) return out;
  // Nearest-rank percentiles: one pass over the sorted durations, stopping at the p99 rank.
  auto rank = [&](double p) { return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p * out.total))); };
  const int64_t r50 = rank(0.50), r95 = rank(0.95), r99 = rank(0.99);
  IGNITE_ASSIGN_OR_RETURN(
      Stmt s, Stmt::Prepare(db_, fmt::format("SELECT duration_ms FROM invocations {} ORDER BY duration_ms", kWhere)));
  s.BindText(1, org_id).BindText(2, app_id).BindInt(3, from_ms).BindInt(4, to_ms);
  for (int64_t i = 1; i <= r99; ++i) {
    IGNITE_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    int64_t d = s.ColumnInt(0);
    if (i == r50) out.p50_ms = d;
    if (i == r95) out.p95_ms = d;
    if (i == r99) out.p99_ms = d;
  }
  return out;
}

Result<int> SqliteStore::DeleteInvocationsBefore(int64_t ms) {
  std::lock_guard<std::mutex> lock(mu_);
  IGNITE_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db_, "DELETE FROM invocations WHERE finished_at_ms < ?"));
  IGNITE_RETURN_IF_ERROR(s.BindInt(1, ms).Run());
  return sqlite3_changes(db_);
}

}  // namespace ignite::store
