// The state behind pg_store, shared by the files that implement it. Not for use outside
// bot/store/.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bot/store/pg_connection.hpp"
#include "bot/store/pg_store.hpp"
#include "bot/store/store_rows.hpp"

namespace flare::store {

struct pg_store::impl {
  std::string url;  // redacted: for messages only
  pg_options options;
  pg_detail::connection conn;
  std::unordered_map<std::string, std::string> prepared;  // SQL -> prepared statement name
  int depth = 0;                                          // open transaction() calls
  // The delivery whose handler is writing now (store::delivery_in_hand): marked done by the
  // outermost commit, with the handler's effects.
  std::string delivery_in_hand;
  sys_seconds delivery_done_at{};

  [[noreturn]] void fail(std::string_view what, const PGresult* r) const;
  void ensure_connected();
  void session_setup();
  void exec(std::string_view sql);
  void exec_quietly(std::string_view sql) noexcept;
  pg_detail::result run(const std::string& sql, const pg_detail::params& p);
  void transaction(const std::function<void()>& body);
  int current_version();
  void migrate(std::span<const schema_migration> migrations);
};

}  // namespace flare::store
