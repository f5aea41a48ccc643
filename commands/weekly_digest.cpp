#include "commands/weekly_digest.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "commands/incident_checklist.hpp"
#include "policy/facts_json.hpp"
#include "policy/obligations.hpp"

namespace flare::commands {
namespace {

using std::chrono::seconds;
using std::chrono::sys_seconds;

std::optional<seconds> median(std::vector<seconds> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  if (n % 2 == 1) return v[n / 2];
  return (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool within(sys_seconds t, sys_seconds from, sys_seconds to) { return t >= from && t < to; }

// What the digest needs of one incident, read once.
struct incident_facts {
  store::incident incident;
  std::string kind;
  std::optional<sys_seconds> classified_at;  // first classify entry
  std::optional<sys_seconds> impact_confirmed_at;
  std::optional<policy::checklist> checklist;
};

// Counts on time / late for obligations due within [from, to), seen at `to`.
void count_obligations(const incident_facts& i, sys_seconds from, sys_seconds to, int& on_time, int& late,
                       std::vector<messages::late_obligation>* late_ones) {
  if (!i.checklist) return;
  for (const auto& o : i.checklist->items) {
    if (!o.due || !within(*o.due, from, to)) continue;
    if (o.state == policy::obligation_state::not_needed) continue;
    const bool done = o.state == policy::obligation_state::done && o.done;
    if (done && o.done->at <= *o.due) {
      ++on_time;
      continue;
    }
    if (!done && *o.due >= to) continue;  // not due yet when the period ends
    ++late;
    if (late_ones) {
      late_ones->push_back({i.incident.reference(), i.incident.title, i.incident.sensitive, o.title, *o.due,
                            done ? std::optional<sys_seconds>(o.done->at) : std::nullopt});
    }
  }
}

}  // namespace

messages::digest_figures compute_digest(store::store& store, const policy::tables& tables,
                                        const policy::business_calendar& calendar, sys_seconds since,
                                        sys_seconds until) {
  messages::digest_figures f;
  f.since = since;
  f.until = until;

  std::vector<incident_facts> all;
  for (auto& i : store.list_incidents(false, std::numeric_limits<std::size_t>::max())) {
    incident_facts x;
    x.kind = store.ledger_for(i.id).kind;
    for (const auto& e : store.audit_for(i.id)) {
      if (e.action == "classify" && e.at < until) {
        x.classified_at = e.at;
        break;
      }
    }
    if (auto facts = policy::facts_from_json(i.facts); !facts.error)
      x.impact_confirmed_at = facts.value.impact_confirmed_at;
    // Seen at the end of the period: what was done by then, what was overdue then.
    x.checklist = stored_checklist(store, i.id, tables, calendar, until);
    x.incident = std::move(i);
    all.push_back(std::move(x));
  }

  std::vector<seconds> to_classify, to_notice;
  for (const auto& x : all) {
    const auto& i = x.incident;
    const std::string severity = i.severity.value_or("unclassified");
    if (within(i.created_at, since, until)) {
      ++f.opened;
      ++f.opened_by_severity[severity];
      ++f.opened_by_kind[x.kind];
    }
    if (i.resolved_at && within(*i.resolved_at, since, until)) {
      ++f.closed;
      ++f.closed_by_severity[severity];
      ++f.closed_by_kind[x.kind];
    }
    if (x.classified_at && within(*x.classified_at, since, until))
      to_classify.push_back(*x.classified_at - i.created_at);
    if (x.checklist) {
      if (const auto* notice = x.checklist->find(policy::obligation_ids::paid_initial_notice);
          notice && notice->done && x.impact_confirmed_at && within(notice->done->at, since, until))
        to_notice.push_back(notice->done->at - *x.impact_confirmed_at);
      for (const auto& o : x.checklist->items)
        if (o.state == policy::obligation_state::pending && o.due) ++f.still_open;
    }
    count_obligations(x, since, until, f.on_time, f.late, &f.late_ones);
  }
  f.median_report_to_classification = median(to_classify);
  f.median_impact_to_first_notice = median(to_notice);
  std::sort(f.late_ones.begin(), f.late_ones.end(),
            [](const auto& a, const auto& b) { return a.due < b.due; });

  for (int w = digest_weeks - 1; w >= 0; --w) {
    messages::digest_week week;
    week.start = until - std::chrono::days(7) * (w + 1);
    const sys_seconds end = week.start + std::chrono::days(7);
    std::vector<seconds> classify;
    for (const auto& x : all) {
      count_obligations(x, week.start, end, week.on_time, week.late, nullptr);
      if (x.classified_at && within(*x.classified_at, week.start, end))
        classify.push_back(*x.classified_at - x.incident.created_at);
    }
    week.median_time_to_classify = median(classify);
    f.weeks.push_back(week);
  }
  return f;
}

}  // namespace flare::commands
