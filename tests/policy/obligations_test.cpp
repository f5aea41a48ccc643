#include "policy/obligations.hpp"

#include <gtest/gtest.h>

#include "policy/clauses.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

struct fixture {
  facts f;
  checklist_input in;
  tables t;

  checklist derive(std::chrono::sys_seconds now = at("2026-12-01T12:00:00Z")) const {
    business_calendar cal{t.calendar};
    return derive_checklist(f, decide(f, t, cal), t, cal, in, now);
  }
};

// Critical, confirmed, user action needed, users affected: everything but the free tier is owed.
fixture critical_paid() {
  fixture x;
  x.f.severity = severity::critical;
  x.f.classification = classification::confirmed;
  x.f.impact_confirmed_at = at("2026-12-01T10:00:00Z");
  x.f.user_action_required = true;
  x.f.users_affected = tristate::confirmed;
  x.in.opened_at = at("2026-12-01T09:00:00Z");
  return x;
}

const obligation& item(const checklist& c, std::string_view id) {
  const obligation* o = c.find(id);
  if (!o) throw std::runtime_error("no obligation " + std::string{id} + " in: " + known_ids(c));
  return *o;
}

TEST(obligations, critical_paid_incident_owes_bulletin_admin_email_initial_notice_and_resolution) {
  const auto c = critical_paid().derive();
  EXPECT_EQ(item(c, "paid_initial_notice").state, obligation_state::pending);
  EXPECT_EQ(item(c, "paid_initial_notice").due, at("2026-12-03T10:00:00Z"));  // 48 h, table row Critical
  EXPECT_EQ(item(c, "paid_initial_notice").clause, clauses::table_critical);
  EXPECT_EQ(item(c, "admin_email").state, obligation_state::pending);
  EXPECT_EQ(item(c, "admin_email").clause, clauses::direct_user_action_critical_high);
  EXPECT_EQ(item(c, "bulletin").state, obligation_state::pending);
  EXPECT_FALSE(item(c, "bulletin").due);
  EXPECT_EQ(item(c, "resolution_message").state, obligation_state::pending);
  EXPECT_FALSE(item(c, "resolution_message").ready);
  EXPECT_EQ(c.find("free_tier_email"), nullptr);  // no free-tier users
  EXPECT_EQ(c.find("update:1"), nullptr);         // no notice sent yet
}

TEST(obligations, severity_rows_give_the_initial_notice_due_time) {
  auto x = critical_paid();
  x.f.severity = severity::high;
  EXPECT_EQ(item(x.derive(), "paid_initial_notice").due, at("2026-12-04T10:00:00Z"));  // 72 h
  x.f.severity = severity::medium;  // Tue 1 Dec + 7 business days = Thu 10 Dec, 23:59:59
  EXPECT_EQ(item(x.derive(), "paid_initial_notice").due, at("2026-12-10T23:59:59Z"));
  x.f.severity = severity::low;
  const auto low = x.derive();
  EXPECT_EQ(item(low, "paid_initial_notice").state, obligation_state::not_needed);
  EXPECT_EQ(item(low, "paid_initial_notice").clause, clauses::table_low);
  EXPECT_EQ(low.find("resolution_message"), nullptr);
}

TEST(obligations, untriaged_incident_uses_critical_timings) {
  auto x = critical_paid();
  x.f.severity.reset();
  EXPECT_EQ(item(x.derive(), "paid_initial_notice").due, at("2026-12-03T10:00:00Z"));
}

TEST(obligations, no_paid_notice_before_impact_confirmation) {
  auto x = critical_paid();
  x.f.impact_confirmed_at.reset();
  x.f.classification = classification::potential;
  const auto c = x.derive();
  EXPECT_EQ(c.find("paid_initial_notice"), nullptr);
  ASSERT_FALSE(c.notes.empty());
  EXPECT_NE(c.notes.front().find("impact confirmation"), std::string::npos);
}

TEST(obligations, marking_the_initial_notice_done_schedules_the_first_update) {
  auto x = critical_paid();
  x.in.completions.push_back({"paid_initial_notice", "U1", at("2026-12-02T08:00:00Z"), "https://status/1"});
  const auto c = x.derive();
  EXPECT_EQ(item(c, "paid_initial_notice").state, obligation_state::done);
  EXPECT_EQ(item(c, "paid_initial_notice").done->by, "U1");
  EXPECT_EQ(item(c, "update:1").due, at("2026-12-03T08:00:00Z"));  // 24 h after the notice
  EXPECT_EQ(next_notification_id(c), "update:1");
}

