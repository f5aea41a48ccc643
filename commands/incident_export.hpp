// The incident record (messages/incident_record.hpp) from what is stored: the append-only audit
// log gives the timeline, the facts as they changed, every decision version with its policy
// version, who opened and closed it; the obligation ledger (whose every change is itself an audit
// entry) and the policy, applied to the stored facts exactly as the card applies them, give the
// checklist and its deadlines; the reminders table gives the reminders posted. The header, the
// timeline and the decisions come from the audit log alone, so they cannot disagree with it
// (tests/commands/incident_export_test.cpp replays the log and compares).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/dispatcher.hpp"
#include "bot/store/store.hpp"
#include "messages/incident_record.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare::commands {

// nullopt when the incident does not exist. `now` is when the record is made (deadline outcomes
// of obligations still open are measured against it). Throws store::store_error on a store
// failure or an audit log without its "open" entry.
std::optional<messages::incident_record> build_incident_record(store::store& store, std::int64_t incident_id,
                                                               const policy::tables& tables,
                                                               const policy::business_calendar& calendar,
                                                               std::chrono::sys_seconds now);

class incident_commands;

// `/incident export <ID>`: the record uploaded to the incident's own thread (Markdown and JSON),
// never to where the command was typed. The handler does not upload: it writes the export's audit
// entry and an "upload" outbox item (bot/runtime/outbox.hpp) keyed by the command's trigger_id in
// one transaction, together with "this delivery is handled", so a redelivered command uploads
// nothing twice and a failed upload is retried by the outbox. Responders and the Security Team; for a
// sensitive incident only the Security Team (incident response policy, "Incident Detection"), and its record
// goes only to the security channel. The export is written to the audit log. The bot routes "export …" here
// before the /incident grammar (bot/runtime/app.cpp).
class incident_export {
 public:
  // `can_upload` false: no file uploads here (the console); the reply points to `flare export`.
  // `authority` answers who is a responder / in the Security Team (the commands' cached,
  // fail-closed lookups) and must outlive this. `wake_outbox` is called after an upload was
  // enqueued.
  incident_export(store::store& store, bool can_upload, const flare::clock& clock,
                  const policy::tables& tables, const policy::business_calendar& calendar,
                  incident_commands& authority, std::string security_channel, std::string command_name,
                  std::function<void()> wake_outbox = {});

  // Whether the command text is an export ("export INC-7", any case).
  static bool is_export(std::string_view text);

  boost::asio::awaitable<command_reply> handle(slash_command cmd);

 private:
  store::store& store_;
  bool can_upload_;
  const flare::clock& clock_;
  const policy::tables& tables_;
  const policy::business_calendar& calendar_;
  incident_commands& authority_;
  std::string security_channel_;
  std::string command_name_;
  std::function<void()> wake_outbox_;
};

}  // namespace flare::commands
