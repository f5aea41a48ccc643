// sqlite_store: the obligation ledgers of incidents.
#include "bot/store/sqlite_connection.hpp"

namespace flare::store {

// ---- obligation ledgers ------------------------------------------------------------------------

obligation_ledger sqlite_store::ledger_for(std::int64_t incident_id) {
  auto q = impl_->prepare(
      "SELECT kind, close_reason, duplicate_of, completions, not_needed, calls FROM incident_obligations "
      "WHERE incident_id = ?");
  q.bind(incident_id);
  obligation_ledger l;
  l.incident_id = incident_id;
  if (!q.step()) return l;
  l.kind = q.text(0);
  l.close_reason = q.opt_text(1);
  l.duplicate_of = q.opt_int64(2);
  l.completions = q.json_value(3);
  l.not_needed = q.json_value(4);
  l.calls = q.json_value(5);
  return l;
}

void sqlite_store::save_ledger(const obligation_ledger& l) {
  impl_
      ->prepare(
          "INSERT INTO incident_obligations (incident_id, kind, close_reason, duplicate_of, completions, "
          "not_needed, calls) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
          "kind = excluded.kind, close_reason = excluded.close_reason, duplicate_of = excluded.duplicate_of, "
          "completions = excluded.completions, not_needed = excluded.not_needed, calls = excluded.calls")
      .bind(l.incident_id, l.kind, l.close_reason, l.duplicate_of, l.completions, l.not_needed, l.calls)
      .run();
}

std::vector<std::int64_t> sqlite_store::duplicates_of(std::int64_t surviving) {
  auto q = impl_->prepare(
      "SELECT incident_id FROM incident_obligations WHERE duplicate_of = ? ORDER BY incident_id");
  q.bind(surviving);
  std::vector<std::int64_t> out;
  while (q.step()) out.push_back(q.int64(0));
  return out;
}

}  // namespace flare::store