TEST(obligations, legacy_notified_times_count_as_initial_notice_then_updates) {
  auto x = critical_paid();
  x.f.notifications_sent = {at("2026-12-01T09:00:00Z"),  // before impact confirmation: not counted
                            at("2026-12-01T11:00:00Z"), at("2026-12-02T11:00:00Z")};
  const auto c = x.derive();
  EXPECT_EQ(item(c, "paid_initial_notice").done->at, at("2026-12-01T11:00:00Z"));
  EXPECT_EQ(item(c, "update:1").done->at, at("2026-12-02T11:00:00Z"));
  EXPECT_EQ(item(c, "update:2").state, obligation_state::pending);
  EXPECT_EQ(item(c, "update:2").due, at("2026-12-03T11:00:00Z"));
}

TEST(obligations, resolution_message_is_due_at_resolution_and_replaces_the_next_update) {
  auto x = critical_paid();
  x.in.completions.push_back({"paid_initial_notice", "U1", at("2026-12-01T11:00:00Z"), ""});
  x.f.resolved_at = at("2026-12-01T20:00:00Z");
  const auto c = x.derive();
  EXPECT_EQ(item(c, "resolution_message").due, at("2026-12-01T20:00:00Z"));
  EXPECT_TRUE(item(c, "resolution_message").ready);
  EXPECT_EQ(item(c, "update:1").state, obligation_state::not_needed);
  EXPECT_EQ(next_notification_id(c), "resolution_message");
  x.in.completions.push_back({"resolution_message", "U2", at("2026-12-01T21:00:00Z"), ""});
  EXPECT_TRUE(x.derive().open_deadlines().empty());
}

TEST(obligations, bulletin_waits_for_a_fix_the_paid_notice_and_the_free_tier_emails) {
  auto x = critical_paid();
  x.f.customers = {customer_tier::paid, customer_tier::free};
  x.f.free_tier_directly_impacted = true;
  auto c = x.derive();
  const auto& b = item(c, "bulletin");
  EXPECT_FALSE(b.ready);
  EXPECT_EQ(b.depends_on, (std::vector<std::string>{"paid_initial_notice", "free_tier_email"}));
  EXPECT_NE(b.waiting_for.find("a fix to be available"), std::string::npos);
  EXPECT_NE(b.waiting_for.find("E-mail to free-tier users"), std::string::npos);
  x.f.fix_available = true;
  x.in.completions = {{"paid_initial_notice", "U1", at("2026-12-01T11:00:00Z"), ""}};
  c = x.derive();
  EXPECT_FALSE(item(c, "bulletin").ready);
  EXPECT_EQ(item(c, "bulletin").waiting_for, "E-mail to free-tier users");
  x.in.completions.push_back({"free_tier_email", "U1", at("2026-12-01T11:30:00Z"), ""});
  EXPECT_TRUE(item(x.derive(), "bulletin").ready);
}

TEST(obligations, free_tier_email_uses_the_paid_tables_timing) {
  auto x = critical_paid();
  x.f.customers = {customer_tier::free};
  x.f.free_tier_directly_impacted = true;
  const auto c = x.derive();
  EXPECT_EQ(item(c, "free_tier_email").due, at("2026-12-03T10:00:00Z"));
  EXPECT_EQ(c.find("paid_initial_notice"), nullptr);  // no paid customers
}

TEST(obligations, public_announcement_waits_for_the_fix_to_be_applied) {
  auto x = critical_paid();
  x.f.user_action_required = false;
  x.f.customers = {customer_tier::free};
  auto c = x.derive();
  EXPECT_EQ(item(c, "public_announcement").state, obligation_state::pending);
  EXPECT_FALSE(item(c, "public_announcement").ready);
  x.f.fix_applied = true;
  EXPECT_TRUE(item(x.derive(), "public_announcement").ready);
}

