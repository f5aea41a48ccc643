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
std::vector<std::string> required_actions(const policy::decision& decision);

// The same list without the legal-precedence line, for posts that show legal precedence on its
// own, with its citation, above everything else.
std::vector<std::string> policy_actions(const policy::decision& decision);

// "<!date^…> (business days: …)" — the due time, with the business-day wording when the
// schedule counts business days (SaaS process severity table, row Medium).
std::string due_text(std::chrono::sys_seconds due, const policy::notification_schedule& schedule);

// "Next customer update due 2026-11-24 10:00 UTC" style plain summary for fallback text, or
// empty when nothing is scheduled.
std::string next_due_summary(const policy::notification_schedule& schedule);

}  // namespace flare::messages
