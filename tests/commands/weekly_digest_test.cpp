// The weekly digest's figures on a scripted set of incidents (real /incident commands, manual
// clock), their Markdown and Slack renderings, and the chart: a PNG of the expected size that
// cairo decodes again.
#include "commands/weekly_digest.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cairo.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "bot/store/sqlite_store.hpp"
#include "commands/incident_commands.hpp"
#include "messages/digest_chart.hpp"
#include "policy/rfc3339.hpp"
#include "tests/messages/block_kit_check.hpp"
#include "tests/support/recording_slack.hpp"
#include "tests/support/temp_dir.hpp"

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

class weekly_digest_test : public ::testing::Test {
 protected:
  weekly_digest_test()
      : dir("flare-digest"),
        db(store::sqlite_store::open((dir.path() / "flare.db").string(),
                                     store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        test_clock(at("2026-11-16T09:00:00Z")),
        calendar(tables.calendar) {
    fake_slack.usergroups = {{"S_RESP", {"U_RESP"}}, {"S_SEC", {"U_SEC"}}};
    cmds = std::make_unique<incident_commands>(
        command_context{*db,
                        fake_slack,
                        test_clock,
                        tables,
                        calendar,
                        command_settings{"C_INCIDENTS", "C_SECURITY", "S_RESP", "S_SEC", "/incident"},
                        [] {},
                        {}});
  }
  ~weekly_digest_test() override {
    cmds.reset();
    db.reset();
  }
  void command_at(std::string_view when, const std::string& user, const std::string& text) {
    test_clock.set(at(when));
    asio::io_context io;
    std::optional<json> reply;
    asio::co_spawn(io,
                   cmds->handle(slash_command{"/incident", text, user, "C_GENERAL",
                                              "t" + std::to_string(++commands_sent), ""}),
                   [&](const std::exception_ptr& e, json r) {
                     if (e) std::rethrow_exception(e);
                     reply = std::move(r);
                   });
    io.run_for(10s);
    ASSERT_TRUE(reply);
    ASSERT_EQ(reply->dump().find("⚠"), std::string::npos) << text << ": " << reply->dump();
  }

  // Week of Mon 16 Nov 2026: INC-1 high, classified after 30 min, notice on time, resolved;
  // INC-2 critical, classified after 2 h, notice late; INC-3 opened, never classified.
  void script_week() {
    command_at("2026-11-16T09:00:00Z", "U_REP", "open Tenant data leak");
    command_at("2026-11-16T09:30:00Z", "U_RESP", "classify INC-1 high confirmed");
    command_at("2026-11-16T09:40:00Z", "U_RESP",
               "facts INC-1 users_affected=confirmed data_exposed=confirmed");
    command_at("2026-11-16T10:30:00Z", "U_RESP", "done INC-1 notice");
    command_at("2026-11-17T10:00:00Z", "U_REP", "open Ransomware on a build host");
    command_at("2026-11-17T12:00:00Z", "U_RESP", "classify INC-2 critical confirmed");
    command_at("2026-11-17T12:10:00Z", "U_RESP",
               "facts INC-2 users_affected=confirmed data_exposed=confirmed");
    command_at("2026-11-18T08:00:00Z", "U_REP", "open Suspicious login");
    command_at("2026-11-19T16:00:00Z", "U_RESP", "resolve INC-1 fixed");
    command_at("2026-11-20T12:00:00Z", "U_RESP", "done INC-2 notice");
  }

  flare::testing::temp_dir dir;  // removed last, after the store is closed
  std::unique_ptr<store::sqlite_store> db;
  manual_clock test_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  flare::testing::recording_slack fake_slack;
  std::unique_ptr<incident_commands> cmds;
  int commands_sent = 0;
};

TEST_F(weekly_digest_test, counts_incidents_obligations_and_medians_for_the_week) {
  script_week();
  const auto f =
      compute_digest(*db, tables, calendar, at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"));
  EXPECT_EQ(f.opened, 3);
  EXPECT_EQ(f.closed, 1);
  EXPECT_EQ(f.opened_by_severity.at("high"), 1);
  EXPECT_EQ(f.opened_by_severity.at("critical"), 1);
  EXPECT_EQ(f.opened_by_severity.at("unclassified"), 1);
  EXPECT_EQ(f.closed_by_severity.at("high"), 1);
  EXPECT_EQ(f.opened_by_kind.at("security"), 3);
  // Report → classification: 30 min and 2 h; the median of two is their mean.
  ASSERT_TRUE(f.median_report_to_classification);
  EXPECT_EQ(*f.median_report_to_classification, 75min);
  EXPECT_GE(f.late, 1);
  EXPECT_GE(f.on_time, 1);
  bool inc2_late = false;
  for (const auto& l : f.late_ones) inc2_late |= l.reference == "INC-2";
  EXPECT_TRUE(inc2_late);
  ASSERT_TRUE(f.median_impact_to_first_notice);
  ASSERT_EQ(f.weeks.size(), 12u);
  EXPECT_EQ(f.weeks.back().start, at("2026-11-16T00:00:00Z"));
  EXPECT_EQ(f.weeks.back().on_time, f.on_time);
  EXPECT_EQ(f.weeks.back().late, f.late);
  EXPECT_EQ(f.weeks.front().on_time + f.weeks.front().late, 0);

  const std::string md = messages::digest_markdown(f);
  EXPECT_NE(md.find("report → classification: 1 h 15 min"), std::string::npos) << md;
  EXPECT_NE(md.find("INC-2 Ransomware on a build host"), std::string::npos);
  const auto hidden = messages::digest_markdown(f, false);
  EXPECT_NE(hidden.find("INC-2 Ransomware"), std::string::npos) << "not sensitive: named either way";
  const auto slack = messages::digest_message(f);
  messages::testing::expect_valid(slack);
  EXPECT_NE(slack.blocks.dump().find("opened"), std::string::npos);

  // The chart's figures as a table block: a header row, then one row per week, oldest first.
  const nlohmann::json* table = nullptr;
  for (const auto& b : slack.blocks)
    if (b.value("type", "") == "table") table = &b;
  ASSERT_NE(table, nullptr) << slack.blocks.dump();
  const auto& rows = (*table)["rows"];
  ASSERT_EQ(rows.size(), 13u);
  EXPECT_EQ(rows[0][0]["text"], "Week of");
  EXPECT_EQ(rows[0][3]["text"], "Median time to classify");
  EXPECT_EQ(rows[12][0]["text"], "Mon 16 Nov 2026");
  EXPECT_EQ(rows[12][1]["text"], std::to_string(f.weeks.back().on_time));
  EXPECT_EQ(rows[12][2]["text"], std::to_string(f.weeks.back().late));
  EXPECT_EQ((*table)["column_settings"][1]["align"], "right");
  // And in the text, for clients that render neither the chart nor the table.
  const std::string week =
      "16 Nov " + std::to_string(f.weeks.back().on_time) + "/" + std::to_string(f.weeks.back().late) + ".";
  EXPECT_NE(slack.text.find(week), std::string::npos) << slack.text;
}

TEST_F(weekly_digest_test, an_empty_week_gives_zeros_and_no_medians) {
  const auto f =
      compute_digest(*db, tables, calendar, at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"));
  EXPECT_EQ(f.opened, 0);
  EXPECT_EQ(f.late, 0);
  EXPECT_FALSE(f.median_report_to_classification);
  EXPECT_NE(messages::digest_markdown(f).find("None."), std::string::npos);
}

struct png_reader {
  const std::string* data;
  std::size_t at = 0;
  static cairo_status_t read(void* closure, unsigned char* out, unsigned int length) {
    auto* r = static_cast<png_reader*>(closure);
    if (r->at + length > r->data->size()) return CAIRO_STATUS_READ_ERROR;
    std::memcpy(out, r->data->data() + r->at, length);
    r->at += length;
    return CAIRO_STATUS_SUCCESS;
  }
};

TEST_F(weekly_digest_test, the_chart_is_a_png_that_decodes_to_its_size_and_stays_small) {
  script_week();
  const auto f =
      compute_digest(*db, tables, calendar, at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"));
  const std::string png = messages::digest_chart_png(f.weeks);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_LT(png.size(), 200u * 1024u);
  png_reader reader{&png};
  cairo_surface_t* decoded = cairo_image_surface_create_from_png_stream(&png_reader::read, &reader);
  ASSERT_EQ(cairo_surface_status(decoded), CAIRO_STATUS_SUCCESS);
  EXPECT_EQ(cairo_image_surface_get_width(decoded), messages::digest_chart_width);
  EXPECT_EQ(cairo_image_surface_get_height(decoded), messages::digest_chart_height);
  cairo_surface_destroy(decoded);
}

}  // namespace
}  // namespace flare::commands
