#include "messages/weekly_digest.hpp"

#include <algorithm>
#include <sstream>

#include <date/date.h>

#include "messages/blocks.hpp"

namespace flare::messages {
namespace {

using std::chrono::sys_seconds;

std::string day(sys_seconds t) { return date::format("%a %d %b %Y", date::floor<date::days>(t)); }
std::string utc(sys_seconds t) { return date::format("%Y-%m-%d %H:%M UTC", t); }

const std::vector<std::string>& severities() {
  static const std::vector<std::string> s{"critical", "high", "medium", "low", "unclassified"};
  return s;
}
const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k{"security", "people_and_safety"};
  return k;
}

int count(const std::map<std::string, int>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

std::string name_of(const late_obligation& l, bool reveal) {
  if (l.sensitive && !reveal) return l.reference + " (sensitive)";
  return l.reference + " " + l.title;
}

std::string late_text(const late_obligation& l) {
  if (!l.done_at) return "due " + utc(l.due) + ", still open";
  return "due " + utc(l.due) + ", done " + duration_text(*l.done_at - l.due) + " late";
}

// The figures as fixed-width rows (the Markdown table and the Slack table share them).
std::vector<std::vector<std::string>> rows(const digest_figures& f) {
  std::vector<std::vector<std::string>> out;
  for (const auto& s : severities())
    out.push_back({"severity " + s, std::to_string(count(f.opened_by_severity, s)),
                   std::to_string(count(f.closed_by_severity, s))});
  for (const auto& k : kinds())
    out.push_back({"kind " + k, std::to_string(count(f.opened_by_kind, k)),
                   std::to_string(count(f.closed_by_kind, k))});
  out.push_back({"total", std::to_string(f.opened), std::to_string(f.closed)});
  return out;
}

// A table block (docs/slack.md §5.5; messages only, one per message): `rows` of raw_text cells,
// the first row the header; `right_aligned` names the columns aligned right (numbers). An empty
// cell becomes "—" (raw_text needs a character). enforce_limits() cuts rows and cells beyond
// Slack's limits.
nlohmann::json table_block(std::string_view block_id, const std::vector<std::vector<std::string>>& rows,
                           const std::vector<std::size_t>& right_aligned) {
  nlohmann::json out = {
      {"type", "table"}, {"block_id", std::string{block_id}}, {"rows", nlohmann::json::array()}};
  std::size_t columns = 0;
  for (const auto& row : rows) {
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& text : row)
      cells.push_back({{"type", "raw_text"}, {"text", text.empty() ? std::string{"—"} : text}});
    columns = std::max(columns, row.size());
    out["rows"].push_back(std::move(cells));
  }
  nlohmann::json settings = nlohmann::json::array();
  for (std::size_t c = 0; c < columns; ++c) {
    const bool right = std::find(right_aligned.begin(), right_aligned.end(), c) != right_aligned.end();
    settings.push_back({{"align", right ? "right" : "left"}});
  }
  out["column_settings"] = std::move(settings);
  return out;
}

std::string pad(std::string s, std::size_t n) {
  while (s.size() < n) s += ' ';
  return s;
}

}  // namespace

std::string duration_text(const std::optional<std::chrono::seconds>& d) {
  if (!d) return "—";
  long long v = d->count() < 0 ? -d->count() : d->count();
  const long long days = v / 86400, h = (v % 86400) / 3600, m = (v % 3600) / 60;
  std::string out;
  if (days) out += std::to_string(days) + " d";
  if (h) out += (out.empty() ? "" : " ") + std::to_string(h) + " h";
  if (m && !days) out += (out.empty() ? "" : " ") + std::to_string(m) + " min";
  if (out.empty()) out = std::to_string(v) + " s";
  return out;
}

