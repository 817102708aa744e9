// Schema migrations of the SQLite metadata store.
//
// The schema only moves forward: migration N (1-based) is the SQL that turns version N-1 into version N, and
// the database records each applied version in schema_migrations. Released migrations are never edited;
// a schema change is a new entry at the end of the list.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ignite::store {

// The ordered migrations; element i is version i + 1. The returned list lives for the whole program.
const std::vector<std::string_view>& Migrations();

// Brings the database on `db` up to the newest version in `migrations`. Each pending migration runs in its
// own transaction together with its schema_migrations row, so a crash leaves the schema at a whole version.
// Safe against another process migrating the same file at the same time. Returns FailedPrecondition when the
// database is newer than `migrations` knows (written by a newer ignited), Internal/Unavailable when SQLite
// fails. The caller must hold `db` exclusively.
Status Migrate(sqlite3* db, const std::vector<std::string_view>& migrations, int64_t now_ms);

// The highest applied version, 0 for a fresh database. The caller must hold `db` exclusively.
Result<int64_t> SchemaVersion(sqlite3* db);

}  // namespace ignite::store
