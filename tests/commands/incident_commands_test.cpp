// /incident against a real SQLite store in a temporary directory, a manual clock and the
// recording Slack double (tests/support), which answers user-group lookups from a table. Only
// usergroup_members matters to the commands: every post goes through the outbox.
#include "commands/incident_commands.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <stdexcept>

#include "bot/store/sqlite_store.hpp"
#include "commands/incident_checklist.hpp"
#include "messages/checklist_view.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/recording_slack.hpp"

namespace flare::commands {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

sys_seconds at(std::string_view rfc3339) {
  auto t = policy::parse_rfc3339(rfc3339);
  if (!t) throw std::invalid_argument("bad test time");
  return *t;
}

template <class T>
T run(asio::awaitable<T> task) {
  asio::io_context io;
  std::optional<T> result;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(task), [&](const std::exception_ptr& e, T value) {
    failure = e;
    if (!e) result = std::move(value);
  });
  io.run_for(10s);  // bounded: nothing here waits on real I/O
  if (failure) std::rethrow_exception(failure);
  if (!result) throw std::runtime_error("the command did not finish");
  return std::move(*result);
}

class incident_commands_test : public ::testing::Test {
 protected:
  incident_commands_test()
      : dir(make_dir()),
        db(store::sqlite_store::open((dir / "flare.db").string(),
                                     store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        test_clock(at("2026-11-20T10:00:00Z")),  // a Friday
        calendar(tables.calendar) {
    fake_slack.usergroups = {{"S_RESP", {"U_RESP"}}, {"S_SEC", {"U_SEC"}}};
    command_settings settings{"C_INCIDENTS", "C_SECURITY", "S_RESP", "S_SEC", "/incident"};
    cmds = std::make_unique<incident_commands>(
        command_context{*db, fake_slack, test_clock, tables, calendar, settings, [this] { ++wakes; },
                        [this](std::int64_t id) { changed_ids.push_back(id); }});
  }

  ~incident_commands_test() override {
    cmds.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flare-commands-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }

  json command(const std::string& user, const std::string& text, const std::string& channel = "C_GENERAL") {
    slash_command cmd{"/incident", text, user, channel, "trigger", "https://hooks.slack.test/x"};
    return run(cmds->handle(cmd));
  }

  static std::string text_of(const json& reply) { return reply.dump(); }

  std::vector<store::outbox_item> outbox() { return db->pending_outbox(1000); }

  store::incident incident(std::int64_t id) {
    auto i = db->find_incident(id);
    if (!i) throw std::runtime_error("no incident");
    return *i;
  }

  // What a person could observe of the stored state: the incident, its audit and the outbox.
  std::string snapshot(std::int64_t id) {
    json j;
    auto i = db->find_incident(id);
    j["version"] = i ? i->version : -1;
    j["facts"] = i ? i->facts : json();
    j["state"] = i ? std::string{store::to_string(i->state)} : "";
    j["audit"] = db->audit_for(id).size();
    j["outbox"] = outbox().size();
    return j.dump();
  }

  std::filesystem::path dir;
  std::unique_ptr<store::sqlite_store> db;
  manual_clock test_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  flare::testing::recording_slack fake_slack;
  int wakes = 0;
  std::vector<std::int64_t> changed_ids;
  std::unique_ptr<incident_commands> cmds;
};

TEST_F(incident_commands_test, open_creates_inc_1_and_enqueues_its_card_in_the_incidents_channel) {
  const json reply = command("U_ANY", "open Leaked API key in CI logs");
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_NE(text_of(reply).find("Opened"), std::string::npos);
  EXPECT_NE(text_of(reply).find("INC-1"), std::string::npos);

  const auto i = incident(1);
  EXPECT_EQ(i.title, "Leaked API key in CI logs");
  EXPECT_EQ(i.reporter, "U_ANY");
  EXPECT_EQ(i.channel, "C_INCIDENTS");
  EXPECT_FALSE(i.sensitive);

  const auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, "post");
  EXPECT_EQ(items[0].incident_id, 1);
  EXPECT_EQ(items[0].payload["channel"], "C_INCIDENTS");
  EXPECT_EQ(items[0].payload["record_as"], "card");
  EXPECT_FALSE(items[0].payload["text"].get<std::string>().empty());
  EXPECT_TRUE(items[0].payload["blocks"].is_array());

  const auto audit = db->audit_for(1);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].actor, "U_ANY");
  EXPECT_EQ(audit[0].action, "open");
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(changed_ids, std::vector<std::int64_t>{1});
  EXPECT_EQ(fake_slack.calls_other_than({"usergroups.users.list"}), 0u);
  EXPECT_TRUE(fake_slack.targets_of("usergroups.users.list").empty())
      << "anyone may open: no membership lookup";
}

// Issue 9: "The card always shows the checklist", also before the first classification: the card
// posted at open is the checklist card, with what the decision at open implies.
TEST_F(incident_commands_test, the_card_posted_at_open_already_shows_the_checklist) {
  command("U_ANY", "open Leaked API key in CI logs");
  const auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  const std::string card = items[0].payload.dump();
  EXPECT_NE(card.find("*Obligations*"), std::string::npos) << card;
  EXPECT_NE(card.find("Not classified yet"), std::string::npos) << card;
  EXPECT_NE(card.find("/incident classify INC-1"), std::string::npos) << card;
  // Nothing is known yet, so the protective reading: a bulletin is owed, waiting for a fix, and
  // the customer notices start with impact confirmation.
  EXPECT_NE(card.find("Public security bulletin"), std::string::npos) << card;
  EXPECT_NE(card.find("impact confirmation is recorded"), std::string::npos) << card;
  EXPECT_NE(card.find("\"mark_done\""), std::string::npos) << "pending items have Mark done: " << card;
  EXPECT_EQ(card.find("No decision yet"), std::string::npos) << card;
  EXPECT_FALSE(incident(1).last_decision) << "the first classify still posts the full decision";

  // The same checklist in show; classification then replaces the note and posts the decision.
  EXPECT_NE(text_of(command("U_ANY", "show INC-1")).find("Not classified yet"), std::string::npos);
  command("U_RESP", "classify INC-1 high confirmed");
  const auto after = outbox();
  ASSERT_GE(after.size(), 3u);
  EXPECT_EQ(after[1].kind, "update");
  EXPECT_EQ(after[1].payload.dump().find("Not classified yet"), std::string::npos);
  EXPECT_NE(after[2].payload.dump().find("disclosure decision"), std::string::npos)
      << after[2].payload.dump();
}

TEST_F(incident_commands_test,
       a_card_opened_from_a_harassment_report_shows_its_proposed_kind_from_the_start) {
  run(cmds->open_from_report("U_SEC", "C_SECURITY", "1700000000.000300", "Colleague harassing me", true,
                             "U_REP", policy::incident_kind::people_and_safety));
  std::string card;
  for (const auto& item : outbox())
    if (item.payload.value("record_as", "") == "card") card = item.payload.dump();
  ASSERT_FALSE(card.empty());
  EXPECT_NE(card.find("Head of Finance"), std::string::npos) << card;
  EXPECT_NE(card.find("Kind proposed by intake"), std::string::npos) << card;
  EXPECT_EQ(card.find("Public security bulletin"), std::string::npos) << "no disclosure for harassment";
  EXPECT_EQ(card.find("Not classified yet"), std::string::npos) << "severity is a security matter";
}

TEST_F(incident_commands_test, sensitive_open_posts_only_in_the_security_channel) {
  const json reply = command("U_REP", "open Payroll export on a public share sensitive", "C_GENERAL");
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_NE(text_of(reply).find("INC-1"), std::string::npos);

  const auto i = incident(1);
  EXPECT_TRUE(i.sensitive);
  EXPECT_EQ(i.channel, "C_SECURITY");
  const auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  for (const auto& item : items) {
    EXPECT_EQ(item.payload["channel"], "C_SECURITY") << item.payload.dump();
  }
}

