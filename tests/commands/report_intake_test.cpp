// Report intake against a real SQLite store, a manual clock, the real incident_commands and a
// recording Slack double (tests/support), which records views.open and answers user-group
// lookups from a table. Every post goes through the outbox, so the outbox is what these tests
// read.
#include "commands/report_intake.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <stdexcept>

#include "bot/ops/config.hpp"
#include "bot/store/sqlite_store.hpp"
#include "commands/incident_checklist.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/recording_slack.hpp"

namespace flare::commands {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

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
  if (!result) throw std::runtime_error("the handler did not finish");
  return std::move(*result);
}

void run(asio::awaitable<void> task) {
  run([](asio::awaitable<void> t) -> asio::awaitable<int> {
    co_await std::move(t);
    co_return 0;
  }(std::move(task)));
}

class report_intake_test : public ::testing::Test {
 protected:
  report_intake_test()
      : dir(make_dir()),
        db(store::sqlite_store::open((dir / "flare.db").string(),
                                     store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        test_clock(*policy::parse_rfc3339("2026-11-20T10:00:00Z")),
        calendar(tables.calendar) {
    fake_slack.usergroups = {{"S_RESP", {"U_RESP"}}, {"S_SEC", {"U_SEC"}}};
    command_settings cs{"C_INCIDENTS", "C_SECURITY", "S_RESP", "S_SEC", "/incident"};
    cmds = std::make_unique<incident_commands>(
        command_context{*db, fake_slack, test_clock, tables, calendar, cs, [this] { ++wakes; },
                        [this](std::int64_t id) { changed_ids.push_back(id); }});
    const auto cfg = default_config();
    settings = intake_settings{
        "C_INCIDENTS", "C_SECURITY", "S_SEC", "U_HEAD", "/incident", cfg.signals, cfg.sensitive_categories};
    settings.responders_group = "S_RESP";
    make_intake();
  }
  void make_intake() {
    intake_cmds =
        std::make_unique<report_intake>(*db, fake_slack, test_clock, *cmds, settings, [this] { ++wakes; });
    intake_cmds->set_bot_identity("U0BOT", "B0BOT");
  }
  ~report_intake_test() override {
    intake_cmds.reset();
    cmds.reset();
    db.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flare-intake-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
  }

  static message_event report(std::string text, std::string ts = "1700000000.000100",
                              std::string channel = "C_INCIDENTS", std::string user = "U_REP") {
    message_event e;
    e.event_id = "Ev" + ts;
    e.type = "message";
    e.channel = std::move(channel);
    e.channel_type = e.channel.starts_with("D") ? "im" : "channel";
    e.user = std::move(user);
    e.text = std::move(text);
    e.ts = std::move(ts);
    return e;
  }

  void send(message_event e) { run(intake_cmds->on_message(std::move(e))); }
  std::vector<store::outbox_item> outbox() { return db->pending_outbox(1000); }
  static std::string shown(const store::outbox_item& i) {
    return i.payload.value("text", "") + i.payload.value("blocks", json::array()).dump();
  }
  std::vector<store::outbox_item> in_channel(const std::string& channel) {
    std::vector<store::outbox_item> out;
    for (auto& i : outbox())
      if (i.payload.value("channel", "") == channel) out.push_back(i);
    return out;
  }
  static block_action button(std::string action_id, std::string value, std::string user,
                             std::string channel = "C_INCIDENTS") {
    return block_action{std::move(action_id),
                        "b",
                        std::move(value),
                        std::move(user),
                        std::move(channel),
                        "1.2",
                        "",
                        "trig-" + std::to_string(++counter)};
  }
  static std::string button_value(const store::outbox_item& item, const std::string& action_id) {
    for (const auto& b : item.payload["blocks"])
      if (b["type"] == "actions")
        for (const auto& e : b["elements"])
          if (e["action_id"] == action_id) return e["value"];
    return {};
  }

  inline static int counter = 0;
  std::filesystem::path dir;
  std::unique_ptr<store::sqlite_store> db;
  manual_clock test_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  flare::testing::recording_slack fake_slack;
  int wakes = 0;
  std::vector<std::int64_t> changed_ids;
  std::unique_ptr<incident_commands> cmds;
  intake_settings settings;
  std::unique_ptr<report_intake> intake_cmds;
};

TEST_F(report_intake_test, report_gets_one_threaded_reply_with_signals_and_button) {
  send(report("We got a phishing mail and then a password reset notification"));
  const auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].idempotency_key, "report-reply:C_INCIDENTS:1700000000.000100");
  EXPECT_EQ(items[0].payload["channel"], "C_INCIDENTS");
  EXPECT_EQ(items[0].payload["thread_ts"], "1700000000.000100");
  EXPECT_NE(shown(items[0]).find("phishing, unrequested password reset"), std::string::npos)
      << shown(items[0]);
  EXPECT_FALSE(button_value(items[0], "open_incident").empty());
  EXPECT_EQ(wakes, 1);
}

