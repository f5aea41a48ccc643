#include "policy/checklist_diff.hpp"

#include "policy/rfc3339.hpp"

namespace flare::policy {
namespace {

bool pending(const obligation* o) { return o && o->state == obligation_state::pending; }

checklist_change change(change_kind k, const obligation& o) {
  checklist_change c;
  c.kind = k;
  c.id = o.id;
  c.title = o.title;
  c.clause = o.clause;
  c.reason = o.reason;
  return c;
}

std::string when(const std::optional<std::chrono::sys_seconds>& t) {
  return t ? format_rfc3339(*t) : std::string{"not recorded"};
}

// The facts that set clocks, with the recorded events (notifications, resolution) and the fix
// state (which changes readiness, never a deadline) set aside.
facts clock_facts(facts f) {
  f.notifications_sent.clear();
  f.resolved_at.reset();
  f.fix_available = false;
  f.fix_applied = false;
  return f;
}

}  // namespace

std::string_view to_string(change_kind k) {
  switch (k) {
    case change_kind::added: return "added";
    case change_kind::dropped: return "dropped";
    case change_kind::reinstated: return "reinstated";
    case change_kind::due_moved: return "due_moved";
    case change_kind::done: return "done";
    case change_kind::conflict_new: return "conflict_new";
    case change_kind::conflict_gone: return "conflict_gone";
    case change_kind::conflict_call: return "conflict_call";
  }
  return "added";
}

checklist_diff diff(const checklist& before, const checklist& after) {
  checklist_diff out;
  for (const auto& a : after.items) {
    const obligation* b = before.find(a.id);
    if (!b) {
      if (a.state == obligation_state::not_needed) continue;  // nothing owed, nothing new to say
      auto c = change(a.state == obligation_state::done ? change_kind::done : change_kind::added, a);
      c.due_after = a.due;
      out.changes.push_back(std::move(c));
      continue;
    }
    if (b->state == a.state) {
      if (a.state == obligation_state::pending && b->due != a.due) {
        auto c = change(change_kind::due_moved, a);
        c.due_before = b->due;
        c.due_after = a.due;
        out.changes.push_back(std::move(c));
      }
      continue;
    }
    change_kind k = change_kind::added;
    if (a.state == obligation_state::done) k = change_kind::done;
    else if (a.state == obligation_state::not_needed) k = change_kind::dropped;
    else k = b->state == obligation_state::not_needed ? change_kind::reinstated : change_kind::added;
    auto c = change(k, a);
    c.due_before = b->due;
    c.due_after = a.due;
    out.changes.push_back(std::move(c));
  }
  for (const auto& b : before.items) {
    if (after.find(b.id) || b.state != obligation_state::pending) continue;
    auto c = change(change_kind::dropped, b);
    c.reason = "No longer owed for the facts as they are now.";
    c.due_before = b.due;
    out.changes.push_back(std::move(c));
  }
  auto find_conflict = [](const checklist& c, const std::string& id) -> const policy_conflict* {
    for (const auto& x : c.conflicts) {
      if (x.id == id) return &x;
    }
    return nullptr;
  };
  for (const auto& a : after.conflicts) {
    const policy_conflict* b = find_conflict(before, a.id);
    checklist_change c;
    c.id = a.id;
    c.title = a.summary;
    c.clause = a.first.clause + " / " + a.second.clause;
    if (!b) {
      c.kind = change_kind::conflict_new;
    } else if (b->call != a.call && a.call) {
      c.kind = change_kind::conflict_call;
      c.reason = a.call->choice;
    } else {
      continue;
    }
    out.changes.push_back(std::move(c));
  }
  for (const auto& b : before.conflicts) {
    if (find_conflict(after, b.id)) continue;
    checklist_change c;
    c.kind = change_kind::conflict_gone;
    c.id = b.id;
    c.title = b.summary;
    c.clause = b.first.clause + " / " + b.second.clause;
    out.changes.push_back(std::move(c));
  }
  return out;
}

std::string clock_change_reason(const facts& b, const facts& a) {
  std::vector<std::string> parts;
  if (b.impact_confirmed_at != a.impact_confirmed_at) {
    if (!a.impact_confirmed_at) {
      parts.push_back("impact confirmation time cleared (was " + when(b.impact_confirmed_at) + ")");
    } else {
      parts.push_back("impact confirmation time changed from " + when(b.impact_confirmed_at) + " to " +
                      when(a.impact_confirmed_at));
    }
  }
  if (b.severity != a.severity) {
    auto name = [](const std::optional<severity>& s) {
      return s ? std::string{to_string(*s)} : std::string{"untriaged"};
    };
    // Lower enum value = more severe; untriaged counts as critical.
    const int rb = static_cast<int>(b.severity.value_or(severity::critical));
    const int ra = static_cast<int>(a.severity.value_or(severity::critical));
    parts.push_back(std::string{ra > rb   ? "severity lowered"
                                : ra < rb ? "severity raised"
                                          : "severity changed"} +
                    " from " + name(b.severity) + " to " + name(a.severity));
  }
  if (b.classification != a.classification) {
    parts.push_back("classification changed from " +
                    (b.classification ? std::string{to_string(*b.classification)} : std::string{"unset"}) +
                    " to " +
                    (a.classification ? std::string{to_string(*a.classification)} : std::string{"unset"}));
  }
  if (b.customers != a.customers) parts.push_back("customer tiers changed");
  if (b.legal_requirements != a.legal_requirements) parts.push_back("legal requirements changed");
  if (b.free_tier_directly_impacted != a.free_tier_directly_impacted) {
    parts.push_back("free-tier direct impact changed");
  }
  if (b.routine_dependency_patch != a.routine_dependency_patch || b.users_affected != a.users_affected ||
      b.data_exposed != a.data_exposed || b.metadata_exposed != a.metadata_exposed ||
      b.exploited != a.exploited || b.user_action_required != a.user_action_required) {
    parts.push_back("the disclosure facts changed");
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::vector<deadline_move> deadline_moves_requiring_confirmation(const facts& before_facts,
                                                                 const checklist& before,
                                                                 const facts& after_facts,
                                                                 const checklist& after) {
  std::vector<deadline_move> out;
  // Recording a notification, a resolution or a fix is an event, not a clock edit.
  if (clock_facts(before_facts) == clock_facts(after_facts) && before.kind == after.kind) return out;
  std::string because = clock_change_reason(before_facts, after_facts);
  if (before.kind != after.kind) {
    because += std::string{because.empty() ? "" : "; "} + "kind changed from " +
               std::string{to_string(before.kind)} + " to " + std::string{to_string(after.kind)};
  }
  for (const auto& b : before.items) {
    if (b.state != obligation_state::pending || !b.due) continue;
    const obligation* a = after.find(b.id);
    if (a && a->state == obligation_state::done) continue;
    if (pending(a) && a->due == b.due) continue;
    deadline_move m;
    m.id = b.id;
    m.title = b.title;
    m.clause = a ? a->clause : b.clause;
    m.from = b.due;
    if (pending(a)) m.to = a->due;
    m.because = because;
    if (a && a->state == obligation_state::not_needed) m.because += " (now not needed: " + a->reason + ")";
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace flare::policy
