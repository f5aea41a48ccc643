// The App Home tab (issue 12): the open incidents a person may see, each with its next
// obligation, the due time in the person's own time zone and a countdown, overdue ones first,
// with a button to the incident's thread and one to mark the obligation done. Pure: the
// incidents, the zone and `now` come in; a views.publish `view` comes out, within Block Kit's
// limit of 100 blocks for a Home tab (docs/slack.md §5.5).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>
#include <nlohmann/json.hpp>

namespace flare::messages {

inline constexpr std::size_t app_home_block_limit = 100;

struct home_incident {
  std::int64_t id = 0;
  std::string reference;  // INC-7
  std::string title;      // as the person may see it (the caller hides what they may not)
  bool sensitive = false;
  std::optional<std::string> severity;
  std::string channel;    // the incident's channel and thread, for "Open thread"
  std::string thread_ts;  // may be empty while the card is being posted
  // The next obligation: the pending one due soonest, else the first pending one ready to do.
  std::string obligation_id;  // empty: nothing pending
  std::string obligation_title;
  std::optional<std::chrono::sys_seconds> due;
};

// "https://slack.com/archives/C123/p1700000000000100": Slack's link to a message, which opens
// the thread in the person's workspace.
std::string thread_link(const std::string& channel, const std::string& ts);

// Sorted: overdue (soonest due first), then due later (soonest first), then without a due time
// (newest incident first). More incidents than fit: the last block says how many are not shown
// and points to `/incident deadlines`. `zone` nullptr: UTC; `zone_name` names it in the header.
nlohmann::json app_home_view(std::vector<home_incident> incidents, const date::time_zone* zone,
                             std::chrono::sys_seconds now, const std::string& command_name = "/incident");

}  // namespace flare::messages
