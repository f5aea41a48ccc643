#include "policy/reminder_ladder.hpp"

#include <algorithm>

namespace flare::policy {

namespace {

using std::chrono::hours;
using std::chrono::sys_seconds;

constexpr std::string_view at_deadline_label = "at-deadline";
constexpr std::string_view overdue_prefix = "overdue+";

std::string overdue_label(long long k, int every) { return std::string(overdue_prefix) + std::to_string(k * every) + "h"; }

}  // namespace

std::string_view to_string(reminder_kind k) {
  switch (k) {
    case reminder_kind::initial: return "initial";
    case reminder_kind::update: return "update";
    case reminder_kind::resolution: return "resolution";
  }
  return "initial";
}

bool at_or_past_deadline(std::string_view step) {
  return step == at_deadline_label || step.substr(0, overdue_prefix.size()) == overdue_prefix;
}

std::optional<current_deadline> deadline_to_remind(const notification_schedule& schedule,
                                                   const std::vector<sys_seconds>& notifications_sent) {
  if (!schedule.scheduled) return std::nullopt;
  if (schedule.next_due) {
    const bool initial = schedule.initial_due && *schedule.next_due == *schedule.initial_due;
    return current_deadline{initial ? reminder_kind::initial : reminder_kind::update, *schedule.next_due};
  }
  if (schedule.resolution_due) {
    const bool sent = std::any_of(notifications_sent.begin(), notifications_sent.end(),
                                  [&](sys_seconds t) { return t >= *schedule.resolution_due; });
    if (!sent) return current_deadline{reminder_kind::resolution, *schedule.resolution_due};
  }
  return std::nullopt;
}

std::vector<ladder_step> reminder_ladder(const notification_schedule& schedule,
                                         const std::vector<sys_seconds>& notifications_sent,
                                         const ladder_settings& settings, sys_seconds now,
                                         const std::vector<sent_step>& already_sent) {
  const auto current = deadline_to_remind(schedule, notifications_sent);
  if (!current) return {};
  const auto deadline = current->due;

  // Nominal steps, earliest first.
  std::vector<ladder_step> nominal;
  std::vector<int> before = settings.hours_before;
  std::sort(before.begin(), before.end(), std::greater<>());
  before.erase(std::unique(before.begin(), before.end()), before.end());
  for (int h : before) {
    if (h <= 0) continue;
    nominal.push_back({current->kind, deadline, deadline - hours{h}, std::to_string(h) + "h-before"});
  }
  nominal.push_back({current->kind, deadline, deadline, std::string(at_deadline_label)});
  if (now > deadline && settings.overdue_every_hours > 0) {
    const auto every = hours{settings.overdue_every_hours};
    const long long k = (now - deadline) / every;  // overdue steps already passed
    if (k >= 1) nominal.push_back({current->kind, deadline, deadline + k * every, overdue_label(k, settings.overdue_every_hours)});
  }

  auto sent_for_deadline = [&](auto pred) {
    return std::any_of(already_sent.begin(), already_sent.end(), [&](const sent_step& s) {
      return s.kind == current->kind && s.deadline == deadline && pred(s);
    });
  };

  std::vector<ladder_step> out;
  const ladder_step* latest_past = nullptr;
  for (const auto& s : nominal) {
    if (s.fire_at <= now) latest_past = &s;
  }
  if (latest_past) {
    const bool covered = sent_for_deadline([&](const sent_step& s) { return s.fire_at >= latest_past->fire_at; });
    if (!covered) out.push_back({latest_past->kind, deadline, now, latest_past->step});
  }
  for (const auto& s : nominal) {
    if (s.fire_at <= now) continue;
    if (sent_for_deadline([&](const sent_step& x) { return x.step == s.step; })) continue;
    out.push_back(s);
  }
  return out;
}

std::optional<ladder_step> next_overdue_step(const ladder_step& fired, const ladder_settings& settings, sys_seconds now) {
  if (settings.overdue_every_hours < 1 || !at_or_past_deadline(fired.step)) return std::nullopt;
  const auto every = hours{settings.overdue_every_hours};
  const auto base = std::max(now, fired.fire_at);
  const long long k = base < fired.deadline ? 1 : (base - fired.deadline) / every + 1;
  return ladder_step{fired.kind, fired.deadline, fired.deadline + k * every, overdue_label(k, settings.overdue_every_hours)};
}

}  // namespace flare::policy
