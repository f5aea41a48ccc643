// Slack errors, classified in one place (as Boost.MySQL keeps is_fatal_error in one place), and
// flare's own transport errors as an enum with a std::error_category (as Boost.Redis's
// error.hpp does), not loose strings. Every retry decision (Web API client, Socket Mode client,
// outbox, start-up) asks classify(); error codes are listed in docs/slack.md.
#pragma once

#include "bot/slack/slack_api.hpp"

#include <string>
#include <string_view>
#include <system_error>

namespace flare::slack {

// Failures flare itself names when Slack never answered with {ok:false}. The name of each
// (error_name) is the api_error::code the rest of flare, the logs and the metrics see.
enum class error {
  cancelled = 1,            // the client is shutting down
  timeout,                  // no answer within the step's deadline
  connection_failed,        // resolve, connect, write or read failed
  tls_handshake_failed,     // TLS could not be set up or negotiated
  tls_verification_failed,  // the peer's certificate was rejected: a person must fix trust
  invalid_response,         // an answer that is not what Slack documents
  already_running,          // a long-running object's run() was called twice
};

const std::error_category& error_category() noexcept;
std::error_code make_error_code(error e) noexcept;
// "timeout", "connection_failed", ... (the api_error::code).
std::string_view error_name(error e) noexcept;

// An api_error for one of flare's own failures; `transport` is set (Slack never answered).
api_error make_api_error(error e, std::string detail);
// True when `e` is flare's own `which` (not a Slack error that happens to share the name).
bool is(const api_error& e, error which) noexcept;

// What a failed call means for whoever made it.
enum class error_kind {
  refused,       // the token, app or workspace is refused for good: a person must act
  rate_limited,  // too many calls: wait (Retry-After) and try again
  transient,     // Slack or the network hiccupped: try again with backoff
  untrusted,     // the TLS peer could not be verified: never retried silently
  cancelled,     // flare is shutting down
  rejected,      // this request is wrong (channel_not_found, invalid_blocks, ...): same answer every time
};

// Slack's own error code (or flare's transport code) -> kind. Unknown Slack codes are
// `rejected`: the request, not the moment, is at fault.
error_kind classify(const api_error& e) noexcept;
error_kind classify_slack_code(std::string_view code) noexcept;

// Worth trying the same call again later (transient or rate limited).
inline bool is_retryable(const api_error& e) noexcept {
  const auto kind = classify(e);
  return kind == error_kind::transient || kind == error_kind::rate_limited;
}

}  // namespace flare::slack

template <>
struct std::is_error_code_enum<flare::slack::error> : std::true_type {};