TEST_F(incident_commands_test, non_responder_classify_is_refused_and_nothing_changes) {
  command("U_ANY", "open Suspicious login");
  const std::string before = snapshot(1);
  const int wakes_before = wakes;

  const json reply = command("U_ANY", "classify INC-1 high confirmed");
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_NE(text_of(reply).find("not authorised"), std::string::npos) << text_of(reply);
  EXPECT_EQ(snapshot(1), before);
  EXPECT_EQ(wakes, wakes_before);

  for (const std::string text : {"facts INC-1 fix_available=true", "notified INC-1", "resolve INC-1",
                                 "update INC-1 looking", "decide INC-1"}) {
    const json r = command("U_ANY", text);
    EXPECT_NE(text_of(r).find("not authorised"), std::string::npos) << text;
  }
  EXPECT_EQ(snapshot(1), before);
}

TEST_F(incident_commands_test, responder_classify_confirmed_starts_the_clock_and_posts_the_decision) {
  command("U_ANY", "open Customer data in a public bucket");
  const std::size_t before = outbox().size();

  const json reply = command("U_RESP", "classify INC-1 high confirmed");
  EXPECT_NE(text_of(reply).find("Classified"), std::string::npos) << text_of(reply);

  const auto i = incident(1);
  EXPECT_EQ(i.severity, "high");
  EXPECT_EQ(i.classification, "confirmed");
  EXPECT_EQ(i.facts["impact_confirmed_at"], "2026-11-20T10:00:00Z");
  ASSERT_TRUE(i.last_decision);
  // SaaS process, severity table, row High: initial notification 72 hours after confirmation.
  EXPECT_EQ((*i.last_decision)["customer_notifications"]["initial_due"], "2026-11-23T10:00:00Z");

  const auto items = outbox();
  ASSERT_EQ(items.size(), before + 2);
  const auto& card = items[before];
  EXPECT_EQ(card.kind, "update");
  EXPECT_EQ(card.payload["card_of_incident"], 1);
  const auto& decision = items[before + 1];
  EXPECT_EQ(decision.kind, "post");
  EXPECT_EQ(decision.payload["thread_of_incident"], 1);
  EXPECT_EQ(decision.payload["channel"], "C_INCIDENTS");
  EXPECT_NE(card.idempotency_key, decision.idempotency_key);

  const auto audit = db->audit_for(1);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[1].actor, "U_RESP");
  EXPECT_EQ(audit[1].action, "classify");
  EXPECT_EQ(audit[1].details["inputs"]["severity"], "high");
  EXPECT_EQ(audit[1].details["decision"]["customer_notifications"]["initial_due"], "2026-11-23T10:00:00Z");
  EXPECT_EQ(audit[1].details["policy_version"], policy::policy_version(tables));
  EXPECT_EQ(changed_ids.back(), 1);
}

TEST_F(incident_commands_test, potential_leaves_the_clock_unstarted_unless_confirmed_at_is_given) {
  command("U_ANY", "open Odd traffic");
  command("U_SEC", "classify 1 medium potential");  // the Security Team may act too
  EXPECT_TRUE(incident(1).facts["impact_confirmed_at"].is_null());
  EXPECT_EQ(incident(1).classification, "potential");

  command("U_SEC", "classify 1 medium potential confirmed-at=2026-11-19T08:00:00Z");
  EXPECT_EQ(incident(1).facts["impact_confirmed_at"], "2026-11-19T08:00:00Z");
}

TEST_F(incident_commands_test, facts_are_all_or_nothing_and_errors_name_the_key) {
  command("U_ANY", "open Dependency CVE");
  std::string before = snapshot(1);

  // The grammar catches a bad value before anything is touched.
  json reply = command("U_RESP", "facts INC-1 fix_available=true users_affected=maybe");
  EXPECT_NE(text_of(reply).find("users_affected"), std::string::npos) << text_of(reply);
  EXPECT_EQ(snapshot(1), before);

  // A pair only the handler can judge (resolved_at on an open incident) undoes the good ones.
  reply = command("U_RESP", "facts INC-1 fix_available=true resolved_at=2026-11-21T00:00:00Z");
  EXPECT_NE(text_of(reply).find("resolved_at"), std::string::npos) << text_of(reply);
  EXPECT_NE(text_of(reply).find("Usage"), std::string::npos);
  EXPECT_EQ(snapshot(1), before);
  EXPECT_EQ(incident(1).facts["fix_available"], false);

  reply = command(
      "U_RESP", "facts INC-1 fix_available=true legal_requirements=\"California breach law\" exploited=none");
  EXPECT_NE(text_of(reply).find("Updated"), std::string::npos) << text_of(reply);
  const auto i = incident(1);
  EXPECT_EQ(i.facts["fix_available"], true);
  EXPECT_EQ(i.facts["exploited"], "none");
  EXPECT_EQ(i.facts["legal_requirements"], json::array({"California breach law"}));
  EXPECT_EQ(outbox().size(), 3u);  // card, then card update + decision
}

TEST_F(incident_commands_test, facts_classification_confirmed_starts_the_clock_like_classify) {
  command("U_ANY", "open Token in a gist");
  command("U_RESP", "facts 1 severity=critical classification=confirmed");
  EXPECT_EQ(incident(1).severity, "critical");
  EXPECT_EQ(incident(1).facts["impact_confirmed_at"], "2026-11-20T10:00:00Z");
}

TEST_F(incident_commands_test, notified_records_now_and_moves_the_next_due_time) {
  command("U_ANY", "open Credential stuffing");
  command("U_RESP", "classify INC-1 critical confirmed");
  // Critical: initial 48h after confirmation, then updates every 24h.
  EXPECT_EQ((*incident(1).last_decision)["customer_notifications"]["next_due"], "2026-11-22T10:00:00Z");

  test_clock.advance(10h);
  const std::size_t before = outbox().size();
  const json reply = command("U_RESP", "notified INC-1");
  // `notified` is "done" for the next customer notice, and the reply names what is due next.
  EXPECT_NE(
      text_of(reply).find("Marked Paid-customer initial notice done for INC-1 at Fri 20 Nov, 20:00 UTC"),
      std::string::npos)
      << text_of(reply);
  EXPECT_NE(text_of(reply).find("Next: Customer update 1, due Sat 21 Nov, 20:00 UTC"), std::string::npos);

  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 1u);
  EXPECT_EQ(ledger.completions[0]["obligation"], "paid_initial_notice");
  EXPECT_EQ(ledger.completions[0]["by"], "U_RESP");
  EXPECT_EQ(ledger.completions[0]["at"], "2026-11-20T20:00:00Z");
  const auto items = outbox();
  ASSERT_EQ(items.size(), before + 2);
  EXPECT_EQ(items[before].kind, "update");
  EXPECT_EQ(items[before + 1].payload["thread_of_incident"], 1);
  EXPECT_EQ(db->audit_for(1).back().action, "notified");
}

TEST_F(incident_commands_test, resolve_records_the_time_and_summary_and_posts_the_resolution) {
  command("U_ANY", "open Phishing wave");
  command("U_RESP", "classify INC-1 high confirmed");
  test_clock.advance(5h);
  const std::size_t before = outbox().size();

  json reply = command("U_RESP", "resolve INC-1 passwords reset, no access found");
  EXPECT_NE(text_of(reply).find("Resolved"), std::string::npos) << text_of(reply);
  const auto i = incident(1);
  EXPECT_EQ(i.state, store::incident_state::resolved);
  EXPECT_EQ(i.resolved_at, at("2026-11-20T15:00:00Z"));
  EXPECT_EQ(i.summary, "passwords reset, no access found");
  EXPECT_EQ(i.facts["resolved_at"], "2026-11-20T15:00:00Z");
  const auto items = outbox();
  // The card, what changed on the checklist, and the resolution post.
  ASSERT_EQ(items.size(), before + 3);
  EXPECT_EQ(items[before].payload["card_of_incident"], 1);
  EXPECT_EQ(items[before + 1].payload["thread_of_incident"], 1);
  EXPECT_EQ(items[before + 2].payload["thread_of_incident"], 1);
  EXPECT_EQ(db->ledger_for(1).close_reason, "resolved");

  const std::string after = snapshot(1);
  reply = command("U_RESP", "resolve INC-1");
  EXPECT_NE(text_of(reply).find("already resolved"), std::string::npos);
  reply = command("U_RESP", "update INC-1 one more thing");
  EXPECT_NE(text_of(reply).find("is resolved"), std::string::npos);
  EXPECT_EQ(snapshot(1), after);

  // Facts can still be corrected after resolution, and the notification recorded.
  reply = command("U_RESP", "notified INC-1");
  EXPECT_NE(text_of(reply).find("Marked"), std::string::npos) << text_of(reply);
}

