// parse_frame: every frame Slack sends over Socket Mode, and the broken ones it should never
// send (docs/slack.md §1.2).
#include "bot/slack/envelope.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flare::slack {
namespace {

TEST(envelope, hello_reads_connection_count_and_lifetime) {
  auto f = parse_frame(R"({"type":"hello","num_connections":2,
    "debug_info":{"host":"applink-1","started":"2020-10-11 12:12:12.120","build_number":54,
                  "approximate_connection_time":18060},
    "connection_info":{"app_id":"A1234"}})");
  ASSERT_TRUE(std::holds_alternative<hello>(f));
  EXPECT_EQ(std::get<hello>(f).num_connections, 2);
  EXPECT_EQ(std::get<hello>(f).approximate_connection_time, 18060);
}

TEST(envelope, hello_without_debug_info_has_zero_lifetime) {
  auto f = parse_frame(R"({"type":"hello"})");
  ASSERT_TRUE(std::holds_alternative<hello>(f));
  EXPECT_EQ(std::get<hello>(f).num_connections, 0);
  EXPECT_EQ(std::get<hello>(f).approximate_connection_time, 0);
}

TEST(envelope, disconnect_reasons) {
  for (std::string reason :
       {"warning", "refresh_requested", "link_disabled", "too_many_websockets", "other"}) {
    auto f = parse_frame(R"({"type":"disconnect","reason":")" + reason +
                         R"(","debug_info":{"host":"wss-111.slack.com"}})");
    ASSERT_TRUE(std::holds_alternative<disconnect>(f)) << reason;
    EXPECT_EQ(std::get<disconnect>(f).reason, reason);
  }
  auto no_reason = parse_frame(R"({"type":"disconnect"})");
  ASSERT_TRUE(std::holds_alternative<disconnect>(no_reason));
  EXPECT_EQ(std::get<disconnect>(no_reason).reason, "");
}

struct envelope_case {
  std::string name;
  std::string text;
  std::string type;
  std::string envelope_id;
  bool accepts_response_payload;
  int retry_attempt;
  std::string retry_reason;
};

TEST(envelope, envelopes_of_each_type) {
  std::vector<envelope_case> cases = {
      {"events_api first delivery",
       R"({"envelope_id":"dbdd0ef3-1543","type":"events_api","payload":{"type":"event_callback",
           "event_id":"Ev1"},"accepts_response_payload":false,"retry_attempt":0,"retry_reason":""})",
       "events_api", "dbdd0ef3-1543", false, 0, ""},
      {"events_api redelivery",
       R"({"envelope_id":"e2","type":"events_api","payload":{"event_id":"Ev1"},
           "retry_attempt":2,"retry_reason":"timeout"})",
       "events_api", "e2", false, 2, "timeout"},
      {"slash command accepts a response payload",
       R"({"envelope_id":"e3","type":"slash_commands","payload":{"command":"/incident",
           "text":"new"},"accepts_response_payload":true})",
       "slash_commands", "e3", true, 0, ""},
      {"interactive view submission",
       R"({"envelope_id":"e4","type":"interactive","payload":{"type":"view_submission"},
           "accepts_response_payload":true})",
       "interactive", "e4", true, 0, ""},
      {"wrongly typed optional fields fall back to defaults",
       R"({"envelope_id":"e5","type":"interactive","payload":{},
           "accepts_response_payload":"yes","retry_attempt":"1","retry_reason":3})",
       "interactive", "e5", false, 0, ""},
  };
  for (const auto& c : cases) {
    auto f = parse_frame(c.text);
    ASSERT_TRUE(std::holds_alternative<envelope>(f)) << c.name;
    const auto& e = std::get<envelope>(f);
    EXPECT_EQ(e.type, c.type) << c.name;
    EXPECT_EQ(e.envelope_id, c.envelope_id) << c.name;
    EXPECT_TRUE(e.payload.is_object()) << c.name;
    EXPECT_EQ(e.accepts_response_payload, c.accepts_response_payload) << c.name;
    EXPECT_EQ(e.retry_attempt, c.retry_attempt) << c.name;
    EXPECT_EQ(e.retry_reason, c.retry_reason) << c.name;
  }
}

