// `/incident export` end to end through the fake Slack: the real incident_commands with the real
// Web API client over TLS, files.getUploadURLExternal, the upload to the presigned URL and
// files.completeUploadExternal into the incident's thread (issue 12).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <map>
#include <stdexcept>

#include "bot/slack/slack_files.hpp"
#include "bot/slack/web_api_client.hpp"
#include "bot/store/sqlite_store.hpp"
#include "commands/incident_commands.hpp"
#include "commands/incident_export.hpp"
#include "policy/rfc3339.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare::commands {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

class export_upload_test : public ::testing::Test {
 protected:
  export_upload_test()
      : dir("flare-export-e2e"),
        store_(store::sqlite_store::open((dir.path() / "flare.db").string(),
                                         store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        clock_(*policy::parse_rfc3339("2026-11-20T12:00:00Z")),
        calendar_(tables_.calendar) {
    fake_.set_usergroup_members("S_RESP", {"U_RESP"});
    fake_.set_usergroup_members("S_SEC", {"U_SEC"});
    slack::web_api_options o;
    o.api_url = fake_.api_url();
    o.bot_token = fake_.options().bot_token;
    o.extra_ca_file = fake_.ca_file();
    o.connect_timeout = 3s;
    o.request_timeout = 5s;
    o.max_attempts = 1;
    client_ = std::make_unique<slack::web_api_client>(io_.get_executor(), o);
    files_ = std::make_unique<slack::web_slack_files>(io_.get_executor(), *client_, fake_.ca_file(), 5s);
    commands_ = std::make_unique<incident_commands>(
        command_context{*store_,
                        *client_,
                        clock_,
                        tables_,
                        calendar_,
                        command_settings{"C_INCIDENTS", "G_SECURITY", "S_RESP", "S_SEC", "/incident"},
                        [] {},
                        {}});
    export_ = std::make_unique<incident_export>(*store_, files_.get(), clock_, tables_, calendar_, *commands_,
                                                "G_SECURITY", "/incident");
  }
  ~export_upload_test() override {
    export_.reset();
    commands_.reset();
    files_.reset();
    client_.reset();
    store_.reset();
  }

  // An incident whose card was posted (so it has a thread), as the outbox leaves it.
  std::int64_t incident_with_thread(const std::string& title, bool sensitive) {
    store::new_incident f;
    f.title = title;
    f.reporter = "U_REP";
    f.sensitive = sensitive;
    f.channel = sensitive ? "G_SECURITY" : "C_INCIDENTS";
    f.thread_ts = "1700000000.000100";
    f.card_ts = "1700000000.000100";
    const auto i = store_->create_incident(
        f, "U_REP", clock_.now() - 2h,
        {{"inputs", {{"title", title}, {"sensitive", sensitive}, {"channel", f.channel}}}});
    return i.id;
  }

  json command(const std::string& user, const std::string& text) {
    // The awaitable is made outside any coroutine: GCC 12 mishandles braced temporaries in one.
    slash_command cmd{"/incident", text, user, "C_GENERAL", "trigger-" + text, "https://hooks.slack.test/x"};
    std::optional<json> out;
    std::exception_ptr failure;
    asio::co_spawn(io_, export_->handle(std::move(cmd)), [&](std::exception_ptr e, json r) {
      failure = e;
      if (!e) out = std::move(r);
    });
    io_.run_for(20s);  // bounded: the fake answers at once
    io_.restart();
    if (failure) std::rethrow_exception(failure);
    if (!out) throw std::runtime_error("the command did not finish");
    return *out;
  }

  testing::fake_slack fake_;
  asio::io_context io_;
  flare::testing::temp_dir dir;  // removed last, after the store is closed
  std::unique_ptr<store::sqlite_store> store_;
  manual_clock clock_;
  policy::tables tables_;
  policy::business_calendar calendar_;
  std::unique_ptr<slack::web_api_client> client_;
  std::unique_ptr<slack::web_slack_files> files_;
  std::unique_ptr<incident_commands> commands_;
  std::unique_ptr<incident_export> export_;

  // What was shared: one entry per file of every successful files.completeUploadExternal, with
  // the bytes the upload step received.
  std::vector<json> shared_files() const {
    std::map<std::string, std::string> bytes;
    for (const auto& u : fake_.calls("upload"))
      bytes[u.body.value("file_id", "")] = u.body.value("content", "");
    std::vector<std::string> names;
    for (const auto& g : fake_.calls("files.getUploadURLExternal"))
      names.push_back(g.body.value("filename", ""));
    std::vector<json> out;
    std::size_t n = 0;
    for (const auto& c : fake_.calls("files.completeUploadExternal")) {
      for (const auto& f : c.body["files"]) {
        const std::string id = f.value("id", "");
        out.push_back({{"id", id},
                       {"name", n < names.size() ? names[n] : ""},
                       {"title", f.value("title", "")},
                       {"content", bytes[id]},
                       {"channel", c.body.value("channel_id", "")},
                       {"thread_ts", c.body.value("thread_ts", "")}});
        ++n;
      }
    }
    return out;
  }
};

TEST_F(export_upload_test, a_responder_exports_the_record_as_markdown_and_json_into_the_incidents_thread) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  const auto expected = build_incident_record(*store_, id, tables_, calendar_, clock_.now());
  ASSERT_TRUE(expected);

  const json reply = command("U_RESP", "export INC-1");
  EXPECT_NE(reply.dump().find("Uploaded the incident record"), std::string::npos) << reply.dump();

  const auto files = shared_files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["name"], "INC-1-record.md");
  EXPECT_EQ(files[1]["name"], "INC-1-record.json");
  for (const auto& f : files) {
    EXPECT_EQ(f["channel"], "C_INCIDENTS");
    EXPECT_EQ(f["thread_ts"], "1700000000.000100");
  }
  EXPECT_EQ(files[0]["content"], messages::record_markdown(*expected));
  EXPECT_EQ(json::parse(files[1]["content"].get<std::string>()), messages::record_json(*expected));

