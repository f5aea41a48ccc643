// Issue 9 end to end: the real `flare` binary against the fake Slack. An obligation marked done by
// command and by the card's Mark done button and modal (views.open, then view_submission), the
// overdue badge on the card, a deadline move that needs --confirm and is then posted with its
// reason, later changes posted as a diff rather than the full decision, and reminders that stay
// quiet for an obligation once it is done. The bot runs on the real clock, so deadlines are put
// in the past (or a few seconds ahead) with confirmed-at=; every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <functional>
#include <thread>

#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using flare::testing::child_process;
using flare::testing::fake_slack;
using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::Not;

const std::string flare_binary = FLARE_BINARY;

// RFC 3339 UTC, to the second, `offset` from the wall clock the bot also reads.
std::string utc_in(std::chrono::seconds offset) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + offset);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string next_trigger_id() {
  static int interactions = 0;
  return "9.9." + std::to_string(++interactions);
}

json slash(const std::string& text, const std::string& user = "U0ALICE") {
  return {{"command", "/incident"},
          {"text", text},
          {"user_id", user},
          {"channel_id", "C0INC"},
          {"trigger_id", next_trigger_id()},
          {"response_url", "https://hooks.invalid/x"},
          {"team_id", "T0001"}};
}

json press(const std::string& action_id, const std::string& value, const std::string& user,
           const std::string& channel, const std::string& message_ts) {
  return {
      {"type", "block_actions"},
      {"user", {{"id", user}}},
      {"channel", {{"id", channel}}},
      {"container", {{"type", "message"}, {"channel_id", channel}, {"message_ts", message_ts}}},
      {"trigger_id", next_trigger_id()},
      {"actions",
       json::array({{{"type", "button"}, {"action_id", action_id}, {"block_id", "b"}, {"value", value}}})}};
}

// The Mark done modal submitted as Slack sends it (docs/slack.md §4): the view's state values
// keyed by block and action id.
json submit_mark_done(const json& view, const std::string& user, const std::string& at,
                      const std::string& evidence) {
  return {{"type", "view_submission"},
          {"user", {{"id", user}}},
          {"trigger_id", next_trigger_id()},
          {"view",
           {{"id", "V0MODAL"},
            {"callback_id", view.value("callback_id", "")},
            {"private_metadata", view.value("private_metadata", "")},
            {"state",
             {{"values",
               {{"done_at", {{"at", {{"type", "plain_text_input"}, {"value", at}}}}},
                {"done_evidence", {{"evidence", {{"type", "plain_text_input"}, {"value", evidence}}}}}}}}}}}};
}

json blocks_of(const json& post) {
  json blocks = post.value("blocks", json::array());
  if (blocks.is_string()) blocks = json::parse(blocks.get<std::string>(), nullptr, false);
  return blocks.is_array() ? blocks : json::array();
}

// The value of a button with `action_id` whose value contains `needle`, in actions blocks or
// section accessories.
std::string button_value(const json& post, const std::string& action_id, const std::string& needle = "") {
  auto matches = [&](const json& e) {
    return e.is_object() && e.value("action_id", "") == action_id &&
           e.value("value", "").find(needle) != std::string::npos;
  };
  for (const auto& b : blocks_of(post)) {
    if (b.contains("accessory") && matches(b["accessory"])) return b["accessory"].value("value", "");
    if (b.value("type", "") == "actions")
      for (const auto& e : b["elements"])
        if (matches(e)) return e.value("value", "");
  }
  return {};
}

std::optional<json> wait_for_post(const fake_slack& fake, const std::function<bool(const json&)>& pred,
                                  std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& p : fake.posted_messages())
      if (pred(p)) return p;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

std::function<bool(const json&)> with(const std::string& text) {
  return [=](const json& p) { return p.dump().find(text) != std::string::npos; };
}

std::size_t count_posts(const fake_slack& fake, const std::function<bool(const json&)>& pred) {
  std::size_t n = 0;
  for (const auto& p : fake.posted_messages()) n += pred(p);
  return n;
}

// The incident's card: the top-level message in the incidents channel whose header names it.
std::function<bool(const json&)> card_of(const std::string& reference) {
  return [=](const json& p) {
    return p.value("channel", "") == "C0INC" && p.value("thread_ts", "").empty() &&
           p.dump().find(reference + " ·") != std::string::npos;
  };
}

std::string reply_text(const std::optional<flare::testing::ack>& a) {
  return a && a->payload ? a->payload->dump() : std::string{};
}

class obligations_e2e : public testing::Test {
 protected:
  fake_slack fake;
  flare::testing::temp_dir dir{"flare-obligations"};
  std::unique_ptr<child_process> bot;

