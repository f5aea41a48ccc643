// Times for people: in the configured zone, with a countdown, and an OVERDUE badge. Pure: the
// zone and `now` are parameters (the runtime passes its clock's time and the calendar zone).
#pragma once

#include <chrono>
#include <string>

#include <date/tz.h>

namespace flare::messages {

// "Tue 1 Dec, 14:00 CET" in `zone` (nullptr: UTC); the year is added when it is not now's year
// ("Wed 1 Dec 2027, 14:00 CET"), so a typo a year out is visible.
std::string local_time_text(std::chrono::sys_seconds t, const date::time_zone* zone,
                            std::chrono::sys_seconds now);

// "in 3 h", "in 2 d 4 h", "in 45 min", "in less than a minute", "now"; for a past time "3 h ago".
// Two largest units, rounded down.
std::string countdown_text(std::chrono::sys_seconds t, std::chrono::sys_seconds now);

// "OVERDUE by 5 h" (two largest units, rounded down; "OVERDUE by less than a minute").
std::string overdue_text(std::chrono::sys_seconds due, std::chrono::sys_seconds now);

// "Tue 1 Dec, 14:00 CET, in 3 h" before the due time; "Tue 1 Dec, 14:00 CET, *OVERDUE by 5 h*"
// once it has passed (mrkdwn bold).
std::string due_text(std::chrono::sys_seconds due, const date::time_zone* zone, std::chrono::sys_seconds now);

}  // namespace flare::messages
