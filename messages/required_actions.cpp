#include "messages/required_actions.hpp"

#include <algorithm>

#include "messages/slack_message.hpp"

namespace flare::messages {
namespace {

bool counts_business_days(const policy::notification_schedule& schedule) {
  return schedule.update_interval && schedule.update_interval->find("business day") != std::string::npos;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + escape(item);
  return out;
}

std::string bulletin_line(const policy::disclosure_decision& d) {
  if (!d.required) return "No public security bulletin.";
  return d.ready ? "📣 *Publish a public security bulletin* (a fix is available)."
                 : "📣 *Public security bulletin required* as soon as a fix is available.";
}

std::string direct_line(const policy::direct_notification_decision& d) {
  return d.required ? "✉️ *E-mail the affected Organizations' administrators* (default owner)."
                    : "No direct e-mail to Organization administrators.";
}

std::vector<std::string> customer_lines(const policy::notification_schedule& s,
                                        const std::vector<std::chrono::sys_seconds>& sent) {
  if (!s.scheduled) return {"No scheduled customer notifications."};
  std::vector<std::string> lines;
  if (s.next_due) {
    std::string line = s.next_due == s.initial_due ? "⏰ *Initial customer notification* due "
                                                   : "⏰ *Next customer update* due ";
    line += due_text(*s.next_due, s);
    if (s.update_interval) line += ", then every " + escape(*s.update_interval);
    lines.push_back(line + ".");
  }
  if (s.resolution_due && resolution_message_sent(s, sent)) {
    lines.push_back("✅ Resolution message to customers sent.");
  } else if (s.resolution_due) {
    lines.push_back("⏰ *Resolution message to customers* due " + due_text(*s.resolution_due, s) + ".");
  }
  if (lines.empty()) lines.push_back("All scheduled customer notifications have been sent.");
  return lines;
}

std::vector<std::string> free_tier_lines(const policy::free_tier_decision& d) {
  std::vector<std::string> lines;
  if (d.notify_by_email)
    lines.push_back("✉️ *E-mail the directly impacted free-tier users* before any public disclosure.");
  if (d.public_announcement)
    lines.push_back(d.announcement_ready ? "📣 *Make the public announcement* (the fix is applied)."
                                         : "📣 *Public announcement* once the fix is applied.");
  return lines;
}

}  // namespace

std::string due_text(std::chrono::sys_seconds due, const policy::notification_schedule& schedule) {
  std::string text = slack_date(due);
  // The Medium row counts business days: say so, or a Friday deadline reads like a mistake.
  if (counts_business_days(schedule))
    text += " (end of a business day: weekends and holidays are not counted)";
  return text;
}

bool resolution_message_sent(const policy::notification_schedule& schedule,
                             const std::vector<std::chrono::sys_seconds>& notifications_sent) {
  return schedule.resolution_due && std::any_of(notifications_sent.begin(), notifications_sent.end(),
                                                [&](auto t) { return t >= *schedule.resolution_due; });
}

std::vector<std::string> policy_actions(const policy::decision& decision,
                                        const std::vector<std::chrono::sys_seconds>& notifications_sent) {
  std::vector<std::string> lines{bulletin_line(decision.public_disclosure),
                                 direct_line(decision.direct_notification)};
  for (auto& l : customer_lines(decision.customer_notifications.schedule, notifications_sent))
    lines.push_back(std::move(l));
  for (auto& l : free_tier_lines(decision.free_tier)) lines.push_back(std::move(l));
  return lines;
}

std::vector<std::string> required_actions(const policy::decision& decision,
                                          const std::vector<std::chrono::sys_seconds>& notifications_sent) {
  std::vector<std::string> lines;
  if (decision.legal_precedence)
    lines.push_back("⚖️ *Legal disclosure requirements take precedence:* " +
                    joined(decision.legal_requirements) + ". Follow them where they differ.");
  for (auto& l : policy_actions(decision, notifications_sent)) lines.push_back(std::move(l));
  return lines;
}

std::string next_due_summary(const policy::notification_schedule& s,
                             const std::vector<std::chrono::sys_seconds>& notifications_sent) {
  if (s.next_due)
    return (s.next_due == s.initial_due ? "initial customer notification due "
                                        : "next customer update due ") +
           utc_text(*s.next_due);
  if (resolution_message_sent(s, notifications_sent)) return "resolution message sent";
  if (s.resolution_due) return "resolution message due " + utc_text(*s.resolution_due);
  return {};
}

}  // namespace flare::messages
