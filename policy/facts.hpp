// What responders know about an incident: the input of every policy rule. Plain data; the rules
// live in disclosure.cpp, the calendars in business_calendar.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flare::policy {

using sys_seconds = std::chrono::sys_seconds;

enum class severity { critical, high, medium, low };

// SaaS process, "Security Incident Classification": Confirmed Compromise / Potential Compromise.
enum class classification { confirmed, potential };

// What responders can say about a fact: it is confirmed, not yet known, or confirmed not to hold.
enum class tristate { confirmed, unknown, none };

enum class customer_tier { paid, free };

struct facts {
  // Qualified type names: a member may not change the meaning of the name it is declared with.
  std::optional<policy::severity> severity;
  std::optional<policy::classification> classification;
  // The SaaS clock starts here ("from the point of impact confirmation").
  std::optional<sys_seconds> impact_confirmed_at;
  bool user_action_required = false;
  bool fix_available = false;
  bool fix_applied = false;
  bool routine_dependency_patch = false;
  tristate users_affected = tristate::unknown;
  tristate data_exposed = tristate::none;
  tristate metadata_exposed = tristate::none;
  tristate exploited = tristate::unknown;
  // The customer tiers the incident touches.
  std::vector<customer_tier> customers{customer_tier::paid};
  bool free_tier_directly_impacted = false;
  std::vector<std::string> legal_requirements;
  std::vector<sys_seconds> notifications_sent;
  std::optional<sys_seconds> resolved_at;

  friend bool operator==(const facts&, const facts&) = default;
};

std::string_view to_string(severity s);
std::string_view to_string(classification c);
std::string_view to_string(tristate t);
std::string_view to_string(customer_tier c);

std::optional<severity> parse_severity(std::string_view s);
std::optional<classification> parse_classification(std::string_view s);
std::optional<tristate> parse_tristate(std::string_view s);
std::optional<customer_tier> parse_customer_tier(std::string_view s);

bool has_tier(const facts& f, customer_tier tier);

}  // namespace flare::policy
