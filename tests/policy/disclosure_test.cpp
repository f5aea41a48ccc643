#include "policy/disclosure.hpp"

#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "policy/clauses.hpp"
#include "policy/decision_json.hpp"
#include "policy/rfc3339.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

// Nothing triggers any notification: it is confirmed that no users were affected, but
// exploitation is not ruled out (so the not-exploited exception does not apply either).
facts quiet() {
  facts f;
  f.users_affected = tristate::none;
  f.exploited = tristate::unknown;
  return f;
}

bool cites(const std::vector<reason>& reasons, std::string_view clause) {
  return std::any_of(reasons.begin(), reasons.end(), [&](const reason& r) { return r.clause == clause; });
}

decision decide_default(const facts& f) { return decide(f, tables{}, business_calendar{}); }

struct case_row {
  const char* name;
  std::function<void(facts&)> given;
  bool required;
  bool ready;
  std::string_view clause;
};

TEST(disclosure, public_bulletin_follows_the_first_list_and_its_exceptions) {
  const case_row cases[] = {
      {"nothing_triggers_no_bulletin", [](facts&) {}, false, false, clauses::disclose_when_fix},
      {"user_action_needed_requires_bulletin", [](facts& f) { f.user_action_required = true; }, true, false,
       clauses::disclose_user_action},
      {"data_visible_requires_bulletin", [](facts& f) { f.data_exposed = tristate::confirmed; }, true, false,
       clauses::disclose_data_visible},
      {"unknown_affected_users_require_bulletin", [](facts& f) { f.users_affected = tristate::unknown; },
       true, false, clauses::disclose_users_not_ruled_out},
      {"confirmed_affected_users_require_bulletin", [](facts& f) { f.users_affected = tristate::confirmed; },
       true, false, clauses::disclose_users_not_ruled_out},
      {"bulletin_ready_only_with_a_fix",
       [](facts& f) {
         f.user_action_required = true;
         f.fix_available = true;
       },
       true, true, clauses::disclose_when_fix},
      {"metadata_alone_is_not_a_public_trigger", [](facts& f) { f.metadata_exposed = tristate::confirmed; },
       false, false, clauses::disclose_when_fix},
      {"routine_dependency_patch_is_not_disclosed",
       [](facts& f) {
         f.routine_dependency_patch = true;
         f.users_affected = tristate::unknown;
         f.user_action_required = true;
         f.fix_available = true;
       },
       false, false, clauses::no_routine_patching},
      {"routine_patch_with_confirmed_data_exposure_is_disclosed",
       [](facts& f) {
         f.routine_dependency_patch = true;
         f.data_exposed = tristate::confirmed;
       },
       true, false, clauses::disclose_data_visible},
      {"not_exploited_and_no_users_affected_is_not_disclosed", [](facts& f) { f.exploited = tristate::none; },
       false, false, clauses::not_exploited_no_users},
      {"not_exploited_but_user_action_needed_stays_actionable",
       [](facts& f) {
         f.exploited = tristate::none;
         f.user_action_required = true;
       },
       true, false, clauses::disclose_user_action},
      {"not_exploited_exception_does_not_silence_confirmed_data_exposure",
       [](facts& f) {
         f.exploited = tristate::none;
         f.data_exposed = tristate::confirmed;
       },
       true, false, clauses::disclose_data_visible},
  };
  for (const auto& c : cases) {
    facts f = quiet();
    c.given(f);
    const decision d = decide_default(f);
    EXPECT_EQ(d.public_disclosure.required, c.required) << c.name;
    EXPECT_EQ(d.public_disclosure.ready, c.ready) << c.name;
    EXPECT_TRUE(cites(d.public_disclosure.reasons, c.clause)) << c.name;
  }
}

