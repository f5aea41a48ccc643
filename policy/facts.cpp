#include "policy/facts.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace flare::policy {
namespace {

template <class E, std::size_t N>
std::optional<E> find_name(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view s) {
  for (const auto& [value, name] : names) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E e) {
  for (const auto& [value, name] : names) {
    if (value == e) return name;
  }
  return "?";
}

constexpr std::array<std::pair<severity, std::string_view>, 4> severity_names{{
    {severity::critical, "critical"},
    {severity::high, "high"},
    {severity::medium, "medium"},
    {severity::low, "low"},
}};
constexpr std::array<std::pair<classification, std::string_view>, 2> classification_names{{
    {classification::confirmed, "confirmed"},
    {classification::potential, "potential"},
}};
constexpr std::array<std::pair<tristate, std::string_view>, 3> tristate_names{{
    {tristate::confirmed, "confirmed"},
    {tristate::unknown, "unknown"},
    {tristate::none, "none"},
}};
constexpr std::array<std::pair<customer_tier, std::string_view>, 2> tier_names{{
    {customer_tier::paid, "paid"},
    {customer_tier::free, "free"},
}};

}  // namespace

std::string_view to_string(severity s) { return name_of(severity_names, s); }
std::string_view to_string(classification c) { return name_of(classification_names, c); }
std::string_view to_string(tristate t) { return name_of(tristate_names, t); }
std::string_view to_string(customer_tier c) { return name_of(tier_names, c); }

std::optional<severity> parse_severity(std::string_view s) { return find_name(severity_names, s); }
std::optional<classification> parse_classification(std::string_view s) {
  return find_name(classification_names, s);
}
std::optional<tristate> parse_tristate(std::string_view s) { return find_name(tristate_names, s); }
std::optional<customer_tier> parse_customer_tier(std::string_view s) { return find_name(tier_names, s); }

bool has_tier(const facts& f, customer_tier tier) {
  return std::find(f.customers.begin(), f.customers.end(), tier) != f.customers.end();
}

}  // namespace flare::policy