TEST_F(report_intake_test, redeliveries_and_app_mention_of_the_same_message_reply_once) {
  auto e = report("<@U0BOT> the website was defaced");
  send(e);
  send(e);  // redelivery (the dispatcher's event_id de-dup aside)
  auto mention = e;
  mention.type = "app_mention";
  mention.event_id = "Ev-other";
  send(mention);
  EXPECT_EQ(outbox().size(), 1u);
}

TEST_F(report_intake_test, ignores_bots_own_posts_edits_subtypes_other_channels_and_thread_replies) {
  auto own = report("phishing", "1.1");
  own.user = "U0BOT";
  send(own);
  auto bot = report("phishing", "1.2");
  bot.bot_id = "B_OTHER";
  send(bot);
  auto edited = report("phishing", "1.3");
  edited.edited = true;
  send(edited);
  auto join = report("<@U_NEW|new> has joined the channel", "1.4");
  join.subtype = "channel_join";
  send(join);
  auto changed = report("phishing", "1.5");
  changed.subtype = "message_changed";
  send(changed);
  send(report("phishing", "1.6", "C_GENERAL"));
  auto reply = report("phishing again", "1.8");
  reply.thread_ts = "1.7";
  send(reply);
  EXPECT_TRUE(outbox().empty());
}

TEST_F(report_intake_test, thread_mention_asks_for_status) {
  send(report("phishing", "1.1"));
  auto ask = report("<@U0BOT> status?", "1.2");
  ask.thread_ts = "1.1";
  send(ask);
  auto items = in_channel("C_INCIDENTS");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].payload["thread_ts"], "1.1");
  EXPECT_NE(shown(items[1]).find("No incident is linked"), std::string::npos);

  run(intake_cmds->on_open_incident(
      button("open_incident", button_value(items[0], "open_incident"), "U_RESP")));
  auto again = report("<@U0BOT> status?", "1.3");
  again.thread_ts = "1.1";
  send(again);
  const auto last = outbox().back();
  EXPECT_EQ(last.idempotency_key, "status-reply:C_INCIDENTS:1.3");
  EXPECT_NE(shown(last).find("INC-1"), std::string::npos);
}

TEST_F(report_intake_test, open_incident_button_is_for_responders_and_links_the_report) {
  send(report("a DDoS on the API", "1.1"));
  const auto value = button_value(outbox()[0], "open_incident");
  run(intake_cmds->on_open_incident(button("open_incident", value, "U_ANY")));
  EXPECT_FALSE(db->find_incident(1));
  EXPECT_NE(shown(outbox().back()).find("not authorised"), std::string::npos) << shown(outbox().back());
  EXPECT_EQ(outbox().back().kind, "ephemeral");

  run(intake_cmds->on_open_incident(button("open_incident", value, "U_RESP")));
  const auto inc = db->find_incident_by_report("C_INCIDENTS", "1.1");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->title, "a DDoS on the API");
  EXPECT_EQ(inc->thread_ts, "1.1");
  EXPECT_FALSE(inc->sensitive);
}

