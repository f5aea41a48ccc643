// Text shown to one person (an ephemeral reply, a modal) that names other people by mention.
#pragma once

#include <string>
#include <string_view>

namespace flare::messages {

// escape(text), except that user mentions (<@U…>, <@W…>: an id of capitals and digits) stay
// mentions, so "already done by <@U123>" shows the person's name. Only for replies seen by the
// person who acted (a mention there notifies nobody); <!channel>, <!subteam^…> and links stay
// escaped, as everything else a person typed.
std::string escape_keeping_user_mentions(std::string_view text);

}  // namespace flare::messages
