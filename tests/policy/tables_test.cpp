#include "policy/tables.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace flare::policy {
namespace {

TEST(tables, defaults_are_the_documents_values) {
  const tables t;
  EXPECT_EQ(describe(*t.critical.initial), "48h");
  EXPECT_EQ(describe(*t.critical.update), "24h");
  EXPECT_EQ(describe(*t.high.initial), "72h");
  EXPECT_EQ(describe(*t.high.update), "48h");
  EXPECT_EQ(describe(*t.medium.initial), "7 business days");
  EXPECT_EQ(describe(*t.medium.update), "7 business days");
  EXPECT_FALSE(t.low.initial);
  EXPECT_FALSE(t.low.update);
  EXPECT_EQ(t.calendar.zone, "UTC");
  EXPECT_TRUE(t.calendar.holidays.empty());
  EXPECT_NO_THROW(validate(t));
}

TEST(tables, policy_version_is_stable_for_equal_tables) {
  const std::string v = policy_version(tables{});
  EXPECT_EQ(v.size(), 12u);
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(policy_version(tables{}), v);
  tables reordered;
  reordered.calendar.holidays = {"2027-01-01", "2026-12-25"};
  tables ordered;
  ordered.calendar.holidays = {"2026-12-25", "2027-01-01", "2026-12-25"};
  EXPECT_EQ(policy_version(reordered), policy_version(ordered));
}

TEST(tables, policy_version_changes_when_any_table_changes) {
  const std::string base = policy_version(tables{});
  std::vector<std::pair<const char*, tables>> changed;
  tables t;
  t.critical.initial = parse_interval("24h");
  changed.emplace_back("critical initial", t);
  t = {};
  t.high.update = parse_interval("24h");
  changed.emplace_back("high update", t);
  t = {};
  t.medium.initial = parse_interval("5 business days");
  changed.emplace_back("medium initial", t);
  t = {};
  t.low.initial = parse_interval("7 business days");
  changed.emplace_back("low initial", t);
  t = {};
  t.calendar.zone = "Europe/Berlin";
  changed.emplace_back("zone", t);
  t = {};
  t.calendar.holidays = {"2026-12-25"};
  changed.emplace_back("holidays", t);
  for (const auto& [what, table] : changed) EXPECT_NE(policy_version(table), base) << what;
}

TEST(tables, parse_interval_reads_config_spellings) {
  EXPECT_EQ(parse_interval("24h"), (notification_interval{interval_unit::hours, 24}));
  EXPECT_EQ(parse_interval("48 hours"), (notification_interval{interval_unit::hours, 48}));
  EXPECT_EQ(parse_interval("7 business days"), (notification_interval{interval_unit::business_days, 7}));
  EXPECT_EQ(parse_interval("1 business day"), (notification_interval{interval_unit::business_days, 1}));
  for (const char* bad : {"", "0h", "-1h", "h", "24", "7 days", "24 h ", "2.5h"}) {
    EXPECT_FALSE(parse_interval(bad)) << bad;
  }
}

TEST(tables, validate_rejects_updates_without_an_initial_notice) {
  tables t;
  t.low.update = parse_interval("24h");
  EXPECT_THROW(validate(t), tables_error);
  tables zero;
  zero.high.initial = notification_interval{interval_unit::hours, 0};
  EXPECT_THROW(validate(zero), tables_error);
}

}  // namespace
}  // namespace flare::policy
