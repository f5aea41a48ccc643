// sqlite_store: deadline reminders.
#include "bot/store/sqlite_connection.hpp"

namespace flare::store {

// ---- reminders --------------------------------------------------------------------------------

std::vector<reminder> sqlite_store::replace_pending_reminders(std::int64_t incident_id,
                                                              const std::vector<new_reminder>& fresh) {
  std::vector<std::int64_t> ids;
  impl_->transaction([&] {
    cancel_reminders(incident_id);
    for (const auto& r : fresh) {
      impl_
          ->prepare(
              "INSERT INTO reminders (incident_id, deadline_kind, deadline, fire_at, step, obligation) "
              "VALUES (?, ?, ?, ?, ?, ?)")
          .bind(incident_id, to_string(r.kind), r.deadline, r.fire_at, r.step, r.obligation)
          .run();
      ids.push_back(sqlite3_last_insert_rowid(impl_->db.get()));
    }
  });
  std::vector<reminder> out;
  for (auto id : ids) {
    auto q = impl_->prepare("SELECT " + std::string(reminder_columns) + " FROM reminders WHERE id = ?");
    q.bind(id);
    if (q.step()) out.push_back(read_reminder(q));
  }
  return out;
}

std::optional<reminder> sqlite_store::next_pending_reminder() {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE state = 'pending' ORDER BY fire_at, id LIMIT 1");
  if (!q.step()) return std::nullopt;
  return read_reminder(q);
}

std::vector<reminder> sqlite_store::due_reminders(sys_seconds now, std::size_t limit) {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE state = 'pending' AND fire_at <= ? "
                          "ORDER BY fire_at, id LIMIT ?");
  q.bind(now, limit);
  std::vector<reminder> out;
  while (q.step()) out.push_back(read_reminder(q));
  return out;
}

bool sqlite_store::mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late_by) {
  auto q = impl_->prepare(
      "UPDATE reminders SET state = 'sent', sent_at = ?, late_by_seconds = ? "
      "WHERE id = ? AND state = 'pending'");
  q.bind(at, static_cast<std::int64_t>(late_by.count()), id).run();
  return q.changes() == 1;
}

std::size_t sqlite_store::cancel_reminders(std::int64_t incident_id) {
  auto q =
      impl_->prepare("UPDATE reminders SET state = 'cancelled' WHERE incident_id = ? AND state = 'pending'");
  q.bind(incident_id).run();
  return static_cast<std::size_t>(q.changes());
}

std::vector<reminder> sqlite_store::reminders_for(std::int64_t incident_id) {
  auto q = impl_->prepare("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE incident_id = ? ORDER BY fire_at, id");
  q.bind(incident_id);
  std::vector<reminder> out;
  while (q.step()) out.push_back(read_reminder(q));
  return out;
}

}  // namespace flare::store
