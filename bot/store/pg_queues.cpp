// pg_store: the inbox, processed-event marks, the outbox with its claims, reminders and the
// obligation ledgers.
#include <algorithm>

#include "bot/store/pg_store_impl.hpp"

namespace flare::store {

using namespace pg_detail;
using namespace store_rows;

// ---- processed events and the inbox -------------------------------------------------------------

bool pg_store::mark_event_processed(std::string_view event_id, sys_seconds at) {
  // The primary key is shared by every replica: the second to try, wherever it runs, gets 0 rows.
  return impl_
             ->run(
                 "INSERT INTO processed_events (event_id, at) VALUES ($1, $2) ON CONFLICT (event_id) DO "
                 "NOTHING",
                 params(event_id, at))
             .changes() == 1;
}

std::size_t pg_store::prune_processed_events(sys_seconds older_than) {
  return impl_->run("DELETE FROM processed_events WHERE at < $1", params(older_than)).changes();
}

namespace {

constexpr std::string_view delivery_columns =
    "id, key, envelope_id, type, payload, received_at, done_at, replay_attempts, parked_at, parked_reason";

delivery read_delivery(const row& q) {
  return delivery{q.int64(0),      q.text(1),
                  q.text(2),       q.text(3),
                  q.json_value(4), q.time(5),
                  q.opt_time(6),   static_cast<int>(q.int64(7)),
                  q.opt_time(8),   q.opt_text(9).value_or("")};
}

std::vector<delivery> all_deliveries(const result& r) {
  std::vector<delivery> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_delivery(r.at(i)));
  return out;
}

}  // namespace

std::vector<std::optional<std::int64_t>> pg_store::record_deliveries(std::span<const new_delivery> deliveries,
                                                                     sys_seconds at) {
  std::vector<std::optional<std::int64_t>> ids;
  ids.reserve(deliveries.size());
  if (deliveries.empty()) return ids;
  impl_->transaction([&] {
    ids.clear();
    for (const auto& d : deliveries) {
      // A replica that recorded the same key first wins; this one waits for its commit, then
      // sees the conflict (no row returned) and treats the envelope as a redelivery. The row is
      // claimed by this replica, whose handler is about to run (delivery_claims.hpp).
      auto r = impl_->run(
          "INSERT INTO inbox (key, envelope_id, type, payload, received_at, claimed_by, claim_expires_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $5::bigint + $7::bigint) ON CONFLICT (key) DO NOTHING RETURNING "
          "id",
          params(d.key, d.envelope_id, d.type, d.payload, at, impl_->options.owner,
                 static_cast<std::int64_t>(impl_->options.inbox_lease.count())));
      if (r.rows() == 1) ids.emplace_back(r.at(0).int64(0));
      else ids.emplace_back(std::nullopt);
    }
  });
  return ids;
}

void pg_store::mark_deliveries_done(std::span<const std::int64_t> ids, sys_seconds at) {
  if (ids.empty()) return;
  impl_->transaction([&] {
    for (auto id : ids) {
      impl_->run("UPDATE inbox SET done_at = $1 WHERE id = $2 AND done_at IS NULL", params(at, id));
    }
  });
}

std::vector<delivery> pg_store::unfinished_deliveries(std::size_t limit) {
  return all_deliveries(impl_->run("SELECT " + std::string(delivery_columns) +
                                       " FROM inbox WHERE done_at IS NULL AND parked_at IS NULL "
                                       "ORDER BY id LIMIT $1",
                                   params(limit)));
}

int pg_store::count_replay(std::int64_t id) {
  // One statement, committed before the handler runs (autocommit outside a transaction): a
  // replica that dies in the handler has still counted it.
  auto r = impl_->run(
      "UPDATE inbox SET replay_attempts = replay_attempts + 1 WHERE id = $1 RETURNING "
      "replay_attempts",
      params(id));
  if (r.rows() == 0) throw store_error(impl_->url + ": count_replay: no delivery " + std::to_string(id));
  return static_cast<int>(r.at(0).int64(0));
}

void pg_store::park_delivery(std::int64_t id, std::string_view reason, sys_seconds at) {
  impl_->run(
      "UPDATE inbox SET parked_at = $1, parked_reason = $2, claimed_by = NULL, claim_expires_at = NULL "
      "WHERE id = $3 AND done_at IS NULL",
      params(at, reason, id));
}

std::vector<delivery> pg_store::parked_deliveries(std::size_t limit) {
  return all_deliveries(impl_->run("SELECT " + std::string(delivery_columns) +
                                       " FROM inbox WHERE parked_at IS NOT NULL ORDER BY id LIMIT $1",
                                   params(limit)));
}