TEST(obligations, harassment_case_gets_no_bulletin_and_is_routed_to_hofo_and_security_team) {
  auto x = critical_paid();
  x.in.kind = incident_kind::people_and_safety;
  const auto c = x.derive();
  EXPECT_EQ(c.find("bulletin"), nullptr);
  EXPECT_EQ(c.find("paid_initial_notice"), nullptr);
  EXPECT_EQ(c.find("admin_email"), nullptr);
  EXPECT_EQ(item(c, "inform_hofo").clause, clauses::sensitive_routing);
  EXPECT_NE(c.find("inform_security_team"), nullptr);
  EXPECT_TRUE(c.conflicts.empty());
}

TEST(obligations, routine_patch_with_impact_confirmed_is_a_conflict_that_keeps_the_clock_until_called) {
  auto x = critical_paid();
  x.f.routine_dependency_patch = true;
  x.f.user_action_required = false;
  x.f.users_affected = tristate::none;
  auto c = x.derive();
  ASSERT_EQ(c.conflicts.size(), 1u);
  EXPECT_EQ(c.conflicts[0].id, "exception_vs_customer_clock");
  EXPECT_EQ(c.conflicts[0].first.clause, clauses::no_routine_patching);
  EXPECT_EQ(c.conflicts[0].second.clause, clauses::paid_from_impact_confirmation);
  EXPECT_EQ(item(c, "paid_initial_notice").state, obligation_state::pending);
  x.in.calls.push_back(
      {"exception_vs_customer_clock", "apply_exception", "U9", at("2026-12-01T11:00:00Z"), "patch only"});
  c = x.derive();
  EXPECT_EQ(item(c, "paid_initial_notice").state, obligation_state::not_needed);
  ASSERT_TRUE(c.conflicts[0].call);
  EXPECT_EQ(c.conflicts[0].call->by, "U9");
}

TEST(obligations, not_exploited_exception_with_free_tier_directly_impacted_is_a_conflict) {
  auto x = critical_paid();
  x.f.impact_confirmed_at.reset();
  x.f.user_action_required = false;
  x.f.users_affected = tristate::none;
  x.f.exploited = tristate::none;
  x.f.customers = {customer_tier::free};
  x.f.free_tier_directly_impacted = true;
  auto c = x.derive();
  ASSERT_EQ(c.conflicts.size(), 1u);
  EXPECT_EQ(c.conflicts[0].id, "exception_vs_free_tier_impact");
  EXPECT_EQ(item(c, "free_tier_email").state, obligation_state::pending);
  x.in.calls.push_back(
      {"exception_vs_free_tier_impact", "apply_exception", "U9", at("2026-12-01T11:00:00Z"), ""});
  EXPECT_EQ(item(x.derive(), "free_tier_email").state, obligation_state::not_needed);
}

TEST(obligations, user_action_keeps_the_not_exploited_exception_from_applying) {
  auto x = critical_paid();
  x.f.exploited = tristate::none;
  x.f.users_affected = tristate::none;  // user_action_required stays true
  const auto c = x.derive();
  EXPECT_EQ(item(c, "bulletin").state, obligation_state::pending);
  EXPECT_TRUE(c.conflicts.empty());
}

TEST(obligations, gdpr_art33_is_due_72_hours_after_awareness_and_takes_precedence) {
  auto x = critical_paid();
  x.f.legal_requirements = {"GDPR-Art33", "ca-1798.82", "some-local-law"};
  const auto c = x.derive();
  EXPECT_TRUE(c.legal_precedence);
  const auto& g = item(c, "legal:gdpr-art33");
  EXPECT_TRUE(g.legal);
  EXPECT_EQ(g.due, at("2026-12-04T09:00:00Z"));       // 72 h from opening (earlier than impact confirmation)
  EXPECT_EQ(c.items.front().id, "legal:gdpr-art33");  // legal first
  EXPECT_FALSE(item(c, "legal:ca-1798.82").due);      // without unreasonable delay: no fixed time
  EXPECT_FALSE(item(c, "legal:some-local-law").due);
  EXPECT_NE(item(c, "legal:some-local-law").reason.find("counsel"), std::string::npos);
}

