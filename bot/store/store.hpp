// The durable state of flare: incidents, their append-only audit log, the Slack events already
// handled, the outbox of Slack posts, and deadline reminders.
//
// `store` is the interface the rest of the bot codes against; `sqlite_store` (sqlite_store.hpp)
// is the embedded default, and a PostgreSQL backend can implement the same interface later.
//
// Conventions every backend keeps:
// - Times are UTC `sys_seconds`; the store never reads a clock, callers pass `now`/`at`.
// - Policy facts and decisions are opaque JSON here, so the store does not depend on policy/.
// - Failures are "should never happen" (disk full, corrupt file, broken invariant) and are
//   thrown as `store_error`. Expected outcomes (an event seen before, a reminder already sent, an
//   incident changed by someone else meanwhile) are return values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace flare::store {

using sys_seconds = std::chrono::sys_seconds;
using json = nlohmann::json;

class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- incidents --------------------------------------------------------------------------------

enum class incident_state { open, resolved };

std::string_view to_string(incident_state s);
std::optional<incident_state> parse_incident_state(std::string_view s);

// "INC-42" for id 42: the reference people type and see.
std::string incident_reference(std::int64_t id);
// Accepts "INC-42", "inc-42" and "42"; nullopt for anything else.
std::optional<std::int64_t> parse_incident_reference(std::string_view text);

struct new_incident {
  std::string title;
  std::string reporter;                       // Slack user id
  std::optional<std::string> severity;        // critical|high|medium|low
  std::optional<std::string> classification;  // confirmed|potential
  json facts = json::object();                // the policy facts
  bool sensitive = false;
  std::string channel;                        // where the incident card and thread live
  std::optional<std::string> thread_ts;       // known once the card (or the report) starts a thread
  std::optional<std::string> card_ts;         // the card message, edited in place
  std::optional<std::string> report_channel;  // the report message it came from, if any
  std::optional<std::string> report_ts;
  std::optional<json> last_decision;
};

struct incident {
  std::int64_t id = 0;
  std::string title;
  std::string reporter;
  std::optional<std::string> severity;
  std::optional<std::string> classification;
  json facts = json::object();
  sys_seconds created_at{};
  sys_seconds updated_at{};
  std::optional<sys_seconds> resolved_at;
  incident_state state = incident_state::open;
  bool sensitive = false;
  std::optional<std::string> summary;  // resolution summary
  std::string channel;
  std::optional<std::string> thread_ts;
  std::optional<std::string> card_ts;
  std::optional<std::string> report_channel;
  std::optional<std::string> report_ts;
  std::optional<json> last_decision;
  // Incremented by every update_incident; an update carrying an older version is refused.
  std::int64_t version = 0;

  std::string reference() const { return incident_reference(id); }
};

// ---- audit log (append-only) ------------------------------------------------------------------

struct audit_entry {
  std::optional<std::int64_t> incident_id;  // update_incident fills this in
  std::string actor;                        // Slack user id, or "flare" for the bot itself
  std::string action;                       // open, classify, facts, notified, update, resolve...
  sys_seconds at{};
  json details = json::object();  // the inputs and the decision
};

struct audit_record {
  std::int64_t id = 0;
  std::optional<std::int64_t> incident_id;
  std::string actor;
  std::string action;
  sys_seconds at{};
  json details;
};

// ---- outbox of Slack posts --------------------------------------------------------------------

// pending: to be sent (possibly again after a transient failure; `attempts` counts tries).
// sent: done, `result` holds what Slack returned. failed: gave up after a permanent error.
// abandoned: deliberately dropped (e.g. superseded) without being sent.
enum class outbox_state { pending, sent, failed, abandoned };

std::string_view to_string(outbox_state s);
std::optional<outbox_state> parse_outbox_state(std::string_view s);

struct new_outbox_item {
  std::string idempotency_key;  // unique: enqueueing the same key again returns the first item
  std::optional<std::int64_t> incident_id;
  std::string kind;  // post, update, ephemeral, ...
  json payload = json::object();
};

struct outbox_item {
  std::int64_t id = 0;
  std::string idempotency_key;
  std::optional<std::int64_t> incident_id;
  std::string kind;
  json payload;
  sys_seconds created_at{};
  outbox_state state = outbox_state::pending;
  int attempts = 0;  // finished attempts
  // Set while an attempt is under way. Still set after a restart means the process died during
  // the Web API call: Slack may have posted it, so look before posting again.
  std::optional<sys_seconds> attempt_started_at;
  std::optional<std::string> last_error;  // or the reason it was abandoned
  std::optional<sys_seconds> last_attempt_at;
  std::optional<sys_seconds> sent_at;
  std::optional<sys_seconds> closed_at;  // when it stopped being pending, for any reason
  std::optional<json> result;            // e.g. {"channel": ..., "ts": ...}
  // Set by enqueue/enqueue_upload only: this call created the item (false: the key was known, so
  // the caller's effect was decided before, e.g. a redelivered command). Not stored.
  bool inserted = false;
};