std::chrono::seconds pg_store::claim_lease() const { return impl_->options.inbox_lease; }

std::vector<delivery> pg_store::claim_unfinished(sys_seconds now, std::size_t limit) {
  // SKIP LOCKED: rows another replica is claiming right now are left to it. A row it claimed
  // and committed meanwhile is re-checked against its new version when locked, so its fresh
  // claim_expires_at excludes it here: one delivery, one claimant.
  auto out = all_deliveries(impl_->run(
      "UPDATE inbox SET claimed_by = $1, claim_expires_at = $2::bigint + $3::bigint WHERE id IN (SELECT id "
      "FROM inbox "
      "WHERE done_at IS NULL AND parked_at IS NULL AND (claim_expires_at IS NULL OR claim_expires_at <= $2) "
      "ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING " +
          std::string(delivery_columns),
      params(impl_->options.owner, now, static_cast<std::int64_t>(impl_->options.inbox_lease.count()),
             limit)));
  std::sort(out.begin(), out.end(), [](const delivery& a, const delivery& b) { return a.id < b.id; });
  return out;
}

namespace {
// A bigint[] literal: {1,2,3}.
std::string id_array(std::span<const std::int64_t> ids) {
  std::string array = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) array += ',';
    array += std::to_string(ids[i]);
  }
  array += '}';
  return array;
}
}  // namespace

std::size_t pg_store::renew_claims(std::span<const std::int64_t> ids, sys_seconds now) {
  if (ids.empty()) return 0;
  const std::string array = id_array(ids);
  return impl_
      ->run(
          "UPDATE inbox SET claim_expires_at = $1::bigint + $2::bigint WHERE id = ANY($3::bigint[]) AND "
          "claimed_by = $4 "
          "AND done_at IS NULL AND parked_at IS NULL",
          params(now, static_cast<std::int64_t>(impl_->options.inbox_lease.count()), array,
                 impl_->options.owner))
      .changes();
}

std::optional<delivery> pg_store::find_delivery(std::string_view key) {
  auto r = impl_->run("SELECT " + std::string(delivery_columns) + " FROM inbox WHERE key = $1", params(key));
  if (r.rows() == 0) return std::nullopt;
  return read_delivery(r.at(0));
}

void pg_store::set_delivery_in_hand(std::string key, sys_seconds at) {
  impl_->delivery_in_hand = std::move(key);
  impl_->delivery_done_at = at;
}

std::size_t pg_store::prune_handled(sys_seconds older_than, std::size_t batch) {
  std::size_t removed = 0;
  impl_->transaction([&] {
    removed = impl_
                  ->run(
                      "DELETE FROM inbox WHERE id IN (SELECT id FROM inbox WHERE done_at IS NOT NULL AND "
                      "received_at < $1 ORDER BY received_at LIMIT $2)",
                      params(older_than, batch))
                  .changes();
    removed +=
        impl_
            ->run(
                "DELETE FROM processed_events WHERE event_id IN (SELECT event_id FROM processed_events "
                "WHERE at < $1 ORDER BY at LIMIT $2)",
                params(older_than, batch))
            .changes();
  });
  return removed;
}

void pg_store::heartbeat(sys_seconds at) {
  impl_->run("INSERT INTO heartbeat (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
             params(at));
}

// ---- outbox -------------------------------------------------------------------------------------

namespace {
std::vector<outbox_item> all_outbox(const result& r) {
  std::vector<outbox_item> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_outbox(r.at(i)));
  return out;
}
}  // namespace

outbox_item pg_store::enqueue(const new_outbox_item& item, sys_seconds at) {
  const auto inserted =
      impl_
          ->run(
              "INSERT INTO outbox (idempotency_key, incident_id, kind, payload, created_at) "
              "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (idempotency_key) DO NOTHING",
              params(item.idempotency_key, item.incident_id, item.kind, item.payload, at))
          .changes() == 1;
  auto r = impl_->run("SELECT " + std::string(outbox_columns) + " FROM outbox WHERE idempotency_key = $1",
                      params(item.idempotency_key));
  if (r.rows() == 0)
    throw store_error(impl_->url + ": outbox item '" + item.idempotency_key + "' missing after insert");
  auto out = read_outbox(r.at(0));
  out.inserted = inserted;
  return out;
}

outbox_item pg_store::enqueue_upload(const new_outbox_item& item, const std::vector<outbox_file>& files,
                                     sys_seconds at) {
  outbox_item out;
  transaction([&] {
    out = enqueue(item, at);
    if (!out.inserted) return;
    int position = 0;
    for (const auto& f : files) {
      impl_->run(
          "INSERT INTO outbox_files (outbox_id, position, filename, title, content_base64) "
          "VALUES ($1, $2, $3, $4, $5)",
          params(out.id, position++, f.filename, f.title, store_rows::to_base64(f.content)));
    }
  });
  return out;
}