TEST_F(incident_commands_test, update_posts_the_text_in_the_thread) {
  command("U_ANY", "open Malware alert");
  command("U_RESP", "update INC-1 host isolated &amp; imaged");
  const auto items = outbox();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].payload["thread_of_incident"], 1);
  EXPECT_NE(items[1].payload.dump().find("host isolated &amp; imaged"), std::string::npos)
      << items[1].payload.dump();
  EXPECT_EQ(db->audit_for(1).back().details["inputs"]["text"], "host isolated & imaged");
}

TEST_F(incident_commands_test, decide_reposts_the_decision_each_time) {
  command("U_ANY", "open Exposed admin panel");
  command("U_RESP", "classify INC-1 low confirmed");
  const std::size_t before = outbox().size();
  command("U_RESP", "decide INC-1");
  command("U_RESP", "decide INC-1");
  const auto items = outbox();
  ASSERT_EQ(items.size(), before + 4);
  EXPECT_NE(items[before + 1].idempotency_key, items[before + 3].idempotency_key);
}

TEST_F(incident_commands_test, show_and_list_hide_sensitive_titles_from_non_members) {
  command("U_REP", "open Payroll export on a public share sensitive");
  command("U_ANY", "open Broken TLS cert");

  const std::string secret = "Payroll export";
  json r = command("U_ANY", "show INC-1");
  EXPECT_EQ(text_of(r).find(secret), std::string::npos) << text_of(r);
  EXPECT_NE(text_of(r).find("INC-1"), std::string::npos);
  r = command("U_RESP", "show INC-1");  // a responder is not the Security Team
  EXPECT_EQ(text_of(r).find(secret), std::string::npos) << text_of(r);
  r = command("U_SEC", "show INC-1");
  EXPECT_NE(text_of(r).find(secret), std::string::npos) << text_of(r);
  r = command("U_REP", "show INC-1");
  EXPECT_NE(text_of(r).find(secret), std::string::npos) << text_of(r);

  r = command("U_ANY", "list");
  EXPECT_EQ(text_of(r).find(secret), std::string::npos) << text_of(r);
  EXPECT_NE(text_of(r).find("INC-1"), std::string::npos);
  EXPECT_NE(text_of(r).find("Broken TLS cert"), std::string::npos);
  r = command("U_SEC", "list all");
  EXPECT_NE(text_of(r).find(secret), std::string::npos) << text_of(r);
  r = command("U_REP", "list");
  EXPECT_NE(text_of(r).find(secret), std::string::npos) << text_of(r);

  // A failed lookup shows less, never more.
  fake_slack.fail("usergroups.users.list", slack::api_error{"timeout", "no answer within 10s", true},
                  flare::testing::recording_slack::always);
  test_clock.advance(2min);
  r = command("U_SEC", "show INC-1");
  EXPECT_EQ(text_of(r).find(secret), std::string::npos) << text_of(r);
}

TEST_F(incident_commands_test, list_filters_open_by_default) {
  command("U_ANY", "open First");
  command("U_ANY", "open Second");
  command("U_RESP", "resolve INC-1");
  json r = command("U_ANY", "list");
  EXPECT_EQ(text_of(r).find("First"), std::string::npos) << text_of(r);
  EXPECT_NE(text_of(r).find("Second"), std::string::npos);
  r = command("U_ANY", "list all");
  EXPECT_NE(text_of(r).find("First"), std::string::npos) << text_of(r);
}

TEST_F(incident_commands_test, usergroup_lookup_failure_refuses_and_changes_nothing) {
  command("U_ANY", "open Strange cron job");
  const std::string before = snapshot(1);
  fake_slack.fail("usergroups.users.list", slack::api_error{"timeout", "no answer within 10s", true},
                  flare::testing::recording_slack::always);
  const json reply = command("U_RESP", "classify INC-1 critical confirmed");
  EXPECT_NE(text_of(reply).find("could not be verified"), std::string::npos) << text_of(reply);
  EXPECT_EQ(snapshot(1), before);
}

TEST_F(incident_commands_test, membership_is_cached_for_sixty_seconds) {
  command("U_ANY", "open Cache me");
  command("U_RESP", "decide INC-1");
  command("U_RESP", "decide INC-1");
  EXPECT_EQ(fake_slack.targets_of("usergroups.users.list"), std::vector<std::string>{"S_RESP"});

  test_clock.advance(59s);
  command("U_RESP", "decide INC-1");
  EXPECT_EQ(fake_slack.targets_of("usergroups.users.list").size(), 1u);

  test_clock.advance(2s);
  fake_slack.usergroups["S_RESP"] = {};  // removed from the group: noticed once the cache expires
  const json reply = command("U_RESP", "decide INC-1");
  EXPECT_EQ(fake_slack.targets_of("usergroups.users.list").size(), 3u);  // S_RESP again, then S_SEC
  EXPECT_NE(text_of(reply).find("not authorised"), std::string::npos) << text_of(reply);
}

TEST_F(incident_commands_test, empty_group_settings_mean_nobody_and_no_lookup) {
  command_settings settings{"C_INCIDENTS", "C_SECURITY", "", "", "/incident"};
  incident_commands strict{command_context{*db, fake_slack, test_clock, tables, calendar, settings, {}, {}}};
  command("U_ANY", "open Nobody may classify");
  const json reply =
      run(strict.handle(slash_command{"/incident", "classify 1 low potential", "U_RESP", "C1", "", ""}));
  EXPECT_NE(text_of(reply).find("not authorised"), std::string::npos) << text_of(reply);
  EXPECT_TRUE(fake_slack.targets_of("usergroups.users.list").empty());
}

TEST_F(incident_commands_test, unknown_incident_is_named_with_the_usage) {
  const json reply = command("U_RESP", "classify INC-99 high confirmed");
  EXPECT_NE(text_of(reply).find("INC-99 does not exist"), std::string::npos) << text_of(reply);
  EXPECT_NE(text_of(reply).find("/incident classify"), std::string::npos);
  const json show = command("U_ANY", "show 99");
  EXPECT_NE(text_of(show).find("INC-99 does not exist"), std::string::npos) << text_of(show);
}

TEST_F(incident_commands_test, usage_errors_and_help_are_ephemeral) {
  json reply = command("U_ANY", "classify INC-1 severe confirmed");
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_NE(text_of(reply).find("severe"), std::string::npos);
  EXPECT_NE(text_of(reply).find("critical|high|medium|low"), std::string::npos);
  reply = command("U_ANY", "help");
  EXPECT_EQ(reply["response_type"], "ephemeral");
  EXPECT_NE(text_of(reply).find("classify"), std::string::npos);
  EXPECT_TRUE(outbox().empty());
}

TEST_F(incident_commands_test, open_from_report_puts_the_card_in_the_report_thread_once) {
  json reply = run(cmds->open_from_report("U_REP", "C_REPORTS", "1700000000.000100", "Weird email", false));
  EXPECT_NE(text_of(reply).find("INC-1"), std::string::npos) << text_of(reply);
  auto i = incident(1);
  EXPECT_EQ(i.channel, "C_REPORTS");
  EXPECT_EQ(i.thread_ts, "1700000000.000100");
  EXPECT_EQ(i.report_ts, "1700000000.000100");
  auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].payload["channel"], "C_REPORTS");
  EXPECT_EQ(items[0].payload["thread_ts"], "1700000000.000100");
  EXPECT_EQ(items[0].payload["record_as"], "card");

  reply = run(cmds->open_from_report("U_OTHER", "C_REPORTS", "1700000000.000100", "Weird email", false));
  EXPECT_NE(text_of(reply).find("already"), std::string::npos) << text_of(reply);
  EXPECT_FALSE(db->find_incident(2));
  EXPECT_EQ(outbox().size(), 1u);
}

