// Metric labels come from closed sets: nothing Slack (or anyone) sends reaches /metrics verbatim.
#include "bot/ops/metrics.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace flare {
namespace {

const std::vector<std::string> token_shaped = {
    "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef",
    "invalid_auth: xoxp-1111-2222-3333-4444",
    "channel_not_found xoxb-1-2-3",
    "Bearer xoxe.xoxp-1-abc",
    "ratelimited\nflare_fake_metric 1",
    "http_503 xoxb-9-9-9",
    "}\"{,=",
};

// Every label value in the scrape, e.g. error="ratelimited" -> ratelimited.
std::set<std::string> label_values(const std::string& scrape) {
  std::set<std::string> out;
  static const std::regex label(R"re(([a-z_]+)="([^"]*)")re");
  for (std::sregex_iterator it(scrape.begin(), scrape.end(), label), end; it != end; ++it)
    out.insert((*it)[2]);
  return out;
}

TEST(metrics_labels, slack_error_codes_map_to_a_known_list_plus_other) {
  EXPECT_EQ(metric_label_for_error("ratelimited"), "ratelimited");
  EXPECT_EQ(metric_label_for_error("channel_not_found"), "channel_not_found");
  EXPECT_EQ(metric_label_for_error("http_503"), "http_5xx");
  EXPECT_EQ(metric_label_for_error("http_404"), "http_4xx");
  EXPECT_EQ(metric_label_for_error("something_new_from_slack"), "other");
  EXPECT_EQ(metric_label_for_error(""), "other");
  EXPECT_EQ(metric_label_for_method("chat.postMessage"), "chat.postMessage");
  EXPECT_EQ(metric_label_for_method("chat.postMessage?token=xoxb-1"), "other");
  EXPECT_EQ(metric_label_for_envelope_type("events_api"), "events_api");
  EXPECT_EQ(metric_label_for_reconnect_reason("closed_by_slack (1000)"), "closed_by_slack");
  EXPECT_EQ(metric_label_for_reconnect_reason("read_error (xoxb-1-2)"), "read_error");
  EXPECT_EQ(metric_label_for_reconnect_reason("xoxb-1-2"), "other");
}

TEST(metrics_labels, no_label_can_carry_a_token_whatever_slack_or_a_proxy_sends) {
  metrics m;
  std::map<std::string, std::uint64_t> reasons;
  for (const auto& text : token_shaped) {
    m.web_api_call("chat.postMessage", text);
    m.web_api_call(text, text);
    m.web_api_rate_limited(text, std::chrono::seconds(1));
    m.envelope_received(text);
    m.envelope_acked(text, std::chrono::milliseconds(1));
    reasons[text] += 1;
  }
  scrape_sources sources;
  sources.reconnects_by_reason = [&] { return reasons; };
  m.set_sources(sources);
  const auto scrape = m.scrape();
  EXPECT_EQ(scrape.find("xox"), std::string::npos) << scrape;
  EXPECT_EQ(scrape.find("Bearer"), std::string::npos);
  EXPECT_EQ(scrape.find("flare_fake_metric"), std::string::npos);
  for (const auto& value : label_values(scrape)) {
    EXPECT_TRUE(std::regex_match(value, std::regex(R"([a-z0-9_.+A-Z]*)"))) << value;
    EXPECT_LT(value.size(), 48u) << value;
  }
  // All eight different strings collapse into one series per family.
  std::smatch other;
  ASSERT_TRUE(std::regex_search(scrape, other,
                                std::regex(R"re(flare_socket_reconnects_total\{reason="other"\} (\S+))re")))
      << scrape;
  EXPECT_EQ(std::stod(other[1]), 8.0);
}

}  // namespace
}  // namespace flare