std::vector<outbox_file> pg_store::outbox_files(std::int64_t outbox_id) {
  auto r = impl_->run("SELECT " + std::string(store_rows::outbox_file_columns) +
                          " FROM outbox_files WHERE outbox_id = $1 ORDER BY position",
                      params(outbox_id));
  std::vector<outbox_file> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(store_rows::read_outbox_file(r.at(i)));
  return out;
}

std::optional<outbox_item> pg_store::find_outbox_item(std::int64_t id) {
  auto r = impl_->run("SELECT " + std::string(outbox_columns) + " FROM outbox WHERE id = $1", params(id));
  if (r.rows() == 0) return std::nullopt;
  return read_outbox(r.at(0));
}

std::vector<outbox_item> pg_store::pending_outbox(std::size_t limit) {
  return all_outbox(impl_->run(
      "SELECT " + std::string(outbox_columns) + " FROM outbox WHERE state = 'pending' ORDER BY id LIMIT $1",
      params(limit)));
}

std::vector<outbox_item> pg_store::pending_outbox_after(std::int64_t after_id, std::size_t limit) {
  return all_outbox(impl_->run("SELECT " + std::string(outbox_columns) +
                                   " FROM outbox WHERE state = 'pending' AND id > $1 ORDER BY id LIMIT $2",
                               params(after_id, limit)));
}

bool pg_store::begin_attempt(std::int64_t id, sys_seconds at) {
  // The claim. The UPDATE takes the row lock, so of two replicas claiming at once the second
  // waits, re-reads the row and finds the first one's live claim. An item whose incident has an
  // earlier pending post waits for it (posts of an incident go out in order, whoever sends them).
  // A claim past claim_expires_at belongs to a replica that died or hung: it is taken over, and
  // attempt_started_at (still set) tells the sender the post may already be in Slack.
  const auto lease = static_cast<std::int64_t>(impl_->options.outbox_lease.count());
  return impl_
             ->run(
                 "UPDATE outbox SET attempt_started_at = $1, claimed_by = $2, claim_expires_at = $1 + $3 "
                 "WHERE id = $4 AND state = 'pending' "
                 "AND (claim_expires_at IS NULL OR claim_expires_at <= $1 OR claimed_by = $2) "
                 "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.incident_id = outbox.incident_id "
                 "AND e.state = 'pending' AND e.id < outbox.id)",
                 params(at, impl_->options.owner, lease, id))
             .changes() == 1;
}

std::size_t pg_store::renew_outbox_claims(std::span<const std::int64_t> ids, sys_seconds now) {
  if (ids.empty()) return 0;
  // Only claims this replica still holds: one that ran out and was taken over stays taken.
  return impl_
      ->run(
          "UPDATE outbox SET claim_expires_at = $1::bigint + $2::bigint WHERE id = ANY($3::bigint[]) AND "
          "claimed_by = $4 AND state = 'pending'",
          params(now, static_cast<std::int64_t>(impl_->options.outbox_lease.count()), id_array(ids),
                 impl_->options.owner))
      .changes();
}

bool pg_store::mark_sent(std::int64_t id, const json& result, sys_seconds at) {
  return impl_
             ->run(
                 "UPDATE outbox SET state = 'sent', attempts = attempts + 1, attempt_started_at = NULL, "
                 "claimed_by = NULL, claim_expires_at = NULL, last_attempt_at = $1, sent_at = $1, "
                 "closed_at = $1, result = $2 WHERE id = $3 AND state = 'pending'",
                 params(at, result, id))
             .changes() == 1;
}

bool pg_store::mark_failed(std::int64_t id, std::string_view error, sys_seconds at, bool final) {
  return impl_
             ->run(final ? "UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
                           "attempt_started_at = NULL, claimed_by = NULL, claim_expires_at = NULL, "
                           "last_error = $1, last_attempt_at = $2, closed_at = $2 "
                           "WHERE id = $3 AND state = 'pending'"
                         : "UPDATE outbox SET attempts = attempts + 1, attempt_started_at = NULL, "
                           "claimed_by = NULL, claim_expires_at = NULL, last_error = $1, "
                           "last_attempt_at = $2 WHERE id = $3 AND state = 'pending'",
                   params(error, at, id))
             .changes() == 1;
}

bool pg_store::abandon(std::int64_t id, std::string_view reason, sys_seconds at) {
  return impl_
             ->run(
                 "UPDATE outbox SET state = 'abandoned', attempt_started_at = NULL, claimed_by = NULL, "
                 "claim_expires_at = NULL, last_error = $1, closed_at = $2 WHERE id = $3 AND state = "
                 "'pending'",
                 params(reason, at, id))
             .changes() == 1;
}

