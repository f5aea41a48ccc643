// The digest's chart (issue 12): twelve weeks of obligations on time (green) and late (red) as
// stacked bars, and the median time to classify (hours, right axis) as a line, drawn with cairo
// into a PNG. Pure: figures in, PNG bytes out (no file, no clock). Its own library (flare_chart)
// so only what draws charts links cairo.
#pragma once

#include <string>
#include <vector>

#include "messages/weekly_digest.hpp"

namespace flare::messages {

inline constexpr int digest_chart_width = 960;
inline constexpr int digest_chart_height = 480;

// The PNG file's bytes. Throws std::runtime_error if cairo fails (out of memory).
std::string digest_chart_png(const std::vector<digest_week>& weeks);

}  // namespace flare::messages