// A file an "upload" outbox item shares (the incident record, the digest's chart). Stored beside
// the item (table outbox_files, base64 text), so the pending-outbox scans never carry file bytes;
// the sender reads them when it sends the item.
struct outbox_file {
  std::string filename;  // "INC-7-record.md"
  std::string title;     // shown in Slack
  std::string content;   // the bytes
};

// ---- deadline reminders -----------------------------------------------------------------------

enum class deadline_kind { initial, update, resolution };
enum class reminder_state { pending, sent, cancelled };

std::string_view to_string(deadline_kind k);
std::optional<deadline_kind> parse_deadline_kind(std::string_view s);
std::string_view to_string(reminder_state s);
std::optional<reminder_state> parse_reminder_state(std::string_view s);

struct new_reminder {
  deadline_kind kind = deadline_kind::initial;
  sys_seconds deadline{};
  sys_seconds fire_at{};
  std::string step;  // e.g. "24 hours before", "at the deadline", "overdue by 8 h"
  // The checklist obligation it reminds of ("bulletin", "update:2", "legal:gdpr-art33"). `kind`
  // predates checklists: initial for everything but updates and the resolution message.
  std::string obligation;
};

struct reminder {
  std::int64_t id = 0;
  std::int64_t incident_id = 0;
  deadline_kind kind = deadline_kind::initial;
  sys_seconds deadline{};
  sys_seconds fire_at{};
  std::string step;
  reminder_state state = reminder_state::pending;
  std::optional<sys_seconds> sent_at;
  std::optional<std::chrono::seconds> late_by;
  std::string obligation;  // see new_reminder; "" for reminders stored before checklists
};

// ---- obligation ledgers (issue 9) -------------------------------------------------------------

// What responders recorded about an incident's checklist, beside its facts: its kind, how it was
// closed, the obligations marked done or not needed, and the calls on policy conflicts. The
// entries are opaque JSON here (commands/ reads and writes them); every change is written in the
// transaction of the incident update whose audit entry records who, when and the evidence.
struct obligation_ledger {
  std::int64_t incident_id = 0;
  std::string kind = "security";             // security | people_and_safety
  std::optional<std::string> close_reason;   // resolved, not an incident, false positive, duplicate
  std::optional<std::int64_t> duplicate_of;  // the surviving incident, when a duplicate
  json completions = json::array();          // [{obligation, by, at, recorded_at, link, note}]
  json not_needed = json::array();           // [{obligation, by, at, reason}]
  json calls = json::array();                // [{conflict, choice, by, at, note}]
};

// ---- the inbox of Slack deliveries -------------------------------------------------------------

// Every envelope (event, slash command, interaction) is written here, durably, before its ack,
// and processed from here; a row is done once its effects are stored. The key recognises Slack's
// redeliveries: the event_id for events, the trigger_id for slash commands and interactions (a
// command redelivered after a crash carries the same trigger_id, and a new envelope id), else the
// envelope id. docs/reliability.md has the whole story.
std::string inbox_key_for_event(std::string_view event_id);
std::string inbox_key_for_trigger(std::string_view trigger_id);
std::string inbox_key_for_envelope(std::string_view envelope_id);

struct new_delivery {
  std::string key;  // inbox_key_for_*
  std::string envelope_id;
  std::string type;  // the envelope type: events_api, slash_commands, interactive
  json payload = json::object();
};

struct delivery {
  std::int64_t id = 0;
  std::string key;
  std::string envelope_id;
  std::string type;
  json payload;
  sys_seconds received_at{};
  std::optional<sys_seconds> done_at;
  int replay_attempts = 0;               // replays started after a restart (see count_replay)
  std::optional<sys_seconds> parked_at;  // set: a dead letter, never replayed again
  std::string parked_reason;
};

// ---- the interface ----------------------------------------------------------------------------

class store {
 public:
  virtual ~store() = default;