TEST_F(incident_commands_test, sensitive_report_gets_only_a_placeholder_in_its_thread) {
  run(cmds->open_from_report("U_REP", "C_REPORTS", "1700000000.000200", "HR data on a laptop", true));
  const auto i = incident(1);
  EXPECT_EQ(i.channel, "C_SECURITY");
  for (const auto& item : outbox()) {
    if (item.payload["channel"] != "C_SECURITY") {
      EXPECT_EQ(item.payload.dump().find("HR data"), std::string::npos) << item.payload.dump();
    }
  }
}

}  // namespace
}  // namespace flare::commands

namespace flare::commands {
namespace {

// Forwards to a real store, with two faults to switch on: someone else changes the incident
// just before our first update (a version conflict), or an outbox write fails (disk full).
namespace st = flare::store;  // inside a store subclass, `store` names the class itself

class faulty_store final : public st::store {
 public:
  explicit faulty_store(st::store& inner) : inner_(inner) {}
  bool conflict_once = false;
  bool fail_enqueue = false;
  int update_calls = 0;

  void transaction(const std::function<void()>& body) override { inner_.transaction(body); }
  st::incident create_incident(const st::new_incident& f, std::string_view a, sys_seconds at,
                               const json& d) override {
    return inner_.create_incident(f, a, at, d);
  }
  std::optional<st::incident> find_incident(std::int64_t id) override { return inner_.find_incident(id); }
  std::optional<st::incident> find_incident_by_report(std::string_view c, std::string_view ts) override {
    return inner_.find_incident_by_report(c, ts);
  }
  std::optional<st::incident> find_incident_by_thread(std::string_view c, std::string_view ts) override {
    return inner_.find_incident_by_thread(c, ts);
  }
  std::vector<st::incident> list_incidents(bool open_only, std::size_t limit) override {
    return inner_.list_incidents(open_only, limit);
  }
  std::optional<st::incident> update_incident(const st::incident& changed,
                                              const st::audit_entry& e) override {
    ++update_calls;
    if (conflict_once) {
      conflict_once = false;
      auto other = *inner_.find_incident(changed.id);
      other.summary = "edited by someone else";
      st::audit_entry theirs{changed.id, "U_OTHER", "facts", e.at, json::object()};
      if (!inner_.update_incident(other, theirs)) throw std::logic_error("setup conflict failed");
    }
    return inner_.update_incident(changed, e);
  }
  st::audit_record append_audit(const st::audit_entry& e) override { return inner_.append_audit(e); }
  st::obligation_ledger ledger_for(std::int64_t id) override { return inner_.ledger_for(id); }
  void save_ledger(const st::obligation_ledger& l) override { inner_.save_ledger(l); }
  std::vector<std::int64_t> duplicates_of(std::int64_t id) override { return inner_.duplicates_of(id); }
  std::vector<st::audit_record> audit_for(std::int64_t id) override { return inner_.audit_for(id); }
  bool mark_event_processed(std::string_view id, sys_seconds at) override {
    return inner_.mark_event_processed(id, at);
  }
  std::size_t prune_processed_events(sys_seconds t) override { return inner_.prune_processed_events(t); }
  std::vector<std::optional<std::int64_t>> record_deliveries(std::span<const st::new_delivery> d,
                                                             sys_seconds at) override {
    return inner_.record_deliveries(d, at);
  }
  void mark_deliveries_done(std::span<const std::int64_t> ids, sys_seconds at) override {
    inner_.mark_deliveries_done(ids, at);
  }
  std::vector<st::delivery> unfinished_deliveries(std::size_t limit) override {
    return inner_.unfinished_deliveries(limit);
  }
  std::optional<st::delivery> find_delivery(std::string_view key) override {
    return inner_.find_delivery(key);
  }
  void set_delivery_in_hand(std::string key, sys_seconds at) override {
    inner_.set_delivery_in_hand(std::move(key), at);
  }
  std::size_t prune_handled(sys_seconds t, std::size_t batch) override {
    return inner_.prune_handled(t, batch);
  }
  void heartbeat(sys_seconds at) override { inner_.heartbeat(at); }
  st::outbox_item enqueue(const st::new_outbox_item& item, sys_seconds at) override {
    if (fail_enqueue) throw st::store_error("disk I/O error");
    return inner_.enqueue(item, at);
  }
  st::outbox_item enqueue_upload(const st::new_outbox_item& item, const std::vector<st::outbox_file>& files,
                                 sys_seconds at) override {
    if (fail_enqueue) throw st::store_error("disk I/O error");
    return inner_.enqueue_upload(item, files, at);
  }
  std::vector<st::outbox_file> outbox_files(std::int64_t outbox_id) override {
    return inner_.outbox_files(outbox_id);
  }
  std::optional<st::outbox_item> find_outbox_item(std::int64_t id) override {
    return inner_.find_outbox_item(id);
  }
  std::vector<st::outbox_item> pending_outbox(std::size_t limit) override {
    return inner_.pending_outbox(limit);
  }
  bool begin_attempt(std::int64_t id, sys_seconds at) override { return inner_.begin_attempt(id, at); }
  bool mark_sent(std::int64_t id, const json& r, sys_seconds at) override {
    return inner_.mark_sent(id, r, at);
  }
  bool mark_failed(std::int64_t id, std::string_view e, sys_seconds at, bool final) override {
    return inner_.mark_failed(id, e, at, final);
  }
  bool abandon(std::int64_t id, std::string_view r, sys_seconds at) override {
    return inner_.abandon(id, r, at);
  }
  std::vector<st::reminder> replace_pending_reminders(std::int64_t id,
                                                      const std::vector<st::new_reminder>& f) override {
    return inner_.replace_pending_reminders(id, f);
  }
  std::optional<st::reminder> next_pending_reminder() override { return inner_.next_pending_reminder(); }
  std::vector<st::reminder> due_reminders(sys_seconds now, std::size_t limit) override {
    return inner_.due_reminders(now, limit);
  }
  bool mark_reminder_sent(std::int64_t id, sys_seconds at, std::chrono::seconds late) override {
    return inner_.mark_reminder_sent(id, at, late);
  }
  std::size_t cancel_reminders(std::int64_t id) override { return inner_.cancel_reminders(id); }
  std::vector<st::reminder> reminders_for(std::int64_t id) override { return inner_.reminders_for(id); }
  void backup(const std::string& path) override { inner_.backup(path); }
  bool integrity_ok() override { return inner_.integrity_ok(); }
  int schema_version() override { return inner_.schema_version(); }

 private:
  st::store& inner_;
};

class incident_commands_fault_test : public incident_commands_test {
 protected:
  incident_commands_fault_test() : faulty(*db) {
    command_settings settings{"C_INCIDENTS", "C_SECURITY", "S_RESP", "S_SEC", "/incident"};
    faulty_commands = std::make_unique<incident_commands>(
        command_context{faulty, fake_slack, test_clock, tables, calendar, settings, [this] { ++wakes; }, {}});
  }
  json faulty_command(const std::string& user, const std::string& text) {
    return run(faulty_commands->handle(slash_command{"/incident", text, user, "C_GENERAL", "", ""}));
  }
  faulty_store faulty;
  std::unique_ptr<incident_commands> faulty_commands;
};

TEST_F(incident_commands_fault_test, a_version_conflict_is_reread_and_reapplied_once) {
  command("U_ANY", "open Race");
  faulty.conflict_once = true;
  const json reply = faulty_command("U_RESP", "classify INC-1 high confirmed");
  EXPECT_NE(text_of(reply).find("Classified"), std::string::npos) << text_of(reply);
  EXPECT_EQ(faulty.update_calls, 2);
  const auto i = incident(1);
  EXPECT_EQ(i.severity, "high");
  EXPECT_EQ(i.summary, "edited by someone else");  // their change kept, ours applied on top
  const auto audit = db->audit_for(1);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[1].actor, "U_OTHER");
  EXPECT_EQ(audit[2].action, "classify");
}

TEST_F(incident_commands_fault_test, a_failed_outbox_write_undoes_the_whole_change) {
  command("U_ANY", "open Disk full");
  const std::string before = snapshot(1);
  const int wakes_before = wakes;
  faulty.fail_enqueue = true;
  EXPECT_THROW(faulty_command("U_RESP", "classify INC-1 high confirmed"), store::store_error);
  EXPECT_EQ(snapshot(1), before);
  EXPECT_EQ(wakes, wakes_before);
}

}  // namespace
}  // namespace flare::commands