TEST(envelope, payload_is_kept_whole) {
  auto f = parse_frame(
      R"({"envelope_id":"e1","type":"slash_commands","payload":{"command":"/incident","text":"new sev high"}})");
  ASSERT_TRUE(std::holds_alternative<envelope>(f));
  EXPECT_EQ(std::get<envelope>(f).payload.at("text"), "new sev high");
}

struct malformed_case {
  std::string name;
  std::string text;
  std::optional<std::string> envelope_id;  // what can still be acked
};

TEST(envelope, malformed_frames_keep_a_readable_envelope_id) {
  std::vector<malformed_case> cases = {
      {"empty text", "", std::nullopt},
      {"bad JSON", "{not json", std::nullopt},
      {"truncated JSON with an id", R"({"envelope_id": "abc-123", "type":"events_api","pay)", "abc-123"},
      {"truncated JSON with a half-read id", R"({"envelope_id":"abc-12)", std::nullopt},
      {"array", R"([1,2,3])", std::nullopt},
      {"string", R"("hello")", std::nullopt},
      {"number", "42", std::nullopt},
      {"missing type", R"({"envelope_id":"e1","payload":{}})", "e1"},
      {"type not a string", R"({"envelope_id":"e1","type":7,"payload":{}})", "e1"},
      {"missing payload", R"({"envelope_id":"e2","type":"events_api"})", "e2"},
      {"payload not an object", R"({"envelope_id":"e3","type":"slash_commands","payload":"x"})", "e3"},
      {"null payload", R"({"envelope_id":"e3","type":"interactive","payload":null})", "e3"},
      {"missing envelope_id", R"({"type":"events_api","payload":{}})", std::nullopt},
      {"empty envelope_id", R"({"envelope_id":"","type":"events_api","payload":{}})", std::nullopt},
      {"envelope_id not a string", R"({"envelope_id":12,"type":"events_api","payload":{}})", std::nullopt},
      {"unknown type with id", R"({"envelope_id":"e4","type":"brand_new_kind","payload":{}})", "e4"},
      {"unknown type without id", R"({"type":"brand_new_kind"})", std::nullopt},
  };
  for (const auto& c : cases) {
    auto f = parse_frame(c.text);
    ASSERT_TRUE(std::holds_alternative<malformed_frame>(f)) << c.name;
    const auto& m = std::get<malformed_frame>(f);
    EXPECT_FALSE(m.reason.empty()) << c.name;
    EXPECT_EQ(m.envelope_id, c.envelope_id) << c.name;
  }
}

TEST(envelope, malformed_reason_names_the_type_but_not_the_payload) {
  auto f =
      parse_frame(R"({"envelope_id":"e4","type":"brand_new_kind","payload":{"secret":"xoxb-do-not-log"}})");
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  const auto& reason = std::get<malformed_frame>(f).reason;
  EXPECT_NE(reason.find("brand_new_kind"), std::string::npos);
  EXPECT_EQ(reason.find("xoxb"), std::string::npos);
}

TEST(envelope, long_unknown_type_is_truncated_in_the_reason) {
  std::string type(500, 'x');
  auto f = parse_frame(R"({"type":")" + type + R"("})");
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  EXPECT_LT(std::get<malformed_frame>(f).reason.size(), 100u);
}

TEST(envelope, deeply_nested_garbage_does_not_throw) {
  std::string deep(100000, '[');
  EXPECT_NO_THROW({
    auto f = parse_frame(deep);
    EXPECT_TRUE(std::holds_alternative<malformed_frame>(f));
  });
}

}  // namespace
}  // namespace flare::slack

// ---- untrusted input: size, depth, UTF-8 (issue 13) ----

