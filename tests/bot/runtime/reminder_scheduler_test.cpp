// Deadline reminders against a real SQLite store and a manual clock: nothing sleeps, fire_due()
// is called after moving the clock, exactly as the timer would.
#include "bot/runtime/reminder_scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

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
  reminder_scheduler_test() : dir_(make_dir()), clock_(at("2026-11-16T10:00:00Z")), calendar_(tables_.calendar) {
    open();
  }
  ~reminder_scheduler_test() override {
    close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flare-reminders-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }

  // Starting and stopping the bot: the store file survives, the scheduler does not.
  void open() {
    store_ = store::sqlite_store::open((dir_ / "flare.db").string(),
                                       store::sqlite_options{store::synchronous_mode::normal, 5000ms});
    reminder_settings rs;
    rs.security_team_group = "S_SEC";
    scheduler_ = std::make_unique<reminder_scheduler>(io_.get_executor(), *store_, clock_, tables_, calendar_, rs,
                                                      [this] { ++wakes_; });
  }
  void close() {
    scheduler_.reset();
    store_.reset();
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
    const auto inc = store_->create_incident(n, "U1", clock_.now(), json::object());
    scheduler_->incident_changed(inc.id);
    return inc.id;
  }

  void change_facts(std::int64_t id, const std::function<void(policy::facts&, store::incident&)>& edit) {
    auto inc = *store_->find_incident(id);
    auto f = policy::facts_from_json(inc.facts).value;
    edit(f, inc);
    inc.facts = policy::to_json(f);
    ASSERT_TRUE(store_->update_incident(inc, store::audit_entry{id, "U_RESP", "facts", clock_.now(), {}}));
    scheduler_->incident_changed(id);
  }

  std::vector<store::reminder> pending(std::int64_t id) {
    std::vector<store::reminder> out;
    for (auto& r : store_->reminders_for(id))
      if (r.state == store::reminder_state::pending) out.push_back(r);
    return out;
  }

  // Reminder posts in the outbox, in order.
  std::vector<store::outbox_item> posts() {
    std::vector<store::outbox_item> out;
    for (auto& i : store_->pending_outbox(100000))
      if (i.idempotency_key.rfind("reminder:", 0) == 0) out.push_back(i);
    return out;
  }

  static std::string shown(const store::outbox_item& i) { return i.payload["text"].get<std::string>() + i.payload["blocks"].dump(); }

  std::filesystem::path dir_;
  asio::io_context io_;
  manual_clock clock_;
  policy::tables tables_;
  policy::business_calendar calendar_;
  std::unique_ptr<store::sqlite_store> store_;
  std::unique_ptr<reminder_scheduler> scheduler_;
  int wakes_ = 0;
};

TEST_F(reminder_scheduler_test, critical_ladder_fires_each_step_once_in_the_thread) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  ASSERT_EQ(pending(id).size(), 4u);
  EXPECT_EQ(scheduler_->fire_due(), 0u);

  clock_.set(at("2026-11-17T10:00:00Z"));  // 24 h before the 48 h initial deadline
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  EXPECT_EQ(scheduler_->fire_due(), 0u) << "never twice";
  auto p = posts();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].payload["thread_of_incident"], id);
  EXPECT_EQ(p[0].payload["channel"], "C_INCIDENTS");
  EXPECT_NE(shown(p[0]).find("due in 1 d"), std::string::npos) << shown(p[0]);
  EXPECT_EQ(shown(p[0]).find("subteam"), std::string::npos);
  EXPECT_EQ(shown(p[0]).find("Leaked key"), std::string::npos) << "no title in reminders";
  EXPECT_EQ(wakes_, 1);

  clock_.set(at("2026-11-18T06:00:00Z"));
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  clock_.set(at("2026-11-18T09:00:00Z"));
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  clock_.set(at("2026-11-18T10:00:00Z"));
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  // At the deadline the first overdue step is created, and only that one.
  auto left = pending(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].step, "overdue+4h");
  clock_.set(at("2026-11-18T14:00:00Z"));
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  p = posts();
  ASSERT_EQ(p.size(), 5u);
  EXPECT_NE(shown(p[4]).find("<!subteam^S_SEC>"), std::string::npos) << "overdue pings the Security Team";
  EXPECT_EQ(pending(id).at(0).step, "overdue+8h");
}

TEST_F(reminder_scheduler_test, ladder_per_severity_and_low_has_none) {
  struct row { policy::severity sev; const char* first; const char* deadline; };
  const row rows[] = {
      {policy::severity::critical, "2026-11-17T10:00:00Z", "2026-11-18T10:00:00Z"},
      {policy::severity::high, "2026-11-18T10:00:00Z", "2026-11-19T10:00:00Z"},
      {policy::severity::medium, "2026-11-24T23:59:59Z", "2026-11-25T23:59:59Z"},  // 7 business days
  };
  for (const auto& r : rows) {
    const auto id = open_incident(r.sev, clock_.now());
    const auto p = pending(id);
    ASSERT_EQ(p.size(), 4u) << policy::to_string(r.sev);
    EXPECT_EQ(policy::format_rfc3339(p.front().fire_at), r.first) << policy::to_string(r.sev);
    EXPECT_EQ(policy::format_rfc3339(p.back().deadline), r.deadline) << policy::to_string(r.sev);
    EXPECT_EQ(p.front().kind, store::deadline_kind::initial);
  }
  EXPECT_TRUE(pending(open_incident(policy::severity::low, clock_.now())).empty());
  EXPECT_TRUE(pending(open_incident(policy::severity::critical, std::nullopt)).empty()) << "no clock before impact";
}

