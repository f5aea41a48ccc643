#include "bot/runtime/startup_checks.hpp"

namespace flare {
namespace asio = boost::asio;

namespace {

constexpr const char* invite_hint = "invite the bot to it (/invite @flare in that channel)";

// The reason for a failed lookup, or records that Slack could not be reached.
std::string failure(const slack::api_error& e, startup_check_result& out, const std::string& method) {
  if (e.transport && !out.unreachable)
    out.unreachable = method + ": " + e.code + (e.detail.empty() ? "" : ", " + e.detail);
  return e.code;
}

asio::awaitable<void> check_channel(slack::slack_api& slack, const std::string& key, const std::string& id,
                                    bool must_be_private, startup_check_result& out) {
  if (id.empty()) co_return;  // slack_mode_problems already names a missing id
  auto info = co_await slack.conversations_info(id);
  if (!info) {
    const auto code = failure(info.error(), out, "conversations.info");
    if (info.error().transport) co_return;
    if (code == "channel_not_found")
      // Slack answers channel_not_found for a private channel the bot is not in, too.
      out.problems.push_back(
          {key, "Slack has no channel " + id + " that the bot can see: check the id, and " + invite_hint});
    else out.problems.push_back({key, "conversations.info for " + id + " failed: " + code});
    co_return;
  }
  if (must_be_private && !info->is_private)
    out.problems.push_back(
        {key, id + " is a public channel; sensitive reports must go to a private channel"});
  if (!info->is_member)
    out.problems.push_back({key, "the bot is not a member of " + id + ": " + invite_hint});
}

asio::awaitable<void> check_group(slack::slack_api& slack, const std::string& key, const std::string& id,
                                  startup_check_result& out) {
  if (id.empty()) co_return;
  auto members = co_await slack.usergroup_members(id);
  if (members) co_return;
  const auto code = failure(members.error(), out, "usergroups.users.list");
  if (members.error().transport) co_return;
  if (code == "no_such_subteam")
    out.problems.push_back({key, "Slack has no user group " + id + " (check the id: S..., not the @handle)"});
  else out.problems.push_back({key, "usergroups.users.list for " + id + " failed: " + code});
}

asio::awaitable<void> check_user(slack::slack_api& slack, const std::string& key, const std::string& id,
                                 startup_check_result& out) {
  if (id.empty()) co_return;
  auto user = co_await slack.users_info(id);
  if (!user) {
    const auto code = failure(user.error(), out, "users.info");
    if (!user.error().transport) out.problems.push_back({key, "Slack has no user " + id + " (" + code + ")"});
    co_return;
  }
  if (user->deleted)
    out.problems.push_back({key, "user " + id + " is deactivated; sensitive reports would reach nobody"});
}

}  // namespace

asio::awaitable<startup_check_result> check_slack_setup(slack::slack_api& slack, const config& cfg) {
  startup_check_result out;
  if (!cfg.security_channel.empty() && cfg.security_channel == cfg.incidents_channel)
    out.problems.push_back(
        {"slack.security_channel",
         "is the same channel as slack.incidents_channel; sensitive reports need their own private "
         "channel"});
  co_await check_channel(slack, "slack.security_channel", cfg.security_channel, true, out);
  if (cfg.incidents_channel != cfg.security_channel)
    co_await check_channel(slack, "slack.incidents_channel", cfg.incidents_channel, false, out);
  co_await check_group(slack, "slack.security_team_group", cfg.security_team_group, out);
  co_await check_group(slack, "slack.responders_group", cfg.responders_group, out);
  co_await check_user(slack, "slack.head_of_finance_ops", cfg.head_of_finance_ops, out);
  co_return out;
}

}  // namespace flare
