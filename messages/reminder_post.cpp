#include "messages/reminder_post.hpp"

#include "messages/blocks.hpp"
#include "messages/checklist_view.hpp"
#include "messages/time_text.hpp"

namespace flare::messages {

namespace {

using std::chrono::seconds;

std::string deadline_name(policy::reminder_kind k) {
  switch (k) {
    case policy::reminder_kind::initial: return "initial customer notification";
    case policy::reminder_kind::update: return "customer notification update";
    case policy::reminder_kind::resolution: return "resolution message to customers";
  }
  return "customer notification";
}

nlohmann::json button(std::string_view action_id, std::string_view text, std::string_view value) {
  return {{"type", "button"},
          {"action_id", std::string{action_id}},
          {"text", {{"type", "plain_text"}, {"text", std::string{text}}}},
          {"value", std::string{value}}};
}

}  // namespace

std::string duration_text(seconds d) {
  if (d < seconds{60}) return "less than a minute";
  const auto minutes = d.count() / 60;
  const auto days = minutes / (24LL * 60);
  const auto hours = (minutes / 60) % 24;
  const auto mins = minutes % 60;
  std::string out;
  auto add = [&out](long long n, const char* unit) {
    if (n == 0) return;
    if (!out.empty()) out += " ";
    out += std::to_string(n) + " " + unit;
  };
  add(days, "d");
  add(hours, "h");
  if (days == 0) add(mins, "min");  // minutes matter only within the last day
  return out.empty() ? std::string{"less than a minute"} : out;
}

slack_message reminder_post(const reminder_view& r, std::chrono::sys_seconds now) {
  const std::string what = deadline_name(r.kind);
  const bool passed = now > r.deadline;
  std::string line;
  if (passed) {
    line = ":rotating_light: *" + escape(r.reference) + ": the " + what + " is overdue* by " +
           duration_text(now - r.deadline) + " (was due " + slack_date(r.deadline) + ").";
    if (!r.security_team_group.empty()) line = group_mention(r.security_team_group) + " " + line;
  } else if (now == r.deadline) {
    line = ":alarm_clock: *" + escape(r.reference) + ": the " + what + " is due now* (" +
           slack_date(r.deadline) + ").";
  } else {
    line = ":hourglass: *" + escape(r.reference) + ": the " + what + " is due in " +
           duration_text(r.deadline - now) + "* (" + slack_date(r.deadline) + ").";
  }
  slack_message m;
  m.text = escape(r.reference) + ": the " + what + (passed ? " is overdue" : " is due") + " (" +
           utc_text(r.deadline) + ")";
  if (passed && !r.security_team_group.empty()) m.text = group_mention(r.security_team_group) + " " + m.text;
  m.blocks.push_back(blocks::section("reminder", line));
  std::vector<std::string> notes{
      "SaaS notification process, \"Paid Customer Notification Process\". Step: " + escape(r.step) + "."};
  if (r.late_by >= seconds{60})
    notes.push_back(":warning: posted " + duration_text(r.late_by) + " late (the bot was down)");
  m.blocks.push_back(blocks::context("reminder_note", notes));
  const std::string id = std::to_string(r.incident_id);
  m.blocks.push_back({{"type", "actions"},
                      {"block_id", "reminder_actions"},
                      {"elements", nlohmann::json::array({button(mark_notified_action, "Mark notified", id),
                                                          button(post_update_action, "Post update", id)})}});
  return enforce_limits(std::move(m));
}

slack_message obligation_reminder_post(const obligation_reminder_view& r, const date::time_zone* zone,
                                       std::chrono::sys_seconds now) {
  const bool passed = now >= r.due;
  const std::string title = escape(r.obligation_title);
  std::string line = (passed ? ":rotating_light: *" : ":hourglass: *") + escape(r.reference) + ": " + title +
                     "* — due " + due_text(r.due, zone, now) + ".";
  if (passed && !r.security_team_group.empty()) line = group_mention(r.security_team_group) + " " + line;
  slack_message m;
  m.text = escape(r.reference) + ": " + title + (passed ? " is overdue" : " is due") + " (" +
           local_time_text(r.due, zone, now) + ")";
  if (passed && !r.security_team_group.empty()) m.text = group_mention(r.security_team_group) + " " + m.text;
  m.blocks.push_back(blocks::section("reminder", line));
  std::vector<std::string> notes{"Reminder: " + escape(r.step) + "."};
  if (r.late_by >= seconds{60})
    notes.push_back(":warning: posted " + duration_text(r.late_by) + " late (the bot was down)");
  m.blocks.push_back(blocks::context("reminder_note", notes));
  m.blocks.push_back(
      {{"type", "actions"},
       {"block_id", "reminder_actions"},
       {"elements", nlohmann::json::array({button(mark_done_action, "Mark done",
                                                  mark_done_value(r.incident_id, r.obligation_id))})}});
  return enforce_limits(std::move(m));
}

nlohmann::json post_update_modal(std::int64_t incident_id, std::string_view reference) {
  // Title, submit and close are plain_text of at most 24 characters (docs/slack.md §4.3).
  std::string title = "Update " + std::string{reference};
  if (title.size() > 24) title = "Post update";
  return {{"type", "modal"},
          {"callback_id", std::string{post_update_callback}},
          {"private_metadata", std::to_string(incident_id)},
          {"title", {{"type", "plain_text"}, {"text", title}}},
          {"submit", {{"type", "plain_text"}, {"text", "Post"}}},
          {"close", {{"type", "plain_text"}, {"text", "Cancel"}}},
          {"blocks", nlohmann::json::array(
                         {{{"type", "input"},
                           {"block_id", std::string{post_update_block}},
                           {"label", {{"type", "plain_text"}, {"text", "Update for the incident's thread"}}},
                           {"element",
                            {{"type", "plain_text_input"},
                             {"action_id", std::string{post_update_input}},
                             {"multiline", true},
                             {"max_length", 2900}}}}})}};
}

std::string post_update_text(const nlohmann::json& values) {
  if (!values.is_object()) return {};
  const auto block = values.find(std::string{post_update_block});
  if (block == values.end() || !block->is_object()) return {};
  const auto input = block->find(std::string{post_update_input});
  if (input == block->end() || !input->is_object()) return {};
  const auto value = input->find("value");
  if (value == input->end() || !value->is_string()) return {};  // null when left empty
  std::string text = value->get<std::string>();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace flare::messages