TEST_F(reminder_scheduler_test, business_day_deadline_over_weekend_and_holiday) {
  tables_.calendar.holidays = {"2026-11-26"};
  calendar_ = policy::business_calendar(tables_.calendar);
  clock_.set(at("2026-11-20T15:00:00Z"));  // Friday
  const auto id = open_incident(policy::severity::medium, clock_.now());
  // Mon 23, Tue 24, Wed 25, (Thu 26 holiday), Fri 27, Mon 30, Tue 1, Wed 2.
  EXPECT_EQ(policy::format_rfc3339(pending(id).back().deadline), "2026-12-02T23:59:59Z");
}

TEST_F(reminder_scheduler_test, restart_catch_up_posts_each_missed_reminder_once_marked_late) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  close();  // the bot stops
  clock_.set(at("2026-11-18T07:30:00Z"));  // 24h and 4h steps passed while it was down
  open();
  EXPECT_EQ(scheduler_->fire_due(), 2u);
  const auto p = posts();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_NE(shown(p[0]).find("posted 21 h 30 min late (the bot was down)"), std::string::npos) << shown(p[0]);
  EXPECT_NE(shown(p[1]).find("posted 1 h 30 min late (the bot was down)"), std::string::npos) << shown(p[1]);
  const auto all = store_->reminders_for(id);
  ASSERT_TRUE(all[0].late_by);
  EXPECT_EQ(*all[0].late_by, 21h + 30min);

  close();  // and again: a second start posts nothing more
  open();
  EXPECT_EQ(scheduler_->fire_due(), 0u);
  EXPECT_EQ(posts().size(), 2u);
}

TEST_F(reminder_scheduler_test, long_downtime_past_the_deadline_gives_no_burst_of_overdue_steps) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  close();
  clock_.set(at("2026-11-19T10:00:00Z"));  // a day past the deadline: 6 overdue steps missed
  open();
  EXPECT_EQ(scheduler_->fire_due(), 4u);  // the 4 stored ladder steps, each once, late
  const auto left = pending(id);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].step, "overdue+28h");
  EXPECT_EQ(policy::format_rfc3339(left[0].fire_at), "2026-11-19T14:00:00Z");
}

TEST_F(reminder_scheduler_test, notified_reschedules_to_the_update_deadline) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  clock_.set(at("2026-11-17T12:00:00Z"));
  scheduler_->fire_due();  // the 24h-before step
  change_facts(id, [&](policy::facts& f, store::incident&) { f.notifications_sent.push_back(clock_.now()); });
  const auto p = pending(id);
  ASSERT_FALSE(p.empty());
  for (const auto& r : p) {
    EXPECT_EQ(r.kind, store::deadline_kind::update);
    EXPECT_EQ(policy::format_rfc3339(r.deadline), "2026-11-18T12:00:00Z");  // 24 h updates
  }
  // The update's own 24h-before step is now: it fires at once, exactly once.
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  scheduler_->incident_changed(id);  // any later change recomputes without repeating it
  EXPECT_EQ(scheduler_->fire_due(), 0u);
}

TEST_F(reminder_scheduler_test, reclassification_moves_the_deadline_at_once) {
  const auto id = open_incident(policy::severity::high, at("2026-11-16T10:00:00Z"));
  EXPECT_EQ(policy::format_rfc3339(pending(id).back().deadline), "2026-11-19T10:00:00Z");
  clock_.set(at("2026-11-17T11:00:00Z"));
  change_facts(id, [](policy::facts& f, store::incident&) { f.severity = policy::severity::critical; });
  const auto p = pending(id);
  // Critical: due 2026-11-18T10:00Z; the passed 24h step collapses into one reminder now.
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(policy::format_rfc3339(p.front().fire_at), "2026-11-17T11:00:00Z");
  EXPECT_EQ(p.front().step, "24h-before");
  EXPECT_EQ(policy::format_rfc3339(p.back().deadline), "2026-11-18T10:00:00Z");
}

TEST_F(reminder_scheduler_test, resolve_cancels_updates_and_reminds_of_the_resolution_message) {
  const auto id = open_incident(policy::severity::critical, at("2026-11-16T10:00:00Z"));
  clock_.set(at("2026-11-17T09:00:00Z"));
  change_facts(id, [&](policy::facts& f, store::incident& inc) {
    f.resolved_at = clock_.now();
    inc.state = store::incident_state::resolved;
    inc.resolved_at = clock_.now();
  });
  auto p = pending(id);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].kind, store::deadline_kind::resolution);
  EXPECT_EQ(scheduler_->fire_due(), 1u);
  EXPECT_NE(shown(posts().at(0)).find("resolution message"), std::string::npos);
  // Once the resolution message is recorded, nothing is left to remind.
  clock_.set(at("2026-11-17T10:00:00Z"));
  change_facts(id, [&](policy::facts& f, store::incident&) { f.notifications_sent.push_back(clock_.now()); });
  EXPECT_TRUE(pending(id).empty());
  clock_.set(at("2026-11-20T10:00:00Z"));
  EXPECT_EQ(scheduler_->fire_due(), 0u);
}

TEST_F(reminder_scheduler_test, run_posts_what_is_due_at_start_and_stops) {
  open_incident(policy::severity::critical, at("2026-11-10T10:00:00Z"));  // long overdue
  bool done = false;
  asio::co_spawn(io_, scheduler_->run(), [&](std::exception_ptr) { done = true; });
  io_.run_for(200ms);  // the first pass fires at once; the timer then waits (max 5 min)
  EXPECT_EQ(posts().size(), 1u);
  scheduler_->stop();
  io_.run_for(1s);
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace flare