std::string digest_markdown(const digest_figures& f, bool reveal) {
  std::ostringstream o;
  o << "# Weekly compliance digest: " << day(f.since) << " to " << day(f.until - std::chrono::seconds(1))
    << "\n\n";
  o << "From " << utc(f.since) << " to " << utc(f.until) << ".\n\n";
  o << "## Incidents\n\n| | opened | closed |\n|---|---|---|\n";
  for (const auto& r : rows(f)) o << "| " << r[0] << " | " << r[1] << " | " << r[2] << " |\n";
  o << "\n## Obligations due this week\n\n";
  o << "- on time: " << f.on_time << "\n- late: " << f.late
    << "\n- still open (any due date): " << f.still_open << "\n\n";
  o << "## Response times (medians)\n\n";
  o << "- report → classification: " << duration_text(f.median_report_to_classification) << "\n";
  o << "- impact confirmation → first customer notice: " << duration_text(f.median_impact_to_first_notice)
    << "\n\n";
  o << "## Late obligations\n\n";
  if (f.late_ones.empty()) o << "None.\n";
  for (const auto& l : f.late_ones)
    o << "- " << name_of(l, reveal) << ": " << l.obligation << ", " << late_text(l) << "\n";
  o << "\n## Last " << f.weeks.size() << " weeks\n\n| week of | on time | late | median time to classify |\n"
    << "|---|---|---|---|\n";
  for (const auto& w : f.weeks)
    o << "| " << day(w.start) << " | " << w.on_time << " | " << w.late << " | "
      << duration_text(w.median_time_to_classify) << " |\n";
  return o.str();
}

slack_message digest_message(const digest_figures& f, bool reveal) {
  slack_message m;
  m.text = "Weekly compliance digest: " + std::to_string(f.opened) + " opened, " + std::to_string(f.closed) +
           " closed, " + std::to_string(f.on_time) + " obligations on time, " + std::to_string(f.late) +
           " late.";
  // The text is also the fallback for clients that render neither the chart nor the table.
  m.text += " Last " + std::to_string(f.weeks.size()) + " weeks, on time/late:";
  for (const auto& w : f.weeks) {
    m.text += ' ';
    m.text += date::format("%d %b", date::floor<date::days>(w.start));
    m.text += ' ';
    m.text += std::to_string(w.on_time);
    m.text += '/';
    m.text += std::to_string(w.late);
    m.text += &w == &f.weeks.back() ? '.' : ',';
  }
  m.blocks.push_back(blocks::header("digest_header", "Weekly compliance digest"));
  m.blocks.push_back(blocks::context("digest_period", {utc(f.since) + " – " + utc(f.until)}));
  // The week's counts stay a monospace block: a message holds one table block (docs/slack.md
  // §5.5), and that is the 12 weeks below.
  std::string table = "```\n" + pad("", 30) + pad("opened", 8) + "closed\n";
  for (const auto& r : rows(f)) table += pad(r[0], 30) + pad(r[1], 8) + r[2] + "\n";
  table += "```";
  m.blocks.push_back(blocks::section("digest_incidents", "*Incidents*\n" + table));
  m.blocks.push_back(
      blocks::fields("digest_obligations",
                     {"*On time*\n" + std::to_string(f.on_time), "*Late*\n" + std::to_string(f.late),
                      "*Still open*\n" + std::to_string(f.still_open),
                      "*Report → classification*\n" + duration_text(f.median_report_to_classification),
                      "*Impact → first customer notice*\n" + duration_text(f.median_impact_to_first_notice)},
                     "*Obligations due this week*"));
  std::string late = "*Late obligations*\n";
  if (f.late_ones.empty()) late += "None.";
  for (const auto& l : f.late_ones)
    late += "• " + escape(name_of(l, reveal)) + ": " + escape(l.obligation) + ", " + late_text(l) + "\n";
  m.blocks.push_back(blocks::section("digest_late", late));
  // The chart's figures as a table block, for clients that show no images (docs/slack.md §5.5).
  std::vector<std::vector<std::string>> weeks{{"Week of", "On time", "Late", "Median time to classify"}};
  for (const auto& w : f.weeks)
    weeks.push_back({day(w.start), std::to_string(w.on_time), std::to_string(w.late),
                     duration_text(w.median_time_to_classify)});
  m.blocks.push_back(blocks::section("digest_weeks", "*Last " + std::to_string(f.weeks.size()) + " weeks*"));
  m.blocks.push_back(table_block("digest_weeks_table", weeks, {1, 2, 3}));
  return enforce_limits(std::move(m));
}

}  // namespace flare::messages
