// The schema of the SQLite store: a numbered, append-only list of migrations.
#include <array>

#include "bot/store/sqlite_connection.hpp"

namespace flare::store {
namespace {

// ---- the schema -------------------------------------------------------------------------------

// Append-only: a released migration is never edited, a schema change is a new entry with the
// next number. Times are INTEGER unix seconds (UTC); JSON is TEXT that must be json_valid().
// AUTOINCREMENT so an id, once used, is never reused: "INC-7" names one incident forever.
constexpr std::array builtin_migrations{
    schema_migration{1, "incidents, audit log, processed events, outbox, reminders", R"sql(
CREATE TABLE incidents (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  title          TEXT    NOT NULL,
  reporter       TEXT    NOT NULL,
  severity       TEXT    CHECK (severity IN ('critical', 'high', 'medium', 'low')),
  classification TEXT    CHECK (classification IN ('confirmed', 'potential')),
  facts          TEXT    NOT NULL CHECK (json_valid(facts)),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  resolved_at    INTEGER,
  state          TEXT    NOT NULL CHECK (state IN ('open', 'resolved')),
  sensitive      INTEGER NOT NULL CHECK (sensitive IN (0, 1)),
  summary        TEXT,
  channel        TEXT    NOT NULL,
  thread_ts      TEXT,
  card_ts        TEXT,
  report_channel TEXT,
  report_ts      TEXT,
  last_decision  TEXT    CHECK (last_decision IS NULL OR json_valid(last_decision)),
  version        INTEGER NOT NULL
) STRICT;
-- One report message opens at most one incident, even if its event is delivered twice.
CREATE UNIQUE INDEX incidents_by_report ON incidents (report_channel, report_ts)
  WHERE report_ts IS NOT NULL;
CREATE INDEX incidents_by_thread ON incidents (channel, thread_ts) WHERE thread_ts IS NOT NULL;
CREATE INDEX incidents_by_state ON incidents (state, id);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER REFERENCES incidents (id),
  actor       TEXT    NOT NULL,
  action      TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  details     TEXT    NOT NULL CHECK (json_valid(details))
) STRICT;
CREATE INDEX audit_by_incident ON audit_log (incident_id, id);
-- The audit log is evidence of what was decided and when: rows are never changed or removed.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE processed_events (
  event_id TEXT    PRIMARY KEY,
  at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX processed_events_by_time ON processed_events (at);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  idempotency_key TEXT    NOT NULL UNIQUE,
  incident_id     INTEGER REFERENCES incidents (id),
  kind            TEXT    NOT NULL,
  payload         TEXT    NOT NULL CHECK (json_valid(payload)),
  created_at      INTEGER NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'sent', 'failed', 'abandoned')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  attempt_started_at INTEGER,
  last_error      TEXT,
  last_attempt_at INTEGER,
  sent_at         INTEGER,
  closed_at       INTEGER,
  result          TEXT    CHECK (result IS NULL OR json_valid(result))
) STRICT;
CREATE INDEX outbox_by_state ON outbox (state, id);

CREATE TABLE reminders (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id     INTEGER NOT NULL REFERENCES incidents (id),
  deadline_kind   TEXT    NOT NULL CHECK (deadline_kind IN ('initial', 'update', 'resolution')),
  deadline        INTEGER NOT NULL,
  fire_at         INTEGER NOT NULL,
  step            TEXT    NOT NULL,
  state           TEXT    NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'sent', 'cancelled')),
  sent_at         INTEGER,
  late_by_seconds INTEGER
) STRICT;
CREATE INDEX reminders_by_state_fire_at ON reminders (state, fire_at);
CREATE INDEX reminders_by_incident ON reminders (incident_id, state);
)sql"},
    schema_migration{
        2, "obligation checklist: kind, close reason, completions, conflict calls; reminder obligation",
        R"sql(
CREATE TABLE incident_obligations (
  incident_id  INTEGER PRIMARY KEY REFERENCES incidents (id),
  kind         TEXT    NOT NULL DEFAULT 'security' CHECK (kind IN ('security', 'people_and_safety')),
  close_reason TEXT,
  duplicate_of INTEGER REFERENCES incidents (id),
  completions  TEXT    NOT NULL DEFAULT '[]',
  not_needed   TEXT    NOT NULL DEFAULT '[]',
  calls        TEXT    NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX incident_obligations_by_duplicate ON incident_obligations (duplicate_of);
ALTER TABLE reminders ADD COLUMN obligation TEXT NOT NULL DEFAULT '';
)sql"},
    schema_migration{3, "inbox of Slack deliveries, readiness heartbeat, store metadata", R"sql(
-- Every envelope, written before its ack and processed from here (docs/reliability.md).
CREATE TABLE inbox (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  key         TEXT    NOT NULL UNIQUE,  -- event:<event_id> | trigger:<trigger_id> | envelope:<id>
  envelope_id TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  payload     TEXT    NOT NULL CHECK (json_valid(payload)),
  received_at INTEGER NOT NULL,
  done_at     INTEGER
) STRICT;
CREATE INDEX inbox_unfinished ON inbox (id) WHERE done_at IS NULL;
CREATE INDEX inbox_by_received ON inbox (received_at) WHERE done_at IS NOT NULL;

-- One row, rewritten by every readiness probe: proof that the store still takes writes.
CREATE TABLE heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at INTEGER NOT NULL
) STRICT;

CREATE TABLE store_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
)sql"},
    schema_migration{4, "open incidents counted by severity, kept current by triggers", R"sql(
-- What /metrics reports as flare_open_incidents: read in O(1) instead of counting every open
-- incident on the event loop at each scrape. The triggers keep it exact in the same transaction
-- as the incident write, so a rolled-back write leaves no drift.
CREATE TABLE open_incident_counts (
  severity TEXT    PRIMARY KEY,  -- critical | high | medium | low | unclassified (none yet)
  n        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO open_incident_counts (severity, n)
  SELECT coalesce(severity, 'unclassified'), count(*) FROM incidents WHERE state = 'open' GROUP BY 1;
CREATE TRIGGER open_incident_counts_on_insert AFTER INSERT ON incidents WHEN NEW.state = 'open'
BEGIN
  INSERT INTO open_incident_counts (severity, n) VALUES (coalesce(NEW.severity, 'unclassified'), 1)
    ON CONFLICT (severity) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER open_incident_counts_on_delete AFTER DELETE ON incidents WHEN OLD.state = 'open'
BEGIN
  UPDATE open_incident_counts SET n = n - 1 WHERE severity = coalesce(OLD.severity, 'unclassified');
END;
CREATE TRIGGER open_incident_counts_on_update AFTER UPDATE OF state, severity ON incidents
  WHEN OLD.state IS NOT NEW.state OR OLD.severity IS NOT NEW.severity
BEGIN
  UPDATE open_incident_counts SET n = n - 1
    WHERE OLD.state = 'open' AND severity = coalesce(OLD.severity, 'unclassified');
  INSERT INTO open_incident_counts (severity, n)
    SELECT coalesce(NEW.severity, 'unclassified'), 1 WHERE NEW.state = 'open'
    ON CONFLICT (severity) DO UPDATE SET n = n + 1;
END;
)sql"},
    schema_migration{5, "outbox claims with a lease, for several replicas", R"sql(
-- Used by the PostgreSQL store (several replicas); kept here so both backends share one schema
-- history and `flare migrate-store` copies the same columns. One process per SQLite file never
-- competes for a claim.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_expires_at INTEGER;
CREATE INDEX outbox_pending_by_incident ON outbox (incident_id, id) WHERE state = 'pending';
)sql"},
    schema_migration{6, "inbox: replay attempts and parked (dead-letter) deliveries", R"sql(
-- A delivery whose handler fails on every replay is parked after a few attempts instead of
-- being replayed at every start for ever (docs/reliability.md, "Replays and dead letters").
ALTER TABLE inbox ADD COLUMN replay_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN parked_at INTEGER;
ALTER TABLE inbox ADD COLUMN parked_reason TEXT;
DROP INDEX inbox_unfinished;
CREATE INDEX inbox_unfinished ON inbox (id) WHERE done_at IS NULL AND parked_at IS NULL;
CREATE INDEX inbox_parked ON inbox (id) WHERE parked_at IS NOT NULL;
)sql"},
    schema_migration{7, "inbox claims with a lease, for several replicas", R"sql(
-- Used by the PostgreSQL store (several replicas replaying each other's unfinished deliveries);
-- kept here so both backends share one schema history and `flare migrate-store` copies the same
-- columns. One process per SQLite file replays its unfinished deliveries at start, unclaimed.
ALTER TABLE inbox ADD COLUMN claimed_by TEXT;
ALTER TABLE inbox ADD COLUMN claim_expires_at INTEGER;
)sql"},
    schema_migration{8, "files of upload outbox items", R"sql(
-- The files an "upload" outbox item shares (the incident record, the weekly digest's chart),
-- written in the transaction that enqueues the item and read only when it is sent, so the
-- pending-outbox scans never carry file bytes. base64 text: `flare migrate-store` copies every
-- column as text.
CREATE TABLE outbox_files (
  outbox_id      INTEGER NOT NULL REFERENCES outbox (id),
  position       INTEGER NOT NULL,
  filename       TEXT    NOT NULL,
  title          TEXT    NOT NULL,
  content_base64 TEXT    NOT NULL,
  PRIMARY KEY (outbox_id, position)
) STRICT;
)sql"},
};

}  // namespace

std::span<const schema_migration> sqlite_store::schema_migrations() { return builtin_migrations; }
int sqlite_store::latest_schema_version() { return builtin_migrations.back().version; }

}  // namespace flare::store
