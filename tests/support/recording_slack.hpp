// The one recording Slack test double for unit tests (the fake Slack in tests/fake_slack is for
// tests over real sockets). It records every call in order, answers as a healthy workspace
// would (fresh timestamps, user-group members from a table), and fails calls on demand.
#pragma once

#include "bot/slack/slack_api.hpp"

#include <deque>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace flare::testing {

class recording_slack final : public slack::slack_api {
 public:
  struct call {
    std::string method;      // the Slack method: "chat.postMessage", "usergroups.users.list", ...
    std::string target;      // channel, user, user group, trigger id or view id the call names
    slack::message message;  // for posts, updates and ephemeral messages
    nlohmann::json view;     // for views.open and views.update
    std::string ts;          // the ts Slack gave the message (delivered posts only)
    bool delivered = false;  // false when the call was failed on purpose
  };

  static constexpr int always = std::numeric_limits<int>::max();

  // Members returned by usergroups.users.list; an unknown group answers no_such_subteam.
  std::map<std::string, std::vector<std::string>> usergroups;

  // The next `times` calls of `method` fail with `error` (queued after earlier failures).
  void fail(const std::string& method, slack::api_error error, int times = 1);

  const std::vector<call>& calls() const { return calls_; }
  std::vector<call> calls_to(std::string_view method) const;
  // What each call of `method` named (its target), in order.
  std::vector<std::string> targets_of(std::string_view method) const;
  // Posts, updates and ephemeral messages Slack accepted, in order.
  std::vector<call> delivered_messages() const;
  std::size_t calls_other_than(std::initializer_list<std::string_view> methods) const;

  boost::asio::awaitable<slack::api_result<slack::auth_identity>> auth_test() override;
  boost::asio::awaitable<slack::api_result<slack::posted_message>> post_message(slack::message msg) override;
  boost::asio::awaitable<slack::api_result<slack::posted_message>> update_message(
      std::string channel, std::string ts, slack::message msg) override;
  boost::asio::awaitable<slack::api_result<std::string>> post_ephemeral(std::string user,
                                                                        slack::message msg) override;
  boost::asio::awaitable<slack::api_result<std::string>> open_dm(std::string user) override;
  boost::asio::awaitable<slack::api_result<slack::conversation_info>> conversations_info(
      std::string channel) override;
  boost::asio::awaitable<slack::api_result<slack::user_info>> users_info(std::string user) override;
  boost::asio::awaitable<slack::api_result<std::vector<std::string>>> usergroup_members(
      std::string usergroup) override;
  boost::asio::awaitable<slack::api_result<slack::view_ref>> open_view(std::string trigger_id,
                                                                       nlohmann::json view) override;
  boost::asio::awaitable<slack::api_result<slack::view_ref>> update_view(std::string view_id,
                                                                         nlohmann::json view,
                                                                         std::string hash) override;

 private:
  // Records the call; returns the error it must fail with, if one is queued for its method.
  std::optional<slack::api_error> record(call c);
  std::string next_ts();

  struct queued_failure {
    slack::api_error error;
    int times;
  };
  std::map<std::string, std::deque<queued_failure>, std::less<>> failures_;
  std::vector<call> calls_;
  int messages_ = 0;
  int views_ = 0;
};

}  // namespace flare::testing
