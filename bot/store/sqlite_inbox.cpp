// sqlite_store: the inbox of Slack deliveries, processed-event marks and the readiness heartbeat.
#include "bot/store/sqlite_connection.hpp"

namespace flare::store {

// ---- processed events -------------------------------------------------------------------------

bool sqlite_store::mark_event_processed(std::string_view event_id, sys_seconds at) {
  auto q = impl_->prepare(
      "INSERT INTO processed_events (event_id, at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING");
  q.bind(event_id, at).run();
  return q.changes() == 1;
}

std::size_t sqlite_store::prune_processed_events(sys_seconds older_than) {
  auto q = impl_->prepare("DELETE FROM processed_events WHERE at < ?");
  q.bind(older_than).run();
  return static_cast<std::size_t>(q.changes());
}

// ---- the inbox --------------------------------------------------------------------------------

namespace {

constexpr std::string_view delivery_columns =
    "id, key, envelope_id, type, payload, received_at, done_at, replay_attempts, parked_at, parked_reason";

delivery read_delivery(const query& q) {
  return delivery{q.int64(0),      q.text(1),
                  q.text(2),       q.text(3),
                  q.json_value(4), q.time(5),
                  q.opt_time(6),   static_cast<int>(q.int64(7)),
                  q.opt_time(8),   q.opt_text(9).value_or("")};
}

}  // namespace

std::vector<std::optional<std::int64_t>> sqlite_store::record_deliveries(
    std::span<const new_delivery> deliveries, sys_seconds at) {
  std::vector<std::optional<std::int64_t>> ids;
  ids.reserve(deliveries.size());
  if (deliveries.empty()) return ids;
  impl_->transaction([&] {
    ids.clear();  // a retried body must not append twice
    for (const auto& d : deliveries) {
      auto q = impl_->prepare(
          "INSERT INTO inbox (key, envelope_id, type, payload, received_at) VALUES (?, ?, ?, ?, ?) "
          "ON CONFLICT (key) DO NOTHING");
      q.bind(d.key, d.envelope_id, d.type, d.payload, at).run();
      if (q.changes() == 1) ids.emplace_back(sqlite3_last_insert_rowid(impl_->db.get()));
      else ids.emplace_back(std::nullopt);
    }
  });
  return ids;
}

void sqlite_store::mark_deliveries_done(std::span<const std::int64_t> ids, sys_seconds at) {
  if (ids.empty()) return;
  impl_->transaction([&] {
    for (auto id : ids) {
      impl_->prepare("UPDATE inbox SET done_at = ? WHERE id = ? AND done_at IS NULL").bind(at, id).run();
    }
  });
}

std::vector<delivery> sqlite_store::unfinished_deliveries(std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(delivery_columns) +
                          " FROM inbox WHERE done_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT ?");
  q.bind(limit);
  std::vector<delivery> out;
  while (q.step()) out.push_back(read_delivery(q));
  return out;
}

int sqlite_store::count_replay(std::int64_t id) {
  int attempts = 0;
  impl_->transaction([&] {
    impl_->prepare("UPDATE inbox SET replay_attempts = replay_attempts + 1 WHERE id = ?").bind(id).run();
    auto q = impl_->prepare("SELECT replay_attempts FROM inbox WHERE id = ?");
    q.bind(id);
    if (!q.step()) throw store_error("count_replay: no delivery " + std::to_string(id));
    attempts = static_cast<int>(q.int64(0));
  });
  return attempts;
}

void sqlite_store::park_delivery(std::int64_t id, std::string_view reason, sys_seconds at) {
  impl_->transaction([&] {
    impl_->prepare("UPDATE inbox SET parked_at = ?, parked_reason = ? WHERE id = ? AND done_at IS NULL")
        .bind(at, reason, id)
        .run();
  });
}

std::vector<delivery> sqlite_store::parked_deliveries(std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(delivery_columns) +
                          " FROM inbox WHERE parked_at IS NOT NULL ORDER BY id LIMIT ?");
  q.bind(limit);
  std::vector<delivery> out;
  while (q.step()) out.push_back(read_delivery(q));
  return out;
}

std::optional<delivery> sqlite_store::find_delivery(std::string_view key) {
  auto q = impl_->prepare("SELECT " + std::string(delivery_columns) + " FROM inbox WHERE key = ?");
  q.bind(key);
  if (!q.step()) return std::nullopt;
  return read_delivery(q);
}

void sqlite_store::set_delivery_in_hand(std::string key, sys_seconds at) {
  impl_->delivery_in_hand = std::move(key);
  impl_->delivery_done_at = at;
}

std::size_t sqlite_store::prune_handled(sys_seconds older_than, std::size_t batch) {
  std::size_t removed = 0;
  impl_->transaction([&] {
    // Through the partial index on received_at: only handled rows are candidates.
    auto inbox = impl_->prepare(
        "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE done_at IS NOT NULL AND received_at < ? "
        "ORDER BY received_at LIMIT ?)");
    inbox.bind(older_than, batch).run();
    removed = static_cast<std::size_t>(inbox.changes());
    auto events = impl_->prepare(
        "DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM processed_events WHERE at < ? "
        "ORDER BY at LIMIT ?)");
    events.bind(older_than, batch).run();
    removed += static_cast<std::size_t>(events.changes());
  });
  return removed;
}

void sqlite_store::heartbeat(sys_seconds at) {
  impl_->transaction([&] {
    impl_
        ->prepare(
            "INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at")
        .bind(at)
        .run();
  });
}

// ---- which bot uses the store -----------------------------------------------------------------

std::optional<std::string> sqlite_store::used_by() {
  auto q = impl_->prepare("SELECT value FROM store_meta WHERE key = 'used_by'");
  if (!q.step()) return std::nullopt;
  return q.text(0);
}

void sqlite_store::set_used_by(std::string_view mode) {
  impl_
      ->prepare(
          "INSERT INTO store_meta (key, value) VALUES ('used_by', ?) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
      .bind(mode)
      .run();
}

std::int64_t sqlite_store::row_count(std::string_view table) {
  static constexpr std::string_view known[] = {"inbox",     "processed_events", "outbox",   "incidents",
                                               "audit_log", "reminders",        "heartbeat"};
  bool ok = false;
  for (auto t : known) ok = ok || t == table;
  if (!ok) throw store_error("row_count: unknown table " + std::string(table));
  auto q = impl_->prepare("SELECT count(*) FROM " + std::string(table));
  q.step();
  return q.int64(0);
}

}  // namespace flare::store