TEST(disclosure, direct_notification_follows_the_second_list) {
  const case_row cases[] = {
      {"affected_with_user_action_and_critical",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.user_action_required = true;
         f.severity = severity::critical;
       },
       true, false, clauses::direct_user_action_critical_high},
      {"affected_with_user_action_and_high",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.user_action_required = true;
         f.severity = severity::high;
       },
       true, false, clauses::direct_user_action_critical_high},
      {"affected_with_user_action_but_medium_is_not_emailed",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.user_action_required = true;
         f.severity = severity::medium;
       },
       false, false, clauses::direct_user_action_critical_high},
      {"affected_with_user_action_and_untriaged_severity_is_emailed",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.user_action_required = true;
       },
       true, false, clauses::direct_user_action_critical_high},
      {"affected_with_metadata_visible",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.metadata_exposed = tristate::confirmed;
         f.severity = severity::low;
       },
       true, false, clauses::direct_data_visible},
      {"affected_with_data_visible",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.data_exposed = tristate::confirmed;
         f.severity = severity::low;
       },
       true, false, clauses::direct_data_visible},
      {"data_visible_confirms_the_organization_was_affected",
       [](facts& f) {
         f.users_affected = tristate::unknown;
         f.data_exposed = tristate::confirmed;
       },
       true, false, clauses::direct_data_visible},
      {"not_confirmed_affected_is_not_emailed",
       [](facts& f) {
         f.users_affected = tristate::unknown;
         f.user_action_required = true;
         f.severity = severity::critical;
       },
       false, false, clauses::direct_org_affected},
      {"affected_without_action_or_exposure_is_not_emailed",
       [](facts& f) {
         f.users_affected = tristate::confirmed;
         f.severity = severity::critical;
       },
       false, false, clauses::direct_org_affected},
      {"routine_dependency_patch_is_not_emailed",
       [](facts& f) {
         f.routine_dependency_patch = true;
         f.users_affected = tristate::unknown;
       },
       false, false, clauses::no_routine_patching},
  };
  for (const auto& c : cases) {
    facts f = quiet();
    c.given(f);
    const decision d = decide_default(f);
    EXPECT_EQ(d.direct_notification.required, c.required) << c.name;
    EXPECT_TRUE(cites(d.direct_notification.reasons, c.clause)) << c.name;
    if (c.required) {
      EXPECT_TRUE(cites(d.direct_notification.reasons, clauses::how_email)) << c.name;
    }
  }
}

struct free_tier_row {
  const char* name;
  std::function<void(facts&)> given;
  bool email;
  bool announcement;
  bool announcement_ready;
  std::string_view clause;
};

TEST(disclosure, free_tier_is_emailed_only_when_directly_impacted_and_announced_after_the_fix) {
  const free_tier_row cases[] = {
      {"paid_only_no_free_tier_action", [](facts& f) { f.customers = {customer_tier::paid}; }, false, false,
       false, clauses::free_only_when_impacted},
      {"directly_impacted_free_tier_is_emailed_before_disclosure",
       [](facts& f) {
         f.free_tier_directly_impacted = true;
         f.user_action_required = true;
       },
       true, false, false, clauses::free_email_before_disclosure},
      {"free_tier_not_directly_impacted_is_not_emailed", [](facts& f) { f.user_action_required = true; },
       false, false, false, clauses::free_only_when_impacted},
      {"affected_free_tier_without_action_gets_announcement_after_fix",
       [](facts& f) { f.fix_applied = false; }, false, true, false, clauses::public_announcement},
      {"announcement_ready_once_fix_applied", [](facts& f) { f.fix_applied = true; }, false, true, true,
       clauses::public_announcement},
      {"individual_action_means_no_public_announcement",
       [](facts& f) {
         f.user_action_required = true;
         f.fix_applied = true;
       },
       false, false, false, clauses::public_announcement},
      {"routine_dependency_patch_no_free_tier_notice",
       [](facts& f) {
         f.routine_dependency_patch = true;
         f.fix_applied = true;
       },
       false, false, false, clauses::no_routine_patching},
      {"not_exploited_no_users_no_free_tier_notice",
       [](facts& f) {
         f.users_affected = tristate::none;
         f.exploited = tristate::none;
         f.fix_applied = true;
       },
       false, false, false, clauses::not_exploited_no_users},
  };
  for (const auto& c : cases) {
    facts f;  // users_affected unknown: free-tier users are not ruled out
    f.customers = {customer_tier::paid, customer_tier::free};
    c.given(f);
    const decision d = decide_default(f);
    EXPECT_EQ(d.free_tier.notify_by_email, c.email) << c.name;
    EXPECT_EQ(d.free_tier.before_public_disclosure, c.email) << c.name;
    EXPECT_EQ(d.free_tier.public_announcement, c.announcement) << c.name;
    EXPECT_EQ(d.free_tier.announcement_ready, c.announcement_ready) << c.name;
    EXPECT_TRUE(cites(d.free_tier.reasons, c.clause)) << c.name;
  }
}

