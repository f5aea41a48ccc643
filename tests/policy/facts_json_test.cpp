#include "policy/facts_json.hpp"

#include <gtest/gtest.h>

#include "policy/rfc3339.hpp"
#include "test_time.hpp"

namespace flare::policy {
namespace {

using testing::at;

TEST(facts_json, empty_object_gives_the_documented_defaults) {
  const facts_result r = facts_from_json(nlohmann::json::object());
  ASSERT_TRUE(r) << r.error->text();
  const facts& f = r.value;
  EXPECT_FALSE(f.severity);
  EXPECT_FALSE(f.classification);
  EXPECT_FALSE(f.impact_confirmed_at);
  EXPECT_FALSE(f.user_action_required);
  EXPECT_FALSE(f.fix_available);
  EXPECT_FALSE(f.fix_applied);
  EXPECT_FALSE(f.routine_dependency_patch);
  EXPECT_EQ(f.users_affected, tristate::unknown);
  EXPECT_EQ(f.data_exposed, tristate::none);
  EXPECT_EQ(f.metadata_exposed, tristate::none);
  EXPECT_EQ(f.exploited, tristate::unknown);
  EXPECT_EQ(f.customers, std::vector<customer_tier>{customer_tier::paid});
  EXPECT_FALSE(f.free_tier_directly_impacted);
  EXPECT_TRUE(f.legal_requirements.empty());
  EXPECT_TRUE(f.notifications_sent.empty());
  EXPECT_FALSE(f.resolved_at);
}

TEST(facts_json, every_field_round_trips) {
  facts f;
  f.severity = severity::medium;
  f.classification = classification::potential;
  f.impact_confirmed_at = at("2026-11-20T10:00:00Z");
  f.user_action_required = true;
  f.fix_available = true;
  f.fix_applied = true;
  f.routine_dependency_patch = true;
  f.users_affected = tristate::confirmed;
  f.data_exposed = tristate::unknown;
  f.metadata_exposed = tristate::confirmed;
  f.exploited = tristate::none;
  f.customers = {customer_tier::free, customer_tier::paid};
  f.free_tier_directly_impacted = true;
  f.legal_requirements = {"GDPR Art. 33"};
  f.notifications_sent = {at("2026-11-21T10:00:00Z"), at("2026-11-22T10:00:00Z")};
  f.resolved_at = at("2026-11-23T10:00:00Z");
  const facts_result r = facts_from_json(to_json(f));
  ASSERT_TRUE(r) << r.error->text();
  EXPECT_EQ(r.value, f);
  EXPECT_EQ(facts_from_json(to_json(facts{})).value, facts{});
}

TEST(facts_json, offsets_are_converted_to_utc) {
  const facts_result r = facts_from_json_text(R"({"impact_confirmed_at":"2026-11-20T12:00:00+02:00"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value.impact_confirmed_at, at("2026-11-20T10:00:00Z"));
}

struct error_case {
  const char* json;
  const char* field;
};

TEST(facts_json, errors_name_the_field) {
  const error_case cases[] = {
      {R"({"severity":"urgent"})", "severity"},
      {R"({"severity":3})", "severity"},
      {R"({"classification":"maybe"})", "classification"},
      {R"({"impact_confirmed_at":"2026-11-20 10:00"})", "impact_confirmed_at"},
      {R"({"impact_confirmed_at":"2026-11-20T10:00:00"})", "impact_confirmed_at"},
      {R"({"user_action_required":"yes"})", "user_action_required"},
      {R"({"fix_available":1})", "fix_available"},
      {R"({"fix_applied":null})", "fix_applied"},
      {R"({"routine_dependency_patch":"true"})", "routine_dependency_patch"},
      {R"({"users_affected":"some"})", "users_affected"},
      {R"({"data_exposed":true})", "data_exposed"},
      {R"({"metadata_exposed":"yes"})", "metadata_exposed"},
      {R"({"exploited":"no"})", "exploited"},
      {R"({"customers":"paid"})", "customers"},
      {R"({"customers":[]})", "customers"},
      {R"({"customers":["paid","enterprise"]})", "customers"},
      {R"({"free_tier_directly_impacted":"no"})", "free_tier_directly_impacted"},
      {R"({"legal_requirements":"GDPR"})", "legal_requirements"},
      {R"({"legal_requirements":[""]})", "legal_requirements"},
      {R"({"notifications_sent":["yesterday"]})", "notifications_sent"},
      {R"({"resolved_at":"2026-11-20T10:00:00+0100"})", "resolved_at"},
      {R"({"user_affected":"confirmed"})", "user_affected"},  // typo: unknown key
  };
  for (const auto& c : cases) {
    const facts_result r = facts_from_json_text(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error->field, c.field) << c.json;
    EXPECT_EQ(r.error->text().rfind(std::string{c.field} + ": ", 0), 0u) << r.error->text();
  }
}

TEST(facts_json, not_an_object_or_not_json_is_an_error) {
  EXPECT_FALSE(facts_from_json_text("[1,2]"));
  EXPECT_FALSE(facts_from_json_text("{"));
  EXPECT_FALSE(facts_from_json_text(""));
}

TEST(facts_json, set_fact_accepts_command_values) {
  facts f;
  EXPECT_FALSE(set_fact(f, "users_affected", "confirmed"));
  EXPECT_FALSE(set_fact(f, "customers", "paid, free"));
  EXPECT_FALSE(set_fact(f, "fix_available", "true"));
  EXPECT_FALSE(set_fact(f, "impact_confirmed_at", "2026-11-20T10:00:00Z"));
  EXPECT_FALSE(set_fact(f, "severity", "high"));
  EXPECT_FALSE(set_fact(f, "legal_requirements", "GDPR Art. 33,CCPA"));
  EXPECT_FALSE(set_fact(f, "notifications_sent", "2026-11-21T10:00:00Z,2026-11-22T10:00:00+01:00"));
  EXPECT_EQ(f.users_affected, tristate::confirmed);
  EXPECT_EQ(f.customers, (std::vector<customer_tier>{customer_tier::paid, customer_tier::free}));
  EXPECT_TRUE(f.fix_available);
  EXPECT_EQ(f.impact_confirmed_at, at("2026-11-20T10:00:00Z"));
  EXPECT_EQ(f.severity, severity::high);
  EXPECT_EQ(f.legal_requirements, (std::vector<std::string>{"GDPR Art. 33", "CCPA"}));
  EXPECT_EQ(f.notifications_sent,
            (std::vector<std::chrono::sys_seconds>{at("2026-11-21T10:00:00Z"), at("2026-11-22T09:00:00Z")}));

  EXPECT_FALSE(set_fact(f, "impact_confirmed_at", ""));
  EXPECT_FALSE(f.impact_confirmed_at);
  EXPECT_FALSE(set_fact(f, "legal_requirements", ""));
  EXPECT_TRUE(f.legal_requirements.empty());
}

TEST(facts_json, set_fact_rejects_bad_values_naming_the_key_and_changes_nothing) {
  const std::pair<const char*, const char*> bad[] = {
      {"users_affected", "yes"},
      {"customers", ""},
      {"customers", "paid,gold"},
      {"fix_available", "1"},
      {"severity", "urgent"},
      {"impact_confirmed_at", "today"},
      {"notifications_sent", "2026-11-21"},
      {"exploited", ""},
      {"severity_level", "high"},
  };
  for (const auto& [key, value] : bad) {
    facts f;
    const auto error = set_fact(f, key, value);
    ASSERT_TRUE(error) << key << "=" << value;
    EXPECT_EQ(error->field, key);
    EXPECT_EQ(f, facts{}) << key << "=" << value;
  }
}

}  // namespace
}  // namespace flare::policy
