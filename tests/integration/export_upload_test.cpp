// `/incident export` end to end through the fake Slack: the real incident_commands with the real
// Web API client over TLS; the command enqueues an "upload" outbox item and the outbox sends it:
// files.getUploadURLExternal, the upload to the presigned URL and files.completeUploadExternal
// into the incident's thread (issue 12), once per command even when Slack redelivers it, again
// when the upload URL answers 5xx, and reported in the thread when it is refused for good.
#include <gtest/gtest.h>

#include <stdexcept>

#include "commands/incident_commands.hpp"
#include "commands/incident_export.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/evidence_fixture.hpp"

namespace flare::commands {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

class export_upload_test : public testing::evidence_fixture {
 protected:
  export_upload_test()
      : evidence_fixture("flare-export-e2e", *policy::parse_rfc3339("2026-11-20T12:00:00Z")) {
    fake.set_usergroup_members("S_RESP", {"U_RESP"});
    fake.set_usergroup_members("S_SEC", {"U_SEC"});
    commands = std::make_unique<incident_commands>(
        command_context{*db,
                        *client,
                        wall_clock,
                        tables,
                        calendar,
                        command_settings{"C_INCIDENTS", "G_SECURITY", "S_RESP", "S_SEC", "/incident"},
                        [] {},
                        {}});
    exporter = std::make_unique<incident_export>(*db, true, wall_clock, tables, calendar, *commands,
                                                 "G_SECURITY", "/incident", [this] { ++wakes; });
  }
  ~export_upload_test() override {
    exporter.reset();
    commands.reset();
  }

 public:
  export_upload_test(const export_upload_test&) = delete;
  export_upload_test& operator=(const export_upload_test&) = delete;

 protected:
  // An incident whose card was posted (so it has a thread), as the outbox leaves it.
  std::int64_t incident_with_thread(const std::string& title, bool sensitive) {
    store::new_incident f;
    f.title = title;
    f.reporter = "U_REP";
    f.sensitive = sensitive;
    f.channel = sensitive ? "G_SECURITY" : "C_INCIDENTS";
    f.thread_ts = "1700000000.000100";
    f.card_ts = "1700000000.000100";
    const auto i = db->create_incident(
        f, "U_REP", wall_clock.now() - 2h,
        {{"inputs", {{"title", title}, {"sensitive", sensitive}, {"channel", f.channel}}}});
    return i.id;
  }

  // The command as Slack delivers it; the same text twice is the same trigger_id (a redelivery).
  json command(const std::string& user, const std::string& text) {
    // The awaitable is made outside any coroutine: GCC 12 mishandles braced temporaries in one.
    slash_command cmd{"/incident", text, user, "C_GENERAL", "trigger-" + text, "https://hooks.slack.test/x"};
    return run(exporter->handle(std::move(cmd)));
  }

  std::vector<std::string> actions(std::int64_t id) {
    std::vector<std::string> out;
    for (const auto& e : db->audit_for(id)) out.push_back(e.action);
    return out;
  }

  std::unique_ptr<incident_commands> commands;
  std::unique_ptr<incident_export> exporter;
  int wakes = 0;
};

TEST_F(export_upload_test, a_responder_exports_the_record_as_markdown_and_json_into_the_incidents_thread) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  const auto expected = build_incident_record(*db, id, tables, calendar, wall_clock.now());
  ASSERT_TRUE(expected);

  const json reply = command("U_RESP", "export INC-1");
  EXPECT_NE(reply.dump().find("will be uploaded to its thread"), std::string::npos) << reply.dump();
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(shared_files().empty()) << "the handler only enqueues; the outbox uploads";
  // The export is in the audit log at once: who took the evidence out and when.
  EXPECT_EQ(db->audit_for(id).back().action, "export");
  EXPECT_EQ(db->audit_for(id).back().actor, "U_RESP");

  EXPECT_EQ(drain(), 1u);
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
  const auto uploads = fake.calls("upload");
  ASSERT_EQ(uploads.size(), 2u);
  for (const auto& u : uploads) EXPECT_TRUE(u.authorization.empty());
  EXPECT_EQ(fake.calls("files.getUploadURLExternal").size(), 2u);
  EXPECT_EQ(fake.calls("files.completeUploadExternal").size(), 1u);

  // Once shared, the audit log names the files as Slack knows them.
  const auto audit = db->audit_for(id);
  EXPECT_EQ(audit.back().action, "export-shared");
  EXPECT_EQ(audit.back().actor, "flare");
  EXPECT_EQ(audit.back().details["file_ids"], json::array({files[0]["id"], files[1]["id"]}));
}