// Issue 9, section 5: the exception says "don't notify", the SaaS process says directly impacted
// free-tier users are e-mailed. decide() names the conflict with both clauses and keeps the
// e-mail owed (protective) instead of silently applying the exception.
TEST(disclosure, exception_against_free_tier_impact_is_shown_as_a_conflict_not_settled) {
  facts f;
  f.customers = {customer_tier::free};
  f.routine_dependency_patch = true;
  f.free_tier_directly_impacted = true;
  const decision d = decide_default(f);
  ASSERT_EQ(d.conflicts.size(), 1u);
  EXPECT_EQ(d.conflicts[0].id, "exception_vs_free_tier_impact");
  EXPECT_EQ(d.conflicts[0].first.clause, clauses::no_routine_patching);
  EXPECT_EQ(d.conflicts[0].second.clause, clauses::free_only_when_impacted);
  EXPECT_TRUE(d.free_tier.notify_by_email);
  EXPECT_TRUE(d.free_tier.before_public_disclosure);
  bool explained = false;
  for (const auto& line : d.explanation)
    explained = explained || line.find("Policy conflict") != std::string::npos;
  EXPECT_TRUE(explained);
}

TEST(disclosure, exception_against_a_recorded_impact_confirmation_is_shown_as_a_conflict) {
  facts f;
  f.severity = severity::critical;
  f.routine_dependency_patch = true;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  const decision d = decide_default(f);
  ASSERT_EQ(d.conflicts.size(), 1u);
  EXPECT_EQ(d.conflicts[0].id, "exception_vs_customer_clock");
  EXPECT_TRUE(d.customer_notifications.schedule.scheduled) << "kept until a responder records a call";
}

TEST(disclosure, no_conflict_when_the_exception_and_the_process_agree) {
  facts f;
  f.routine_dependency_patch = true;
  EXPECT_TRUE(decide_default(f).conflicts.empty());
}

TEST(disclosure, legal_requirements_take_precedence) {
  facts f;
  f.legal_requirements = {"California data breach reporting"};
  const decision d = decide_default(f);
  EXPECT_TRUE(d.legal_precedence);
  EXPECT_EQ(d.legal_requirements, f.legal_requirements);
  ASSERT_FALSE(d.explanation.empty());
  EXPECT_NE(d.explanation.front().find("California data breach reporting"), std::string::npos);
  EXPECT_NE(d.explanation.front().find(clauses::legal_precedence), std::string::npos);

  EXPECT_FALSE(decide_default(facts{}).legal_precedence);
}

std::string text(const std::optional<std::chrono::sys_seconds>& t) {
  return t ? format_rfc3339(*t) : std::string{"null"};
}

TEST(disclosure, confirmed_critical_incident_schedules_customer_notifications) {
  facts f;
  f.severity = severity::critical;
  f.classification = classification::confirmed;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  const decision d = decide_default(f);
  const notification_schedule& s = d.customer_notifications.schedule;
  EXPECT_TRUE(s.scheduled);
  EXPECT_EQ(text(s.initial_due), "2026-11-22T10:00:00Z");
  EXPECT_EQ(text(s.next_due), "2026-11-22T10:00:00Z");
  EXPECT_EQ(s.update_interval, "24h");
  EXPECT_TRUE(cites(d.customer_notifications.reasons, clauses::table_critical));
}

TEST(disclosure, potential_compromise_waits_for_impact_confirmation) {
  facts f;
  f.severity = severity::critical;
  f.classification = classification::potential;
  const decision d = decide_default(f);
  EXPECT_FALSE(d.customer_notifications.schedule.scheduled);
  EXPECT_TRUE(cites(d.customer_notifications.reasons, clauses::classification_potential));

  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  EXPECT_TRUE(decide_default(f).customer_notifications.schedule.scheduled);
}

TEST(disclosure, low_severity_schedules_nothing) {
  facts f;
  f.severity = severity::low;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.resolved_at = at("2026-11-21T10:00:00Z");
  const decision d = decide_default(f);
  EXPECT_FALSE(d.customer_notifications.schedule.scheduled);
  EXPECT_FALSE(d.customer_notifications.schedule.resolution_due);
  EXPECT_TRUE(cites(d.customer_notifications.reasons, clauses::table_low));
}

TEST(disclosure, untriaged_severity_uses_critical_timings) {
  facts f;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  const decision d = decide_default(f);
  EXPECT_EQ(text(d.customer_notifications.schedule.initial_due), "2026-11-22T10:00:00Z");
}

TEST(disclosure, free_only_customers_are_scheduled_only_when_directly_impacted) {
  facts f;
  f.severity = severity::high;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.customers = {customer_tier::free};
  decision d = decide_default(f);
  EXPECT_FALSE(d.customer_notifications.schedule.scheduled);
  EXPECT_TRUE(cites(d.customer_notifications.reasons, clauses::free_only_when_impacted));

  f.free_tier_directly_impacted = true;
  d = decide_default(f);
  EXPECT_TRUE(d.customer_notifications.schedule.scheduled);
  EXPECT_EQ(text(d.customer_notifications.schedule.initial_due), "2026-11-23T10:00:00Z");
}

