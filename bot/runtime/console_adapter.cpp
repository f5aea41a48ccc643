#include "bot/runtime/console_adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <sstream>

namespace flare {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

std::string text_of(const json& object) {
  if (object.is_object()) return object.value("text", std::string{});
  if (object.is_string()) return object.get<std::string>();
  return {};
}

std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out += prefix + line + "\n";
  return out;
}

// Slack's markup as a terminal reader would want it: dates as their fallback text, mentions as
// @id, channel links as #name.
std::string plain_markup(std::string text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto close = text.find('>', i);
    if (text[i] != '<' || close == std::string::npos) {
      out.push_back(text[i++]);
      continue;
    }
    const std::string inner = text.substr(i + 1, close - i - 1);
    const auto bar = inner.find('|');
    if (inner.starts_with("!date^") && bar != std::string::npos) out += inner.substr(bar + 1);
    else if (inner.starts_with('@') || inner.starts_with('#')) out += inner.substr(0, bar);
    else if (inner.starts_with("!subteam^"))
      out += "@" + inner.substr(9, bar == std::string::npos ? std::string::npos : bar - 9);
    else if (inner.starts_with('!'))
      out += "@" + inner.substr(1, bar == std::string::npos ? std::string::npos : bar - 1);
    else out += bar == std::string::npos ? inner : inner.substr(bar + 1);
    i = close + 1;
  }
  // The three entities Slack decodes for display (docs/slack.md §5.6), "&amp;" last.
  for (const auto& [entity, plain] :
       {std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"}, std::pair{"&amp;", "&"}}) {
    const std::string from(entity);
    for (auto pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos + 1))
      out.replace(pos, from.size(), plain);
  }
  return out;
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

std::string render_blocks_as_text(const json& blocks, const std::string& fallback_text) {
  if (!blocks.is_array() || blocks.empty()) return fallback_text;
  std::string out;
  for (const auto& block : blocks) {
    const std::string type = block.value("type", std::string{});
    if (type == "header") {
      out += "== " + text_of(block.value("text", json{})) + " ==\n";
    } else if (type == "section") {
      if (block.contains("text")) out += text_of(block["text"]) + "\n";
      for (const auto& field : block.value("fields", json::array()))
        out += "  " + one_line(text_of(field)) + "\n";
      if (block.contains("accessory") && block["accessory"].value("type", "") == "button") {
        const auto& b = block["accessory"];
        out += "  [" + text_of(b.value("text", json{})) + "]  (!click " + b.value("action_id", "") + " " +
               b.value("value", "") + ")\n";
      }
    } else if (type == "context") {
      std::string line;
      for (const auto& element : block.value("elements", json::array())) {
        if (!line.empty()) line += "  ";
        line += text_of(element);
      }
      out += "  " + line + "\n";
    } else if (type == "divider") {
      out += "  ----\n";
    } else if (type == "actions") {
      for (const auto& element : block.value("elements", json::array()))
        out += "  [" + text_of(element.value("text", json{})) + "]  (!click " +
               element.value("action_id", "") + " " + element.value("value", "") + ")\n";
    } else {
      out += text_of(block) + "\n";
    }
  }
  return out;
}

console_slack::console_slack(std::ostream& out, std::string bot_user_id)
    : out_(out), bot_user_id_(std::move(bot_user_id)) {}

void console_slack::name_channel(const std::string& id, const std::string& name) {
  channel_names_[id] = name;
}

void console_slack::add_usergroup_member(const std::string& group, const std::string& user) {
  usergroups_[group].push_back(user);
}

std::string console_slack::next_ts() {
  ++ts_counter_;
  std::string micros = std::to_string(ts_counter_);
  micros.insert(0, 6 - std::min<std::size_t>(6, micros.size()), '0');
  return "1700000000." + micros;
}

std::string console_slack::channel_label(const std::string& id) const {
  auto it = channel_names_.find(id);
  return it == channel_names_.end() ? id : "#" + it->second;
}

