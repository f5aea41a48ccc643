#include "messages/incident_view.hpp"

#include "messages/slack_message.hpp"

namespace flare::messages {
namespace {

std::string severity_text(const incident_view& incident) {
  return incident.severity ? escape(*incident.severity) : std::string{"untriaged"};
}

std::string field(std::string_view label, std::string_view value) {
  return "*" + std::string{label} + "*\n" + std::string{value};
}

}  // namespace

std::string one_line(const incident_view& incident) {
  return escape(incident.reference) + " · " + severity_text(incident) + " · " + escape(incident.state) +
         ": " + escape(incident.title);
}

std::string classification_text(const std::optional<std::string>& classification) {
  if (!classification) return "_not set_";
  if (*classification == "confirmed") return "Confirmed compromise";
  if (*classification == "potential") return "Potential compromise";
  return escape(*classification);
}

std::vector<std::string> incident_fields(const incident_view& incident) {
  std::vector<std::string> fields{
      field("Severity", incident.severity ? escape(*incident.severity) : "_not set_"),
      field("Classification", classification_text(incident.classification)),
      field("State", escape(incident.state)),
      field("Reporter", incident.reporter.empty() ? "_unknown_" : user_mention(incident.reporter)),
      field("Opened", slack_date(incident.created_at)),
      // SaaS process: the notification clock runs "from the point of impact confirmation".
      field("Impact confirmed",
            incident.impact_confirmed_at ? slack_date(*incident.impact_confirmed_at) : "_not yet_"),
  };
  if (incident.resolved_at) fields.push_back(field("Resolved", slack_date(*incident.resolved_at)));
  return fields;
}

std::string header_text(const incident_view& incident) {
  std::string text =
      incident.reference + " · " + (incident.severity ? *incident.severity : std::string{"untriaged"});
  if (incident.state != "open") text += " · " + incident.state;
  return text;
}

}  // namespace flare::messages