  void SetUp() override {
    fake.set_usergroup_members("S0RESP", {"U0ALICE"});
    fake.set_usergroup_members("S0SEC", {"U0SEC"});
    bot = std::make_unique<child_process>(
        flare_binary, std::vector<std::string>{"run"},
        std::map<std::string, std::string>{{"SLACK_APP_TOKEN", fake.options().app_token},
                                           {"SLACK_BOT_TOKEN", fake.options().bot_token},
                                           {"SLACK_API_URL", fake.api_url()},
                                           {"SLACK_CA_FILE", fake.ca_file()},
                                           {"FLARE_SLACK_INCIDENTS_CHANNEL", "C0INC"},
                                           {"FLARE_SLACK_SECURITY_CHANNEL", "G0SEC"},
                                           {"FLARE_SLACK_SECURITY_TEAM_GROUP", "S0SEC"},
                                           {"FLARE_SLACK_RESPONDERS_GROUP", "S0RESP"},
                                           {"FLARE_STORE_PATH", dir.file("flare.db")},
                                           {"FLARE_HEALTH_PORT", "0"},
                                           {"FLARE_SHUTDOWN_DRAIN_SECONDS", "3"}});
    ASSERT_TRUE(fake.wait_for_open_connections(1, 15s)) << bot->output();
  }
  void TearDown() override {
    bot->signal(SIGTERM);
    EXPECT_EQ(bot->wait(15s), 0) << bot->output();
  }

  // Runs a slash command and returns the ephemeral reply.
  std::string command(const std::string& text, const std::string& user = "U0ALICE") {
    return reply_text(fake.wait_for_ack(
        fake.send_envelope("slash_commands", slash(text, user), {.accepts_response_payload = true}), 10s));
  }

  // Opens INC-n and waits for its card.
  json open(const std::string& title, const std::string& reference) {
    const std::string reply = command("open " + title);
    EXPECT_THAT(reply, HasSubstr(reference)) << bot->output();
    const auto card = wait_for_post(fake, card_of(reference));
    EXPECT_TRUE(card) << bot->output();
    return card.value_or(json::object());
  }
};

TEST_F(obligations_e2e, done_by_command_and_by_the_cards_modal_shows_on_the_card_with_the_overdue_badge) {
  open("Exposed storage bucket", "INC-1");
  // Impact confirmed 50 h ago: the Critical row's 48 h initial notice is 2 h overdue.
  const std::string reply = command("classify INC-1 critical confirmed confirmed-at=" + utc_in(-50h));
  EXPECT_THAT(reply, HasSubstr("INC-1")) << reply;
  const auto overdue =
      wait_for_post(fake, [](const json& p) { return card_of("INC-1")(p) && with("OVERDUE by 2 h")(p); });
  ASSERT_TRUE(overdue) << "the card shows the overdue badge\n" << bot->output();
  EXPECT_THAT(overdue->dump(), HasSubstr("Paid-customer initial notice"));

  // Users confirmed affected: the administrators' e-mail is owed too (no fixed time).
  command("facts INC-1 users_affected=confirmed user_action_required=true --confirm");
  // By command, with evidence.
  EXPECT_THAT(command("done INC-1 admin note=\"sent from the CRM\""), HasSubstr("Marked"));
  ASSERT_TRUE(wait_for_post(fake, [](const json& p) {
    return card_of("INC-1")(p) && with("administrators* — done by <@U0ALICE>")(p) &&
           with("sent from the CRM")(p);
  })) << bot->output();

  // By the card's button and the modal.
  const auto card = wait_for_post(fake, card_of("INC-1"));
  ASSERT_TRUE(card);
  const std::string value = button_value(*card, "mark_done", "paid_initial_notice");
  ASSERT_FALSE(value.empty()) << card->dump();
  fake.send_envelope("interactive", press("mark_done", value, "U0ALICE", "C0INC", card->value("ts", "")));
  ASSERT_TRUE(fake.wait_for_calls("views.open", 1, 10s)) << bot->output();
  json view = fake.calls("views.open").back().body["view"];
  if (view.is_string()) view = json::parse(view.get<std::string>());
  EXPECT_EQ(view.value("callback_id", ""), "mark_done");

  // A time in the future is refused in the form, read back; nothing is recorded.
  const auto refused =
      fake.wait_for_ack(fake.send_envelope("interactive", submit_mark_done(view, "U0ALICE", utc_in(2h), ""),
                                           {.accepts_response_payload = true}),
                        10s);
  EXPECT_THAT(reply_text(refused), HasSubstr("errors")) << reply_text(refused);
  EXPECT_THAT(reply_text(refused), HasSubstr("in the future"));

  const auto accepted = fake.wait_for_ack(
      fake.send_envelope("interactive", submit_mark_done(view, "U0ALICE", "", "https://status.example/inc-1"),
                         {.accepts_response_payload = true}),
      10s);
  ASSERT_TRUE(accepted);
  EXPECT_THAT(reply_text(accepted), Not(HasSubstr("errors"))) << reply_text(accepted);
  const auto done = wait_for_post(fake, [](const json& p) {
    return card_of("INC-1")(p) && with("Paid-customer initial notice* — done by <@U0ALICE>")(p);
  });
  ASSERT_TRUE(done) << bot->output();
  EXPECT_THAT(done->dump(), HasSubstr("https://status.example/inc-1"));
  EXPECT_THAT(done->dump(), Not(HasSubstr("OVERDUE by"))) << "nothing else on the card is overdue";
  // The thread hears only what changed.
  EXPECT_TRUE(wait_for_post(fake, with("*Paid-customer initial notice* is done"))) << bot->output();
}

