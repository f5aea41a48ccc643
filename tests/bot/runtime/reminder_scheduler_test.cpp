// Deadline reminders against a real SQLite store and a manual clock: nothing sleeps, fire_due()
// is called after moving the clock, exactly as the timer would.
#include "bot/runtime/reminder_scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "bot/store/sqlite_store.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"

namespace flare {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using json = nlohmann::json;

sys_seconds at(std::string_view rfc3339) {
  auto t = policy::parse_rfc3339(rfc3339);
  if (!t) throw std::invalid_argument("bad test time");
  return *t;
}

class reminder_scheduler_test : public ::testing::Test {
 protected:
  reminder_scheduler_test()
      : dir(make_dir()), test_clock(at("2026-11-16T10:00:00Z")), calendar(tables.calendar) {
    open();
  }
  ~reminder_scheduler_test() override {
    close();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flare-reminders-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }

  // Starting and stopping the bot: the store file survives, the scheduler does not.
  void open() {
    db = store::sqlite_store::open((dir / "flare.db").string(),
                                   store::sqlite_options{store::synchronous_mode::normal, 5000ms});
    reminder_settings rs;
    rs.security_team_group = "S_SEC";
    rs.responders_group = "S_RESP";  // untriaged_after: the default 30 min
    scheduler = std::make_unique<reminder_scheduler>(io.get_executor(), *db, test_clock, tables, calendar, rs,
                                                     [this] { ++wakes; });
  }
  void close() {
    scheduler.reset();
    db.reset();
  }

  std::int64_t open_incident(policy::severity sev, std::optional<sys_seconds> confirmed) {
    policy::facts f;
    f.severity = sev;
    f.classification = policy::classification::confirmed;
    f.impact_confirmed_at = confirmed;
    store::new_incident n;
    n.title = "Leaked key";
    n.reporter = "U1";
    n.channel = "C_INCIDENTS";
    n.thread_ts = "1.1";
    n.facts = policy::to_json(f);
    const auto inc = db->create_incident(n, "U1", test_clock.now(), json::object());
    scheduler->incident_changed(inc.id);
    return inc.id;
  }

  void change_facts(std::int64_t id, const std::function<void(policy::facts&, store::incident&)>& edit) {
    auto inc = *db->find_incident(id);
    auto f = policy::facts_from_json(inc.facts).value;
    edit(f, inc);
    inc.facts = policy::to_json(f);
    ASSERT_TRUE(db->update_incident(inc, store::audit_entry{id, "U_RESP", "facts", test_clock.now(), {}}));
    scheduler->incident_changed(id);
  }

  std::vector<store::reminder> pending(std::int64_t id) {
    std::vector<store::reminder> out;
    for (auto& r : db->reminders_for(id))
      if (r.state == store::reminder_state::pending) out.push_back(r);
    return out;
  }

  // Reminder posts in the outbox, in order.
  std::vector<store::outbox_item> posts() {
    std::vector<store::outbox_item> out;
    for (auto& i : db->pending_outbox(100000))
      if (i.idempotency_key.rfind("reminder:", 0) == 0) out.push_back(i);
    return out;
  }

  static std::string shown(const store::outbox_item& i) {
    return i.payload["text"].get<std::string>() + i.payload["blocks"].dump();
  }