  // The presigned upload URL gets the bytes and never the bot token.
  const auto uploads = fake_.calls("upload");
  ASSERT_EQ(uploads.size(), 2u);
  for (const auto& u : uploads) EXPECT_TRUE(u.authorization.empty());
  EXPECT_EQ(fake_.calls("files.getUploadURLExternal").size(), 2u);
  EXPECT_EQ(fake_.calls("files.completeUploadExternal").size(), 1u);

  // The export itself is in the audit log: who took the evidence out and when.
  const auto audit = store_->audit_for(id);
  EXPECT_EQ(audit.back().action, "export");
  EXPECT_EQ(audit.back().actor, "U_RESP");
}

TEST_F(export_upload_test, someone_outside_the_responders_cannot_export) {
  incident_with_thread("Leaked API key in CI logs", false);
  const json reply = command("U_ANYONE", "export INC-1");
  EXPECT_NE(reply.dump().find("not authorised"), std::string::npos) << reply.dump();
  EXPECT_TRUE(shared_files().empty());
  EXPECT_TRUE(fake_.calls("files.getUploadURLExternal").empty());
}

TEST_F(export_upload_test,
       a_sensitive_record_goes_only_to_the_security_channel_and_only_for_the_security_team) {
  incident_with_thread("Harassment by a manager", true);
  json reply = command("U_RESP", "export INC-1");
  EXPECT_NE(reply.dump().find("not authorised"), std::string::npos) << reply.dump();
  EXPECT_TRUE(shared_files().empty());

  reply = command("U_SEC", "export INC-1");
  EXPECT_NE(reply.dump().find("Uploaded"), std::string::npos) << reply.dump();
  const auto files = shared_files();
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_EQ(f["channel"], "G_SECURITY");
}

TEST_F(export_upload_test, a_failed_share_is_reported_and_not_recorded_as_an_export) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  fake_.inject("files.completeUploadExternal", testing::fault{200, std::nullopt, "not_in_channel"});
  const json reply = command("U_RESP", "export INC-1");
  EXPECT_NE(reply.dump().find("not_in_channel"), std::string::npos) << reply.dump();
  EXPECT_NE(reply.dump().find("nothing was shared"), std::string::npos);
  EXPECT_EQ(store_->audit_for(id).back().action, "open");
}

TEST_F(export_upload_test, the_export_subcommand_is_recognised_in_any_case_and_only_as_a_word) {
  EXPECT_TRUE(incident_export::is_export("export INC-1"));
  EXPECT_TRUE(incident_export::is_export("  EXPORT 7"));
  EXPECT_TRUE(incident_export::is_export("export"));
  EXPECT_FALSE(incident_export::is_export("exports INC-1"));
  EXPECT_FALSE(incident_export::is_export("show INC-1"));
  const json reply = command("U_RESP", "export");
  EXPECT_NE(reply.dump().find("missing the incident"), std::string::npos) << reply.dump();
}

TEST_F(export_upload_test, an_unknown_incident_is_named_in_the_reply) {
  const json reply = command("U_RESP", "export INC-9");
  EXPECT_NE(reply.dump().find("INC-9 does not exist"), std::string::npos) << reply.dump();
}

}  // namespace
}  // namespace flare::commands
