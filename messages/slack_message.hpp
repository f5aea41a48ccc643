// A Slack message as data (fallback text + Block Kit blocks), the mrkdwn pieces every message is
// built from, and the Block Kit limits every builder applies before returning.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace flare::messages {

struct slack_message {
  // Notification / screen-reader fallback (chat.postMessage `text`). Never empty: Slack shows it
  // in notifications and wherever blocks cannot be rendered.
  std::string text;
  nlohmann::json blocks = nlohmann::json::array();
};

// Escapes user-supplied text for mrkdwn: only & < > become &amp; &lt; &gt; (docs/slack.md §5.6:
// only these three entities are decoded, anything else would show literally).
std::string escape(std::string_view user_text);

// "<@U123>": the only way a message can mention a user (link_names no longer links users).
std::string user_mention(std::string_view user_id);
// "<!subteam^S123>": a user group mention.
std::string group_mention(std::string_view group_id);

// "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>": each viewer sees the
// time in their own zone; clients that cannot render it show the UTC fallback.
std::string slack_date(std::chrono::sys_seconds t);
// "2023-11-14 22:13 UTC": for fallback `text`, where <!date^…> tokens are not rendered everywhere.
std::string utc_text(std::chrono::sys_seconds t);

// Applies Slack's limits (docs/slack.md §5.5) so a post never fails with invalid_blocks or
// msg_too_long:
// - at most 50 blocks; when more, the first 49 are kept and the last says how many were omitted;
// - section text <= 3000 and header text <= 150 chars, truncated with "…";
// - at most 10 section fields of <= 2000 chars each; context elements <= 10;
// - button text <= 75 chars;
// - fallback text <= 4000 chars, and never empty;
// - every block has a block_id, unique within the message (derived from the block's name and
//   content, so an edited block gets a new id, as chat.update wants).
// Lengths are counted in Unicode code points; truncation never splits a UTF-8 sequence or an
// &amp;-style entity. Applying it again changes nothing, so a caller may add blocks to a built
// message and enforce the limits once more. Every builder in messages/ returns enforce_limits(...).
slack_message enforce_limits(slack_message m);

// The body of a slash-command response (ack payload or response_url POST, docs/slack.md §2.2):
// {"response_type": "ephemeral"|"in_channel", "text": ..., "blocks": [...]}.
nlohmann::json as_command_reply(const slack_message& m, bool in_channel = false);

// The same message as chat.postMessage / chat.update arguments: {"text": ..., "blocks": [...]}.
nlohmann::json as_post_body(const slack_message& m);

}  // namespace flare::messages
