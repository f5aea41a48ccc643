// Where each rule comes from: document, section heading, and which paragraph/list item. Every
// reason in a decision carries one of these, so a responder can check the rule against the text.
#pragma once

#include <string_view>

namespace flare::policy::clauses {

// Incident disclosure policy (restated in docs/policy.md, "Incident disclosure policy")
inline constexpr std::string_view legal_precedence =
    "Incident disclosure policy, introduction (before \"When We Notify Users\"), paragraph 3: "
    "legal disclosure requirements take precedence";
inline constexpr std::string_view no_routine_patching =
    "Incident disclosure policy, \"When We Notify Users\", paragraph 1, sentence 2: "
    "no notification for routine security patching of dependencies";
inline constexpr std::string_view not_exploited_no_users =
    "Incident disclosure policy, \"When We Notify Users\", paragraph 1, sentence 3: "
    "no notification when not exploited and no users were affected";
inline constexpr std::string_view actionable_only =
    "Incident disclosure policy, \"When We Notify Users\", paragraph 1, sentence 1: "
    "only notify for actionable incidents";
inline constexpr std::string_view disclose_when_fix =
    "Incident disclosure policy, \"When We Notify Users\", first list, lead-in: "
    "disclose when a fix is available and any item holds";
inline constexpr std::string_view disclose_user_action =
    "Incident disclosure policy, \"When We Notify Users\", first list, item 1: user action is needed";
inline constexpr std::string_view disclose_data_visible =
    "Incident disclosure policy, \"When We Notify Users\", first list, item 2: "
    "Organization data visible to an unauthorized party";
inline constexpr std::string_view disclose_users_not_ruled_out =
    "Incident disclosure policy, \"When We Notify Users\", first list, item 3: "
    "cannot confirm that no users were affected";
inline constexpr std::string_view direct_org_affected =
    "Incident disclosure policy, \"When We Notify Users\", second list, lead-in: "
    "notify directly when the Organization is confirmed affected and any item holds";
inline constexpr std::string_view direct_user_action_critical_high =
    "Incident disclosure policy, \"When We Notify Users\", second list, item 1: "
    "user action needed and critical or high impact";
inline constexpr std::string_view direct_data_visible =
    "Incident disclosure policy, \"When We Notify Users\", second list, item 2: "
    "Organization metadata or data visible to an unauthorized party";
inline constexpr std::string_view how_bulletin =
    "Incident disclosure policy, \"How We Notify Users\", paragraph 1: public security bulletin";
inline constexpr std::string_view how_email =
    "Incident disclosure policy, \"How We Notify Users\", paragraph 2: "
    "email to the affected Organization's administrators (default owner)";

// Security Incident Notification Process for SaaS (docs/policy.md, "SaaS notification process")
inline constexpr std::string_view classification_confirmed =
    "SaaS notification process, \"Security Incident Classification\", item 1: Confirmed Compromise";
inline constexpr std::string_view classification_potential =
    "SaaS notification process, \"Security Incident Classification\", item 2: Potential Compromise";
inline constexpr std::string_view paid_from_impact_confirmation =
    "SaaS notification process, \"Paid Customer Notification Process\", paragraph 1: "
    "initial alert, periodic updates and resolution message from the point of impact confirmation";
inline constexpr std::string_view table_critical =
    "SaaS notification process, \"Paid Customer Notification Process\", severity table, row Critical";
inline constexpr std::string_view table_high =
    "SaaS notification process, \"Paid Customer Notification Process\", severity table, row High";
inline constexpr std::string_view table_medium =
    "SaaS notification process, \"Paid Customer Notification Process\", severity table, row Medium";
inline constexpr std::string_view table_low =
    "SaaS notification process, \"Paid Customer Notification Process\", severity table, row Low";
inline constexpr std::string_view free_only_when_impacted =
    "SaaS notification process, \"Free-tier User Notification Process\", paragraph 1: "
    "free-tier notifications only when their applications are directly impacted";
inline constexpr std::string_view free_email_before_disclosure =
    "SaaS notification process, \"Free-tier User Notification Process\", item 1: "
    "email before public disclosure";
inline constexpr std::string_view public_announcement =
    "SaaS notification process, \"Public Announcement Process\", paragraph 1: "
    "public announcement after the fixes are applied when free-tier users need no individual action";

// Incident response policy (issue 9: the kind of incident and where it is routed)
inline constexpr std::string_view report_scope =
    "Incident response policy, \"Incident Detection\", paragraph 2: report security incidents and "
    "suspicious activity, including physical injury, threats and harassment";
inline constexpr std::string_view sensitive_routing =
    "Incident response policy, \"Incident Detection\", paragraph 3: potentially sensitive incidents "
    "go to the Security Team or to the Head of Finance & Operations";
inline constexpr std::string_view disclosure_scope =
    "Incident disclosure policy, opening paragraphs: the policy covers security incidents and "
    "vulnerabilities in client software and managed infrastructure";
inline constexpr std::string_view resolution_message =
    "SaaS notification process, \"Paid Customer Notification Process\", paragraph 1: "
    "incident resolution messages";
inline constexpr std::string_view free_tier_paid_buffer =
    "SaaS notification process, \"Free-tier User Notification Process\", item 1: free-tier e-mails "
    "before public disclosure, allowing paid customers a required buffer period";

}  // namespace flare::policy::clauses