// ---- reminders ----------------------------------------------------------------------------------

namespace {
std::vector<reminder> all_reminders(const result& r) {
  std::vector<reminder> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_reminder(r.at(i)));
  return out;
}
}  // namespace

std::vector<reminder> pg_store::replace_pending_reminders(std::int64_t incident_id,
                                                          const std::vector<new_reminder>& fresh) {
  std::vector<reminder> out;
  impl_->transaction([&] {
    out.clear();
    cancel_reminders(incident_id);
    for (const auto& r : fresh) {
      auto inserted = impl_->run(
          "INSERT INTO reminders (incident_id, deadline_kind, deadline, fire_at, step, obligation) "
          "VALUES ($1, $2, $3, $4, $5, $6) RETURNING " +
              std::string(reminder_columns),
          params(incident_id, to_string(r.kind), r.deadline, r.fire_at, r.step, r.obligation));
      out.push_back(read_reminder(inserted.at(0)));
    }
  });
  return out;
}

std::optional<reminder> pg_store::next_pending_reminder() {
  auto r = impl_->run("SELECT " + std::string(reminder_columns) +
                          " FROM reminders WHERE state = 'pending' ORDER BY fire_at, id LIMIT 1",
                      params());
  if (r.rows() == 0) return std::nullopt;
  return read_reminder(r.at(0));
}

std::vector<reminder> pg_store::due_reminders(sys_seconds now, std::size_t limit) {
  return all_reminders(impl_->run("SELECT " + std::string(reminder_columns) +
                                      " FROM reminders WHERE state = 'pending' AND fire_at <= $1 "
                                      "ORDER BY fire_at, id LIMIT $2",
                                  params(now, limit)));
}

bool pg_store::mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late_by) {
  // The scheduler calls this first in the transaction that also enqueues the reminder's post. Of
  // two replicas firing the same reminder, the second blocks on the row lock until the first
  // commits, re-reads the row, finds it sent and changes nothing: its post is never enqueued.
  return impl_
             ->run(
                 "UPDATE reminders SET state = 'sent', sent_at = $1, late_by_seconds = $2 "
                 "WHERE id = $3 AND state = 'pending'",
                 params(at, static_cast<std::int64_t>(late_by.count()), id))
             .changes() == 1;
}

std::size_t pg_store::cancel_reminders(std::int64_t incident_id) {
  return impl_
      ->run("UPDATE reminders SET state = 'cancelled' WHERE incident_id = $1 AND state = 'pending'",
            params(incident_id))
      .changes();
}

std::vector<reminder> pg_store::reminders_for(std::int64_t incident_id) {
  return all_reminders(impl_->run("SELECT " + std::string(reminder_columns) +
                                      " FROM reminders WHERE incident_id = $1 ORDER BY fire_at, id",
                                  params(incident_id)));
}

// ---- obligation ledgers -------------------------------------------------------------------------

obligation_ledger pg_store::ledger_for(std::int64_t incident_id) {
  auto r = impl_->run(
      "SELECT kind, close_reason, duplicate_of, completions, not_needed, calls FROM incident_obligations "
      "WHERE incident_id = $1",
      params(incident_id));
  obligation_ledger l;
  l.incident_id = incident_id;
  if (r.rows() == 0) return l;
  const auto q = r.at(0);
  l.kind = q.text(0);
  l.close_reason = q.opt_text(1);
  l.duplicate_of = q.opt_int64(2);
  l.completions = q.json_value(3);
  l.not_needed = q.json_value(4);
  l.calls = q.json_value(5);
  return l;
}

void pg_store::save_ledger(const obligation_ledger& l) {
  impl_->run(
      "INSERT INTO incident_obligations (incident_id, kind, close_reason, duplicate_of, completions, "
      "not_needed, calls) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident_id) DO UPDATE SET "
      "kind = excluded.kind, close_reason = excluded.close_reason, duplicate_of = excluded.duplicate_of, "
      "completions = excluded.completions, not_needed = excluded.not_needed, calls = excluded.calls",
      params(l.incident_id, l.kind, l.close_reason, l.duplicate_of, l.completions, l.not_needed, l.calls));
}

std::vector<std::int64_t> pg_store::duplicates_of(std::int64_t surviving) {
  auto r =
      impl_->run("SELECT incident_id FROM incident_obligations WHERE duplicate_of = $1 ORDER BY incident_id",
                 params(surviving));
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.at(i).int64(0));
  return out;
}

}  // namespace flare::store
