// The incident card: the one message per incident that always shows its current state. Posted
// once, then edited in place (chat.update) whenever the incident or its decision changes.
#pragma once

#include "messages/incident_view.hpp"
#include "messages/slack_message.hpp"
#include "policy/disclosure.hpp"

namespace flare::messages {

// Header "INC-7 · critical", the title (escaped) right below; fields severity, classification, state,
// reporter, opened, impact confirmed (and resolved when it is); when `decision` is given, one line per
// required action (security bulletin / admin e-mails / next customer notification due / free tier / legal
// precedence); a context line with the policy version. A null decision shows "no decision yet".
// Renders the title as given: for a sensitive incident in a public place use
// sensitive_placeholder (replies.hpp) instead.
slack_message incident_card(const incident_view& incident, const policy::decision* decision);

}  // namespace flare::messages
