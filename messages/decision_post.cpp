#include "messages/decision_post.hpp"

#include "messages/blocks.hpp"
#include "messages/required_actions.hpp"
#include "policy/clauses.hpp"

namespace flare::messages {
namespace {

// Every reason carries its clause so a responder can check the rule against the policy text.
std::string reason_text(const policy::reason& r) {
  return "• " + escape(r.text) + "\n      _↳ " + escape(r.clause) + "_";
}

std::string yes_no(bool b, std::string_view yes, std::string_view no) { return std::string{b ? yes : no}; }

struct part {
  std::string id;
  std::string heading;
  const std::vector<policy::reason>* reasons;
};

std::vector<part> parts(const policy::decision& d) {
  const auto& s = d.customer_notifications.schedule;
  return {
      {"bulletin",
       "*Public security bulletin:* " + yes_no(d.public_disclosure.required,
                                               d.public_disclosure.ready ? "required, ready to publish"
                                                                         : "required once a fix is available",
                                               "not required"),
       &d.public_disclosure.reasons},
      {"direct",
       "*E-mail to Organization administrators:* " +
           yes_no(d.direct_notification.required, "required", "not required"),
       &d.direct_notification.reasons},
      {"customers", "*Customer notifications:* " + yes_no(s.scheduled, "scheduled", "none scheduled"),
       &d.customer_notifications.reasons},
      {"free_tier",
       "*Free tier:* e-mail " + yes_no(d.free_tier.notify_by_email, "required", "not required") +
           ", public announcement " + yes_no(d.free_tier.public_announcement, "required", "not required"),
       &d.free_tier.reasons},
  };
}

std::string legal_text(const policy::decision& d) {
  std::string list;
  for (const auto& r : d.legal_requirements) list += (list.empty() ? "" : ", ") + escape(r);
  return "⚖️ *Legal disclosure requirements apply and take precedence over this decision:* " + list +
         "\n      _↳ " + escape(policy::clauses::legal_precedence) + "_";
}

std::string fallback(const incident_view& incident, const policy::decision& d) {
  std::string text = escape(incident.reference) + " decision: ";
  if (d.legal_precedence) text += "legal requirements take precedence; ";
  text += d.public_disclosure.required ? "security bulletin required" : "no security bulletin";
  text += d.direct_notification.required ? ", admin e-mails required" : ", no admin e-mails";
  const std::string due = next_due_summary(d.customer_notifications.schedule, incident.notifications_sent);
  text += due.empty() ? ", no customer notification due" : ", " + due;
  if (!d.conflicts.empty()) text += "; policy conflict: a responder should record a call";
  return text;
}

}  // namespace

slack_message decision_post(const incident_view& incident, const policy::decision& decision) {
  slack_message m;
  m.text = fallback(incident, decision);
  m.blocks.push_back(blocks::header("header", incident.reference + " · disclosure decision"));
  // The version goes near the top so it survives the 50-block cut.
  m.blocks.push_back(blocks::context("policy", {"Policy version `" + escape(decision.policy_version) + "`"}));
  // Disclosure policy, introduction, paragraph 3: legal requirements take precedence, so they
  // are the first thing a responder reads.
  if (decision.legal_precedence) m.blocks.push_back(blocks::section("legal", legal_text(decision)));
  // Where the documents disagree the decision shows both rules and asks for a call; it does not
  // pick one (issue 9, section 5).
  for (const auto& c : decision.conflicts) {
    m.blocks.push_back(blocks::section(
        "dconflict_" + c.id, ":warning: *Policy conflict* — " + escape(c.summary) + "\n" +
                                 reason_text(c.first) + "\n" + reason_text(c.second) +
                                 "\nA responder records a call (`call` on the card or the command)."));
  }
  std::string required = "*Required*";
  for (const auto& line : policy_actions(decision, incident.notifications_sent)) required += "\n• " + line;
  m.blocks.push_back(blocks::section("required", required));
  for (const auto& p : parts(decision)) {
    m.blocks.push_back(blocks::divider(p.id + "_divider"));
    m.blocks.push_back(blocks::section(p.id, p.heading));
    for (std::size_t i = 0; i < p.reasons->size(); ++i)
      m.blocks.push_back(
          blocks::section(p.id + "_reason_" + std::to_string(i), reason_text((*p.reasons)[i])));
  }
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
