#include "messages/app_home.hpp"

#include <algorithm>

#include "messages/blocks.hpp"
#include "messages/checklist_view.hpp"
#include "messages/slack_message.hpp"
#include "messages/time_text.hpp"

namespace flare::messages {
namespace {

using json = nlohmann::json;
using std::chrono::sys_seconds;

// Header, "updated" context, and the trailing "not shown" context.
constexpr std::size_t kFixedBlocks = 3;
constexpr std::size_t kBlocksPerIncident = 2;  // section + actions

json button(std::string_view action_id, std::string_view text, std::string_view value) {
  return {{"type", "button"},
          {"action_id", std::string{action_id}},
          {"text", {{"type", "plain_text"}, {"text", std::string{text}}}},
          {"value", std::string{value}}};
}

// At most `limit` code points (never splitting a UTF-8 sequence), "…" when cut: a long title must
// not push a section past Block Kit's 3,000 characters.
std::string clip(const std::string& text, std::size_t limit) {
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (points++ == limit) return text.substr(0, i) + "…";
  }
  return text;
}

int rank(const home_incident& i, sys_seconds now) {
  if (i.due && *i.due <= now) return 0;
  if (i.due) return 1;
  return 2;
}

}  // namespace

std::string thread_link(const std::string& channel, const std::string& ts) {
  std::string digits;
  for (char c : ts)
    if (c != '.') digits += c;
  return "https://slack.com/archives/" + channel + "/p" + digits;
}

json app_home_view(std::vector<home_incident> incidents, const date::time_zone* zone, sys_seconds now,
                   const std::string& command_name) {
  std::stable_sort(incidents.begin(), incidents.end(), [&](const home_incident& a, const home_incident& b) {
    const int ra = rank(a, now), rb = rank(b, now);
    if (ra != rb) return ra < rb;
    if (a.due && b.due && *a.due != *b.due) return *a.due < *b.due;
    return a.id > b.id;
  });
  json out = json::array();
  const std::size_t overdue = static_cast<std::size_t>(std::count_if(
      incidents.begin(), incidents.end(), [&](const home_incident& i) { return rank(i, now) == 0; }));
  out.push_back(blocks::header("home_header", "Open incidents (" + std::to_string(incidents.size()) + ")"));
  out.push_back(
      blocks::context("home_updated", {"Updated " + local_time_text(now, zone, now) +
                                       (zone ? " · times in " + escape(zone->name()) : " · times in UTC") +
                                       (overdue ? " · *" + std::to_string(overdue) + " overdue*" : "")}));
  if (incidents.empty()) {
    out.push_back(blocks::section("home_empty", "No open incidents you can see. 🎉"));
  }
  const std::size_t fits = (app_home_block_limit - kFixedBlocks) / kBlocksPerIncident;
  const std::size_t shown = std::min(fits, incidents.size());
  for (std::size_t n = 0; n < shown; ++n) {
    const auto& i = incidents[n];
    const std::string id = std::to_string(i.id);
    std::string text =
        "*" + escape(i.reference) + "*" + (i.sensitive ? " 🔒" : "") + " " + escape(clip(i.title, 200));
    if (i.severity) text += " · " + escape(*i.severity);
    if (i.obligation_id.empty()) {
      text += "\nNothing pending on the checklist.";
    } else {
      text += "\nNext: *" + escape(clip(i.obligation_title, 200)) + "*";
      if (i.due) text += " — due " + due_text(*i.due, zone, now);
    }
    out.push_back(blocks::section("home_incident_" + id, text));
    json elements = json::array();
    if (!i.thread_ts.empty()) {
      json open = button("home_open_thread", "Open thread", id);
      open["url"] = thread_link(i.channel, i.thread_ts);
      elements.push_back(std::move(open));
    }
    if (!i.obligation_id.empty()) {
      json done = button(mark_done_action, "Mark done", mark_done_value(i.id, i.obligation_id));
      done["style"] = "primary";
      elements.push_back(std::move(done));
    }
    if (elements.empty()) {
      out.push_back(blocks::context("home_actions_" + id, {"Its thread is being set up."}));
    } else {
      out.push_back(
          {{"type", "actions"}, {"block_id", "home_actions_" + id}, {"elements", std::move(elements)}});
    }
  }
  if (shown < incidents.size()) {
    out.push_back(
        blocks::context("home_more", {std::to_string(incidents.size() - shown) + " more not shown here: `" +
                                      escape(command_name) + " deadlines` lists every open deadline."}));
  }
  return {{"type", "home"}, {"blocks", std::move(out)}};
}

}  // namespace flare::messages
