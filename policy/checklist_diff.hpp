// What changed between two checklists (the thread gets only this after the first decision), and
// which changes move or clear a running deadline and so need a responder's confirmation.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "policy/facts.hpp"
#include "policy/obligations.hpp"

namespace flare::policy {

enum class change_kind {
  added,          // a new obligation (pending)
  dropped,        // pending before, now not needed or gone
  reinstated,     // not needed before, now pending
  due_moved,      // pending in both, a different due time (or one gained/lost)
  done,           // pending before, done now
  conflict_new,   // a policy conflict appeared
  conflict_gone,  // it no longer applies to the facts
  conflict_call,  // a responder recorded a call
};
std::string_view to_string(change_kind k);

struct checklist_change {
  change_kind kind = change_kind::added;
  std::string id;  // obligation or conflict id
  std::string title;
  std::string clause;  // the clause behind the change (the after side where there is one)
  std::string reason;  // why: the obligation's reason after the change
  std::optional<std::chrono::sys_seconds> due_before;
  std::optional<std::chrono::sys_seconds> due_after;

  friend bool operator==(const checklist_change&, const checklist_change&) = default;
};

struct checklist_diff {
  std::vector<checklist_change> changes;
  bool empty() const { return changes.empty(); }
};

// Before and after, in after's order, dropped ones where they were.
checklist_diff diff(const checklist& before, const checklist& after);

// A running deadline that an edit of the facts would move or clear.
struct deadline_move {
  std::string id;
  std::string title;
  std::string clause;
  std::optional<std::chrono::sys_seconds> from;  // the running due time
  std::optional<std::chrono::sys_seconds> to;    // nullopt: cleared (no longer due / not needed)
  std::string because;                           // "impact confirmation time changed from … to …"

  friend bool operator==(const deadline_move&, const deadline_move&) = default;
};

// Moves that need confirmation: a pending obligation with a due time whose time changes or that
// stops being owed, because a fact that sets clocks changed (impact time, severity,
// classification, customers, kind, exception facts, legal requirements). Recording a
// notification or a resolution is an event, not a clock edit: none of its effects is reported.
// Obligations done in `after` are not moves.
std::vector<deadline_move> deadline_moves_requiring_confirmation(const facts& before_facts,
                                                                 const checklist& before,
                                                                 const facts& after_facts,
                                                                 const checklist& after);

// "impact confirmation time changed from 2026-11-30T10:00:00Z to …; severity lowered from
// critical to low" — the facts that set clocks, in words (UTC; messages re-render in the zone).
std::string clock_change_reason(const facts& before, const facts& after);

}  // namespace flare::policy