namespace flare::commands {
namespace {

TEST_F(incident_commands_test, may_respond_uses_the_same_fail_closed_membership) {
  EXPECT_TRUE(run(cmds->may_respond("U_RESP")));
  EXPECT_TRUE(run(cmds->may_respond("U_SEC")));
  EXPECT_FALSE(run(cmds->may_respond("U_ANY")));
  fake_slack.fail("usergroups.users.list", slack::api_error{"timeout", "no answer within 10s", true},
                  flare::testing::recording_slack::always);
  test_clock.advance(61s);
  EXPECT_FALSE(run(cmds->may_respond("U_RESP")));
}

}  // namespace
}  // namespace flare::commands

namespace flare::commands {
namespace {

TEST_F(incident_commands_test, the_resolution_message_marked_done_shows_on_the_card_and_as_a_change) {
  command("U_ANY", "open Resolved then notified");
  command("U_RESP", "classify INC-1 high confirmed");
  test_clock.advance(2h);
  command("U_RESP", "resolve INC-1");
  test_clock.advance(1h);
  const std::size_t before = outbox().size();
  command("U_RESP", "done INC-1 resolution link=https://status.example/inc-1");
  const auto items = outbox();
  ASSERT_EQ(items.size(), before + 2);
  // The card shows the resolution message done, with who; the thread gets only that change.
  EXPECT_EQ(items[before].payload["card_of_incident"], 1);
  EXPECT_NE(items[before].payload.dump().find(":white_check_mark: *Resolution message* — done by <@U_RESP>"),
            std::string::npos)
      << items[before].payload.dump();
  EXPECT_NE(items[before + 1].payload.dump().find("*Resolution message* is done"), std::string::npos)
      << items[before + 1].payload.dump();
}

}  // namespace
}  // namespace flare::commands

// ---- obligations (issue 9) ----------------------------------------------------------------------

namespace flare::commands {
namespace {

TEST_F(incident_commands_test, a_time_in_the_future_is_refused_with_the_time_read_back) {
  command("U_ANY", "open Leaked token");
  const std::string unchanged = snapshot(1);
  json reply = command("U_RESP", "classify INC-1 critical confirmed confirmed-at=2027-11-30T23:35:02Z");
  EXPECT_NE(text_of(reply).find("is Tue 30 Nov 2027, 23:35 UTC, which is in the future"), std::string::npos)
      << text_of(reply);
  EXPECT_EQ(snapshot(1), unchanged);
  reply = command("U_RESP", "facts INC-1 impact_confirmed_at=2026-11-21T10:00:00Z");
  EXPECT_NE(text_of(reply).find("in the future"), std::string::npos) << text_of(reply);
  reply = command("U_RESP", "facts INC-1 notifications_sent=2030-01-01T00:00:00Z");
  EXPECT_NE(text_of(reply).find("in the future"), std::string::npos) << text_of(reply);
  EXPECT_EQ(snapshot(1), unchanged);
  // A few minutes of clock skew are allowed.
  reply = command("U_RESP", "classify INC-1 critical confirmed confirmed-at=2026-11-20T10:04:00Z");
  EXPECT_NE(text_of(reply).find("Classified"), std::string::npos) << text_of(reply);
  reply = command("U_RESP", "done INC-1 notice at=2026-11-20T11:00:00Z");
  EXPECT_NE(text_of(reply).find("at 2026-11-20T11:00:00Z is Fri 20 Nov, 11:00 UTC, which is in the future"),
            std::string::npos)
      << text_of(reply);
  EXPECT_TRUE(db->ledger_for(1).completions.empty());
}

TEST_F(incident_commands_test, classify_confirmed_without_a_time_says_which_time_it_assumed) {
  command("U_ANY", "open Leaked token");
  test_clock.advance(243min);
  const json reply = command("U_RESP", "classify INC-1 high confirmed");
  EXPECT_NE(text_of(reply).find(
                "Impact confirmed now, Fri 20 Nov, 14:03 UTC; use `confirmed-at=` if it was earlier"),
            std::string::npos)
      << text_of(reply);
}

TEST_F(incident_commands_test, moving_a_running_deadline_asks_for_confirmation_then_posts_why) {
  command("U_ANY", "open Leaked token");
  command("U_RESP", "classify INC-1 critical confirmed");
  const std::string unchanged = snapshot(1);
  json reply = command("U_RESP", "classify INC-1 low confirmed");
  // Nothing changes until confirmed; the reply offers a button that repeats it with --confirm.
  EXPECT_EQ(snapshot(1), unchanged);
  EXPECT_NE(text_of(reply).find("confirm_deadline_move"), std::string::npos) << text_of(reply);
  EXPECT_NE(text_of(reply).find("classify INC-1 low confirmed --confirm"), std::string::npos)
      << text_of(reply);

  reply = command("U_RESP", "facts INC-1 impact_confirmed_at=");  // clearing the clock, too
  EXPECT_EQ(snapshot(1), unchanged);
  EXPECT_NE(text_of(reply).find("confirm_deadline_move"), std::string::npos) << text_of(reply);

  const std::size_t before = outbox().size();
  reply = command("U_RESP", "classify INC-1 low confirmed --confirm");
  EXPECT_NE(text_of(reply).find("Classified"), std::string::npos) << text_of(reply);
  EXPECT_EQ(incident(1).severity, "low");
  bool moved_notice = false;
  for (std::size_t k = before; k < outbox().size(); ++k) {
    const std::string post = outbox()[k].payload.dump();
    moved_notice = moved_notice ||
                   (post.find("because") != std::string::npos && post.find("<@U_RESP>") != std::string::npos);
  }
  EXPECT_TRUE(moved_notice) << "a notice in the thread says what moved, why and who confirmed";
  const auto audit = db->audit_for(1).back();
  ASSERT_TRUE(audit.details.contains("deadline_moves")) << audit.details.dump();
  EXPECT_EQ(audit.details["deadline_moves"][0]["obligation"], "paid_initial_notice");
  EXPECT_EQ(audit.details["confirmed_by"], "U_RESP");
}

TEST_F(incident_commands_test, later_changes_post_only_what_changed) {
  command("U_ANY", "open Leaked token");
  std::size_t before = outbox().size();
  command("U_RESP", "classify INC-1 critical confirmed");
  auto items = outbox();
  ASSERT_EQ(items.size(), before + 2);
  EXPECT_EQ(items[before + 1].idempotency_key.find("/decision") != std::string::npos, true)
      << "first: in full";
  before = items.size();
  command("U_RESP", "facts INC-1 fix_available=true");
  items = outbox();
  ASSERT_GE(items.size(), before + 1);
  EXPECT_EQ(items[before].payload["card_of_incident"], 1) << "the card is edited to the full state";
  for (std::size_t k = before + 1; k < items.size(); ++k) {
    EXPECT_EQ(items[k].idempotency_key.find("/decision"), std::string::npos) << "no second full decision";
    EXPECT_NE(items[k].payload.dump().find("What changed"), std::string::npos) << items[k].payload.dump();
  }
}

TEST_F(incident_commands_test, the_bulletin_waits_for_its_prerequisites_with_an_explanation) {
  command("U_ANY", "open Exposed bucket");
  command("U_RESP", "classify INC-1 critical confirmed");
  command("U_RESP", "facts INC-1 fix_available=true users_affected=confirmed data_exposed=confirmed");
  json reply = command("U_RESP", "done INC-1 bulletin link=https://blog.example/sec");
  EXPECT_NE(text_of(reply).find("is not ready yet: it waits for"), std::string::npos) << text_of(reply);
  EXPECT_NE(text_of(reply).find("Paid-customer initial notice"), std::string::npos) << text_of(reply);
  EXPECT_TRUE(db->ledger_for(1).completions.empty());

  test_clock.advance(1h);
  reply = command("U_RESP", "done INC-1 notice at=2026-11-20T10:30:00Z note=\"sent from the CRM\"");
  EXPECT_NE(text_of(reply).find("Marked Paid-customer initial notice done"), std::string::npos)
      << text_of(reply);
  reply = command("U_RESP", "done INC-1 bulletin link=https://blog.example/sec");
  EXPECT_NE(text_of(reply).find("Marked Public security bulletin done"), std::string::npos) << text_of(reply);
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 2u);
  EXPECT_EQ(ledger.completions[0]["at"], "2026-11-20T10:30:00Z");
  EXPECT_EQ(ledger.completions[0]["note"], "sent from the CRM");
  EXPECT_EQ(ledger.completions[1]["link"], "https://blog.example/sec");
  EXPECT_EQ(db->audit_for(1).back().action, "done");
  EXPECT_EQ(db->audit_for(1).back().details["inputs"]["link"], "https://blog.example/sec");

