// The incident record of a scripted incident: golden Markdown and JSON, and a replay of the
// audit log against the record. The incident is driven through the real /incident commands
// (real SQLite store, manual clock, recording Slack), so the record is built from exactly what
// the bot writes. Set FLARE_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
#include "commands/incident_export.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "bot/store/sqlite_store.hpp"
#include "commands/incident_commands.hpp"
#include "policy/rfc3339.hpp"
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

std::filesystem::path golden_dir() {
  return std::filesystem::path(FLARE_SOURCE_DIR) / "tests/commands/golden";
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares with the golden file, or rewrites it when FLARE_UPDATE_GOLDEN is set.
void expect_golden(const std::string& name, const std::string& actual) {
  const auto path = golden_dir() / name;
  if (const char* update = std::getenv("FLARE_UPDATE_GOLDEN"); update && *update) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing; run with FLARE_UPDATE_GOLDEN=1";
  EXPECT_EQ(read_file(path), actual) << "the record differs from " << path;
}

class incident_export_test : public ::testing::Test {
 protected:
  incident_export_test()
      : dir("flare-export"),
        db(store::sqlite_store::open((dir.path() / "flare.db").string(),
                                     store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        test_clock(at("2026-11-20T10:00:00Z")),  // a Friday
        calendar(tables.calendar) {
    fake_slack.usergroups = {{"S_RESP", {"U_RESP", "U_LEAD"}}, {"S_SEC", {"U_SEC"}}};
    command_settings settings{"C_INCIDENTS", "C_SECURITY", "S_RESP", "S_SEC", "/incident"};
    cmds = std::make_unique<incident_commands>(
        command_context{*db, fake_slack, test_clock, tables, calendar, settings, [] {}, {}});
  }

  ~incident_export_test() override {
    cmds.reset();
    db.reset();
  }

  void command_at(std::string_view when, const std::string& user, const std::string& text) {
    test_clock.set(at(when));
    slash_command cmd{"/incident", text, user, "C_GENERAL", "trigger-" + std::to_string(++triggers), ""};
    const json reply = run(cmds->handle(cmd));
    ASSERT_EQ(reply.dump().find("⚠"), std::string::npos) << text << ": " << reply.dump();
  }

  // A confirmed high-severity incident: reported, classified, facts corrected, customers told
  // (one notice late), a conflict call, resolved. Every step a minute-exact time.
  void script_incident() {
    command_at("2026-11-20T10:00:00Z", "U_REP", "open Customer exports visible to other tenants");
    command_at("2026-11-20T10:20:00Z", "U_RESP", "classify INC-1 high confirmed");
    command_at("2026-11-20T10:40:00Z", "U_RESP",
               "facts INC-1 users_affected=confirmed data_exposed=confirmed customers=paid");
    command_at("2026-11-20T11:15:00Z", "U_LEAD", "done INC-1 notice link=https://crm.example/case/7");
    command_at("2026-11-20T12:00:00Z", "U_RESP", "facts INC-1 fix_available=true fix_applied=true");
    command_at("2026-11-21T09:00:00Z", "U_LEAD", "done INC-1 bulletin link=https://blog.example/sec-1");
    command_at("2026-11-23T16:00:00Z", "U_RESP", "resolve INC-1 tenant filter fixed, exports rotated");
  }

  flare::testing::temp_dir dir;  // removed last, after the store is closed
  std::unique_ptr<store::sqlite_store> db;
  manual_clock test_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  flare::testing::recording_slack fake_slack;
  std::unique_ptr<incident_commands> cmds;
  int triggers = 0;
};

TEST_F(incident_export_test, the_record_of_a_scripted_incident_matches_the_golden_markdown_and_json) {
  script_incident();
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-11-30T12:00:00Z"));
  ASSERT_TRUE(record);
  expect_golden("INC-1-record.md", messages::record_markdown(*record));
  expect_golden("INC-1-record.json", messages::record_json(*record).dump(2) + "\n");
}

TEST_F(incident_export_test, replaying_the_audit_log_gives_the_records_timeline_decisions_and_outcome) {
  script_incident();
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-11-30T12:00:00Z"));
  ASSERT_TRUE(record);
  const auto audit = db->audit_for(1);

  // Every audit entry is in the record, in order, with its time, actor, action and inputs.
  ASSERT_EQ(record->timeline.size(), audit.size());
  json last_decision;
  int decisions = 0;
  std::set<std::string> actors;
  for (std::size_t i = 0; i < audit.size(); ++i) {
    const auto& e = audit[i];
    const auto& c = record->timeline[i];
    EXPECT_EQ(c.audit_id, e.id);
    EXPECT_EQ(c.at, e.at);
    EXPECT_EQ(c.actor, e.actor);
    EXPECT_EQ(c.action, e.action);
    EXPECT_EQ(c.inputs, e.details.value("inputs", json::object()));
    actors.insert(e.actor);
    // A decision version exactly where the logged decision changed, holding the logged one.
    if (e.details.contains("decision") && e.details["decision"] != last_decision) {
      last_decision = e.details["decision"];
      ++decisions;
      ASSERT_TRUE(c.decision_number) << "entry " << e.id;
      ASSERT_LE(static_cast<std::size_t>(*c.decision_number), record->decisions.size());
      EXPECT_EQ(record->decisions[*c.decision_number - 1].decision, last_decision);
      EXPECT_EQ(record->decisions[*c.decision_number - 1].at, e.at);
    } else {
      EXPECT_FALSE(c.decision_number) << "entry " << e.id;
    }
  }
  EXPECT_EQ(static_cast<int>(record->decisions.size()), decisions);
  EXPECT_EQ(record->policy_version, last_decision.value("policy_version", ""));

  // The outcome the log records: opened, classified and closed by whom and when.
  EXPECT_EQ(record->opened_at, audit.front().at);
  EXPECT_EQ(record->reporter, audit.front().actor);
  EXPECT_EQ(record->state, "resolved");
  EXPECT_EQ(record->resolved_at, audit.back().at);
  EXPECT_EQ(record->severity, "high");
  EXPECT_EQ(record->classification, "confirmed");
  for (const auto& p : record->people) actors.erase(p.user);
  EXPECT_TRUE(actors.empty()) << "every actor of the log is among the people involved";

  // Every completion logged by a `done` entry is in the checklist with its time and evidence.
  for (const auto& e : audit) {
    if (e.action != "done") continue;
    const auto& in = e.details["inputs"];
    bool found = false;
    for (const auto& o : record->obligations) {
      if (o.state == "done" && o.done_at == at(in["at"].get<std::string>()) && o.done_by == e.actor &&
          o.evidence == in.value("link", "")) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << "done entry " << e.id << " (" << in.dump() << ") is not in the checklist";
  }
}

TEST_F(incident_export_test, an_open_obligation_past_its_due_time_is_reported_overdue_at_the_records_time) {
  command_at("2026-11-20T10:00:00Z", "U_REP", "open Leaked key");
  command_at("2026-11-20T10:20:00Z", "U_RESP", "classify INC-1 high confirmed");
  command_at("2026-11-20T10:40:00Z", "U_RESP", "facts INC-1 users_affected=confirmed data_exposed=confirmed");
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-12-10T12:00:00Z"));
  ASSERT_TRUE(record);
  bool overdue = false;
  for (const auto& o : record->obligations)
    if (o.state == "pending" && o.due)
      overdue |= messages::deadline_outcome(o, record->generated_at).starts_with("open, overdue by");
  EXPECT_TRUE(overdue);
  EXPECT_NE(messages::record_markdown(*record).find("open, overdue by"), std::string::npos);
}

TEST_F(incident_export_test, user_text_cannot_inject_markdown_structure_into_the_record) {
  command_at("2026-11-20T10:00:00Z", "U_REP", "open # Heading | pipe [link](http://x) &lt;b&gt;");
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-11-20T11:00:00Z"));
  ASSERT_TRUE(record);
  const std::string md = messages::record_markdown(*record);
  EXPECT_NE(md.find("\\# Heading \\| pipe \\[link\\](http://x) \\<b\\>"), std::string::npos)
      << md.substr(0, 300);
  EXPECT_EQ(md.find("\n# Heading"), std::string::npos);
}

TEST_F(incident_export_test, a_sensitive_incident_is_marked_sensitive_in_both_formats) {
  command_at("2026-11-20T10:00:00Z", "U_REP", "open Harassment by a manager sensitive");
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-11-20T11:00:00Z"));
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->sensitive);
  EXPECT_NE(messages::record_markdown(*record).find("Sensitive incident"), std::string::npos);
  EXPECT_EQ(messages::record_json(*record)["incident"]["sensitive"], true);
}

TEST_F(incident_export_test, an_unknown_incident_has_no_record) {
  EXPECT_FALSE(build_incident_record(*db, 42, tables, calendar, at("2026-11-20T11:00:00Z")));
}

TEST_F(incident_export_test, the_markdown_ends_with_the_post_incident_review_skeleton) {
  script_incident();
  const auto record = build_incident_record(*db, 1, tables, calendar, at("2026-11-30T12:00:00Z"));
  ASSERT_TRUE(record);
  const std::string md = messages::record_markdown(*record);
  const auto review = md.find("# Post-incident review: INC-1");
  ASSERT_NE(review, std::string::npos);
  for (const char* heading :
       {"## Summary", "## Timeline", "## What went well", "## What to change", "## Action items"})
    EXPECT_NE(md.find(heading, review), std::string::npos) << heading;
  EXPECT_NE(md.find("tenant filter fixed", review), std::string::npos);
}

}  // namespace
}  // namespace flare::commands