TEST_F(report_intake_test, sensitive_report_echoes_nothing_in_public_and_pings_security) {
  send(report("My colleague is harassing me and sent threats about my password reset", "1.1"));
  for (const auto& i : in_channel("C_INCIDENTS")) {
    const auto text = shown(i);
    EXPECT_EQ(text.find("harass"), std::string::npos) << text;
    EXPECT_EQ(text.find("password"), std::string::npos) << text;
    EXPECT_EQ(text.find("open_incident"), std::string::npos) << text;
  }
  const auto items = outbox();
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(shown(items[0]).find("Received. The Security Team has it."), 0u);
  EXPECT_EQ(items[1].kind, "ephemeral");
  EXPECT_EQ(items[1].payload["user"], "U_REP");
  EXPECT_NE(shown(items[1]).find("direct message"), std::string::npos);
  EXPECT_EQ(items[2].payload["dm_user"], "U_HEAD") << "harassment reaches the Head of F&O by DM";
  EXPECT_NE(shown(items[2]).find("harassing"), std::string::npos);
  EXPECT_EQ(items[3].payload["channel"], "C_SECURITY");
  const auto ping = shown(items[3]);
  EXPECT_NE(ping.find("<!subteam^S_SEC>"), std::string::npos);
  EXPECT_NE(ping.find("<@U_HEAD>"), std::string::npos) << "harassment and threats also go to the Head of F&O";
  EXPECT_NE(ping.find("harassing"), std::string::npos);
  // The button there opens a sensitive incident.
  run(intake_cmds->on_open_incident(
      button("open_incident", button_value(items[3], "open_incident"), "U_SEC", "C_SECURITY")));
  const auto inc = db->find_incident_by_report("C_INCIDENTS", "1.1");
  ASSERT_TRUE(inc);
  EXPECT_TRUE(inc->sensitive);
  EXPECT_EQ(inc->channel, "C_SECURITY");
  EXPECT_EQ(inc->reporter, "U_REP") << "the report's author, not the Security Team member who clicked";
  EXPECT_EQ(db->audit_for(inc->id).front().actor, "U_SEC") << "the clicker is the opener";
}

TEST_F(report_intake_test, theft_goes_to_security_team_only) {
  send(report("Someone stole my badge, theft from the office", "1.1"));
  const auto ping = shown(in_channel("C_SECURITY").at(0));
  EXPECT_NE(ping.find("<!subteam^S_SEC>"), std::string::npos);
  EXPECT_EQ(ping.find("<@U_HEAD>"), std::string::npos);
  for (const auto& i : outbox()) EXPECT_FALSE(i.payload.contains("dm_user")) << shown(i);
}

TEST_F(report_intake_test, which_categories_reach_the_head_of_finance_ops_is_config) {
  settings.head_of_finance_ops_categories = {"theft"};
  make_intake();
  send(report("Someone stole my badge, theft from the office", "1.1"));
  send(report("My colleague is harassing me", "1.2"));
  std::vector<std::string> dms;
  for (const auto& i : outbox())
    if (i.payload.contains("dm_user")) dms.push_back(i.idempotency_key);
  EXPECT_EQ(dms, std::vector<std::string>{"report-hofo:C_INCIDENTS:1.1"});
}

TEST_F(report_intake_test, chatter_gets_no_reply) {
  for (const char* chatter : {"thanks!", "ok", "good morning all", "how does the incident process work?"})
    send(report(chatter, std::string{"1."} + std::to_string(++counter)));
  EXPECT_TRUE(outbox().empty()) << shown(outbox().front());
}

TEST_F(report_intake_test, public_report_pings_responders_in_its_thread_unless_switched_off) {
  send(report("a DDoS on the API", "1.1"));
  const auto reply = outbox().at(0);
  EXPECT_EQ(reply.payload["thread_ts"], "1.1");
  EXPECT_NE(shown(reply).find("<!subteam^S_RESP>"), std::string::npos) << shown(reply);
  EXPECT_FALSE(button_value(reply, "report_sensitive").empty());

  settings.page_responders = false;
  make_intake();
  send(report("a DDoS on the API again", "1.2"));
  EXPECT_EQ(shown(outbox().at(1)).find("subteam"), std::string::npos) << shown(outbox().at(1));
}

