#include "tests/support/pg_test_cluster.hpp"

#include <libpq-fe.h>
#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace flare::testing {
namespace {

namespace fs = std::filesystem;

std::string read_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

bool postgresql_installed() {
  for (const char* dir :
       {"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin", "/usr/bin"}) {
    if (fs::exists(fs::path(dir) / "initdb") && fs::exists(fs::path(dir) / "pg_ctl")) return true;
  }
  return false;
}

// A cluster this process started itself (no ctest fixture): stopped at exit.
struct own_cluster {
  fs::path dir;
  ~own_cluster() {
    if (dir.empty()) return;
    const std::string command =
        "bash '" FLARE_SOURCE_DIR "/scripts/pg-test-cluster.sh' stop '" + dir.string() + "' >/dev/null 2>&1";
    [[maybe_unused]] int rc = std::system(command.c_str());
  }
};

std::optional<pg_server> read_server(const fs::path& dir) {
  if (!fs::exists(dir / "url")) return std::nullopt;
  return pg_server{read_line(dir / "url"), read_line(dir / "password")};
}

std::string run_sql(const std::string& url, const std::string& password, const std::string& sql,
                    std::string* value) {
  const char* keys[] = {"dbname", "password", "connect_timeout", nullptr};
  const char* values[] = {url.c_str(), password.c_str(), "10", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    const auto status = PQresultStatus(r);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(r);
    } else if (value && PQntuples(r) > 0) {
      *value = PQgetvalue(r, 0, 0);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

}  // namespace

std::optional<pg_server> test_pg_server(std::string* why_not) {
  static std::mutex guard;
  static own_cluster own;
  static std::optional<pg_server> server;
  std::lock_guard lock(guard);
  if (server) return server;
  if (const char* dir = std::getenv("FLARE_TEST_PG_DIR")) {
    if ((server = read_server(dir))) return server;
  }
  if (!postgresql_installed()) {
    if (why_not) {
      *why_not =
          "PostgreSQL is not installed (initdb and pg_ctl not found): apt-get install postgresql-15, "
          "or run scripts/setup-debian.sh";
    }
    return std::nullopt;
  }
  std::string pattern = (fs::temp_directory_path() / "flare-pg-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  own.dir = pattern;
  const std::string command =
      "bash '" FLARE_SOURCE_DIR "/scripts/pg-test-cluster.sh' start '" + own.dir.string() + "' >/dev/null";
  if (std::system(command.c_str()) != 0 || !(server = read_server(own.dir))) {
    throw std::runtime_error(
        "PostgreSQL is installed but the test cluster did not start (scripts/pg-test-cluster.sh)");
  }
  return server;
}

pg_test_database::pg_test_database(const pg_server& server) : server_(server) {
  static std::atomic<int> counter{0};
  name_ = "flare_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  if (auto error = run_sql(server_.url, server_.password, "CREATE DATABASE " + name_, nullptr);
      !error.empty()) {
    throw std::runtime_error("cannot create the test database: " + error);
  }
  // .../postgres -> .../<name>
  url_ = server_.url.substr(0, server_.url.rfind('/') + 1) + name_;
}

pg_test_database::~pg_test_database() {
  run_sql(server_.url, server_.password, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)", nullptr);
}

std::string pg_test_database::exec(const std::string& sql, std::string* value) const {
  return run_sql(url_, server_.password, sql, value);
}

}  // namespace flare::testing