  // Runs `body` atomically: everything it writes through this store commits together, or, if it
  // throws, nothing does (the exception is rethrown). Nests: an inner transaction that throws
  // undoes only its own writes if the outer one catches the exception. Callers use this to make
  // an incident update, its audit entry, the outbox posts and the new reminders one unit.
  // `body` must not suspend (no co_await): the bot is single-threaded and a transaction must not
  // span an await.
  virtual void transaction(const std::function<void()>& body) = 0;

  // Incidents. Every change writes its audit entry in the same transaction.
  virtual incident create_incident(const new_incident& fields, std::string_view actor, sys_seconds at,
                                   const json& details) = 0;
  virtual std::optional<incident> find_incident(std::int64_t id) = 0;
  virtual std::optional<incident> find_incident_by_report(std::string_view channel, std::string_view ts) = 0;
  virtual std::optional<incident> find_incident_by_thread(std::string_view channel,
                                                          std::string_view thread_ts) = 0;
  // Newest first, at most `limit` (SIZE_MAX: all).
  virtual std::vector<incident> list_incidents(bool open_only, std::size_t limit) = 0;
  // Open incidents by severity ("unclassified" for none yet); severities with none may be absent.
  // Read on every /metrics scrape: a backend keeps it O(1) in open incidents (the SQLite store
  // keeps a counts table current with triggers). The default counts list_incidents: O(n).
  virtual std::map<std::string, std::size_t> count_open_incidents_by_severity();
  // Writes every mutable field of `changed` (not id, reporter, created_at), sets updated_at to
  // entry.at, bumps the version and appends `entry`. Returns the stored incident, or nullopt
  // when the stored version is not `changed.version` (someone changed it meanwhile: re-read and
  // re-apply). Throws store_error if the incident does not exist.
  [[nodiscard]] virtual std::optional<incident> update_incident(const incident& changed,
                                                                const audit_entry& entry) = 0;
  virtual audit_record append_audit(const audit_entry& entry) = 0;
  // Oldest first.
  virtual std::vector<audit_record> audit_for(std::int64_t incident_id) = 0;

  // Slack events (and interaction payloads) already handled: Slack redelivers on a missing or
  // late ack, and a redelivery must not act twice. True the first time `event_id` is seen.
  virtual bool mark_event_processed(std::string_view event_id, sys_seconds at) = 0;
  // Forgets events recorded before `older_than`; returns how many.
  virtual std::size_t prune_processed_events(sys_seconds older_than) = 0;

  // The inbox. Records every delivery in one transaction (one disk sync for all of them: the
  // group commit). Returns, per delivery, its new row id, or nullopt when its key is known (a
  // redelivery, or a second copy within `deliveries`). Throws store_error when the write failed;
  // then nothing was recorded and nothing may be acked.
  virtual std::vector<std::optional<std::int64_t>> record_deliveries(std::span<const new_delivery> deliveries,
                                                                     sys_seconds at) = 0;
  // Marks deliveries handled (one transaction); rows already done keep their first done_at.
  virtual void mark_deliveries_done(std::span<const std::int64_t> ids, sys_seconds at) = 0;
  // Deliveries recorded but not yet done (a crash or a failed handler), oldest first; parked
  // ones are not among them.
  virtual std::vector<delivery> unfinished_deliveries(std::size_t limit) = 0;
  // Counts one replay of delivery `id`, committed before its handler runs (so a handler that
  // crashes the process counts too); returns the replays so far, this one included. The default,
  // for a store that does not count yet, returns 1: the replay cap then never applies.
  virtual int count_replay(std::int64_t id);
  // Parks delivery `id` as a dead letter: kept (with `reason`) for an operator, never replayed,
  // never pruned. For a delivery whose handler failed on every replay. The default throws
  // store_error (not reached while count_replay keeps its default).
  virtual void park_delivery(std::int64_t id, std::string_view reason, sys_seconds at);
  // Parked deliveries, oldest first. The default: none.
  virtual std::vector<delivery> parked_deliveries(std::size_t limit);
  virtual std::optional<delivery> find_delivery(std::string_view key) = 0;
  // While set (see `delivery_in_hand`), the outermost transaction to commit also marks the
  // delivery `key` done, in the same commit as the handler's effects. Empty: none.
  virtual void set_delivery_in_hand(std::string key, sys_seconds at) = 0;
  // Forgets handled deliveries and processed-event marks received before `older_than`, at most
  // `batch` rows of each (small batches: each is one short transaction on the event loop).
  // Unfinished deliveries are never forgotten. Returns how many rows went.
  virtual std::size_t prune_handled(sys_seconds older_than, std::size_t batch) = 0;
  // A real write for the readiness probe: throws store_error when the store cannot commit (full
  // disk, read-only volume, lock held elsewhere).
  virtual void heartbeat(sys_seconds at) = 0;