  std::filesystem::path dir;
  asio::io_context io;
  manual_clock test_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  std::unique_ptr<store::sqlite_store> db;
  std::unique_ptr<reminder_scheduler> scheduler;
  int wakes = 0;
};

// Completions recorded the way the commands record them (commands/incident_commands.cpp).
void mark_done(store::store& s, std::int64_t id, const std::string& obligation, sys_seconds when) {
  auto ledger = s.ledger_for(id);
  ledger.completions.push_back(
      {{"obligation", obligation}, {"by", "U_RESP"}, {"at", policy::format_rfc3339(when)}});
  s.save_ledger(ledger);
}

// Issue 8: an incident nobody classified gets a nudge after 30 min, then the Security Team.
TEST_F(reminder_scheduler_test,
       untriaged_incident_nudges_responders_then_security_team_once_each_across_a_restart) {
  store::new_incident n;
  n.title = "Odd email";
  n.reporter = "U1";
  n.channel = "C_INCIDENTS";
  n.thread_ts = "2.2";
  n.facts = policy::to_json(policy::facts{});
  const auto id = db->create_incident(n, "U1", test_clock.now(), json::object()).id;
  scheduler->incident_changed(id);

  test_clock.advance(29min + 59s);
  EXPECT_EQ(scheduler->fire_due(), 0u);
  test_clock.advance(1s);
  ASSERT_EQ(scheduler->fire_due(), 1u);
  ASSERT_EQ(posts().size(), 1u);
  EXPECT_NE(shown(posts()[0]).find("<!subteam^S_RESP>"), std::string::npos) << shown(posts()[0]);
  EXPECT_NE(shown(posts()[0]).find("INC-1 has not been classified 30 min"), std::string::npos)
      << shown(posts()[0]);
  EXPECT_EQ(posts()[0].payload["thread_ts"], "2.2");

  close();  // a restart in between: the second step is in the store, not in memory
  open();
  scheduler->incident_changed(id);  // any change recomputes without repeating the nudge
  EXPECT_EQ(scheduler->fire_due(), 0u);
  test_clock.advance(30min);
  ASSERT_EQ(scheduler->fire_due(), 1u);
  ASSERT_EQ(posts().size(), 2u);
  EXPECT_NE(shown(posts()[1]).find("<!subteam^S_SEC>"), std::string::npos) << shown(posts()[1]);
  test_clock.advance(24h);
  EXPECT_EQ(scheduler->fire_due(), 0u);
  EXPECT_EQ(posts().size(), 2u);
}

TEST_F(reminder_scheduler_test, classifying_stops_the_untriaged_nudge) {
  store::new_incident n;
  n.title = "Odd email";
  n.reporter = "U1";
  n.channel = "C_INCIDENTS";
  n.facts = policy::to_json(policy::facts{});
  const auto id = db->create_incident(n, "U1", test_clock.now(), json::object()).id;
  scheduler->incident_changed(id);
  const auto untriaged_steps = [&] {
    const auto left = pending(id);
    return std::count_if(left.begin(), left.end(),
                         [](const store::reminder& r) { return r.step.rfind("untriaged", 0) == 0; });
  };
  EXPECT_EQ(untriaged_steps(), 2);
  test_clock.advance(10min);
  change_facts(id, [](policy::facts& f, store::incident&) { f.severity = policy::severity::low; });
  for (const auto& r : pending(id)) EXPECT_EQ(r.step.rfind("untriaged", 0), std::string::npos) << r.step;
  test_clock.advance(2h);
  scheduler->fire_due();
  for (const auto& p : posts()) EXPECT_EQ(shown(p).find("has not been classified"), std::string::npos);
}

TEST_F(reminder_scheduler_test, reminders_come_from_the_checklist_with_readable_steps_one_at_a_time) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  // Only the next step of each pending obligation with a due time: the initial notice (48 h).
  auto left = pending(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].obligation, "paid_initial_notice");
  EXPECT_EQ(left[0].step, "24 hours before");
  EXPECT_EQ(left[0].fire_at, at("2026-11-17T10:00:00Z"));
  EXPECT_EQ(scheduler->fire_due(), 0u);

  test_clock.set(at("2026-11-17T10:00:00Z"));
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(scheduler->fire_due(), 0u) << "never twice";
  auto p = posts();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].payload["thread_of_incident"], id);
  EXPECT_NE(shown(p[0]).find("Paid-customer initial notice"), std::string::npos) << shown(p[0]);
  EXPECT_NE(shown(p[0]).find("24 hours before"), std::string::npos) << shown(p[0]);
  EXPECT_NE(shown(p[0]).find("\"action_id\":\"mark_done\""), std::string::npos) << "a Mark done button";
  EXPECT_EQ(shown(p[0]).find("subteam"), std::string::npos) << "no Security Team ping before the deadline";
  EXPECT_EQ(shown(p[0]).find("Leaked key"), std::string::npos) << "no title in reminders";
  left = pending(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].fire_at, at("2026-11-18T06:00:00Z"));  // 4 hours before
}

TEST_F(reminder_scheduler_test, overdue_reminders_back_off_and_ping_the_security_team) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  test_clock.set(at("2026-11-18T10:00:00Z"));  // the deadline
  scheduler->fire_due();
  std::vector<sys_seconds> fired;
  for (int i = 0; i < 4; ++i) {
    auto left = pending(id);
    ASSERT_EQ(left.size(), 1u);
    fired.push_back(left[0].fire_at);
    test_clock.set(left[0].fire_at);
    EXPECT_EQ(scheduler->fire_due(), 1u);
  }
  // 4 h, then 8 h more, then daily: no ping every 4 h through the night.
  EXPECT_EQ(fired[0], at("2026-11-18T14:00:00Z"));
  EXPECT_EQ(fired[1], at("2026-11-18T22:00:00Z"));
  EXPECT_EQ(fired[2], at("2026-11-19T22:00:00Z"));
  EXPECT_EQ(fired[3], at("2026-11-20T22:00:00Z"));
  const auto p = posts();
  EXPECT_NE(shown(p.back()).find("<!subteam^S_SEC>"), std::string::npos) << shown(p.back());
  EXPECT_NE(shown(p.back()).find("OVERDUE by"), std::string::npos) << shown(p.back());
  EXPECT_NE(shown(p.back()).find("overdue by 2 d 12 h"), std::string::npos) << shown(p.back());
}

