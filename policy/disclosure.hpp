// decide(): who must be told what, and by when, for one incident's facts. Pure: the tables, the
// calendar and the facts are all the rules see. Each reason names the clause it comes from.
#pragma once

#include <string>
#include <vector>

#include "policy/business_calendar.hpp"
#include "policy/deadlines.hpp"
#include "policy/facts.hpp"
#include "policy/tables.hpp"

namespace flare::policy {

// The disclosure policy's two "we don't notify" exceptions ("When We Notify Users", paragraph
// 1, sentences 2 and 3), as they apply to the facts.
struct policy_exceptions {
  bool routine_patch = false;   // applies
  bool routine_voided = false;  // flagged, but contradicted by confirmed evidence
  bool not_exploited = false;   // applies
};
policy_exceptions find_exceptions(const facts& f);

struct reason {
  std::string text;
  std::string clause;

  friend bool operator==(const reason&, const reason&) = default;
};

// Public security bulletin (disclosure policy, first list).
struct disclosure_decision {
  bool required = false;
  bool ready = false;  // required and a fix is available
  std::vector<reason> reasons;
};

// E-mail to the affected Organization's administrators (disclosure policy, second list).
struct direct_notification_decision {
  bool required = false;
  std::vector<reason> reasons;
};

// Paid-customer notifications on the SaaS severity table.
struct customer_notification_decision {
  notification_schedule schedule;
  std::vector<reason> reasons;
};

struct free_tier_decision {
  bool notify_by_email = false;
  bool before_public_disclosure = false;
  bool public_announcement = false;
  bool announcement_ready = false;  // announcement required and the fix is applied
  std::vector<reason> reasons;
};

// Two documents disagree for the facts at hand (issue 9, "Policy conflicts are shown, not settled
// silently"). The decision names both rules with their clauses and does not pick one; the
// checklist (obligations.hpp) follows the protective reading until a responder records a call.
// Ids are shared with policy_conflict: "exception_vs_customer_clock", "exception_vs_free_tier_impact".
struct decision_conflict {
  std::string id;
  std::string summary;
  reason first;   // the disclosure policy's exception
  reason second;  // the SaaS process's rule

  friend bool operator==(const decision_conflict&, const decision_conflict&) = default;
};

// The conflicts for the facts at hand (decide() fills decision::conflicts with this).
std::vector<decision_conflict> find_conflicts(const facts& f, const tables& t);

struct decision {
  disclosure_decision public_disclosure;
  direct_notification_decision direct_notification;
  customer_notification_decision customer_notifications;
  free_tier_decision free_tier;
  bool legal_precedence = false;
  std::vector<std::string> legal_requirements;
  std::string policy_version;
  std::vector<std::string> explanation;
  std::vector<decision_conflict> conflicts;  // shown with both clauses; never settled here
};

// `calendar` should be built from `t.calendar`; the policy version is computed over the
// calendar actually used, so a mismatch cannot hide behind the version.
decision decide(const facts& f, const tables& t, const business_calendar& calendar);

}  // namespace flare::policy
