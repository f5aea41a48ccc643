// The decision reduced to what responders must do, one mrkdwn line per action. Shared by the
// incident card, the decision post and /incident show so they never disagree.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "policy/disclosure.hpp"

namespace flare::messages {

// Legal precedence first when it applies (disclosure policy, introduction, paragraph 3), then
// the security bulletin, the administrators' e-mails, customer notifications, the free tier.
// `notifications_sent` (incident_view::notifications_sent) tells a sent resolution message from
// a due one.
std::vector<std::string> required_actions(const policy::decision& decision,
                                          const std::vector<std::chrono::sys_seconds>& notifications_sent);

// The same list without the legal-precedence line, for posts that show legal precedence on its
// own, with its citation, above everything else.
std::vector<std::string> policy_actions(const policy::decision& decision,
                                        const std::vector<std::chrono::sys_seconds>& notifications_sent);

// True when a notification was recorded at or after the resolution: the resolution message.
bool resolution_message_sent(const policy::notification_schedule& schedule,
                             const std::vector<std::chrono::sys_seconds>& notifications_sent);

// "<!date^…> (business days: …)" — the due time, with the business-day wording when the
// schedule counts business days (SaaS process severity table, row Medium).
std::string due_text(std::chrono::sys_seconds due, const policy::notification_schedule& schedule);

// "Next customer update due 2026-11-24 10:00 UTC" style plain summary for fallback text, or
// empty when nothing is scheduled.
std::string next_due_summary(const policy::notification_schedule& schedule,
                             const std::vector<std::chrono::sys_seconds>& notifications_sent);

}  // namespace flare::messages
