// peek_slash_command: a slash command read straight from its frame must be exactly what
// parse_frame and the dispatcher would read, or nothing (the frame then takes the full path).
#include "bot/slack/quick_slash.hpp"

#include "bot/slack/envelope.hpp"
#include "input/json_fields.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace flare::slack {
namespace {

// A frame as Slack sends it (docs/slack.md §1.2), with `payload_text` spliced in.
std::string command_frame(const std::string& payload_text,
                          const std::string& tail = R"(,"accepts_response_payload":true)") {
  return R"({"envelope_id":"57d6a792-4d35-4d0b-b6aa-3361493e1caf","type":"slash_commands","payload":)" +
         payload_text + tail + "}";
}

const std::string help_payload =
    R"({"token":"x","team_id":"T1","channel_id":"C1","channel_name":"incidents","user_id":"U1",)"
    R"("user_name":"ana","command":"/incident","text":"help","api_app_id":"A1","is_enterprise_install":"false",)"
    R"("response_url":"https://hooks.slack.com/commands/T1/1/abc","trigger_id":"13345224609.738474920.8088930838d88f008e0"})";

// What the full path reads from the same frame, as the dispatcher's parse_slash_command reads it.
std::optional<slash_frame> through_parse_frame(const std::string& frame) {
  auto parsed = parse_frame(frame);
  auto* e = std::get_if<envelope>(&parsed);
  if (e == nullptr || e->type != "slash_commands" || !e->accepts_response_payload) return std::nullopt;
  slash_frame out;
  out.envelope_id = e->envelope_id;
  out.command = input::string_at(e->payload, "command");
  out.user_id = input::string_at(e->payload, "user_id");
  if (out.command.empty() || out.user_id.empty()) return std::nullopt;
  out.text = input::string_at(e->payload, "text");
  out.channel_id = input::string_at(e->payload, "channel_id");
  out.trigger_id = input::string_at(e->payload, "trigger_id");
  out.response_url = input::string_at(e->payload, "response_url");
  return out;
}

bool same(const slash_frame& a, const slash_frame& b) {
  return a.envelope_id == b.envelope_id && a.command == b.command && a.text == b.text &&
         a.user_id == b.user_id && a.channel_id == b.channel_id && a.trigger_id == b.trigger_id &&
         a.response_url == b.response_url;
}

TEST(quick_slash, reads_every_field_of_a_command_frame) {
  auto c = peek_slash_command(command_frame(help_payload));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->envelope_id, "57d6a792-4d35-4d0b-b6aa-3361493e1caf");
  EXPECT_EQ(c->command, "/incident");
  EXPECT_EQ(c->text, "help");
  EXPECT_EQ(c->user_id, "U1");
  EXPECT_EQ(c->channel_id, "C1");
  EXPECT_EQ(c->trigger_id, "13345224609.738474920.8088930838d88f008e0");
  EXPECT_EQ(c->response_url, "https://hooks.slack.com/commands/T1/1/abc");
}

TEST(quick_slash, refuses_what_is_not_a_command_that_takes_a_reply) {
  const std::vector<std::string> refused = {
      // Not a command envelope, even one that mentions the type in a message's text.
      R"({"envelope_id":"E1","type":"events_api","payload":{"event":{"text":"\"slash_commands\""}}})",
      R"({"type":"hello","num_connections":1})",
      // No reply can ride on this ack.
      command_frame(help_payload, ""),
      command_frame(help_payload, R"(,"accepts_response_payload":false)"),
      command_frame(help_payload, R"(,"accepts_response_payload":"true")"),
      // Without what the full path needs.
      R"({"type":"slash_commands","accepts_response_payload":true,"payload":{"command":"/incident","user_id":"U1"}})",
      R"({"envelope_id":"","type":"slash_commands","accepts_response_payload":true,"payload":{"command":"/i","user_id":"U1"}})",
      command_frame(R"({"command":"/incident","text":"help"})"),
      command_frame(R"({"user_id":"U1","text":"help"})"),
      command_frame(R"({"command":7,"user_id":"U1"})"),
      command_frame(R"(["/incident"])"),
      // A floating-point number anywhere: the full path reads it with nlohmann's parser.
      command_frame(R"({"command":"/incident","user_id":"U1","text":"help","score":1.5e3})"),
      // Not strict JSON, or what parse_untrusted_json would repair first.
      command_frame(R"({"command":"/incident","user_id":"U1",})"),
      command_frame(R"({"command":"/incident","user_id":"U1","text":"h\ud83d"})"),
      command_frame("{\"command\":\"/incident\",\"user_id\":\"U1\",\"text\":\"h\xff\"}"),
      command_frame(R"({"command":"/incident","user_id":"U1")"),
  };
  for (const auto& frame : refused) EXPECT_FALSE(peek_slash_command(frame)) << frame;
}

TEST(quick_slash, refuses_frames_past_the_limits) {
  const auto frame = command_frame(help_payload);
  input::json_limits small;
  small.max_bytes = frame.size() - 1;
  EXPECT_FALSE(peek_slash_command(frame, small));
  input::json_limits shallow;
  shallow.max_depth = 1;  // the payload object is at depth 2
  EXPECT_FALSE(peek_slash_command(frame, shallow));
  shallow.max_depth = 2;
  EXPECT_TRUE(peek_slash_command(frame, shallow));
}

// Escapes, non-string fields, duplicate keys, emoji: the peek and the
// full path read the same command, field for field.
TEST(quick_slash, reads_exactly_what_the_full_path_reads) {
  // The last of duplicate keys counts, in both paths.
  const std::string duplicate_type =
      R"({"type":"events_api","type":"slash_commands","envelope_id":"E9","accepts_response_payload":true,)"
      R"("payload":{"command":"/incident","user_id":"U2","text":"help"}})";
  const std::vector<std::string> frames = {
      command_frame(help_payload),
      command_frame(R"({"command":"/incident","user_id":"U1","text":"h\u00e9lp \"quoted\" \\ \/ \n\t"})"),
      command_frame(R"({"command":"/incident","user_id":"U1","text":"help","text":"list"})"),
      command_frame(R"({"command":"/incident","user_id":"U1","text":null,"channel_id":12,"trigger_id":[]})"),
      command_frame(R"({"command":"/incident","user_id":"U1","text":"😀 help"})"),
      command_frame(R"({"command":"/incident","user_id":"U1"})",
                    R"(,"accepts_response_payload":true,"retry_attempt":2)"),
      duplicate_type,
  };
  for (const auto& frame : frames) {
    auto quick = peek_slash_command(frame);
    auto full = through_parse_frame(frame);
    ASSERT_TRUE(quick) << frame;
    ASSERT_TRUE(full) << frame;
    EXPECT_TRUE(same(*quick, *full)) << frame;
  }
}

// Numbers the two parsers might treat differently (out of range, negative zero, past uint64):
// the quick read answers only when the full path reads the same command.
TEST(quick_slash, never_answers_a_frame_the_full_path_reads_otherwise) {
  for (const std::string number :
       {"1e999", "-1e999", "-0", "-0.0", "18446744073709551616", "1E+2", "0.1e-400"}) {
    const auto frame =
        command_frame(R"({"command":"/incident","user_id":"U1","text":"help","n":)" + number + "}");
    auto quick = peek_slash_command(frame);
    if (!quick) continue;
    auto full = through_parse_frame(frame);
    ASSERT_TRUE(full) << frame;
    EXPECT_TRUE(same(*quick, *full)) << frame;
  }
}

}  // namespace
}  // namespace flare::slack