TEST_F(reminder_scheduler_test, a_done_obligation_gets_no_more_reminders) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  test_clock.set(at("2026-11-16T12:00:00Z"));
  mark_done(*db, id, "paid_initial_notice", test_clock.now());
  scheduler->incident_changed(id);
  // The next obligation is the first update, 24 h after the notice: its first step still ahead.
  auto left = pending(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].obligation, "update:1");
  EXPECT_EQ(left[0].deadline, at("2026-11-17T12:00:00Z"));
  EXPECT_GT(left[0].fire_at, test_clock.now()) << "no 'due in 1 d' right after the notice";
  EXPECT_EQ(scheduler->fire_due(), 0u);
}

TEST_F(reminder_scheduler_test, a_resolved_incident_stops_once_its_resolution_message_is_done) {
  const auto id = open_incident(policy::severity::high, at("2026-11-16T10:00:00Z"));
  test_clock.set(at("2026-11-16T11:00:00Z"));
  mark_done(*db, id, "paid_initial_notice", at("2026-11-16T10:30:00Z"));
  change_facts(id, [&](policy::facts& f, store::incident& i) {
    f.resolved_at = test_clock.now();
    i.state = store::incident_state::resolved;
    i.resolved_at = test_clock.now();
  });
  // Resolution message due at resolution: its first step still in the future is an overdue one,
  // never "due now" at the moment of resolving.
  auto left = pending(id);
  ASSERT_FALSE(left.empty());
  for (const auto& r : left) EXPECT_GT(r.fire_at, test_clock.now());
  mark_done(*db, id, "resolution_message", test_clock.now());
  scheduler->incident_changed(id);
  EXPECT_TRUE(pending(id).empty());
}

TEST_F(reminder_scheduler_test, low_severity_has_no_customer_reminders) {
  const auto id = open_incident(policy::severity::low, at("2026-11-16T10:00:00Z"));
  for (const auto& r : pending(id)) EXPECT_NE(r.obligation, "paid_initial_notice");
}

TEST_F(reminder_scheduler_test, restart_catch_up_posts_a_missed_reminder_once_marked_late) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  close();
  test_clock.set(at("2026-11-17T13:00:00Z"));  // down over the 24-hours-before step
  open();
  EXPECT_EQ(scheduler->fire_due(), 1u);
  EXPECT_EQ(scheduler->fire_due(), 0u);
  const auto p = posts();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(shown(p[0]).find("late (the bot was down)"), std::string::npos) << shown(p[0]);
  EXPECT_EQ(pending(id).size(), 1u);
}

TEST_F(reminder_scheduler_test, quiet_hours_hold_a_high_reminder_until_morning_but_not_a_critical_one) {
  close();
  db = store::sqlite_store::open((dir / "flare.db").string(),
                                 store::sqlite_options{store::synchronous_mode::normal, 5000ms});
  reminder_settings rs;
  rs.security_team_group = "S_SEC";
  rs.obligations.quiet = policy::quiet_hours{22 * 60, 7 * 60};
  scheduler = std::make_unique<reminder_scheduler>(io.get_executor(), *db, test_clock, tables, calendar, rs,
                                                   [this] { ++wakes; });
  // Impact at 02:00: High's 72 h deadline is 02:00; its "24 hours before" would fire at 02:00.
  const auto high = open_incident(policy::severity::high, at("2026-11-16T02:00:00Z"));
  auto left = pending(high);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].fire_at, at("2026-11-18T07:00:00Z"));
  const auto critical = open_incident(policy::severity::critical, at("2026-11-16T02:00:00Z"));
  left = pending(critical);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].fire_at, at("2026-11-17T02:00:00Z"));
}

TEST_F(reminder_scheduler_test, run_posts_what_is_due_at_start_and_stops) {
  open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  test_clock.set(at("2026-11-17T10:30:00Z"));  // its "24 hours before" step has passed
  bool done = false;
  asio::co_spawn(io, scheduler->run(), [&](const std::exception_ptr&) { done = true; });
  io.run_for(200ms);  // the first pass fires at once; the timer then waits (max 5 min)
  EXPECT_EQ(posts().size(), 1u);
  scheduler->stop();
  io.run_for(1s);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace flare
