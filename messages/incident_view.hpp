// What the messages need to know about an incident: plain data the commands fill from the store.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace flare::messages {

struct incident_view {
  std::string reference;                      // "INC-7"
  std::string title;                          // raw user text; the builders escape it
  std::string reporter;                       // Slack user id
  std::optional<std::string> severity;        // critical|high|medium|low
  std::optional<std::string> classification;  // confirmed|potential
  std::string state = "open";                 // open|resolved
  bool sensitive = false;
  std::chrono::sys_seconds created_at{};
  std::optional<std::chrono::sys_seconds> impact_confirmed_at;
  std::optional<std::chrono::sys_seconds> resolved_at;
  std::optional<std::string> summary;  // resolution summary, raw user text
  // Customer notifications recorded (facts.notifications_sent). The decision's schedule keeps
  // the resolution message "due" after it was sent; these times let the messages say "sent".
  std::vector<std::chrono::sys_seconds> notifications_sent;
};

// "INC-7 · critical · open: <title>" — the one-line form used as notification fallback text.
// The title is escaped; severity shows "untriaged" when not set.
std::string one_line(const incident_view& incident);

// "Confirmed compromise" / "Potential compromise" (SaaS process, "Security Incident
// Classification"); anything else escaped as given.
std::string classification_text(const std::optional<std::string>& classification);

// The incident's facts as section fields: severity, classification, state, reporter, opened,
// impact confirmed, and resolved when it is. Shared by the card and /incident show.
std::vector<std::string> incident_fields(const incident_view& incident);

// "INC-7 · critical" (· resolved): header text. Headers are plain_text, where Slack's handling of
// &amp; entities is not pinned down (docs/slack.md §5.6 covers mrkdwn), so no user text goes
// in a header: the title goes in an escaped mrkdwn section right below it.
std::string header_text(const incident_view& incident);

}  // namespace flare::messages