void console_slack::print(const std::string& heading, const slack::message& msg) {
  out_ << heading << "\n"
       << indent(plain_markup(render_blocks_as_text(msg.blocks, msg.text)), "  ") << std::flush;
}

asio::awaitable<slack::api_result<slack::auth_identity>> console_slack::auth_test() {
  co_return slack::auth_identity{"T0CONSOLE", bot_user_id_, "B0FLARE"};
}

asio::awaitable<slack::api_result<slack::posted_message>> console_slack::post_message(slack::message msg) {
  if (msg.channel.empty()) co_return slack::api_error{"channel_not_found", "no channel given", false};
  const std::string ts = next_ts();
  std::string heading = "[" + channel_label(msg.channel) + "] flare";
  heading +=
      msg.thread_ts.empty() ? " (ts " + ts + "):" : " in thread " + msg.thread_ts + " (ts " + ts + "):";
  print(heading, msg);
  history_.push_back({"post", msg, ts, {}});
  co_return slack::posted_message{msg.channel, ts};
}

asio::awaitable<slack::api_result<slack::posted_message>> console_slack::update_message(std::string channel,
                                                                                        std::string ts,
                                                                                        slack::message msg) {
  print("[" + channel_label(channel) + "] flare edited " + ts + ":", msg);
  msg.channel = channel;
  history_.push_back({"update", msg, ts, {}});
  co_return slack::posted_message{channel, ts};
}

asio::awaitable<slack::api_result<std::string>> console_slack::post_ephemeral(std::string user,
                                                                              slack::message msg) {
  print("[" + channel_label(msg.channel) + "] flare (only visible to " + user + "):", msg);
  const std::string ts = next_ts();
  history_.push_back({"ephemeral", msg, ts, user});
  co_return ts;
}

asio::awaitable<slack::api_result<std::string>> console_slack::open_dm(std::string user) {
  const std::string id = "D" + user;
  if (!channel_names_.contains(id)) channel_names_[id] = "dm-" + user;
  co_return id;
}

asio::awaitable<slack::api_result<slack::conversation_info>> console_slack::conversations_info(
    std::string channel) {
  slack::conversation_info info;
  info.id = channel;
  info.name = channel_names_.contains(channel) ? channel_names_[channel] : channel;
  info.is_im = !channel.empty() && channel[0] == 'D';
  info.is_private = !channel.empty() && (channel[0] == 'G' || channel[0] == 'D');
  info.is_member = true;
  co_return info;
}

asio::awaitable<slack::api_result<slack::user_info>> console_slack::users_info(std::string user) {
  slack::user_info info;
  info.id = user;
  info.name = user;
  info.real_name = user;
  info.tz = "UTC";
  info.is_bot = user == bot_user_id_;
  co_return info;
}

asio::awaitable<slack::api_result<std::vector<std::string>>> console_slack::usergroup_members(
    std::string usergroup) {
  auto it = usergroups_.find(usergroup);
  if (it == usergroups_.end()) co_return slack::api_error{"no_such_subteam", usergroup, false};
  co_return it->second;
}

asio::awaitable<slack::api_result<slack::view_ref>> console_slack::open_view(std::string trigger_id,
                                                                             json view) {
  const std::string id = "V" + std::to_string(++views_);
  out_ << "[modal " << id << "] " << text_of(view.value("title", json{})) << " (trigger " << trigger_id
       << "): the console cannot show forms; use the equivalent /incident command.\n"
       << std::flush;
  history_.push_back({"view", slack::message{{}, view.dump(), json::array(), {}, {}}, id, {}});
  co_return slack::view_ref{id, "h" + id};
}

asio::awaitable<slack::api_result<slack::view_ref>> console_slack::update_view(std::string view_id, json view,
                                                                               std::string) {
  history_.push_back({"view", slack::message{{}, view.dump(), json::array(), {}, {}}, view_id, {}});
  co_return slack::view_ref{view_id, "h" + view_id};
}