TEST_F(report_intake_test, sensitive_report_in_public_pages_nobody_there) {
  send(report("My colleague is harassing me", "1.1"));
  for (const auto& i : in_channel("C_INCIDENTS")) EXPECT_EQ(shown(i).find("subteam"), std::string::npos);
}

TEST_F(report_intake_test, this_is_sensitive_moves_the_report_to_the_private_route) {
  send(report("a DDoS on the API, details from Zed", "1.1"));
  const auto value = button_value(outbox().at(0), "report_sensitive");
  ASSERT_FALSE(value.empty());
  auto press = [&](const std::string& user) {
    auto a = button("report_sensitive", value, user);
    a.message_ts = "1.1.reply";
    run(intake_cmds->on_mark_sensitive(a));
  };
  press("U_OTHER");  // neither the reporter nor the Security Team
  EXPECT_EQ(outbox().size(), 2u);
  EXPECT_EQ(outbox().back().kind, "ephemeral");
  EXPECT_NE(shown(outbox().back()).find("Only the person who reported this"), std::string::npos);

  press("U_REP");
  const auto items = outbox();
  const store::outbox_item* edit = nullptr;
  const store::outbox_item* ping = nullptr;
  const store::outbox_item* dm = nullptr;
  for (const auto& i : items) {
    if (i.kind == "update") edit = &i;
    if (i.payload.value("channel", "") == "C_SECURITY") ping = &i;
    if (i.payload.value("dm_user", "") == "U_REP") dm = &i;
  }
  ASSERT_TRUE(edit && ping && dm);
  EXPECT_EQ(edit->payload["channel"], "C_INCIDENTS");
  EXPECT_EQ(edit->payload["ts"], "1.1.reply");
  EXPECT_EQ(shown(*edit).find("Received"), 0u);
  EXPECT_EQ(shown(*edit).find("DDoS"), std::string::npos);
  EXPECT_NE(shown(*ping).find("<!subteam^S_SEC>"), std::string::npos);
  EXPECT_NE(shown(*ping).find("details from Zed"), std::string::npos);
  EXPECT_NE(shown(*dm).find("delete it yourself"), std::string::npos);
  const auto count = outbox().size();

  press("U_REP");  // pressed twice (or redelivered): nothing new but the confirmation
  EXPECT_EQ(outbox().size(), count + 1);
  EXPECT_EQ(outbox().back().kind, "ephemeral");

  // The Security Team may press it too; the reporter recorded is still the author.
  send(report("a DDoS on the API, second", "1.2"));
  auto a = button("report_sensitive", button_value(outbox().back(), "report_sensitive"), "U_SEC");
  run(intake_cmds->on_mark_sensitive(a));
  bool pinged = false;
  for (const auto& i : outbox())
    if (i.idempotency_key == "report-security:C_INCIDENTS:1.2") {
      pinged = true;
      run(intake_cmds->on_open_incident(
          button("open_incident", button_value(i, "open_incident"), "U_SEC", "C_SECURITY")));
    }
  ASSERT_TRUE(pinged);
  const auto inc = db->find_incident_by_report("C_INCIDENTS", "1.2");
  ASSERT_TRUE(inc);
  EXPECT_TRUE(inc->sensitive);
  EXPECT_EQ(inc->reporter, "U_REP");
}

TEST_F(report_intake_test, mention_elsewhere_gets_a_private_pointer_and_repeats_nothing) {
  auto e = report("<@U0BOT> someone is harassing me in this channel", "1.1", "C_GENERAL");
  e.type = "app_mention";
  send(e);
  auto same = e;
  same.type = "message";  // the message event for the same post
  send(same);
  const auto items = outbox();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, "ephemeral");
  EXPECT_EQ(items[0].payload["user"], "U_REP");
  EXPECT_NE(shown(items[0]).find("<#C_INCIDENTS>"), std::string::npos);
  EXPECT_NE(shown(items[0]).find("direct message"), std::string::npos);
  EXPECT_EQ(shown(items[0]).find("harass"), std::string::npos);
}