TEST(disclosure, resolved_incident_owes_the_resolution_message_at_resolved_at) {
  facts f;
  f.severity = severity::high;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.notifications_sent = {at("2026-11-21T10:00:00Z")};
  f.resolved_at = at("2026-11-22T12:00:00Z");
  const decision d = decide_default(f);
  EXPECT_EQ(text(d.customer_notifications.schedule.resolution_due), "2026-11-22T12:00:00Z");
  EXPECT_FALSE(d.customer_notifications.schedule.next_due);
}

TEST(disclosure, medium_schedule_uses_the_configured_calendar) {
  facts f;
  f.severity = severity::medium;
  f.impact_confirmed_at = at("2026-11-16T10:00:00Z");
  const decision d = decide(f, tables{}, business_calendar{"UTC", {"2026-11-24"}});
  EXPECT_EQ(text(d.customer_notifications.schedule.initial_due), "2026-11-26T23:59:59Z");
}

TEST(disclosure, policy_version_reflects_the_calendar_used) {
  const facts f;
  const tables t;
  const decision plain = decide(f, t, business_calendar{});
  EXPECT_EQ(plain.policy_version, policy_version(t));
  EXPECT_EQ(decide(f, t, business_calendar{}).policy_version, plain.policy_version);
  EXPECT_NE(decide(f, t, business_calendar{"UTC", {"2026-12-25"}}).policy_version, plain.policy_version);
  tables faster;
  faster.critical.initial = parse_interval("24h");
  EXPECT_NE(decide(f, faster, business_calendar{}).policy_version, plain.policy_version);
}

TEST(disclosure, every_reason_names_its_clause) {
  facts f;
  f.severity = severity::medium;
  f.impact_confirmed_at = at("2026-11-16T10:00:00Z");
  f.user_action_required = true;
  f.users_affected = tristate::confirmed;
  f.data_exposed = tristate::confirmed;
  f.customers = {customer_tier::paid, customer_tier::free};
  f.free_tier_directly_impacted = true;
  f.notifications_sent = {at("2026-11-17T10:00:00Z")};
  const decision d = decide_default(f);
  for (const auto* reasons : {&d.public_disclosure.reasons, &d.direct_notification.reasons,
                              &d.customer_notifications.reasons, &d.free_tier.reasons}) {
    EXPECT_FALSE(reasons->empty());
    for (const reason& r : *reasons) {
      EXPECT_FALSE(r.text.empty());
      EXPECT_TRUE(r.clause.starts_with("Incident disclosure policy, ") ||
                  r.clause.starts_with("SaaS notification process, "))
          << r.clause;
    }
  }
}

TEST(disclosure, decision_json_has_the_documented_shape) {
  facts f;
  f.severity = severity::critical;
  f.impact_confirmed_at = at("2026-11-20T10:00:00+01:00");
  f.user_action_required = true;
  const nlohmann::json j = to_json(decide_default(f));
  EXPECT_EQ(j["public_disclosure"]["required"], true);
  EXPECT_EQ(j["public_disclosure"]["ready"], false);
  EXPECT_TRUE(j["public_disclosure"]["reasons"][0].contains("clause"));
  EXPECT_TRUE(j["public_disclosure"]["reasons"][0].contains("text"));
  EXPECT_EQ(j["direct_notification"]["required"], false);
  EXPECT_EQ(j["customer_notifications"]["scheduled"], true);
  EXPECT_EQ(j["customer_notifications"]["initial_due"], "2026-11-22T09:00:00Z");
  EXPECT_EQ(j["customer_notifications"]["update_interval"], "24h");
  EXPECT_TRUE(j["customer_notifications"]["resolution_due"].is_null());
  EXPECT_TRUE(j["free_tier"].contains("notify_by_email"));
  EXPECT_TRUE(j["free_tier"].contains("before_public_disclosure"));
  EXPECT_TRUE(j["free_tier"].contains("public_announcement"));
  EXPECT_TRUE(j["free_tier"].contains("announcement_ready"));
  EXPECT_EQ(j["legal_precedence"], false);
  EXPECT_TRUE(j["legal_requirements"].is_array());
  EXPECT_EQ(j["policy_version"], policy_version(tables{}));
  EXPECT_TRUE(j["explanation"].is_array());
}

}  // namespace
}  // namespace flare::policy
