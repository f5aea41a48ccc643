#include "bot/slack/errors.hpp"

#include <gtest/gtest.h>

namespace {

using flare::slack::api_error;
using flare::slack::classify;
using flare::slack::error;
using flare::slack::error_kind;

api_error slack_says(const char* code) { return api_error{code, "", false}; }

TEST(slack_errors, permanent_refusals_are_refused) {
  for (const char* code :
       {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "link_disabled"})
    EXPECT_EQ(classify(slack_says(code)), error_kind::refused) << code;
}

TEST(slack_errors, outages_and_rate_limits_are_worth_retrying) {
  for (const char* code : {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}) {
    EXPECT_EQ(classify(slack_says(code)), error_kind::transient) << code;
    EXPECT_TRUE(flare::slack::is_retryable(slack_says(code))) << code;
  }
  EXPECT_EQ(classify(slack_says("ratelimited")), error_kind::rate_limited);
  EXPECT_TRUE(flare::slack::is_retryable(slack_says("ratelimited")));
}

TEST(slack_errors, a_wrong_request_is_rejected_and_not_retried) {
  for (const char* code : {"channel_not_found", "invalid_blocks", "not_in_channel", "some_future_error"}) {
    EXPECT_EQ(classify(slack_says(code)), error_kind::rejected) << code;
    EXPECT_FALSE(flare::slack::is_retryable(slack_says(code))) << code;
  }
}

TEST(slack_errors, transport_failures_are_transient_except_trust_and_shutdown) {
  EXPECT_EQ(classify(flare::slack::make_api_error(error::timeout, "")), error_kind::transient);
  EXPECT_EQ(classify(flare::slack::make_api_error(error::connection_failed, "")), error_kind::transient);
  EXPECT_EQ(classify(api_error{"http_503", "", true}), error_kind::transient);
  EXPECT_EQ(classify(flare::slack::make_api_error(error::tls_verification_failed, "")),
            error_kind::untrusted);
  EXPECT_EQ(classify(flare::slack::make_api_error(error::cancelled, "")), error_kind::cancelled);
}

TEST(slack_errors, flare_errors_have_a_category_and_stable_names) {
  const std::error_code ec = error::timeout;
  EXPECT_STREQ(ec.category().name(), "flare.slack");
  EXPECT_EQ(ec, error::timeout);
  EXPECT_NE(ec.message(), "");
  const auto e = flare::slack::make_api_error(error::timeout, "auth.test: no answer");
  EXPECT_EQ(e.code, "timeout");
  EXPECT_TRUE(e.transport);
  EXPECT_TRUE(flare::slack::is(e, error::timeout));
  // Slack's own error of the same name is not flare's.
  EXPECT_FALSE(flare::slack::is(api_error{"timeout", "", false}, error::timeout));
}

}  // namespace