TEST_F(report_intake_test, open_incident_from_a_public_report_records_author_as_reporter) {
  send(report("a DDoS on the API", "1.1"));
  run(intake_cmds->on_open_incident(
      button("open_incident", button_value(outbox()[0], "open_incident"), "U_RESP")));
  const auto inc = db->find_incident_by_report("C_INCIDENTS", "1.1");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->reporter, "U_REP");
  const auto audit = db->audit_for(inc->id);
  EXPECT_EQ(audit.front().actor, "U_RESP");
  EXPECT_EQ(audit.front().details["inputs"]["opener"], "U_RESP");
}

TEST_F(report_intake_test, the_recognisers_proposed_kind_rides_the_button_into_the_incident) {
  send(report("My colleague is harassing me at the offsite", "1.1"));
  for (const auto& i : in_channel("C_SECURITY"))
    run(intake_cmds->on_open_incident(
        button("open_incident", button_value(i, "open_incident"), "U_SEC", "C_SECURITY")));
  const auto harassment = db->find_incident_by_report("C_INCIDENTS", "1.1");
  ASSERT_TRUE(harassment);
  EXPECT_EQ(db->ledger_for(harassment->id).kind, "people_and_safety");
  EXPECT_EQ(kind_proposal(db->ledger_for(harassment->id)), "people_and_safety");

  send(report("a DDoS on the API", "1.2"));
  for (const auto& i : in_channel("C_INCIDENTS")) {
    const std::string value = button_value(i, "open_incident");
    if (!value.empty() && value.find("1.2") != std::string::npos)
      run(intake_cmds->on_open_incident(button("open_incident", value, "U_RESP")));
  }
  const auto ddos = db->find_incident_by_report("C_INCIDENTS", "1.2");
  ASSERT_TRUE(ddos);
  EXPECT_EQ(db->ledger_for(ddos->id).kind, "security");
}

TEST_F(report_intake_test, reporter_sees_their_own_sensitive_incident) {
  send(report("My colleague is harassing me at the offsite", "1.1"));
  for (const auto& i : in_channel("C_SECURITY"))
    run(intake_cmds->on_open_incident(
        button("open_incident", button_value(i, "open_incident"), "U_SEC", "C_SECURITY")));
  auto shown_to = [&](const std::string& user, const std::string& text) {
    return run(cmds->handle(slash_command{"/incident", text, user, "C_INCIDENTS", "t", ""})).dump();
  };
  EXPECT_NE(shown_to("U_REP", "show INC-1").find("offsite"), std::string::npos);
  EXPECT_NE(shown_to("U_REP", "list").find("offsite"), std::string::npos);
  EXPECT_EQ(shown_to("U_OTHER", "show INC-1").find("offsite"), std::string::npos);
}

TEST_F(report_intake_test, dm_that_is_not_a_report_asks_with_two_buttons) {
  send(report("hi, quick thing", "1.1", "D_REP"));
  ASSERT_EQ(outbox().size(), 1u);
  const auto ask = outbox()[0];
  EXPECT_EQ(ask.payload["channel"], "D_REP");
  const auto value = button_value(ask, "dm_report_privately");
  ASSERT_FALSE(value.empty());
  EXPECT_EQ(button_value(ask, "dm_just_a_question"), value);
  EXPECT_FALSE(db->find_incident(1));
  EXPECT_TRUE(in_channel("C_SECURITY").empty()) << "nobody is paged for an unclear DM";

  auto a = button("dm_just_a_question", value, "U_REP", "D_REP");
  a.message_ts = "1.1.ask";
  run(intake_cmds->on_dm_question(a));
  EXPECT_EQ(outbox().back().kind, "update");
  EXPECT_EQ(outbox().back().payload["ts"], "1.1.ask");
  EXPECT_FALSE(db->find_incident(1));

  send(report("hi again, a thing to tell you", "1.2", "D_REP"));
  auto report_it =
      button("dm_report_privately", button_value(outbox().back(), "dm_report_privately"), "U_REP", "D_REP");
  report_it.message_ts = "1.2.ask";
  run(intake_cmds->on_dm_report(report_it));
  run(intake_cmds->on_dm_report(report_it));  // pressed twice
  const auto inc = db->find_incident_by_report("D_REP", "1.2");
  ASSERT_TRUE(inc);
  EXPECT_TRUE(inc->sensitive);
  EXPECT_EQ(inc->reporter, "U_REP");
  EXPECT_EQ(db->list_incidents(false, 10).size(), 1u);
  ASSERT_EQ(in_channel("C_SECURITY").size(), 2u);  // the card and the ping
  EXPECT_NE(shown(in_channel("C_SECURITY")[1]).find("a thing to tell you"), std::string::npos);
}

