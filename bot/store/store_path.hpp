// What a store path may be, and the files SQLite keeps beside it. Header-only: the configuration
// checks store.path without linking the store.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flare::store {

// Refuses a store.path that is not a plain file path (":memory:" or a "file:" URI would give a
// store that vanishes on exit, or slip past the lock and the backup checks). nullopt when fine.
inline std::optional<std::string> plain_store_path_problem(std::string_view path) {
  if (path.empty()) return "must not be empty";
  if (path.starts_with(":memory"))
    return "must be a file path, not \":memory:\" (the store would vanish on exit)";
  if (path.starts_with("file:")) return "must be a plain file path, not a SQLite URI (file:...)";
  if (path.back() == '/') return "must name a file, not a directory";
  return std::nullopt;
}

// The files SQLite keeps beside a store: -wal, -shm and -journal.
inline std::vector<std::string> store_companions(const std::string& store_path) {
  return {store_path + "-wal", store_path + "-shm", store_path + "-journal"};
}

}  // namespace flare::store
