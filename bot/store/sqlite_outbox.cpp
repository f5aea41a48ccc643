// sqlite_store: the outbox of Slack posts.
#include "bot/store/sqlite_connection.hpp"

namespace flare::store {

// ---- outbox -----------------------------------------------------------------------------------

outbox_item sqlite_store::enqueue(const new_outbox_item& item, sys_seconds at) {
  auto insert = impl_->prepare(
      "INSERT INTO outbox (idempotency_key, incident_id, kind, payload, created_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING");
  insert.bind(item.idempotency_key, item.incident_id, item.kind, item.payload, at).run();
  const bool inserted = insert.changes() == 1;
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) + " FROM outbox WHERE idempotency_key = ?");
  q.bind(item.idempotency_key);
  if (!q.step()) impl_->fail("outbox item '" + item.idempotency_key + "' missing after insert");
  auto out = read_outbox(q);
  out.inserted = inserted;
  return out;
}

outbox_item sqlite_store::enqueue_upload(const new_outbox_item& item, const std::vector<outbox_file>& files,
                                         sys_seconds at) {
  outbox_item out;
  transaction([&] {
    out = enqueue(item, at);
    if (!out.inserted) return;
    int position = 0;
    for (const auto& f : files) {
      impl_
          ->prepare(
              "INSERT INTO outbox_files (outbox_id, position, filename, title, content_base64) "
              "VALUES (?, ?, ?, ?, ?)")
          .bind(out.id, position++, f.filename, f.title, store_rows::to_base64(f.content))
          .run();
    }
  });
  return out;
}

std::vector<outbox_file> sqlite_store::outbox_files(std::int64_t outbox_id) {
  auto q = impl_->prepare("SELECT " + std::string(store_rows::outbox_file_columns) +
                          " FROM outbox_files WHERE outbox_id = ? ORDER BY position");
  q.bind(outbox_id);
  std::vector<outbox_file> out;
  while (q.step()) out.push_back(store_rows::read_outbox_file(q));
  return out;
}

std::optional<outbox_item> sqlite_store::find_outbox_item(std::int64_t id) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) + " FROM outbox WHERE id = ?");
  q.bind(id);
  if (!q.step()) return std::nullopt;
  return read_outbox(q);
}

std::vector<outbox_item> sqlite_store::pending_outbox(std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) +
                          " FROM outbox WHERE state = 'pending' ORDER BY id LIMIT ?");
  q.bind(limit);
  std::vector<outbox_item> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

std::vector<outbox_item> sqlite_store::pending_outbox_after(std::int64_t after_id, std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(outbox_columns) +
                          " FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?");
  q.bind(after_id, limit);
  std::vector<outbox_item> out;
  while (q.step()) out.push_back(read_outbox(q));
  return out;
}

bool sqlite_store::begin_attempt(std::int64_t id, sys_seconds at) {
  auto q = impl_->prepare("UPDATE outbox SET attempt_started_at = ? WHERE id = ? AND state = 'pending'");
  q.bind(at, id).run();
  return q.changes() == 1;
}

bool sqlite_store::mark_sent(std::int64_t id, const json& result, sys_seconds at) {
  auto q = impl_->prepare(
      "UPDATE outbox SET state = 'sent', attempts = attempts + 1, attempt_started_at = NULL, "
      "last_attempt_at = ?1, sent_at = ?1, closed_at = ?1, result = ?2 WHERE id = ?3 AND state = 'pending'");
  q.bind(at, result, id).run();
  return q.changes() == 1;
}

bool sqlite_store::mark_failed(std::int64_t id, std::string_view error, sys_seconds at, bool final) {
  auto q = impl_->prepare(
      final ? "UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
              "attempt_started_at = NULL, last_error = ?1, last_attempt_at = ?2, closed_at = ?2 "
              "WHERE id = ?3 AND state = 'pending'"
            : "UPDATE outbox SET attempts = attempts + 1, attempt_started_at = NULL, "
              "last_error = ?1, "
              "last_attempt_at = ?2 WHERE id = ?3 AND state = 'pending'");
  q.bind(error, at, id).run();
  return q.changes() == 1;
}

bool sqlite_store::abandon(std::int64_t id, std::string_view reason, sys_seconds at) {
  auto q = impl_->prepare(
      "UPDATE outbox SET state = 'abandoned', attempt_started_at = NULL, last_error = ?1, "
      "closed_at = ?2 "
      "WHERE id = ?3 AND state = 'pending'");
  q.bind(reason, at, id).run();
  return q.changes() == 1;
}

}  // namespace flare::store