TEST_F(report_intake_test, dm_follow_ups_join_the_open_incident_and_page_nobody) {
  send(report("I clicked a link in a phishing email on my laptop", "1.1", "D_REP"));
  const auto pages = [&] {
    int n = 0;
    for (const auto& i : outbox()) n += shown(i).find("subteam") != std::string::npos;
    return n;
  };
  const int pages_before = pages();
  send(report("also, my password reset mail came from a phishing site", "1.2", "D_REP"));
  send(report("thanks", "1.3", "D_REP"));
  EXPECT_EQ(db->list_incidents(false, 10).size(), 1u);
  EXPECT_EQ(pages(), pages_before);
  int follow_ups = 0;
  for (const auto& i : outbox())
    if (i.idempotency_key.starts_with("dm-follow-up:")) {
      ++follow_ups;
      EXPECT_EQ(i.payload["thread_of_incident"], 1);
      EXPECT_EQ(i.payload["channel"], "C_SECURITY");
      EXPECT_EQ(i.incident_id, 1);
    }
  EXPECT_EQ(follow_ups, 2);
  EXPECT_NE(shown(outbox().back()).find("Added to your report INC-1"), std::string::npos);

  // Once it is resolved, a new DM is a new conversation again.
  run(cmds->handle(slash_command{"/incident", "resolve INC-1 done", "U_SEC", "C_SECURITY", "t", ""}));
  send(report("hello", "1.4", "D_REP"));
  EXPECT_FALSE(button_value(outbox().back(), "dm_report_privately").empty());
}

TEST_F(report_intake_test, dm_report_is_acknowledged_privately_forwarded_and_opened_sensitive) {
  send(report("I clicked a link in a phishing email on my laptop", "1.1", "D_REP"));
  const auto inc = db->find_incident_by_report("D_REP", "1.1");
  ASSERT_TRUE(inc);
  EXPECT_TRUE(inc->sensitive);
  EXPECT_EQ(inc->channel, "C_SECURITY");
  const auto dm = in_channel("D_REP");
  ASSERT_FALSE(dm.empty());
  EXPECT_NE(shown(dm[0]).find("Only the Security Team sees it"), std::string::npos);
  bool forwarded = false;
  for (const auto& i : in_channel("C_SECURITY"))
    if (i.idempotency_key == "report-security:D_REP:1.1") {
      forwarded = true;
      EXPECT_NE(shown(i).find("by direct message"), std::string::npos);
      EXPECT_NE(shown(i).find("INC-1"), std::string::npos);
    }
  EXPECT_TRUE(forwarded);
  EXPECT_TRUE(in_channel("C_INCIDENTS").empty()) << "nothing about a DM report in public";
  send(report("I clicked a link in a phishing email on my laptop", "1.1", "D_REP"));  // redelivery
  EXPECT_EQ(db->list_incidents(false, 10).size(), 1u);
}

