#include "policy/reminder_ladder.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace flare::policy {

namespace {

using std::chrono::hours;
using std::chrono::sys_seconds;

}  // namespace

std::string_view to_string(reminder_kind k) {
  switch (k) {
    case reminder_kind::initial: return "initial";
    case reminder_kind::update: return "update";
    case reminder_kind::resolution: return "resolution";
  }
  return "initial";
}

// ---------------------------------------------------------------------------------------------
// Obligation reminders.

namespace {

std::string hours_before_name(int h) {
  if (h % 24 == 0 && h >= 48) return std::to_string(h / 24) + " days before";
  return std::to_string(h) + (h == 1 ? " hour before" : " hours before");
}

// The first nominal step strictly after `t`, or nullopt when the ladder ends (no repeat).
std::optional<obligation_reminder> step_after(std::string_view id, sys_seconds due,
                                              const reminder_settings& settings, sys_seconds t) {
  std::vector<int> before = settings.hours_before;
  std::sort(before.begin(), before.end(), std::greater<>());
  before.erase(std::unique(before.begin(), before.end()), before.end());
  for (int h : before) {
    if (h <= 0) continue;
    const sys_seconds fire = due - hours{h};
    if (fire > t) return obligation_reminder{std::string{id}, due, fire, hours_before_name(h), false};
  }
  if (due > t) return obligation_reminder{std::string{id}, due, due, "at the deadline", true};
  sys_seconds fire = due;
  for (int gap : settings.overdue_backoff_hours) {
    if (gap <= 0) continue;
    fire += hours{gap};
    if (fire > t) return obligation_reminder{std::string{id}, due, fire, overdue_step_name(fire - due), true};
  }
  if (settings.overdue_then_every_hours <= 0) return std::nullopt;
  const auto every = hours{settings.overdue_then_every_hours};
  const long long k = (t - fire) / every + 1;  // t >= fire here
  fire += k * every;
  return obligation_reminder{std::string{id}, due, fire, overdue_step_name(fire - due), true};
}

bool in_quiet(int minute, const quiet_hours& q) {
  if (q.start_minute < q.end_minute) return minute >= q.start_minute && minute < q.end_minute;
  return minute >= q.start_minute || minute < q.end_minute;
}

// The instant quiet hours end, if `t` falls inside them; otherwise `t`.
sys_seconds after_quiet(sys_seconds t, const quiet_hours& q, const date::time_zone* zone) {
  const auto local = zone ? zone->to_local(t) : date::local_seconds{t.time_since_epoch()};
  const auto day = date::floor<date::days>(local);
  const int minute = static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
  if (!in_quiet(minute, q)) return t;
  auto end_day = day;
  if (q.start_minute > q.end_minute && minute >= q.start_minute) end_day += date::days{1};
  const date::local_seconds end_local = end_day + std::chrono::minutes{q.end_minute};
  const sys_seconds end =
      zone ? zone->to_sys(end_local, date::choose::earliest) : sys_seconds{end_local.time_since_epoch()};
  return std::max(end, t);
}

}  // namespace

std::optional<quiet_hours> parse_quiet_hours(std::string_view text) {
  auto minute_of = [](std::string_view hhmm) -> std::optional<int> {
    if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
    for (int i : {0, 1, 3, 4}) {
      if (!std::isdigit(static_cast<unsigned char>(hhmm[static_cast<std::size_t>(i)]))) return std::nullopt;
    }
    const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
    const int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    if (h > 23 || m > 59) return std::nullopt;
    return h * 60 + m;
  };
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = minute_of(text.substr(0, dash));
  const auto end = minute_of(text.substr(dash + 1));
  if (!start || !end || *start == *end) return std::nullopt;
  return quiet_hours{*start, *end};
}

std::string describe(const quiet_hours& q) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", q.start_minute / 60, q.start_minute % 60,
                q.end_minute / 60, q.end_minute % 60);
  return buf;
}

std::string overdue_step_name(std::chrono::seconds late) {
  const long long minutes = late.count() / 60;
  const long long d = minutes / (24LL * 60);
  const long long h = (minutes % (24LL * 60)) / 60;
  const long long m = minutes % 60;
  std::string out = "overdue by ";
  if (d > 0) {
    out += std::to_string(d) + " d";
    if (h > 0) out += " " + std::to_string(h) + " h";
  } else if (h > 0) {
    out += std::to_string(h) + " h";
    if (m > 0) out += " " + std::to_string(m) + " min";
  } else {
    out += std::to_string(m) + " min";
  }
  return out;
}

std::vector<obligation_reminder> ladder_steps(std::string_view obligation_id, sys_seconds due,
                                              const reminder_settings& settings, sys_seconds horizon) {
  std::vector<obligation_reminder> out;
  // Bounded: the ladder's steps from its first one, at most 1000 (a horizon years out).
  sys_seconds t = sys_seconds::min();
  for (int i = 0; i < 1000; ++i) {
    auto s = step_after(obligation_id, due, settings, t);
    if (!s) break;
    t = s->fire_at;
    out.push_back(std::move(*s));
    if (t > horizon) break;
  }
  return out;
}

std::optional<obligation_reminder> next_reminder(const obligation& o, const reminder_settings& settings,
                                                 bool critical, const date::time_zone* zone,
                                                 sys_seconds now) {
  if (o.state != obligation_state::pending || !o.due) return std::nullopt;
  auto step = step_after(o.id, *o.due, settings, now);
  if (!step || critical || !settings.quiet) return step;
  const sys_seconds fire = after_quiet(step->fire_at, *settings.quiet, zone);
  if (fire == step->fire_at) return step;
  // Steps that fall inside the same quiet stretch collapse into the latest of them (bounded:
  // a quiet stretch is under a day and steps are at least an hour apart after the deadline).
  for (int i = 0; i < 64; ++i) {
    auto later = step_after(o.id, *o.due, settings, step->fire_at);
    if (!later || later->fire_at > fire) break;
    step = std::move(later);
  }
  step->fire_at = fire;
  return step;
}

std::vector<obligation_reminder> next_reminders(const checklist& c, const reminder_settings& settings,
                                                const date::time_zone* zone, sys_seconds now) {
  // Untriaged incidents are treated as Critical (protective reading, as for the timings).
  const bool critical = !c.severity || *c.severity == severity::critical;
  std::vector<obligation_reminder> out;
  for (const auto& o : c.items) {
    if (auto r = next_reminder(o, settings, critical, zone, now)) out.push_back(std::move(*r));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.fire_at < b.fire_at; });
  return out;
}

}  // namespace flare::policy
