#include "messages/checklist_view.hpp"

#include <gtest/gtest.h>

#include "block_kit_check.hpp"
#include "messages/decision_post.hpp"
#include "messages/time_text.hpp"

namespace flare::messages {
namespace {

using testing::all_text;
using testing::at;
using testing::contains;
using testing::expect_valid;

const date::time_zone* berlin() { return date::locate_zone("Europe/Berlin"); }

policy::facts critical() {
  policy::facts f;
  f.severity = policy::severity::critical;
  f.classification = policy::classification::confirmed;
  f.impact_confirmed_at = at("2026-11-29T11:00:00Z");
  f.user_action_required = true;
  f.users_affected = policy::tristate::confirmed;
  return f;
}

policy::checklist derive(const policy::facts& f, const policy::checklist_input& in = {}) {
  const policy::tables t;
  const policy::business_calendar cal;
  return policy::derive_checklist(f, policy::decide(f, t, cal), t, cal, in, at("2026-12-01T10:00:00Z"));
}

incident_view incident() {
  incident_view v;
  v.reference = "INC-7";
  v.title = "Leaked <token> & more";
  v.severity = "critical";
  v.created_at = at("2026-11-29T10:00:00Z");
  return v;
}

TEST(time_text, local_time_with_countdown_and_overdue_badge) {
  const auto now = at("2026-12-01T10:00:00Z");
  EXPECT_EQ(due_text(at("2026-12-01T13:00:00Z"), berlin(), now), "Tue 1 Dec, 14:00 CET, in 3 h");
  EXPECT_EQ(due_text(at("2026-12-01T05:00:00Z"), berlin(), now), "Tue 1 Dec, 06:00 CET, *OVERDUE by 5 h*");
  EXPECT_EQ(overdue_text(at("2026-12-01T05:00:00Z"), now), "OVERDUE by 5 h");
  EXPECT_EQ(local_time_text(at("2027-12-01T13:00:00Z"), berlin(), now), "Wed 1 Dec 2027, 14:00 CET");
  EXPECT_EQ(local_time_text(at("2026-12-01T13:00:00Z"), nullptr, now), "Tue 1 Dec, 13:00 UTC");
  EXPECT_EQ(countdown_text(at("2026-12-03T14:30:00Z"), now), "in 2 d 4 h");
  EXPECT_EQ(countdown_text(now, now), "now");
}

TEST(checklist_view, card_shows_done_pending_overdue_and_not_needed_items) {
  policy::checklist_input in;
  in.completions = {{"admin_email", "U123", at("2026-11-30T13:00:00Z"), "https://mail/1"}};
  const auto c = derive(critical(), in);
  const auto m = incident_card(incident(), nullptr, c, 7, berlin(), at("2026-12-01T16:00:00Z"));
  expect_valid(m);
  const auto text = all_text(m);
  EXPECT_TRUE(contains(text, "done by <@U123>, Mon 30 Nov, 14:00 CET (https://mail/1)")) << text;
  EXPECT_TRUE(contains(text, "due Tue 1 Dec, 12:00 CET, *OVERDUE by 5 h*")) << text;  // 48 h after impact
  EXPECT_TRUE(contains(text, "waiting for: a fix to be available")) << text;
  EXPECT_FALSE(contains(text, "<token>"));
  // Every pending item has a Mark done button carrying the incident and obligation ids.
  bool button = false;
  for (const auto& b : m.blocks) {
    if (b.contains("accessory") && b["accessory"]["value"] == "7|paid_initial_notice") button = true;
  }
  EXPECT_TRUE(button);
}

TEST(checklist_view, harassment_card_never_says_security_bulletin) {
  policy::checklist_input in;
  in.kind = policy::incident_kind::people_and_safety;
  const auto m =
      incident_card(incident(), nullptr, derive(critical(), in), 7, berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_FALSE(contains(all_text(m), "Public security bulletin"));
  EXPECT_TRUE(contains(all_text(m), "no security bulletin"));
  EXPECT_TRUE(contains(all_text(m), "Head of Finance &amp; Operations"));
}

TEST(checklist_view, conflict_shows_both_clauses_and_buttons_to_record_a_call) {
  auto f = critical();
  f.routine_dependency_patch = true;
  f.user_action_required = false;
  f.users_affected = policy::tristate::none;
  const auto m = incident_card(incident(), nullptr, derive(f), 7, nullptr, at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_TRUE(contains(all_text(m), "routine security patching"));
  EXPECT_TRUE(contains(all_text(m), "point of impact confirmation"));
  bool found = false;
  for (const auto& b : m.blocks) {
    if (b.value("type", "") != "actions") continue;
    for (const auto& e : b["elements"]) {
      if (e["value"] == "7|exception_vs_customer_clock|apply_exception") found = true;
    }
  }
  EXPECT_TRUE(found);
  const auto parsed = parse_record_call_value("7|exception_vs_customer_clock|apply_exception");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->option_id, "apply_exception");
  EXPECT_FALSE(parse_record_call_value("x|a|b"));
  EXPECT_FALSE(parse_mark_done_value("7"));
}

TEST(checklist_view, diff_post_lists_only_what_changed_with_clauses) {
  auto before = critical();
  before.impact_confirmed_at.reset();
  const auto d = policy::diff(derive(before), derive(critical()));
  const auto m = decision_diff_post(incident(), d, berlin(), at("2026-12-01T10:00:00Z"));
  ASSERT_TRUE(m);
  expect_valid(*m);
  EXPECT_TRUE(
      contains(all_text(*m), "Paid-customer initial notice* is now required, due Tue 1 Dec, 12:00 CET"));
  EXPECT_TRUE(contains(all_text(*m), "row Critical"));
  EXPECT_FALSE(
      decision_diff_post(incident(), policy::checklist_diff{}, berlin(), at("2026-12-01T10:00:00Z")));
}

TEST(checklist_view, deadline_moved_post_says_from_to_and_because) {
  auto after = critical();
  after.impact_confirmed_at = at("2026-11-30T11:00:00Z");
  const auto moves =
      policy::deadline_moves_requiring_confirmation(critical(), derive(critical()), after, derive(after));
  const auto m = deadline_moved_post(incident(), moves, "U5", berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_TRUE(contains(m.text,
                       "Paid-customer initial notice deadline moved from 2026-12-01 11:00 UTC to "
                       "2026-12-02 11:00 UTC because impact confirmation time changed"))
      << m.text;
  EXPECT_TRUE(contains(all_text(m), "moved from Tue 1 Dec, 12:00 CET to Wed 2 Dec, 12:00 CET"));
  EXPECT_TRUE(contains(all_text(m), "<@U5>"));
  const auto ask = deadline_move_confirmation(incident(), moves, "tok", berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(ask);
  EXPECT_TRUE(contains(all_text(ask), "--confirm"));
}

TEST(checklist_view, deadlines_reply_is_soonest_first_and_hides_sensitive_titles) {
  std::vector<deadline_row> rows{
      {"INC-2", "harassment in <team>", true, false, "inform_hofo", "HoFO informed",
       at("2026-12-02T10:00:00Z")},
      {"INC-1", "db leak", false, false, "bulletin", "Paid notice", at("2026-12-01T09:00:00Z")},
  };
  const auto m = deadlines_reply(rows, berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  const auto text = all_text(m);
  EXPECT_LT(text.find("INC-1"), text.find("INC-2"));
  EXPECT_FALSE(contains(text, "harassment"));
  EXPECT_TRUE(contains(text, "OVERDUE by 1 h"));
}

TEST(checklist_view, card_with_many_updates_stays_within_block_kit_limits) {
  auto f = critical();
  for (int i = 0; i < 80; ++i)
    f.notifications_sent.push_back(at("2026-11-29T12:00:00Z") + std::chrono::hours{i});
  const auto c = derive(f);
  const auto m = incident_card(incident(), nullptr, c, 7, berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_TRUE(contains(all_text(m), "Customer updates 1–79"));
}

TEST(checklist_view, mark_done_modal_round_trips) {
  const auto c = derive(critical());
  const auto view = mark_done_modal(7, *c.find("bulletin"));
  EXPECT_EQ(view["private_metadata"], "7|bulletin");
  const nlohmann::json values{{"done_at", {{"at", {{"value", "2026-11-30T14:00:00Z"}}}}},
                              {"done_evidence", {{"evidence", {{"value", "https://blog/x"}}}}}};
  const auto s = parse_mark_done_submission(values);
  EXPECT_EQ(s.at_text, "2026-11-30T14:00:00Z");
  EXPECT_EQ(s.evidence, "https://blog/x");
  EXPECT_EQ(parse_mark_done_submission(nlohmann::json::array()).at_text, "");
}

}  // namespace
}  // namespace flare::messages

namespace flare::messages {
namespace {

TEST(checklist_view, first_decision_post_has_the_obligations_and_conflicts_near_the_top) {
  auto f = critical();
  f.routine_dependency_patch = true;
  f.user_action_required = false;
  f.users_affected = policy::tristate::none;
  f.legal_requirements = {"gdpr-art33"};
  const auto c = derive(f);
  const auto m = first_decision_post(incident(), testing::decide(f), c, berlin(), at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_TRUE(m.blocks[3]["block_id"].get<std::string>().starts_with("obligations"));
  EXPECT_TRUE(contains(all_text(m), "Policy conflict"));
  EXPECT_TRUE(contains(m.text, "policy conflict"));
}

TEST(checklist_view, first_decision_post_shows_done_items_done_not_required) {
  auto f = critical();
  f.fix_available = true;
  policy::checklist_input in;
  in.completions = {{"bulletin", "U1", at("2026-11-30T13:00:00Z"), "https://status/1"},
                    {"admin_email", "U1", at("2026-11-30T13:00:00Z"), ""}};
  const auto m = first_decision_post(incident(), testing::decide(f), derive(f, in), berlin(),
                                     at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  const auto text = all_text(m);
  EXPECT_FALSE(contains(text, "*Required*")) << "the checklist replaces the decision's summary";
  EXPECT_TRUE(contains(text, ":white_check_mark: *Public security bulletin* — done by <@U1>"));
  EXPECT_FALSE(contains(text, "Publish a public security bulletin"));
}

TEST(checklist_view, decision_post_shows_a_policy_conflict_with_both_clauses) {
  auto f = critical();
  f.user_action_required = false;
  f.users_affected = policy::tristate::none;
  f.exploited = policy::tristate::none;
  f.customers = {policy::customer_tier::free};
  f.free_tier_directly_impacted = true;
  const auto d = testing::decide(f);
  const auto m = decision_post(incident(), d);
  expect_valid(m);
  const auto text = all_text(m);
  EXPECT_TRUE(contains(text, "Policy conflict"));
  EXPECT_TRUE(contains(text, "When We Notify Users"));
  EXPECT_TRUE(contains(m.text, "policy conflict"));
  // In the first decision post it appears once, from the checklist (with the default's effect).
  const auto first = first_decision_post(incident(), d, derive(f), berlin(), at("2026-12-01T10:00:00Z"));
  const auto first_text = all_text(first);
  EXPECT_EQ(first_text.find("*Policy conflict* —"), first_text.rfind("*Policy conflict* —"));
  EXPECT_TRUE(contains(first_text, "Until a responder records a call"));
}

TEST(checklist_view, first_decision_post_for_harassment_has_no_disclosure_decision) {
  policy::checklist_input in;
  in.kind = policy::incident_kind::people_and_safety;
  const auto f = critical();
  const auto m = first_decision_post(incident(), testing::decide(f), derive(f, in), berlin(),
                                     at("2026-12-01T10:00:00Z"));
  expect_valid(m);
  EXPECT_FALSE(contains(all_text(m), "Public security bulletin"));
  EXPECT_FALSE(contains(all_text(m), "disclosure decision:"));
  EXPECT_TRUE(contains(m.text, "no disclosure decision"));
}

}  // namespace
}  // namespace flare::messages
