// Looks into a store file with a separate raw SQLite connection, the way an operator with the
// sqlite3 shell would: what a test checks is then what is on disk, not what the store says.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace flare::testing {

// Runs `sql` on the file; returns SQLite's error message, or "" on success.
inline std::string raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string error = rc == SQLITE_OK ? "" : (message ? message : sqlite3_errstr(rc));
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// The first column of the first row of `sql` as an integer (a count), or -1 when it cannot be read.
inline std::int64_t raw_count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    n = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

}  // namespace flare::testing