TEST_F(report_intake_test, mark_notified_records_a_notification_like_the_command) {
  run(cmds->handle(slash_command{"/incident", "open Key leak", "U_RESP", "C_INCIDENTS", "t", ""}));
  run(cmds->handle(
      slash_command{"/incident", "classify INC-1 critical confirmed", "U_RESP", "C_INCIDENTS", "t", ""}));
  changed_ids.clear();
  run(intake_cmds->on_mark_notified(button("mark_notified", "1", "U_ANY")));
  EXPECT_TRUE(changed_ids.empty()) << "refused for non-responders";
  run(intake_cmds->on_mark_notified(button("mark_notified", "1", "U_RESP")));
  EXPECT_EQ(changed_ids, std::vector<std::int64_t>{1});
  // Recorded on the checklist as the initial notice, done by the person who pressed the button.
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 1u);
  EXPECT_EQ(ledger.completions[0]["obligation"], "paid_initial_notice");
  EXPECT_EQ(ledger.completions[0]["by"], "U_RESP");
}

// The button's reply names what is still pending next on the checklist ledger: here the initial
// notice was marked done by command, so the button records Customer update 1 and the reply
// names update 2, due one Critical interval (24 h) after the update actually sent. The decision's
// schedule knows nothing of the ledger and would still call the initial notice due.
TEST_F(report_intake_test, the_mark_notified_reply_names_what_the_checklist_has_pending_next) {
  run(cmds->handle(slash_command{"/incident", "open Key leak", "U_RESP", "C_INCIDENTS", "t", ""}));
  run(cmds->handle(
      slash_command{"/incident", "classify INC-1 critical confirmed", "U_RESP", "C_INCIDENTS", "t", ""}));
  test_clock.advance(std::chrono::hours(2));
  run(cmds->handle(slash_command{"/incident", "done INC-1 notice", "U_RESP", "C_INCIDENTS", "t2", ""}));
  test_clock.advance(std::chrono::hours(3));  // Fri 20 Nov, 15:00 UTC
  const auto press = button("mark_notified", "1", "U_RESP");
  run(intake_cmds->on_mark_notified(press));
  const auto ledger = db->ledger_for(1);
  ASSERT_EQ(ledger.completions.size(), 2u);
  EXPECT_EQ(ledger.completions[1]["obligation"], "update:1");
  std::string reply;
  for (const auto& item : outbox())
    if (item.idempotency_key == "action-reply:" + press.trigger_id) reply = shown(item);
  EXPECT_NE(reply.find("Marked Customer update 1 done for INC-1 at Fri 20 Nov, 15:00 UTC"), std::string::npos)
      << reply;
  EXPECT_NE(reply.find("Next: Customer update 2, due Sat 21 Nov, 15:00 UTC"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("initial"), std::string::npos) << reply;
}

TEST_F(report_intake_test, post_update_opens_the_modal_first_and_submission_posts_the_update) {
  run(cmds->handle(slash_command{"/incident", "open Key leak", "U_RESP", "C_INCIDENTS", "t", ""}));
  run(intake_cmds->on_post_update(button("post_update", "1", "U_RESP")));
  const auto views = fake_slack.calls_to("views.open");
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].view["callback_id"], "post_update");
  EXPECT_EQ(views[0].view["private_metadata"], "1");

  view_submission v{"post_update", "U_RESP", "V1", "1", json::object()};
  auto r = run(intake_cmds->on_post_update_submission(v));
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["response_action"], "errors");
  EXPECT_TRUE((*r)["errors"].contains("update_text"));

  v.values = {{"update_text", {{"text", {{"type", "plain_text_input"}, {"value", "Rotated the key"}}}}}};
  v.user_id = "U_ANY";
  r = run(intake_cmds->on_post_update_submission(v));
  ASSERT_TRUE(r) << "non-responders are refused in the form";
  v.user_id = "U_RESP";
  r = run(intake_cmds->on_post_update_submission(v));
  EXPECT_FALSE(r);
  EXPECT_NE(shown(outbox().back()).find("Rotated the key"), std::string::npos);
}

TEST_F(report_intake_test, post_update_with_an_expired_trigger_explains_the_fallback) {
  fake_slack.fail("views.open", slack::api_error{"expired_trigger_id", "", false});
  run(intake_cmds->on_post_update(button("post_update", "1", "U_RESP")));
  const auto last = outbox().back();
  EXPECT_EQ(last.kind, "ephemeral");
  EXPECT_NE(shown(last).find("/incident update INC-1"), std::string::npos);
}

}  // namespace
}  // namespace flare::commands