namespace flare::slack {
namespace {

std::string nested_payload(std::size_t levels) {
  std::string text = R"({"envelope_id":"deep-1","type":"events_api","payload":)";
  text.append(levels, '[');
  text.append(levels, ']');
  text += "}";
  return text;
}

TEST(envelope_limits, a_million_levels_of_nesting_is_malformed_and_acked_not_a_crash) {
  const auto text = nested_payload(1'000'000);  // 2 MB, as in the report
  auto f = parse_frame(text, {.max_bytes = std::size_t{4} * 1024 * 1024, .max_depth = 128});
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  const auto& m = std::get<malformed_frame>(f);
  EXPECT_NE(m.reason.find("nested deeper than 128"), std::string::npos) << m.reason;
  ASSERT_TRUE(m.envelope_id.has_value());
  EXPECT_EQ(*m.envelope_id, "deep-1");
  EXPECT_EQ(m.type, "events_api");
}

TEST(envelope_limits, a_frame_over_the_size_limit_is_refused_before_parsing_but_acked) {
  const auto text = nested_payload(1'000'000);  // 2 MB > the default 1 MiB
  auto f = parse_frame(text);
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  const auto& m = std::get<malformed_frame>(f);
  EXPECT_NE(m.reason.find("too large"), std::string::npos) << m.reason;
  EXPECT_EQ(m.envelope_id.value_or(""), "deep-1");
}

TEST(envelope_limits, nesting_up_to_the_limit_is_accepted_and_one_more_level_is_not) {
  // The frame object and the payload object are two levels; the arrays inside make the rest.
  auto frame_with_arrays = [](std::size_t arrays) {
    std::string text = R"({"envelope_id":"e","type":"events_api","payload":{"a":)";
    text.append(arrays, '[');
    text.append(arrays, ']');
    return text + "}}";
  };
  EXPECT_TRUE(std::holds_alternative<envelope>(parse_frame(frame_with_arrays(126))));
  EXPECT_TRUE(std::holds_alternative<malformed_frame>(parse_frame(frame_with_arrays(127))));
}

TEST(envelope_limits, a_lone_surrogate_is_replaced_not_a_dropped_envelope) {
  auto f = parse_frame(R"({"envelope_id":"s1","type":"events_api",
    "payload":{"event":{"type":"message","text":"phish \uD800 here \uDC00 and \uD83D\uDE00"}}})");
  ASSERT_TRUE(std::holds_alternative<envelope>(f));
  const auto text = std::get<envelope>(f).payload["event"]["text"].get<std::string>();
  EXPECT_EQ(text, "phish \xEF\xBF\xBD here \xEF\xBF\xBD and \xF0\x9F\x98\x80");
}

TEST(envelope_limits, invalid_utf8_is_replaced_and_the_payload_still_dumps) {
  auto f = parse_frame(
      "{\"envelope_id\":\"u1\",\"type\":\"events_api\","
      "\"payload\":{\"event\":{\"text\":\"bad \xC3\x28 byte \xFF end\"}}}");
  ASSERT_TRUE(std::holds_alternative<envelope>(f));
  const auto& payload = std::get<envelope>(f).payload;
  EXPECT_EQ(payload["event"]["text"].get<std::string>(), "bad \xEF\xBF\xBD( byte \xEF\xBF\xBD end");
  EXPECT_NO_THROW((void)payload.dump());
}

TEST(envelope_limits, an_unparseable_frame_without_a_readable_id_is_not_acked) {
  auto f = parse_frame(R"({"type":"events_api","payload":{"x":)" + std::string(200, '['));
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  EXPECT_FALSE(std::get<malformed_frame>(f).envelope_id.has_value());
  EXPECT_EQ(std::get<malformed_frame>(f).type, "events_api");
}

TEST(envelope_limits, the_type_is_read_from_the_envelope_not_from_inside_the_payload) {
  auto f = parse_frame(
      R"({"payload":{"type":"event_callback","x":[}, "type" : "slash_commands", "envelope_id":"t1"})");
  ASSERT_TRUE(std::holds_alternative<malformed_frame>(f));
  EXPECT_EQ(std::get<malformed_frame>(f).type, "slash_commands");
  EXPECT_EQ(std::get<malformed_frame>(f).envelope_id.value_or(""), "t1");
}

}  // namespace
}  // namespace flare::slack
