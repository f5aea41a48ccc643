// The console adapter, flare's embedded default when there are no Slack tokens: the same
// handlers run against the terminal. Each typed line becomes the envelope Slack would send and
// goes through the dispatcher's one entry (process()), so the console exercises the same routing,
// de-dup and ack rules as Socket Mode. A line starting with "/" is a slash command from the
// configured user; any other line is a message posted in #incidents. The bot's posts, threads and
// ephemeral replies are printed readably. Console-only verbs start with "!" (see `!help`).
#pragma once

#include "bot/runtime/dispatcher.hpp"
#include "bot/slack/slack_api.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace flare {

// Renders a Block Kit message as plain terminal text (used for the console and for logs).
std::string render_blocks_as_text(const nlohmann::json& blocks, const std::string& fallback_text);

class console_slack final : public slack::slack_api {
 public:
  explicit console_slack(std::ostream& out, std::string bot_user_id = "U0FLARE");

  void name_channel(const std::string& id, const std::string& name);
  void add_usergroup_member(const std::string& group, const std::string& user);
  std::string next_ts();  // a fresh, increasing Slack-style timestamp

  // Every message printed, in order (tests read these).
  struct printed {
    std::string kind;  // "post" | "update" | "ephemeral" | "view"
    slack::message message;
    std::string ts;
    std::string user;  // for ephemeral
  };
  const std::vector<printed>& history() const { return history_; }

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
  std::string channel_label(const std::string& id) const;
  void print(const std::string& heading, const slack::message& msg);

  std::ostream& out_;
  std::string bot_user_id_;
  std::uint64_t ts_counter_ = 0;
  std::uint64_t views_ = 0;
  std::map<std::string, std::string> channel_names_;
  std::map<std::string, std::vector<std::string>> usergroups_;
  std::vector<printed> history_;
};

struct console_options {
  std::string user = "U0CONSOLE";
  std::string channel = "C0INCIDENTS";
};

class console_adapter {
 public:
  console_adapter(dispatcher& d, console_slack& slack, std::ostream& out, console_options options);

  // Handles one typed line; returns when the handlers it started have finished. Returns false
  // when the line asked to quit.
  boost::asio::awaitable<bool> handle_line(std::string typed);
  // Reads standard input until end of file, `!quit`, or stop().
  boost::asio::awaitable<void> run_stdin(boost::asio::any_io_executor executor);
  // Ends run_stdin after the line being handled (if any) is done.
  void stop();

 private:
  slack::envelope envelope_of(std::string type, nlohmann::json payload);
  // The one builder of a message event as Slack delivers it (events_api, event_callback).
  nlohmann::json message_event_payload(const std::string& channel, const std::string& channel_type,
                                       const std::string& text, const std::string& ts,
                                       const std::string& thread_ts);
  std::string next_trigger_id();

  boost::asio::awaitable<void> post_message(const std::string& channel, const std::string& channel_type,
                                            const std::string& text, const std::string& ts,
                                            const std::string& thread_ts);
  boost::asio::awaitable<void> run_slash_command(const std::string& line);
  boost::asio::awaitable<bool> run_verb(const std::string& line);
  boost::asio::awaitable<void> click(const std::string& rest);
  boost::asio::awaitable<void> reply_in_thread(const std::string& rest);
  boost::asio::awaitable<void> direct_message(const std::string& text);
  void act_as(const std::string& user);

  dispatcher& dispatcher_;
  console_slack& slack_;
  std::ostream& out_;
  console_options options_;
  boost::asio::posix::stream_descriptor* input_ = nullptr;  // while run_stdin reads a pipe or tty
  bool stopped_ = false;
  std::uint64_t envelopes_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t triggers_ = 0;
};

}  // namespace flare