TEST_F(export_upload_test, a_redelivered_export_command_uploads_the_record_once) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  command("U_RESP", "export INC-1");
  const json again = command("U_RESP", "export INC-1");  // same trigger_id: Slack redelivered it
  EXPECT_NE(again.dump().find("will be uploaded"), std::string::npos) << again.dump();
  EXPECT_EQ(wakes, 1) << "the redelivery enqueued nothing";
  EXPECT_EQ(drain(), 1u);
  EXPECT_EQ(drain(), 0u);
  EXPECT_EQ(shared_files().size(), 2u);
  EXPECT_EQ(fake.calls("files.completeUploadExternal").size(), 1u);
  EXPECT_EQ(actions(id), (std::vector<std::string>{"open", "export", "export-shared"}));

  // Another export (a new command, a new trigger_id) is another upload.
  command("U_RESP", "export  INC-1");
  EXPECT_EQ(drain(), 1u);
  EXPECT_EQ(shared_files().size(), 4u);
}

TEST_F(export_upload_test, an_upload_url_answering_500_is_retried_and_the_record_shared_once) {
  incident_with_thread("Leaked API key in CI logs", false);
  testing::fault unavailable;
  unavailable.http_status = 500;
  fake.inject("upload", unavailable);
  command("U_RESP", "export INC-1");

  EXPECT_EQ(drain(), 0u) << "the first attempt met the 500";
  EXPECT_TRUE(shared_files().empty());
  const auto pending = db->pending_outbox(10);
  ASSERT_EQ(pending.size(), 1u) << "a 5xx is not final";
  EXPECT_EQ(pending[0].attempts, 1);
  EXPECT_NE(pending[0].last_error.value_or("").find("upload_unavailable"), std::string::npos);

  EXPECT_EQ(drain(), 1u);
  // Exactly the two files, shared once: the file id whose upload met the 500 was never shared.
  const auto files = shared_files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0]["name"], "INC-1-record.md");
  EXPECT_EQ(files[1]["name"], "INC-1-record.json");
  EXPECT_EQ(fake.calls("files.completeUploadExternal").size(), 1u);
  EXPECT_TRUE(db->pending_outbox(10).empty());
  // No notice of a failure in the thread.
  EXPECT_TRUE(fake.posted_messages().empty());
}

TEST_F(export_upload_test, an_upload_refused_with_a_4xx_is_final_and_said_in_the_thread) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  testing::fault too_large;
  too_large.http_status = 413;
  fake.inject("upload", too_large);
  command("U_RESP", "export INC-1");

  drain();
  EXPECT_TRUE(shared_files().empty());
  EXPECT_TRUE(db->pending_outbox(10).empty()) << "a 4xx is not retried";
  const auto posts = fake.posted_messages();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["channel"], "C_INCIDENTS");
  EXPECT_EQ(posts[0]["thread_ts"], "1700000000.000100");
  const std::string text = posts[0]["text"];
  EXPECT_NE(text.find("The incident record of INC-1"), std::string::npos) << text;
  EXPECT_NE(text.find("could not be uploaded"), std::string::npos) << text;
  EXPECT_NE(text.find("HTTP 413"), std::string::npos) << text;
  EXPECT_NE(text.find("flare export INC-1"), std::string::npos) << text;

  EXPECT_EQ(drain(), 0u);
  EXPECT_EQ(fake.calls("upload").size(), 1u) << "nothing tried again";
  EXPECT_EQ(actions(id), (std::vector<std::string>{"open", "export"})) << "never recorded as shared";
}

TEST_F(export_upload_test, someone_outside_the_responders_cannot_export) {
  incident_with_thread("Leaked API key in CI logs", false);
  const json reply = command("U_ANYONE", "export INC-1");
  EXPECT_NE(reply.dump().find("not authorised"), std::string::npos) << reply.dump();
  EXPECT_TRUE(shared_files().empty());
  EXPECT_TRUE(db->pending_outbox(10).empty()) << "nothing enqueued";
}

TEST_F(export_upload_test,
       a_sensitive_record_goes_only_to_the_security_channel_and_only_for_the_security_team) {
  incident_with_thread("Harassment by a manager", true);
  json reply = command("U_RESP", "export INC-1");
  EXPECT_NE(reply.dump().find("not authorised"), std::string::npos) << reply.dump();
  EXPECT_TRUE(shared_files().empty());

  reply = command("U_SEC", "export INC-1");
  EXPECT_NE(reply.dump().find("will be uploaded"), std::string::npos) << reply.dump();
  EXPECT_EQ(drain(), 1u);
  const auto files = shared_files();
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_EQ(f["channel"], "G_SECURITY");
}

TEST_F(export_upload_test, a_refused_share_is_said_in_the_thread_and_not_recorded_as_shared) {
  const auto id = incident_with_thread("Leaked API key in CI logs", false);
  testing::fault not_in_channel;
  not_in_channel.slack_error = "not_in_channel";
  fake.inject("files.completeUploadExternal", not_in_channel);
  const json reply = command("U_RESP", "export INC-1");
  EXPECT_EQ(reply.dump().find("Uploaded"), std::string::npos) << "the reply claims nothing: " << reply.dump();
  drain();
  EXPECT_TRUE(shared_files().empty());
  const auto posts = fake.posted_messages();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_NE(posts[0]["text"].get<std::string>().find("not_in_channel"), std::string::npos);
  EXPECT_EQ(actions(id), (std::vector<std::string>{"open", "export"}));
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