  // Outbox. Enqueue in the same transaction as the change that decided the post, so a post
  // decided before a crash is made after the restart, exactly once per idempotency key.
  virtual outbox_item enqueue(const new_outbox_item& item, sys_seconds at) = 0;
  // enqueue, and the item's files with it when the item is new (a known key keeps its files).
  // Call inside the transaction of the change that decided the upload.
  virtual outbox_item enqueue_upload(const new_outbox_item& item, const std::vector<outbox_file>& files,
                                     sys_seconds at) = 0;
  // The files of an upload item, in order (none for other items).
  virtual std::vector<outbox_file> outbox_files(std::int64_t outbox_id) = 0;
  virtual std::optional<outbox_item> find_outbox_item(std::int64_t id) = 0;
  // Pending items in the order they were enqueued.
  virtual std::vector<outbox_item> pending_outbox(std::size_t limit) = 0;
  // Pending items with id > after_id, in order: the outbox pages through a long queue without
  // re-reading what it already holds. The default filters pending_outbox(); stores override it.
  virtual std::vector<outbox_item> pending_outbox_after(std::int64_t after_id, std::size_t limit);
  // Call just before the Web API call (see outbox_item::attempt_started_at). False if the item
  // is not pending.
  virtual bool begin_attempt(std::int64_t id, sys_seconds at) = 0;
  // False if the item was not pending (already sent, failed or abandoned).
  virtual bool mark_sent(std::int64_t id, const json& result, sys_seconds at) = 0;
  // Counts an attempt. `final`: give up (state failed); otherwise it stays pending for a retry.
  // False if the item was not pending.
  virtual bool mark_failed(std::int64_t id, std::string_view error, sys_seconds at, bool final) = 0;
  virtual bool abandon(std::int64_t id, std::string_view reason, sys_seconds at) = 0;

  // Reminders. Replacing cancels the incident's pending reminders and inserts `fresh`, in one
  // transaction; reminders already sent stay as they are. Returns the inserted reminders.
  virtual std::vector<reminder> replace_pending_reminders(std::int64_t incident_id,
                                                          const std::vector<new_reminder>& fresh) = 0;
  // The pending reminder with the earliest fire_at (to arm the single timer).
  virtual std::optional<reminder> next_pending_reminder() = 0;
  // Pending reminders with fire_at <= now, earliest first.
  virtual std::vector<reminder> due_reminders(sys_seconds now, std::size_t limit) = 0;
  // True only for the call that moves it from pending to sent: a reminder is sent at most once.
  virtual bool mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late_by) = 0;
  // Cancels the incident's pending reminders (e.g. on resolve); returns how many.
  virtual std::size_t cancel_reminders(std::int64_t incident_id) = 0;
  // All of an incident's reminders, in fire_at order.
  virtual std::vector<reminder> reminders_for(std::int64_t incident_id) = 0;

  // Obligation ledgers. ledger_for returns the defaults for an incident without one.
  virtual obligation_ledger ledger_for(std::int64_t incident_id) = 0;
  virtual void save_ledger(const obligation_ledger& ledger) = 0;
  // Incidents closed as duplicates of `surviving`, oldest first.
  virtual std::vector<std::int64_t> duplicates_of(std::int64_t surviving) = 0;

  // Maintenance.
  // An online, consistent copy at `path` (written to a temporary file, checked, then renamed).
  virtual void backup(const std::string& path) = 0;
  virtual bool integrity_ok() = 0;
  virtual int schema_version() = 0;
};

// Ties a handler's store writes to the delivery it handles: while alive, the outermost
// transaction that commits also marks the delivery done, so "handled" and the handler's effects
// (incident, audit entry, outbox rows) commit together or not at all. It must live only across
// synchronous code (no co_await): the bot is single-threaded and other handlers run at awaits.
class delivery_in_hand {
 public:
  // An empty key (a delivery that did not come through the inbox, e.g. the console) does nothing.
  delivery_in_hand(store& s, std::string key, sys_seconds at) : store_(s), active_(!key.empty()) {
    if (active_) store_.set_delivery_in_hand(std::move(key), at);
  }
  ~delivery_in_hand() {
    if (active_) store_.set_delivery_in_hand({}, {});
  }
  delivery_in_hand(const delivery_in_hand&) = delete;
  delivery_in_hand& operator=(const delivery_in_hand&) = delete;

 private:
  store& store_;
  bool active_;
};

}  // namespace flare::store
