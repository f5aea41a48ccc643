// The weekly compliance digest (issue 12) as data and as text: incidents opened and closed by
// severity and kind, obligations met on time / late / still open, the median time from report
// to classification and from impact confirmation to the first customer notice, the late ones by
// name, and twelve weeks of history for the chart (messages/digest_chart.hpp). Pure: the figures
// are computed by commands/weekly_digest.hpp; this renders them as Markdown (`flare digest`) and
// as a Slack message with the same figures as a table, for clients that show no images.
//
// The digest goes to the security channel (private), so sensitive incidents are named with
// their titles; `reveal_sensitive_titles` false shows them as "INC-n (sensitive)".
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/slack_message.hpp"

namespace flare::messages {

struct late_obligation {
  std::string reference;  // INC-7
  std::string title;      // the incident's
  bool sensitive = false;
  std::string obligation;  // the obligation's title
  std::chrono::sys_seconds due{};
  std::optional<std::chrono::sys_seconds> done_at;  // nullopt: still open, overdue
};

struct digest_week {
  std::chrono::sys_seconds start{};
  int on_time = 0;
  int late = 0;
  std::optional<std::chrono::seconds> median_time_to_classify;
};

struct digest_figures {
  std::chrono::sys_seconds since{};
  std::chrono::sys_seconds until{};
  int opened = 0;
  int closed = 0;
  std::map<std::string, int> opened_by_severity;  // critical, high, medium, low, unclassified
  std::map<std::string, int> closed_by_severity;
  std::map<std::string, int> opened_by_kind;  // security, people_and_safety
  std::map<std::string, int> closed_by_kind;
  int on_time = 0;     // obligations due in the period and done by their due time
  int late = 0;        // due in the period, done after it or not done
  int still_open = 0;  // pending obligations with a due time, any period, at `until`
  std::optional<std::chrono::seconds> median_report_to_classification;
  std::optional<std::chrono::seconds> median_impact_to_first_notice;
  std::vector<late_obligation> late_ones;
  std::vector<digest_week> weeks;  // oldest first, the last one ends at `until`
};

// "3 h 20 min", "2 d 4 h", "—" for none.
std::string duration_text(const std::optional<std::chrono::seconds>& d);

std::string digest_markdown(const digest_figures& f, bool reveal_sensitive_titles = true);
slack_message digest_message(const digest_figures& f, bool reveal_sensitive_titles = true);

}  // namespace flare::messages