console_adapter::console_adapter(dispatcher& d, console_slack& slack, std::ostream& out,
                                 console_options options)
    : dispatcher_(d), slack_(slack), out_(out), options_(std::move(options)) {}

namespace {

// "verb rest of the line" -> {"verb", "rest of the line"}.
std::pair<std::string, std::string> split_first(const std::string& s) {
  const auto space = s.find(' ');
  if (space == std::string::npos) return {s, std::string{}};
  const auto rest = s.find_first_not_of(' ', space);
  return {s.substr(0, space), rest == std::string::npos ? std::string{} : s.substr(rest)};
}

std::string trimmed(std::string line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  const auto start = line.find_first_not_of(' ');
  return start == std::string::npos ? std::string{} : line.substr(start);
}

// Slack sends `&`, `<` and `>` as entities in message text (docs/slack.md); the dispatcher
// decodes them, so typed text is encoded the way Slack would deliver it.
std::string as_slack_text(const std::string& typed) {
  std::string out;
  for (char c : typed) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

constexpr const char* help_text =
    "  any other text         post it in #incidents as a report\n"
    "  !reply TS text         reply in the thread of message TS\n"
    "  !dm text               send the bot a direct message\n"
    "  !click ACTION [VALUE]  press a button the bot printed\n"
    "  !as USER               act as another user id (e.g. !as U0ALICE)\n"
    "  !quit                  stop\n";

}  // namespace

slack::envelope console_adapter::envelope_of(std::string type, json payload) {
  slack::envelope e;
  e.envelope_id = "console-" + std::to_string(++envelopes_);
  e.type = std::move(type);
  e.payload = std::move(payload);
  return e;
}

json console_adapter::message_event_payload(const std::string& channel, const std::string& channel_type,
                                            const std::string& text, const std::string& ts,
                                            const std::string& thread_ts) {
  json event = {{"type", "message"},     {"channel", channel},          {"channel_type", channel_type},
                {"user", options_.user}, {"text", as_slack_text(text)}, {"ts", ts}};
  if (!thread_ts.empty()) event["thread_ts"] = thread_ts;
  return {
      {"type", "event_callback"}, {"event_id", "EvConsole" + std::to_string(++events_)}, {"event", event}};
}

std::string console_adapter::next_trigger_id() { return "console-trigger-" + std::to_string(++triggers_); }

asio::awaitable<void> console_adapter::post_message(const std::string& channel,
                                                    const std::string& channel_type, const std::string& text,
                                                    const std::string& ts, const std::string& thread_ts) {
  json payload = message_event_payload(channel, channel_type, text, ts, thread_ts);
  co_await dispatcher_.process(envelope_of("events_api", std::move(payload)),
                               [](const slack::ack_payload&) {});
}

asio::awaitable<void> console_adapter::run_slash_command(const std::string& line) {
  auto [command, text] = split_first(line);
  json payload = {{"command", command},
                  {"text", text},
                  {"user_id", options_.user},
                  {"channel_id", options_.channel},
                  {"trigger_id", next_trigger_id()}};
  // The reply rides on the ack, as in Slack; a late one arrives as an ephemeral post.
  auto print_reply = [this](std::optional<json> reply) {
    if (!reply || !reply->is_object() || !(reply->contains("text") || reply->contains("blocks"))) return;
    const bool in_channel = reply->value("response_type", "ephemeral") == "in_channel";
    const std::string body =
        render_blocks_as_text(reply->value("blocks", json::array()), reply->value("text", std::string{}));
    out_ << (in_channel ? "[#incidents] flare:\n" : "flare (only visible to you):\n")
         << indent(plain_markup(body), "  ") << std::flush;
  };
  auto envelope = envelope_of("slash_commands", std::move(payload));
  envelope.accepts_response_payload = true;
  co_await dispatcher_.process(std::move(envelope), print_reply);
}

asio::awaitable<void> console_adapter::click(const std::string& rest) {
  auto [action_id, value] = split_first(rest);
  if (action_id.empty()) {
    out_ << "usage: !click ACTION_ID [VALUE]\n" << std::flush;
    co_return;
  }
  json payload = {{"type", "block_actions"},
                  {"user", {{"id", options_.user}}},
                  {"channel", {{"id", options_.channel}}},
                  {"trigger_id", next_trigger_id()},
                  {"actions", json::array({{{"action_id", action_id}, {"value", value}}})}};
  co_await dispatcher_.process(envelope_of("interactive", std::move(payload)),
                               [](const slack::ack_payload&) {});
}

asio::awaitable<void> console_adapter::reply_in_thread(const std::string& rest) {
  auto [thread, text] = split_first(rest);
  if (thread.empty() || text.empty()) {
    out_ << "usage: !reply THREAD_TS text\n" << std::flush;
    co_return;
  }
  co_await post_message(options_.channel, "channel", text, slack_.next_ts(), thread);
}

asio::awaitable<void> console_adapter::direct_message(const std::string& text) {
  if (text.empty()) {
    out_ << "usage: !dm text\n" << std::flush;
    co_return;
  }
  const std::string dm = (co_await slack_.open_dm(options_.user)).value();
  co_await post_message(dm, "im", text, slack_.next_ts(), {});
}

void console_adapter::act_as(const std::string& user) {
  if (user.empty()) {
    out_ << "usage: !as USER_ID\n" << std::flush;
    return;
  }
  options_.user = user;
  out_ << "(now acting as " << user << ")\n" << std::flush;
}

asio::awaitable<bool> console_adapter::run_verb(const std::string& line) {
  auto [verb, rest] = split_first(line);
  if (verb == "!quit" || verb == "!exit") co_return false;
  if (verb == "!help") {
    out_ << "console verbs:\n  /incident ...          run the slash command as " << options_.user << "\n"
         << help_text << std::flush;
  } else if (verb == "!as") {
    act_as(rest);
  } else if (verb == "!click") {
    co_await click(rest);
  } else if (verb == "!reply") {
    co_await reply_in_thread(rest);
  } else if (verb == "!dm") {
    co_await direct_message(rest);
  } else {
    out_ << "unknown console verb " << verb << " (try !help)\n" << std::flush;
  }
  co_return true;
}

asio::awaitable<bool> console_adapter::handle_line(std::string typed) {
  const std::string line = trimmed(std::move(typed));
  if (line.empty()) co_return true;
  if (line[0] == '!') co_return co_await run_verb(line);
  if (line[0] == '/') {
    co_await run_slash_command(line);
    co_return true;
  }
  const std::string ts = slack_.next_ts();
  out_ << "(you posted in #incidents, ts " << ts << ")\n" << std::flush;
  co_await post_message(options_.channel, "channel", line, ts, {});
  co_return true;
}

asio::awaitable<void> console_adapter::run_stdin(asio::any_io_executor executor) {
  asio::posix::stream_descriptor input(executor);
  boost::system::error_code ec;
  input.assign(::dup(STDIN_FILENO), ec);
  if (ec) {
    // A regular file on stdin cannot be watched by epoll; read it directly (it never blocks long).
    for (std::string line; !stopped_ && std::getline(std::cin, line);)
      if (!co_await handle_line(line)) co_return;
    co_return;
  }
  input_ = &input;
  struct forget_input {
    console_adapter& self;
    ~forget_input() { self.input_ = nullptr; }
  } forget{*this};
  std::string buffer;
  while (!stopped_) {
    auto [read_ec, n] = co_await asio::async_read_until(input, asio::dynamic_buffer(buffer), '\n',
                                                        asio::as_tuple(asio::use_awaitable));
    if (read_ec) {
      if (!buffer.empty() && !stopped_) co_await handle_line(buffer);
      co_return;  // end of input or stopped
    }
    std::string line = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    if (!co_await handle_line(line)) co_return;
  }
}

void console_adapter::stop() {
  stopped_ = true;
  if (input_) input_->cancel();
}

}  // namespace flare
