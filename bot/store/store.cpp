#include "bot/store/store.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

namespace flare::store {
namespace {

// One table per enum, so the spelling in the database and the parser cannot drift apart.
template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum e) {
  for (const auto& [value, name] : names) {
    if (value == e) return name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                             std::string_view s) {
  for (const auto& [value, name] : names) {
    if (name == s) return value;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<incident_state, std::string_view>, 2> incident_state_names{{
    {incident_state::open, "open"},
    {incident_state::resolved, "resolved"},
}};

constexpr std::array<std::pair<outbox_state, std::string_view>, 4> outbox_state_names{{
    {outbox_state::pending, "pending"},
    {outbox_state::sent, "sent"},
    {outbox_state::failed, "failed"},
    {outbox_state::abandoned, "abandoned"},
}};

constexpr std::array<std::pair<deadline_kind, std::string_view>, 3> deadline_kind_names{{
    {deadline_kind::initial, "initial"},
    {deadline_kind::update, "update"},
    {deadline_kind::resolution, "resolution"},
}};

constexpr std::array<std::pair<reminder_state, std::string_view>, 3> reminder_state_names{{
    {reminder_state::pending, "pending"},
    {reminder_state::sent, "sent"},
    {reminder_state::cancelled, "cancelled"},
}};

}  // namespace

std::string_view to_string(incident_state s) { return name_of(incident_state_names, s); }
std::optional<incident_state> parse_incident_state(std::string_view s) {
  return value_of(incident_state_names, s);
}

std::string_view to_string(outbox_state s) { return name_of(outbox_state_names, s); }
std::optional<outbox_state> parse_outbox_state(std::string_view s) { return value_of(outbox_state_names, s); }

std::string_view to_string(deadline_kind k) { return name_of(deadline_kind_names, k); }
std::optional<deadline_kind> parse_deadline_kind(std::string_view s) {
  return value_of(deadline_kind_names, s);
}

std::string_view to_string(reminder_state s) { return name_of(reminder_state_names, s); }
std::optional<reminder_state> parse_reminder_state(std::string_view s) {
  return value_of(reminder_state_names, s);
}

std::string inbox_key_for_event(std::string_view event_id) { return "event:" + std::string(event_id); }
std::string inbox_key_for_trigger(std::string_view trigger_id) {
  return "trigger:" + std::string(trigger_id);
}
std::string inbox_key_for_envelope(std::string_view envelope_id) {
  return "envelope:" + std::string(envelope_id);
}

std::string incident_reference(std::int64_t id) { return "INC-" + std::to_string(id); }

std::optional<std::int64_t> parse_incident_reference(std::string_view text) {
  if (text.size() > 4 && (text[0] == 'I' || text[0] == 'i') && (text[1] == 'N' || text[1] == 'n') &&
      (text[2] == 'C' || text[2] == 'c') && text[3] == '-') {
    text.remove_prefix(4);
  }
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::map<std::string, std::size_t> store::count_open_incidents_by_severity() {
  std::map<std::string, std::size_t> counts;
  for (const auto& inc : list_incidents(true, SIZE_MAX)) ++counts[inc.severity.value_or("unclassified")];
  return counts;
}

std::vector<outbox_item> store::pending_outbox_after(std::int64_t after_id, std::size_t limit) {
  std::vector<outbox_item> out;
  for (auto& item : pending_outbox(SIZE_MAX)) {
    if (out.size() >= limit) break;
    if (item.id > after_id) out.push_back(std::move(item));
  }
  return out;
}

int store::count_replay(std::int64_t) { return 1; }

void store::park_delivery(std::int64_t id, std::string_view, sys_seconds) {
  throw store_error("this store cannot park delivery " + std::to_string(id) + " (no dead letters)");
}

std::vector<delivery> store::parked_deliveries(std::size_t) { return {}; }

}  // namespace flare::store
