// What the Socket Mode client does when a connection ends or Slack asks it to go: a pure
// function of the event (docs/slack.md, "Socket Mode"), tested without sockets as Boost.Redis
// tests its run FSM.
#pragma once

#include <string>
#include <string_view>

namespace flare::slack {

enum class link_event {
  disconnect_requested,  // Slack sent {"type":"disconnect","reason":...}
  dropped,               // the connection ended without flare asking
};

// Whether the event concerns the connection currently serving, or one already being replaced.
enum class link_role { current, retiring };

enum class reconnect_action {
  give_up,                  // link_disabled: Socket Mode was switched off; a person must act
  ignore,                   // a retiring connection going away: expected
  reconnect_after_backoff,  // the link dropped: open a new one after the backoff delay
  close_then_reconnect,     // over Slack's connection cap: close this one first, then back off
  replace_first,            // refresh: open the replacement now, close this one once it is ready
};

struct reconnect_decision {
  reconnect_action action;
  std::string reason;  // why the next connection is opened (the reconnect metric's label)
};

reconnect_decision decide_reconnect(link_event event, std::string_view reason, link_role role);

}  // namespace flare::slack
