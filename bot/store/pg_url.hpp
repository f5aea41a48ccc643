// What the configuration needs to know about a PostgreSQL store without linking it (header-only,
// like store_path.hpp: bot/ops/config.cpp is also compiled into tests that do not link the store).
#pragma once

#include <fstream>
#include <string>
#include <string_view>

#include "bot/store/store.hpp"

namespace flare::store {

// True for "postgresql://..." and "postgres://..." URLs.
inline bool is_postgresql_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// The first line of `file` (store.password_file), without its line end. Throws store_error naming
// the file (never its content) when it cannot be read.
inline std::string read_password_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw store_error("cannot read store.password_file " + file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

}  // namespace flare::store