TEST(obligations, configured_legal_regimes_replace_and_extend_the_defaults) {
  auto x = critical_paid();
  for (auto& r : x.t.legal_regimes)
    if (r.key == "gdpr-art33") r.within = notification_interval{interval_unit::hours, 24};
  x.t.legal_regimes.push_back({"lgpd", "LGPD Art. 48: notify the ANPD", "the ANPD",
                               notification_interval{interval_unit::business_days, 3},
                               "Lei 13.709/2018, Art. 48"});
  x.f.legal_requirements = {"gdpr-art33", "LGPD"};
  const auto c = x.derive();
  EXPECT_EQ(item(c, "legal:gdpr-art33").due, at("2026-12-02T09:00:00Z"));  // 24 h as configured
  const auto& lgpd = item(c, "legal:lgpd");
  EXPECT_EQ(lgpd.title, "LGPD Art. 48: notify the ANPD");
  EXPECT_EQ(lgpd.clause, "Lei 13.709/2018, Art. 48");
  ASSERT_TRUE(lgpd.due);  // 3 business days from opening, ending 23:59:59 local
  EXPECT_EQ(*lgpd.due, at("2026-12-04T23:59:59Z"));
}

TEST(obligations, configured_legal_regimes_change_the_policy_version_defaults_do_not) {
  tables t;
  const std::string base = policy_version(tables{});
  EXPECT_EQ(policy_version(t), base);
  t.legal_regimes.push_back({"lgpd", "LGPD", "the ANPD", std::nullopt, ""});
  EXPECT_NE(policy_version(t), base);
  t.legal_regimes.push_back({"bad key", "x", "y", std::nullopt, ""});
  EXPECT_THROW(validate(t), tables_error);
}

TEST(obligations, legal_requirements_apply_to_people_and_safety_incidents_too) {
  auto x = critical_paid();
  x.in.kind = incident_kind::people_and_safety;
  x.f.legal_requirements = {"gdpr-art33"};
  EXPECT_NE(x.derive().find("legal:gdpr-art33"), nullptr);
}

TEST(obligations, one_admin_email_per_affected_organization) {
  auto x = critical_paid();
  x.in.organizations = {"acme", "globex"};
  const auto c = x.derive();
  EXPECT_NE(c.find("admin_email:acme"), nullptr);
  EXPECT_NE(c.find("admin_email:globex"), nullptr);
  EXPECT_EQ(find_obligation(c, "admin"), nullptr);  // ambiguous
  EXPECT_EQ(find_obligation(c, "ADMIN_EMAIL:Acme")->id, "admin_email:acme");
}

TEST(obligations, typed_names_resolve_to_obligations) {
  auto x = critical_paid();
  x.f.legal_requirements = {"gdpr-art33"};
  const auto c = x.derive();
  EXPECT_EQ(find_obligation(c, "notice")->id, "paid_initial_notice");
  EXPECT_EQ(find_obligation(c, "bulletin")->id, "bulletin");
  EXPECT_EQ(find_obligation(c, "admin")->id, "admin_email");
  EXPECT_EQ(find_obligation(c, "gdpr-art33")->id, "legal:gdpr-art33");
  EXPECT_EQ(find_obligation(c, "resolution")->id, "resolution_message");
  EXPECT_EQ(find_obligation(c, "nonsense"), nullptr);
}

TEST(obligations, default_legal_regimes_are_valid) {
  EXPECT_NO_THROW(validate(default_legal_regimes()));
  legal_regime_table dup = default_legal_regimes();
  dup.push_back(dup.front());
  EXPECT_THROW(validate(dup), tables_error);
}

TEST(obligations, incident_kind_round_trips) {
  EXPECT_EQ(parse_incident_kind("people_and_safety"), incident_kind::people_and_safety);
  EXPECT_EQ(parse_incident_kind(to_string(incident_kind::security)), incident_kind::security);
  EXPECT_FALSE(parse_incident_kind("other"));
}

}  // namespace
}  // namespace flare::policy

namespace flare::policy {
namespace {

TEST(obligations, an_incident_without_a_kind_gets_the_security_checklist) {
  auto x = critical_paid();
  x.in.kind = incident_kind::none;
  const auto c = x.derive();
  EXPECT_EQ(c.kind, incident_kind::security);
  EXPECT_NE(c.find("bulletin"), nullptr);
}

}  // namespace
}  // namespace flare::policy
