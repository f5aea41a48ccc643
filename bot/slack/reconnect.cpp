#include "bot/slack/reconnect.hpp"

namespace flare::slack {

reconnect_decision decide_reconnect(link_event event, std::string_view reason, link_role role) {
  if (event == link_event::disconnect_requested && reason == "link_disabled")
    return {reconnect_action::give_up, std::string(reason)};
  if (role == link_role::retiring) return {reconnect_action::ignore, {}};
  if (event == link_event::dropped) {
    // "read_error (details)": the label is the first word.
    return {reconnect_action::reconnect_after_backoff, std::string(reason.substr(0, reason.find(' ')))};
  }
  // Over Slack's cap: opening another first would only be refused.
  if (reason == "too_many_websockets") return {reconnect_action::close_then_reconnect, std::string(reason)};
  // warning, refresh_requested, or a reason we don't know: open the replacement first, so no
  // envelope waits on a socket that is about to go.
  return {reconnect_action::replace_first, reason.empty() ? std::string("disconnect") : std::string(reason)};
}

}  // namespace flare::slack
