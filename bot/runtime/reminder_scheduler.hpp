// Deadline reminders in an incident's thread. Reminders come from the incident's obligation
// checklist (commands/incident_checklist.hpp): one per pending obligation with a due time, the
// first ladder step still in the future (policy::next_reminders: back-off, quiet hours), none for
// done or not-needed obligations, and none at all for a resolved incident whose resolution
// message is marked done. They are computed whenever the incident changes, and kept in the store's
// reminders table, never only in memory. One steady_timer waits for the earliest pending
// reminder in the whole store, so ten thousand idle incidents cost one indexed query per wake,
// not a timer or a poll each.
//
// Exactly once: a reminder is posted in the same transaction that moves it from pending to sent
// (store::mark_reminder_sent is true only once) and enqueues the outbox post under the key
// "reminder:<id>". After downtime, every reminder whose time passed is posted once at start,
// marked late by how late.
#pragma once

#include "bot/runtime/clock.hpp"
#include "bot/store/store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/reminder_ladder.hpp"
#include "policy/tables.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace flare {

struct reminder_settings {
  // The checklist's ladder (issue 9): steps before each due time, overdue back-off, quiet hours.
  policy::reminder_settings obligations;
  std::string security_team_group;  // config: security_team_group, pinged when overdue
  // A reminder posted more than this after its time says it is late (the bot was down).
  std::chrono::seconds late_grace{60};
  // The timer re-reads the store at least this often, so a wall-clock jump (suspend, NTP) is
  // noticed; the cost is one indexed query.
  std::chrono::seconds max_wait{300};
  // Told about each reminder posted (metrics): whether it was late and whether its deadline had
  // passed.
  std::function<void(bool late, bool overdue)> on_sent;
  // Issue 8: an incident nobody has classified this long after it was opened gets a nudge to
  // the responders in its thread, and after twice as long the Security Team (config
  // intake.untriaged_after_seconds; 0: off). Kept in the reminders table like the deadline
  // reminders (steps "untriaged-nudge" and "untriaged-security"), so they survive restarts.
  std::chrono::seconds untriaged_after{1800};
  std::string responders_group;  // config: responders_group, nudged first
  std::string command_name = "/incident";
};

class reminder_scheduler {
 public:
  reminder_scheduler(boost::asio::any_io_executor executor, store::store& store, const clock& clock,
                     const policy::tables& tables, const policy::business_calendar& calendar,
                     reminder_settings settings, std::function<void()> wake_outbox);
  ~reminder_scheduler();
  reminder_scheduler(const reminder_scheduler&) = delete;
  reminder_scheduler& operator=(const reminder_scheduler&) = delete;

  // The incident's facts, classification, notifications or state changed: recompute its
  // reminders from what is stored now (notified, reclassification, new facts and resolve all
  // reschedule or cancel at once). Call after the change is committed. Wakes the timer.
  void incident_changed(std::int64_t incident_id);

  // Posts (enqueues) every reminder due at clock.now(); returns how many. Tests call this
  // directly after moving a manual_clock; run() calls it when the timer fires.
  std::size_t fire_due();

  // The timer loop: until stop().
  boost::asio::awaitable<void> run();
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace flare
