// A throwaway PostgreSQL for tests (issue 10). ctest starts one cluster for the whole run
// (scripts/pg-test-cluster.sh, a test fixture) and names its directory in FLARE_TEST_PG_DIR; a
// test binary run by hand starts its own the same way and stops it at exit. Each test gets a
// fresh database on it, dropped afterwards. Tests skip (GTEST_SKIP, saying why) only when the
// PostgreSQL binaries are not installed.
#pragma once

#include <optional>
#include <string>

namespace flare::testing {

struct pg_server {
  std::string url;       // postgresql://flare_test@127.0.0.1:PORT/postgres (no password)
  std::string password;  // given to the store as store.password_file would
};

// The test server, or nullopt with `why_not` set when PostgreSQL is not installed. Throws when it
// is installed but cannot be started (a broken setup must fail, not skip).
std::optional<pg_server> test_pg_server(std::string* why_not);

// A fresh, empty database on the test server for one test, dropped (connections and all) when
// this goes away.
class pg_test_database {
 public:
  explicit pg_test_database(const pg_server& server);
  ~pg_test_database();
  pg_test_database(const pg_test_database&) = delete;
  pg_test_database& operator=(const pg_test_database&) = delete;

  const std::string& url() const { return url_; }
  const std::string& password() const { return server_.password; }
  // Runs SQL on the database over a connection of its own; returns the server's error, "" on
  // success, or the first column of the first row with `value`.
  std::string exec(const std::string& sql, std::string* value = nullptr) const;

 private:
  pg_server server_;
  std::string name_;
  std::string url_;
};

}  // namespace flare::testing
