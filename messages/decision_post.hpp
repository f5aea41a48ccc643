// The disclosure decision as a post in the incident's thread: what is required, by when, and why.
#pragma once

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"
#include "policy/disclosure.hpp"

namespace flare::messages {

// Legal precedence first when it applies (disclosure policy, introduction, paragraph 3); then
// the security bulletin, the admin e-mails, the customer notification schedule (slack_date, and
// the business-day wording for business-day intervals), the free tier; under each, every reason
// with its clause citation; a context line with the policy version. Long reason lists are cut by
// enforce_limits with a line saying how many blocks were left out.
slack_message decision_post(const incident_view& incident, const policy::decision& decision);

}  // namespace flare::messages