  reply = command("U_RESP", "done INC-1 bulletin");
  EXPECT_NE(text_of(reply).find("already done by"), std::string::npos) << text_of(reply);
  reply = command("U_RESP", "done INC-1 pamphlet");
  EXPECT_NE(text_of(reply).find("is not on INC-1's checklist (it has: "), std::string::npos)
      << text_of(reply);
}

TEST_F(incident_commands_test, not_needed_records_who_and_why_and_shows_on_the_card) {
  command("U_ANY", "open Exposed bucket");
  command("U_RESP", "classify INC-1 critical confirmed");
  const std::size_t before = outbox().size();
  const json reply =
      command("U_RESP", "not-needed INC-1 notice reason=\"contract says the MSP informs them\"");
  EXPECT_NE(text_of(reply).find("not needed for"), std::string::npos) << text_of(reply);
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.not_needed.size(), 1u);
  EXPECT_EQ(ledger.not_needed[0]["by"], "U_RESP");
  EXPECT_NE(outbox()[before].payload.dump().find(
                "Marked not needed by U_RESP on 2026-11-20T10:00:00Z: contract says"),
            std::string::npos)
      << outbox()[before].payload.dump();
  // Nothing reminds of it any more.
  const auto c = stored_checklist(*db, 1, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->find("paid_initial_notice")->state, policy::obligation_state::not_needed);
}

TEST_F(incident_commands_test,
       false_positive_closes_pending_obligations_but_keeps_an_owed_resolution_message) {
  command("U_ANY", "open Odd login");
  command("U_RESP", "classify INC-1 critical confirmed");
  command("U_RESP", "notified INC-1");
  command("U_RESP", "resolve INC-1 false-positive it was the pen test");
  EXPECT_EQ(db->ledger_for(1).close_reason, "false positive");
  const auto c = stored_checklist(*db, 1, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  // Customers were told, so they must hear that it is over.
  EXPECT_EQ(c->find("resolution_message")->state, policy::obligation_state::pending);
  for (const auto& o : c->items)
    if (o.id != "resolution_message") EXPECT_NE(o.state, policy::obligation_state::pending) << o.id;
}

TEST_F(incident_commands_test, a_duplicate_points_to_the_surviving_incident_and_stops_reminding) {
  command("U_ANY", "open Phishing mail");
  command("U_ANY", "open Same phishing mail");
  command("U_RESP", "classify INC-2 high confirmed");
  json reply = command("U_RESP", "resolve INC-2 duplicate-of=INC-9");
  EXPECT_NE(text_of(reply).find("INC-9 does not exist"), std::string::npos) << text_of(reply);
  const std::size_t before = outbox().size();
  reply = command("U_RESP", "resolve INC-2 duplicate-of=INC-1");
  EXPECT_NE(text_of(reply).find("Closed as a duplicate of INC-1"), std::string::npos) << text_of(reply);
  const auto ledger = db->ledger_for(2);
  EXPECT_EQ(ledger.close_reason, "duplicate");
  EXPECT_EQ(ledger.duplicate_of, 1);
  EXPECT_EQ(db->duplicates_of(1), std::vector<std::int64_t>{2});
  bool here = false, there = false;
  for (std::size_t k = before; k < outbox().size(); ++k) {
    const json p = outbox()[k].payload;
    if (p.value("thread_of_incident", 0) == 2 && p.dump().find("continue in INC-1") != std::string::npos)
      here = true;
    if (p.value("thread_of_incident", 0) == 1 &&
        p.dump().find("INC-2 was closed as a duplicate") != std::string::npos)
      there = true;
  }
  EXPECT_TRUE(here);
  EXPECT_TRUE(there);
  if (!here || !there)
    for (std::size_t k = before; k < outbox().size(); ++k) ADD_FAILURE() << outbox()[k].payload.dump();
  EXPECT_NE(std::find(changed_ids.begin(), changed_ids.end(), 1), changed_ids.end())
      << "the survivor reschedules";
  const auto c = stored_checklist(*db, 2, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->open_deadlines().empty()) << "its obligations continue in INC-1";
  command("U_ANY", "open Third copy");
  reply = command("U_RESP", "resolve INC-3 duplicate-of=INC-2");
  EXPECT_NE(text_of(reply).find("INC-2 is itself a duplicate of INC-1"), std::string::npos) << text_of(reply);
}

TEST_F(incident_commands_test,
       a_duplicates_completed_obligations_carry_to_the_survivor_with_who_when_evidence) {
  command("U_ANY", "open Phishing mail");
  command("U_ANY", "open Same phishing mail");
  command("U_RESP", "classify INC-1 critical confirmed");
  command("U_RESP", "classify INC-2 critical confirmed");
  test_clock.advance(1h);
  command("U_RESP",
          "done INC-2 notice at=2026-11-20T10:30:00Z link=https://crm.example/notice-2 note=\"sent to all "
          "paid\"");
  test_clock.advance(1h);
  const std::size_t before = outbox().size();
  const json reply = command("U_SEC", "resolve INC-2 duplicate-of=INC-1");
  EXPECT_NE(text_of(reply).find("1 completed obligation carried to INC-1"), std::string::npos)
      << text_of(reply);

  // The survivor's ledger: done by the person who did it, when they did it, with the evidence.
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 1u);
  EXPECT_EQ(ledger.completions[0]["obligation"], "paid_initial_notice");
  EXPECT_EQ(ledger.completions[0]["by"], "U_RESP");
  EXPECT_EQ(ledger.completions[0]["at"], "2026-11-20T10:30:00Z");
  EXPECT_EQ(ledger.completions[0]["link"], "https://crm.example/notice-2");
  EXPECT_EQ(ledger.completions[0]["carried_from"], "INC-2");
  EXPECT_EQ(ledger.completions[0]["carried_by"], "U_SEC");
  const auto c = stored_checklist(*db, 1, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->find("paid_initial_notice"));
  EXPECT_EQ(c->find("paid_initial_notice")->state, policy::obligation_state::done);
  // Audit-logged on the survivor.
  const auto audit = db->audit_for(1);
  EXPECT_EQ(audit.back().action, "carry");
  EXPECT_EQ(audit.back().actor, "U_SEC");
  EXPECT_EQ(audit.back().details["inputs"]["from"], "INC-2");
  // Said in the survivor's thread, and its card shows it done.
  bool said = false, card = false;
  for (std::size_t k = before; k < outbox().size(); ++k) {
    const json p = outbox()[k].payload;
    if (p.value("thread_of_incident", 0) == 1 &&
        p.dump().find("Carried over from INC-2") != std::string::npos) {
      said = true;
      EXPECT_NE(p.dump().find("Paid-customer initial notice"), std::string::npos) << p.dump();
      EXPECT_NE(p.dump().find("<@U_RESP>"), std::string::npos) << p.dump();
      EXPECT_NE(p.dump().find("crm.example/notice-2"), std::string::npos) << p.dump();
    }
    if (p.value("card_of_incident", 0) == 1 &&
        p.dump().find("Paid-customer initial notice* — done by <@U_RESP>") != std::string::npos)
      card = true;
  }
  EXPECT_TRUE(said);
  EXPECT_TRUE(card);
}