TEST_F(obligations_e2e, the_card_posted_at_open_shows_the_checklist_before_any_classification) {
  const json card = open("Laptop stolen from a car", "INC-1");
  EXPECT_THAT(card.dump(), HasSubstr("*Obligations*"));
  EXPECT_THAT(card.dump(), HasSubstr("Not classified yet"));
  EXPECT_THAT(card.dump(), Not(HasSubstr("No decision yet")));
  EXPECT_FALSE(button_value(card, "mark_done", "bulletin").empty()) << card.dump();
  ASSERT_EQ(fake.calls("chat.update").size(), 0u) << "this is the post, not a later edit";
}

TEST_F(obligations_e2e, a_deadline_move_needs_confirm_and_is_then_posted_with_its_reason) {
  open("Token in a public repository", "INC-1");
  command("classify INC-1 high confirmed confirmed-at=" + utc_in(-2h));
  ASSERT_TRUE(wait_for_post(fake, with("disclosure decision"))) << bot->output();
  const std::size_t posts_before = fake.posted_messages().size();

  // Another impact time moves the running 72 h clock: refused until confirmed.
  const std::string earlier = utc_in(-30h);
  const std::string asked = command("facts INC-1 impact_confirmed_at=" + earlier);
  EXPECT_THAT(asked, HasSubstr("--confirm")) << asked;
  EXPECT_THAT(asked, HasSubstr("confirm_deadline_move"));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(count_posts(fake, with("deadline moved from")), 0u) << "nothing changes unconfirmed";
  EXPECT_THAT(asked, HasSubstr("Paid-customer initial notice"));

  const std::string confirmed = command("facts INC-1 impact_confirmed_at=" + earlier + " --confirm");
  EXPECT_THAT(confirmed, Not(HasSubstr("confirm_deadline_move"))) << confirmed;
  // The diff says the deadline moved; the notice says why and who confirmed it.
  const auto moved =
      wait_for_post(fake, [](const json& p) { return with("deadline moved from")(p) && with("because")(p); });
  ASSERT_TRUE(moved) << bot->output();
  EXPECT_THAT(moved->dump(), HasSubstr("Paid-customer initial notice"));
  EXPECT_THAT(moved->dump(), HasSubstr("because"));
  EXPECT_THAT(moved->dump(), HasSubstr("<@U0ALICE>"));
  EXPECT_GT(fake.posted_messages().size(), posts_before);
}

TEST_F(obligations_e2e, later_changes_post_only_what_changed_not_the_full_decision_again) {
  open("Suspicious admin logins", "INC-1");
  command("classify INC-1 critical confirmed confirmed-at=" + utc_in(-1h));
  ASSERT_TRUE(wait_for_post(fake, with("disclosure decision"))) << bot->output();
  // --confirm: adding the free tier may touch a running clock; this test is about the diff.
  command("facts INC-1 fix_available=true customers=paid,free free_tier_directly_impacted=true --confirm");
  const auto diff = wait_for_post(fake, with("*What changed*"));
  ASSERT_TRUE(diff) << bot->output();
  EXPECT_THAT(diff->dump(), HasSubstr("E-mail to free-tier users"));
  command("facts INC-1 data_exposed=confirmed");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(count_posts(fake, with("disclosure decision")), 1u) << "the full decision is posted once";
  // The card carries the full current state.
  const auto card = wait_for_post(
      fake, [](const json& p) { return card_of("INC-1")(p) && with("E-mail to free-tier users")(p); });
  EXPECT_TRUE(card) << bot->output();
}

TEST_F(obligations_e2e, an_obligation_marked_done_gets_no_reminder_while_one_left_open_does) {
  // Both initial notices fall due a few seconds from now ("at the deadline" step); INC-1's is
  // marked done first.
  open("Leaked credentials (handled)", "INC-1");
  open("Leaked credentials (not handled)", "INC-2");
  const std::string confirmed_at = utc_in(-48h + 6s);
  command("classify INC-1 critical confirmed confirmed-at=" + confirmed_at);
  command("classify INC-2 critical confirmed confirmed-at=" + confirmed_at);
  EXPECT_THAT(command("done INC-1 notice"), HasSubstr("Marked"));

  const auto reminder = wait_for_post(
      fake, [](const json& p) { return with("at the deadline")(p) && with("INC-2")(p); }, 25s);
  ASSERT_TRUE(reminder) << "the open obligation is reminded\n" << bot->output();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(count_posts(fake, [](const json& p) { return with("at the deadline")(p) && with("INC-1")(p); }),
            0u)
      << "the done one is not";
}

}  // namespace
