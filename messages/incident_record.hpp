// The incident record: what a regulator, a customer's auditor or the post-incident review asks
// for ("when did you know, what did you decide and why, when did you tell whom"), as one
// Markdown document and the same content as JSON. Pure: the record is plain data, built by
// commands/incident_export.hpp from the append-only audit log (and the obligation ledger that
// the audit entries describe); this file only renders it. Times are UTC (RFC 3339) so the
// record reads the same wherever it is opened.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace flare::messages {

// One audit entry, in the log's order.
struct record_change {
  std::int64_t audit_id = 0;
  std::chrono::sys_seconds at{};
  std::string actor;   // Slack user id, or "flare"
  std::string action;  // open, classify, facts, kind, done, notified, update, resolve, …
  nlohmann::json inputs = nlohmann::json::object();  // what was typed or recorded
  std::optional<std::string> policy_version;
  std::optional<int> decision_number;                       // set when this entry made a new decision
  nlohmann::json deadline_moves = nlohmann::json::array();  // confirmed moves of running deadlines
};

// A decision version: each change of the decision the audit log records, with its reasons.
struct record_decision {
  int number = 0;  // 1, 2, …
  std::int64_t audit_id = 0;
  std::chrono::sys_seconds at{};
  std::string actor;
  std::string action;
  std::string policy_version;
  nlohmann::json decision;  // policy/decision_json.hpp, as stored in the audit entry
};

// An obligation of the checklist and how it ended (or stands).
struct record_obligation {
  std::string id;
  std::string title;
  std::string clause;
  std::string state;   // pending | done | not_needed
  std::string reason;  // why owed, or why not needed
  std::optional<std::chrono::sys_seconds> due;
  std::optional<std::chrono::sys_seconds> done_at;
  std::string done_by;
  std::string evidence;
  bool legal = false;
};

struct record_reminder {
  std::string obligation;
  std::string step;  // "24 hours before", "at the deadline", …
  std::chrono::sys_seconds deadline{};
  std::chrono::sys_seconds fire_at{};
  std::string state;  // pending | sent | cancelled
  std::optional<std::chrono::sys_seconds> sent_at;
  std::optional<std::chrono::seconds> late_by;
};

struct record_call {
  std::string conflict;
  std::string choice;
  std::string by;
  std::chrono::sys_seconds at{};
  std::string note;
};

struct record_person {
  std::string user;
  std::vector<std::string> roles;  // "reporter", "opened it", "classify ×2", …
};

struct incident_record {
  std::string reference;  // INC-7
  std::string title;
  bool sensitive = false;
  std::string reporter;
  std::string kind = "security";  // security | people_and_safety
  std::string state = "open";     // open | resolved
  std::optional<std::string> severity;
  std::optional<std::string> classification;
  std::chrono::sys_seconds opened_at{};
  std::optional<std::chrono::sys_seconds> resolved_at;
  std::optional<std::string> close_reason;
  std::optional<std::string> summary;
  std::optional<std::string> duplicate_of;
  std::string policy_version;            // of the latest decision; "" before the first
  std::vector<std::string> legal_notes;  // the latest decision's legal requirements

  std::vector<record_change> timeline;
  std::vector<record_decision> decisions;
  std::vector<record_obligation> obligations;
  std::vector<record_reminder> reminders;
  std::vector<record_call> calls;
  std::vector<record_person> people;

  std::chrono::sys_seconds generated_at{};
};

// "met, 2 h 5 min early" / "late by 3 h" / "open, overdue by 1 d" / "open, due in 4 h" for an
// obligation with a due time; "" without one. `now` is the record's generated_at.
std::string deadline_outcome(const record_obligation& o, std::chrono::sys_seconds now);

// The Markdown document, ending with the post-incident review skeleton.
std::string record_markdown(const incident_record& r);

// The same content as JSON ("format": "flare-incident-record/1").
nlohmann::json record_json(const incident_record& r);

// Safe file names for the upload and --out: "INC-7-record.md", "INC-7-record.json".
std::string record_file_name(const incident_record& r, const std::string& extension);

}  // namespace flare::messages