TEST_F(incident_commands_test, a_sensitive_duplicates_evidence_does_not_move_into_a_public_survivor) {
  command("U_ANY", "open Phishing mail");
  command("U_REP", "open Phishing mail to the CFO sensitive");
  command("U_SEC", "classify INC-1 critical confirmed");
  command("U_SEC", "classify INC-2 critical confirmed");
  command("U_SEC", "done INC-2 notice note=\"CFO mailbox forwarded to attacker\"");
  // Already done on the survivor: its own record stands, nothing is overwritten.
  command("U_SEC", "done INC-2 legal:gdpr-art33 note=x");  // not on either checklist: refused
  const std::size_t before = outbox().size();
  const json reply = command("U_SEC", "resolve INC-2 duplicate-of=INC-1");
  EXPECT_NE(text_of(reply).find("carried to INC-1"), std::string::npos) << text_of(reply);
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 1u);
  EXPECT_EQ(ledger.completions[0]["by"], "U_SEC");
  EXPECT_EQ(ledger.completions[0]["link"], "");
  EXPECT_NE(ledger.completions[0]["note"].get<std::string>().find("INC-2 (sensitive)"), std::string::npos);
  for (const auto& e : db->audit_for(1))
    EXPECT_EQ(e.details.dump().find("CFO"), std::string::npos) << e.details.dump();
  for (std::size_t k = before; k < outbox().size(); ++k) {
    const json p = outbox()[k].payload;
    if (p.value("thread_of_incident", 0) == 1 || p.value("card_of_incident", 0) == 1)
      EXPECT_EQ(p.dump().find("CFO"), std::string::npos) << p.dump();
  }
}

TEST_F(incident_commands_test, a_duplicate_with_nothing_done_carries_nothing) {
  command("U_ANY", "open Phishing mail");
  command("U_ANY", "open Same phishing mail");
  command("U_RESP", "classify INC-1 critical confirmed");
  command("U_RESP", "done INC-1 notice");
  command("U_RESP", "classify INC-2 critical confirmed");
  command("U_RESP", "done INC-2 notice note=later");
  const json reply = command("U_RESP", "resolve INC-2 duplicate-of=INC-1");
  EXPECT_EQ(text_of(reply).find("carried"), std::string::npos) << "INC-1 had done it itself";
  EXPECT_EQ(db->ledger_for(1).completions.size(), 1u);
  EXPECT_NE(db->audit_for(1).back().action, "carry");
}

