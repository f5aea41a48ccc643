#include "bot/ops/redact.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

namespace {

TEST(redact, masks_every_kind_of_slack_token) {
  EXPECT_EQ(flare::redact_secrets("Bearer xoxb-123-456-abcDEF and xapp-1-A0-99-ff."),
            "Bearer xoxb-*** and xapp-***.");
  EXPECT_EQ(flare::redact_secrets("xoxp-1 xoxe.xoxp-1 xoxa-2"), "xoxp-*** xoxe.xoxp-*** xoxa-***");
  EXPECT_EQ(flare::redact_secrets("nothing to hide"), "nothing to hide");
}

TEST(redact, masks_configured_secrets_of_any_shape) {
  EXPECT_EQ(flare::redact_secrets("token=s3cr3t-value!", {"s3cr3t-value"}), "token=***!");
}

TEST(redact, sink_masks_tokens_whatever_code_logs_them) {
  std::ostringstream captured;
  auto inner = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  spdlog::logger logger("t", flare::make_redacting_sink(inner, {"hunter22"}));
  logger.error("auth failed for xoxb-999-888-secret with password hunter22");
  logger.flush();
  EXPECT_EQ(captured.str().find("secret"), std::string::npos) << captured.str();
  EXPECT_EQ(captured.str().find("hunter22"), std::string::npos) << captured.str();
  EXPECT_NE(captured.str().find("xoxb-***"), std::string::npos) << captured.str();
}

}  // namespace
