#include "bot/slack/reconnect.hpp"

#include <gtest/gtest.h>

namespace {

using flare::slack::decide_reconnect;
using flare::slack::link_event;
using flare::slack::link_role;
using flare::slack::reconnect_action;

TEST(reconnect, link_disabled_gives_up_whichever_connection_says_it) {
  EXPECT_EQ(decide_reconnect(link_event::disconnect_requested, "link_disabled", link_role::current).action,
            reconnect_action::give_up);
  EXPECT_EQ(decide_reconnect(link_event::disconnect_requested, "link_disabled", link_role::retiring).action,
            reconnect_action::give_up);
}

TEST(reconnect, refresh_opens_the_replacement_before_closing) {
  for (const char* reason : {"warning", "refresh_requested", "something_new"}) {
    const auto d = decide_reconnect(link_event::disconnect_requested, reason, link_role::current);
    EXPECT_EQ(d.action, reconnect_action::replace_first) << reason;
    EXPECT_EQ(d.reason, reason);
  }
  EXPECT_EQ(decide_reconnect(link_event::disconnect_requested, "", link_role::current).reason, "disconnect");
}

TEST(reconnect, too_many_websockets_closes_first) {
  const auto d =
      decide_reconnect(link_event::disconnect_requested, "too_many_websockets", link_role::current);
  EXPECT_EQ(d.action, reconnect_action::close_then_reconnect);
  EXPECT_EQ(d.reason, "too_many_websockets");
}

TEST(reconnect, a_drop_backs_off_and_is_labelled_by_its_first_word) {
  const auto d =
      decide_reconnect(link_event::dropped, "read_error (connection reset by peer)", link_role::current);
  EXPECT_EQ(d.action, reconnect_action::reconnect_after_backoff);
  EXPECT_EQ(d.reason, "read_error");
}

TEST(reconnect, a_retiring_connection_going_away_is_expected) {
  EXPECT_EQ(decide_reconnect(link_event::dropped, "eof", link_role::retiring).action,
            reconnect_action::ignore);
  EXPECT_EQ(decide_reconnect(link_event::disconnect_requested, "warning", link_role::retiring).action,
            reconnect_action::ignore);
}

}  // namespace