TEST_F(incident_commands_test, show_and_decide_read_the_checklist_so_done_items_are_not_required_again) {
  command("U_ANY", "open Exposed bucket");
  command("U_RESP", "classify INC-1 critical confirmed");
  command("U_RESP", "facts INC-1 fix_available=true users_affected=confirmed data_exposed=confirmed");
  command("U_RESP", "done INC-1 notice");
  command("U_RESP", "done INC-1 admin");
  command("U_RESP", "done INC-1 bulletin link=https://blog.example/sec");
  const std::string shown = text_of(command("U_ANY", "show INC-1"));
  EXPECT_NE(shown.find(":white_check_mark: *Public security bulletin* — done by <@U_RESP>"),
            std::string::npos)
      << shown;
  EXPECT_EQ(shown.find("Publish a public security bulletin"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("E-mail the affected Organizations' administrators"), std::string::npos) << shown;

  const std::size_t before = outbox().size();
  command("U_RESP", "decide INC-1");
  const auto items = outbox();
  ASSERT_EQ(items.size(), before + 2);
  const std::string post = items[before + 1].payload.dump();
  EXPECT_NE(post.find("*Public security bulletin* — done"), std::string::npos) << post;
  EXPECT_EQ(post.find("Publish a public security bulletin"), std::string::npos) << post;
}

TEST_F(incident_commands_test, the_kind_intake_proposes_is_applied_as_a_proposal_a_responder_confirms) {
  run(cmds->open_from_report("U_SEC", "C_SECURITY", "1700000000.000300", "Colleague harassing me", true,
                             "U_REP", policy::incident_kind::people_and_safety));
  auto ledger = db->ledger_for(1);
  EXPECT_EQ(ledger.kind, "people_and_safety");
  EXPECT_EQ(kind_proposal(ledger), "people_and_safety");
  EXPECT_EQ(db->audit_for(1).front().details["inputs"]["proposed_kind"], "people_and_safety");

  const std::size_t before = outbox().size();
  command("U_SEC", "classify INC-1 high confirmed");
  const auto items = outbox();
  std::string posted;
  for (std::size_t k = before; k < items.size(); ++k) posted += items[k].payload.dump();
  EXPECT_EQ(posted.find("Public security bulletin"), std::string::npos) << "no disclosure for harassment";
  EXPECT_NE(posted.find("no disclosure decision"), std::string::npos) << posted;
  EXPECT_NE(posted.find("Kind proposed by intake"), std::string::npos) << posted;

  command("U_SEC", "kind INC-1 people");
  EXPECT_FALSE(kind_proposal(db->ledger_for(1))) << "a responder's kind is no longer a proposal";
  const auto c = stored_checklist(*db, 1, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  for (const auto& n : c->notes) EXPECT_EQ(n.find("proposed"), std::string::npos) << n;
}

TEST_F(incident_commands_test, a_report_of_a_duplicate_is_sent_to_the_surviving_incident) {
  command("U_ANY", "open Phishing wave");
  run(cmds->open_from_report("U_RESP", "C_REPORTS", "1700000000.000400", "Phishing mail", false, "U_REP"));
  command("U_RESP", "resolve INC-2 duplicate-of=INC-1");
  bool linked = false;
  for (const auto& item : outbox()) {
    const std::string p = item.payload.dump();
    if (item.payload.value("thread_of_incident", 0) == 1 &&
        p.find("INC-2 was closed as a duplicate") != std::string::npos)
      linked = p.find("https://slack.com/archives/C_REPORTS/p1700000000000400") != std::string::npos;
  }
  EXPECT_TRUE(linked) << "the survivor's thread links the duplicate's report";
  const json reply = run(
      cmds->open_from_report("U_RESP", "C_REPORTS", "1700000000.000400", "Phishing mail", false, "U_REP"));
  EXPECT_NE(text_of(reply).find("closed as a duplicate of *INC-1*: it continues there"), std::string::npos)
      << text_of(reply);
}

TEST_F(incident_commands_test, a_sensitive_duplicates_report_thread_is_told_where_it_continues) {
  command("U_SEC", "open Harassment report sensitive");
  run(cmds->open_from_report("U_REP", "D_REP", "1700000000.000500", "Same harassment", true, "U_REP"));
  const std::size_t before = outbox().size();
  command("U_SEC", "resolve INC-2 duplicate-of=INC-1");
  bool told = false;
  for (std::size_t k = before; k < outbox().size(); ++k) {
    const json p = outbox()[k].payload;
    if (p.value("channel", "") == "D_REP" && p.value("thread_ts", "") == "1700000000.000500") {
      told = p.dump().find("followed up there") != std::string::npos;
      EXPECT_EQ(p.dump().find("harassment"), std::string::npos) << "references only";
    }
  }
  EXPECT_TRUE(told);
}

TEST_F(incident_commands_test, kind_people_and_safety_has_no_disclosure_obligations) {
  command("U_ANY", "open Harassment in the office");
  command("U_RESP", "classify INC-1 high confirmed");
  json reply = command("U_RESP", "kind INC-1 people");
  EXPECT_NE(text_of(reply).find("confirm_deadline_move"), std::string::npos)
      << "dropping a running clock asks";
  reply = command("U_RESP", "kind INC-1 people --confirm");
  EXPECT_NE(text_of(reply).find("a people and safety incident"), std::string::npos) << text_of(reply);
  EXPECT_EQ(db->ledger_for(1).kind, "people_and_safety");
  const auto c = stored_checklist(*db, 1, tables, calendar, test_clock.now());
  ASSERT_TRUE(c);
  const auto* bulletin = c->find("bulletin");
  EXPECT_TRUE(!bulletin || bulletin->state != policy::obligation_state::pending);
  EXPECT_TRUE(c->find("inform_hofo"));
}

TEST_F(incident_commands_test, deadlines_lists_open_obligations_soonest_first_hiding_sensitive_titles) {
  command("U_ANY", "open Slow leak");
  command("U_RESP", "classify INC-1 high confirmed");  // 72 h
  command("U_SEC", "open Secret matter sensitive");
  command("U_RESP", "classify INC-2 critical confirmed");  // 48 h: sooner
  const json reply = command("U_ANY", "deadlines");
  const std::string text = text_of(reply);
  const auto first = text.find("INC-2");
  const auto second = text.find("INC-1");
  ASSERT_NE(first, std::string::npos) << text;
  ASSERT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second) << text;
  EXPECT_EQ(text.find("Secret matter"), std::string::npos) << text;
  EXPECT_NE(text_of(command("U_SEC", "deadlines")).find("Secret matter"), std::string::npos);
}

TEST_F(incident_commands_test, only_responders_mark_items_done) {
  command("U_ANY", "open Leaked token");
  command("U_RESP", "classify INC-1 critical confirmed");
  const json reply = command("U_ANY", "done INC-1 notice");
  EXPECT_NE(text_of(reply).find("not authorised to mark obligations done"), std::string::npos)
      << text_of(reply);
  EXPECT_TRUE(db->ledger_for(1).completions.empty());
}

// ---- Mark done on a stale button (the card, the App Home tab) -----------------------------------

class mark_done_button_test : public incident_commands_test {
 protected:
  // A critical confirmed incident with its paid-customer initial notice marked done by U_RESP;
  // returns that obligation's id.
  std::string incident_with_a_done_item() {
    command("U_ANY", "open Leaked token");
    command("U_RESP", "classify INC-1 critical confirmed");
    std::string id = a_pending_item();
    const json r = command("U_RESP", "done INC-1 " + id + " note=sent");
    const auto checklist = stored_checklist(*db, 1, tables, calendar, test_clock.now());
    const auto* o = checklist ? checklist->find(id) : nullptr;
    if (!o || o->state != policy::obligation_state::done) throw std::runtime_error("not done: " + r.dump());
    return id;
  }
  // The first item that may be marked done now.
  std::string a_pending_item() {
    const auto checklist = stored_checklist(*db, 1, tables, calendar, test_clock.now());
    for (const auto& o : checklist->items)
      if (o.state == policy::obligation_state::pending && o.ready) return o.id;
    throw std::runtime_error("nothing pending");
  }
  // A click on Mark done: from the App Home tab when `channel` is empty (Slack sends no channel
  // for a view), else from the card in that channel.
  void click(const std::string& user, const std::string& obligation, const std::string& channel = "") {
    block_action a;
    a.action_id = std::string{messages::mark_done_action};
    a.value = messages::mark_done_value(1, obligation);
    a.user_id = user;
    a.channel_id = channel;
    a.trigger_id = "T-click-" + std::to_string(++clicks);
    run(click_task(cmds.get(), std::move(a)));
  }
  static asio::awaitable<bool> click_task(incident_commands* c, block_action a) {
    co_await c->on_mark_done(std::move(a));
    co_return true;
  }
  std::vector<json> opened_views() const {
    std::vector<json> out;
    for (const auto& c : fake_slack.calls_to("views.open")) out.push_back(c.view);
    return out;
  }
  int clicks = 0;
};

TEST_F(mark_done_button_test, an_item_done_meanwhile_is_refused_on_the_app_home_tab_saying_by_whom) {
  const std::string done_id = incident_with_a_done_item();
  const auto completions = db->ledger_for(1).completions.size();
  const auto outbox_before = outbox().size();
  changed_ids.clear();

  click("U_SEC", done_id);
  const auto views = opened_views();
  ASSERT_EQ(views.size(), 1u) << "a notice where they clicked, not the form";
  const std::string shown = views[0].dump();
  EXPECT_EQ(views[0].value("callback_id", ""), "") << "nothing to submit: " << shown;
  EXPECT_NE(shown.find("already done by <@U_RESP>"), std::string::npos) << shown;
  EXPECT_NE(shown.find("nothing to do"), std::string::npos) << shown;
  EXPECT_EQ(db->ledger_for(1).completions.size(), completions) << "not recorded twice";
  EXPECT_EQ(outbox().size(), outbox_before) << "no ephemeral: the Home tab has no channel";
  EXPECT_EQ(changed_ids, std::vector<std::int64_t>{1}) << "the stale Home tab is drawn again";
}

TEST_F(mark_done_button_test, an_item_done_meanwhile_is_refused_on_the_card_with_an_ephemeral_reply) {
  const std::string done_id = incident_with_a_done_item();
  const auto outbox_before = outbox().size();
  click("U_SEC", done_id, "C_INCIDENTS");
  EXPECT_TRUE(opened_views().empty());
  const auto items = outbox();
  ASSERT_EQ(items.size(), outbox_before + 1);
  EXPECT_EQ(items.back().kind, "ephemeral");
  EXPECT_EQ(items.back().payload["user"], "U_SEC");
  // error_message() escapes the problem text but keeps user mentions: the name shows.
  EXPECT_NE(items.back().payload.dump().find("already done by <@U_RESP>"), std::string::npos)
      << items.back().payload.dump();
}

TEST_F(mark_done_button_test, an_item_of_an_incident_closed_meanwhile_is_refused_on_the_app_home_tab) {
  incident_with_a_done_item();
  test_clock.advance(1h);
  command("U_RESP", "resolve INC-1 rotated");
  const std::string pending = a_pending_item();
  const auto completions = db->ledger_for(1).completions.size();
  click("U_RESP", pending);
  const auto views = opened_views();
  ASSERT_EQ(views.size(), 1u);
  const std::string shown = views[0].dump();
  EXPECT_NE(shown.find("INC-1 was closed at 2026-11-20T11:00:00Z"), std::string::npos) << shown;
  EXPECT_NE(shown.find("/incident done INC-1 " + pending), std::string::npos) << shown;
  EXPECT_EQ(db->ledger_for(1).completions.size(), completions);

  // The card in the thread still opens the form: items can be owed after the close.
  click("U_RESP", pending, "C_INCIDENTS");
  ASSERT_EQ(opened_views().size(), 2u);
  EXPECT_EQ(opened_views()[1].value("callback_id", ""), std::string{messages::mark_done_callback});
}

TEST_F(mark_done_button_test, an_item_that_no_longer_exists_is_named_on_the_app_home_tab) {
  incident_with_a_done_item();
  click("U_RESP", "no-such-item");
  const auto views = opened_views();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_NE(views[0].dump().find("That checklist item of INC-1 no longer exists"), std::string::npos)
      << views[0].dump();
}

TEST_F(mark_done_button_test,
       a_form_submitted_after_someone_else_marked_the_item_done_is_refused_in_the_form) {
  command("U_ANY", "open Leaked token");
  command("U_RESP", "classify INC-1 critical confirmed");
  const std::string pending = a_pending_item();
  click("U_SEC", pending);  // the form opens: the item is still pending
  ASSERT_EQ(opened_views().size(), 1u);
  EXPECT_EQ(opened_views()[0].value("callback_id", ""), std::string{messages::mark_done_callback});

  command("U_RESP", "done INC-1 " + pending);  // meanwhile, someone else
  const auto completions = db->ledger_for(1).completions.size();
  view_submission v;
  v.callback_id = std::string{messages::mark_done_callback};
  v.user_id = "U_SEC";
  v.private_metadata = messages::mark_done_value(1, pending);
  v.values = json::object();
  v.values[std::string{messages::mark_done_evidence_block}][std::string{messages::mark_done_evidence_input}] =
      {{"type", "plain_text_input"}, {"value", "sent"}};
  const auto answer = run(cmds->on_mark_done_submission(std::move(v)));
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["response_action"], "errors");
  const std::string error = (*answer)["errors"][std::string{messages::mark_done_evidence_block}];
  EXPECT_NE(error.find("already done by <@U_RESP>"), std::string::npos) << error;
  EXPECT_EQ(db->ledger_for(1).completions.size(), completions) << "not recorded twice";
}

}  // namespace
}  // namespace flare::commands
