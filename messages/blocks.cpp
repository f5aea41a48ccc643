#include "messages/blocks.hpp"

namespace flare::messages::blocks {
namespace {

nlohmann::json mrkdwn_text(std::string_view text) {
  return {{"type", "mrkdwn"}, {"text", std::string{text}}};
}

}  // namespace

nlohmann::json header(std::string_view block_id, std::string_view text) {
  return {{"type", "header"},
          {"block_id", std::string{block_id}},
          {"text", {{"type", "plain_text"}, {"text", std::string{text}}, {"emoji", true}}}};
}

nlohmann::json section(std::string_view block_id, std::string_view mrkdwn) {
  return {{"type", "section"}, {"block_id", std::string{block_id}}, {"text", mrkdwn_text(mrkdwn)}};
}

nlohmann::json fields(std::string_view block_id, const std::vector<std::string>& mrkdwn_fields,
                      std::string_view mrkdwn) {
  nlohmann::json block{{"type", "section"}, {"block_id", std::string{block_id}}};
  if (!mrkdwn.empty()) block["text"] = mrkdwn_text(mrkdwn);
  block["fields"] = nlohmann::json::array();
  for (const auto& f : mrkdwn_fields) block["fields"].push_back(mrkdwn_text(f));
  return block;
}

nlohmann::json context(std::string_view block_id, const std::vector<std::string>& mrkdwn) {
  nlohmann::json block{{"type", "context"}, {"block_id", std::string{block_id}}};
  block["elements"] = nlohmann::json::array();
  for (const auto& e : mrkdwn) block["elements"].push_back(mrkdwn_text(e));
  return block;
}

nlohmann::json divider(std::string_view block_id) {
  return {{"type", "divider"}, {"block_id", std::string{block_id}}};
}

}  // namespace flare::messages::blocks
