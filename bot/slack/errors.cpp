#include "bot/slack/errors.hpp"

#include <algorithm>
#include <array>

namespace flare::slack {

namespace {

class slack_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "flare.slack"; }
  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::cancelled: return "cancelled: the client is shutting down";
      case error::timeout: return "no answer within the deadline";
      case error::connection_failed: return "the connection to Slack failed";
      case error::tls_handshake_failed: return "the TLS handshake failed";
      case error::tls_verification_failed: return "the peer's TLS certificate was rejected";
      case error::invalid_response: return "Slack's answer is not what the API documents";
      case error::already_running: return "run() was called twice";
    }
    return "unknown flare.slack error";
  }
};

// Slack: these refuse the token, the app or the workspace; retrying cannot fix them (node
// SocketModeClient's unrecoverable list, plus the token and scope errors Slack documents for
// every method). `link_disabled` arrives as a Socket Mode disconnect reason.
constexpr std::array<std::string_view, 12> refusals = {
    "invalid_auth",  "not_authed",    "account_inactive",       "token_revoked",
    "token_expired", "team_disabled", "user_removed_from_team", "link_disabled",
    "missing_scope", "missing_args",  "not_allowed_token_type", "forbidden_team"};

// Slack: "try again later" rather than "this request is wrong". upload_unavailable is flare's
// name for the presigned upload URL answering 5xx, 408 or 429 (bot/slack/file_upload.cpp).
constexpr std::array<std::string_view, 5> transient_codes = {
    "internal_error", "fatal_error", "service_unavailable", "request_timeout", "upload_unavailable"};

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, std::string_view code) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const slack_error_category category;
  return category;
}

std::error_code make_error_code(error e) noexcept { return {static_cast<int>(e), error_category()}; }

std::string_view error_name(error e) noexcept {
  switch (e) {
    case error::cancelled: return "cancelled";
    case error::timeout: return "timeout";
    case error::connection_failed: return "connection_failed";
    case error::tls_handshake_failed: return "tls_handshake_failed";
    case error::tls_verification_failed: return "tls_verification_failed";
    case error::invalid_response: return "invalid_response";
    case error::already_running: return "already_running";
  }
  return "unknown_error";
}

api_error make_api_error(error e, std::string detail) {
  return api_error{std::string(error_name(e)), std::move(detail), true};
}

bool is(const api_error& e, error which) noexcept { return e.transport && e.code == error_name(which); }

error_kind classify_slack_code(std::string_view code) noexcept {
  if (listed(refusals, code)) return error_kind::refused;
  if (code == "ratelimited") return error_kind::rate_limited;
  if (listed(transient_codes, code)) return error_kind::transient;
  return error_kind::rejected;
}

error_kind classify(const api_error& e) noexcept {
  if (!e.transport) return classify_slack_code(e.code);
  if (is(e, error::cancelled)) return error_kind::cancelled;
  if (is(e, error::tls_verification_failed)) return error_kind::untrusted;
  // Everything else on the way (timeouts, refused connections, HTTP 5xx, a garbled answer) may
  // be gone on the next try.
  return error_kind::transient;
}

}  // namespace flare::slack
