#include "messages/incident_card.hpp"

#include "messages/blocks.hpp"
#include "messages/required_actions.hpp"

namespace flare::messages {
namespace {

std::string bullets(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += "\n• " + line;
  return text;
}

std::string actions_text(const incident_view& incident, const policy::decision* decision) {
  if (!decision) return "*Required actions*\n_No decision yet: classify the incident and record its facts._";
  return "*Required actions*" + bullets(required_actions(*decision, incident.notifications_sent));
}

}  // namespace

slack_message incident_card(const incident_view& incident, const policy::decision* decision) {
  slack_message m;
  m.text = one_line(incident);
  m.blocks.push_back(blocks::header("header", header_text(incident)));
  m.blocks.push_back(blocks::section("title", "*" + escape(incident.title) + "*"));
  m.blocks.push_back(blocks::fields("fields", incident_fields(incident)));
  m.blocks.push_back(blocks::section("actions", actions_text(incident, decision)));
  if (incident.summary)
    m.blocks.push_back(blocks::section("summary", "*Summary*\n" + escape(*incident.summary)));
  m.blocks.push_back(
      blocks::context("policy", {decision ? "Policy version `" + escape(decision->policy_version) + "`"
                                          : std::string{"Policy version: no decision yet"},
                                 "Details and reasons in the thread"}));
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
