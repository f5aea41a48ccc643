// Block Kit blocks as JSON, one function per block type flare uses (header, section, context,
// divider). Texts given here are already mrkdwn: escape user text before passing it in.
// enforce_limits() (slack_message.hpp) applies the length limits and makes block ids unique.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace flare::messages::blocks {

// plain_text header; `text` is shown literally (no mrkdwn), so it is not escaped.
nlohmann::json header(std::string_view block_id, std::string_view text);
nlohmann::json section(std::string_view block_id, std::string_view mrkdwn);
// A section of two-column fields (each mrkdwn), with optional text above them.
nlohmann::json fields(std::string_view block_id, const std::vector<std::string>& mrkdwn_fields,
                      std::string_view mrkdwn = {});
// Small grey text; one element per string.
nlohmann::json context(std::string_view block_id, const std::vector<std::string>& mrkdwn);
nlohmann::json divider(std::string_view block_id);

}  // namespace flare::messages::blocks
