#include "bot/ops/redact.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <mutex>

namespace flare {
namespace {

constexpr std::array<std::string_view, 7> token_prefixes = {"xoxb-", "xoxp-", "xoxa-", "xoxr-",
                                                            "xoxe-", "xoxs-", "xapp-"};

bool is_token_char(char c) {
  // Slack tokens are letters, digits and dashes; a '.' or ',' after one ends the sentence.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class redacting_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner, std::vector<std::string> secrets)
      : inner_(std::move(inner)), secrets_(std::move(secrets)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string clean = redact_secrets(payload, secrets_);
    spdlog::details::log_msg copy(msg);
    copy.payload = spdlog::string_view_t(clean.data(), clean.size());
    inner_->log(copy);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { inner_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  std::vector<std::string> secrets_;
};

}  // namespace

std::string redact_secrets(std::string_view text, const std::vector<std::string>& extra_secrets) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    for (auto prefix : token_prefixes) {
      if (text.substr(i, prefix.size()) == prefix) {
        out.append(prefix).append("***");
        i += prefix.size();
        while (i < text.size() && is_token_char(text[i])) ++i;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back(text[i++]);
  }
  for (const auto& secret : extra_secrets) {
    if (secret.size() < 4) continue;  // too short to mask without mangling ordinary text
    for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
      out.replace(pos, secret.size(), "***");
      pos += 3;
    }
  }
  return out;
}

std::shared_ptr<spdlog::sinks::sink> make_redacting_sink(std::shared_ptr<spdlog::sinks::sink> inner,
                                                         std::vector<std::string> extra_secrets) {
  return std::make_shared<redacting_sink>(std::move(inner), std::move(extra_secrets));
}

void install_logger(const std::string& level, std::vector<std::string> extra_secrets) {
  auto sink =
      make_redacting_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>(), std::move(extra_secrets));
  auto logger = std::make_shared<spdlog::logger>("flare", sink);
  logger->set_level(spdlog::level::from_str(level));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace flare
