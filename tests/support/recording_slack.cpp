#include "tests/support/recording_slack.hpp"

#include <algorithm>
#include <cstdio>

namespace flare::testing {

namespace asio = boost::asio;
using json = nlohmann::json;

void recording_slack::fail(const std::string& method, slack::api_error error, int times) {
  failures_[method].push_back({std::move(error), times});
}

std::vector<recording_slack::call> recording_slack::calls_to(std::string_view method) const {
  std::vector<call> out;
  std::copy_if(calls_.begin(), calls_.end(), std::back_inserter(out),
               [&](const call& c) { return c.method == method; });
  return out;
}

std::vector<std::string> recording_slack::targets_of(std::string_view method) const {
  std::vector<std::string> out;
  for (const auto& c : calls_)
    if (c.method == method) out.push_back(c.target);
  return out;
}

std::vector<recording_slack::call> recording_slack::delivered_messages() const {
  std::vector<call> out;
  for (const auto& c : calls_)
    if (c.delivered &&
        (c.method == "chat.postMessage" || c.method == "chat.update" || c.method == "chat.postEphemeral"))
      out.push_back(c);
  return out;
}

std::size_t recording_slack::calls_other_than(std::initializer_list<std::string_view> methods) const {
  return std::count_if(calls_.begin(), calls_.end(), [&](const call& c) {
    return std::find(methods.begin(), methods.end(), c.method) == methods.end();
  });
}

std::optional<slack::api_error> recording_slack::record(call c) {
  calls_.push_back(std::move(c));
  auto it = failures_.find(calls_.back().method);
  if (it == failures_.end() || it->second.empty()) {
    calls_.back().delivered = true;
    return std::nullopt;
  }
  auto& next = it->second.front();
  slack::api_error error = next.error;
  if (next.times != always && --next.times <= 0) it->second.pop_front();
  return error;
}

std::string recording_slack::next_ts() {
  char ts[32];
  std::snprintf(ts, sizeof ts, "1700000000.%06d", ++messages_);
  return ts;
}

asio::awaitable<slack::api_result<slack::auth_identity>> recording_slack::auth_test() {
  if (auto e = record({"auth.test"})) co_return *e;
  co_return slack::auth_identity{"T0TEST", "U0BOT", "B0BOT"};
}

asio::awaitable<slack::api_result<slack::posted_message>> recording_slack::post_message(slack::message msg) {
  const std::string channel = msg.channel;
  if (auto e = record({"chat.postMessage", channel, std::move(msg)})) co_return *e;
  calls_.back().ts = next_ts();
  co_return slack::posted_message{channel, calls_.back().ts};
}

asio::awaitable<slack::api_result<slack::posted_message>> recording_slack::update_message(
    std::string channel, std::string ts, slack::message msg) {
  msg.channel = channel;
  if (auto e = record({"chat.update", channel, std::move(msg)})) co_return *e;
  calls_.back().ts = ts;
  co_return slack::posted_message{channel, ts};
}

asio::awaitable<slack::api_result<std::string>> recording_slack::post_ephemeral(std::string user,
                                                                                slack::message msg) {
  if (auto e = record({"chat.postEphemeral", user, std::move(msg)})) co_return *e;
  calls_.back().ts = next_ts();
  co_return calls_.back().ts;
}

asio::awaitable<slack::api_result<std::string>> recording_slack::open_dm(std::string user) {
  if (auto e = record({"conversations.open", user})) co_return *e;
  co_return "D" + user;
}

asio::awaitable<slack::api_result<slack::conversation_info>> recording_slack::conversations_info(
    std::string channel) {
  if (auto e = record({"conversations.info", channel})) co_return *e;
  const char kind = channel.empty() ? 'C' : channel[0];
  co_return slack::conversation_info{channel, channel, kind == 'G' || kind == 'D', kind == 'D', true};
}

asio::awaitable<slack::api_result<slack::user_info>> recording_slack::users_info(std::string user) {
  if (auto e = record({"users.info", user})) co_return *e;
  co_return slack::user_info{user, user, user, "UTC", false, false};
}

asio::awaitable<slack::api_result<std::vector<std::string>>> recording_slack::usergroup_members(
    std::string usergroup) {
  if (auto e = record({"usergroups.users.list", usergroup})) co_return *e;
  auto it = usergroups.find(usergroup);
  if (it == usergroups.end()) co_return slack::api_error{"no_such_subteam", "", false};
  co_return it->second;
}

asio::awaitable<slack::api_result<slack::view_ref>> recording_slack::open_view(std::string trigger_id,
                                                                               json view) {
  if (auto e = record({"views.open", trigger_id, {}, view})) co_return *e;
  const std::string id = std::to_string(++views_);
  co_return slack::view_ref{"V" + id, "h" + id};
}

asio::awaitable<slack::api_result<slack::view_ref>> recording_slack::update_view(std::string view_id,
                                                                                 json view, std::string) {
  if (auto e = record({"views.update", view_id, {}, view})) co_return *e;
  co_return slack::view_ref{view_id, "h" + view_id};
}

}  // namespace flare::testing
