#include "policy/decision_json.hpp"

#include "policy/rfc3339.hpp"

namespace flare::policy {
namespace {

nlohmann::json time_or_null(const std::optional<sys_seconds>& t) {
  if (!t) return nullptr;
  return format_rfc3339(*t);
}

nlohmann::json reasons_json(const std::vector<reason>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reasons) out.push_back(to_json(r));
  return out;
}

}  // namespace

nlohmann::json to_json(const reason& r) { return {{"text", r.text}, {"clause", r.clause}}; }

nlohmann::json to_json(const decision& d) {
  const notification_schedule& s = d.customer_notifications.schedule;
  nlohmann::json j;
  j["public_disclosure"] = {{"required", d.public_disclosure.required},
                            {"ready", d.public_disclosure.ready},
                            {"reasons", reasons_json(d.public_disclosure.reasons)}};
  j["direct_notification"] = {{"required", d.direct_notification.required},
                              {"reasons", reasons_json(d.direct_notification.reasons)}};
  j["customer_notifications"] = {
      {"scheduled", s.scheduled},
      {"initial_due", time_or_null(s.initial_due)},
      {"next_due", time_or_null(s.next_due)},
      {"update_interval", s.update_interval ? nlohmann::json(*s.update_interval) : nlohmann::json(nullptr)},
      {"resolution_due", time_or_null(s.resolution_due)},
      {"reasons", reasons_json(d.customer_notifications.reasons)}};
  j["free_tier"] = {{"notify_by_email", d.free_tier.notify_by_email},
                    {"before_public_disclosure", d.free_tier.before_public_disclosure},
                    {"public_announcement", d.free_tier.public_announcement},
                    {"announcement_ready", d.free_tier.announcement_ready},
                    {"reasons", reasons_json(d.free_tier.reasons)}};
  j["legal_precedence"] = d.legal_precedence;
  j["legal_requirements"] = d.legal_requirements;
  j["policy_version"] = d.policy_version;
  j["explanation"] = d.explanation;
  nlohmann::json conflicts = nlohmann::json::array();
  for (const auto& c : d.conflicts) {
    conflicts.push_back(
        {{"id", c.id}, {"summary", c.summary}, {"first", to_json(c.first)}, {"second", to_json(c.second)}});
  }
  j["conflicts"] = std::move(conflicts);
  return j;
}

}  // namespace flare::policy
