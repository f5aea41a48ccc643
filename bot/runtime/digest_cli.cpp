#include "bot/runtime/digest_cli.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <date/date.h>

#include "commands/weekly_digest.hpp"
#include "messages/digest_chart.hpp"
#include "messages/weekly_digest.hpp"
#include "policy/rfc3339.hpp"

namespace flare {
namespace {

using std::chrono::sys_seconds;

constexpr const char* kUsage = "usage: flare digest --since YYYY-MM-DD [--until YYYY-MM-DD] --out DIR\n";

std::optional<sys_seconds> parse_day_or_time(const std::string& text) {
  if (auto t = policy::parse_rfc3339(text)) return t;
  std::istringstream in(text);
  date::sys_days d;
  in >> date::parse("%F", d);
  if (in.fail() || text.size() != 10) return std::nullopt;
  return sys_seconds{d};
}

bool write_file(const std::filesystem::path& p, const std::string& bytes, std::ostream& err) {
  const auto partial = p.string() + ".partial";
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    f << bytes;
    f.flush();
    if (!f) {
      err << "flare digest: cannot write " << partial << "\n";
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, p, ec);
  if (ec) {
    err << "flare digest: cannot rename " << partial << ": " << ec.message() << "\n";
    return false;
  }
  return true;
}

}  // namespace

int run_digest_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   store::store& store, const policy::tables& tables,
                   const policy::business_calendar& calendar) {
  std::string since_text, until_text, dir;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--since" && has_value) {
      since_text = args[++i];
    } else if (args[i] == "--until" && has_value) {
      until_text = args[++i];
    } else if (args[i] == "--out" && has_value) {
      dir = args[++i];
    } else {
      err << "flare digest: unexpected argument '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  const auto since = parse_day_or_time(since_text);
  if (!since) {
    err << "flare digest: " << (since_text.empty() ? "missing --since" : "'" + since_text + "' is not a date")
        << "\n"
        << kUsage;
    return 2;
  }
  auto until = until_text.empty() ? std::optional<sys_seconds>(*since + std::chrono::days(7))
                                  : parse_day_or_time(until_text);
  if (!until || *until <= *since) {
    err << "flare digest: --until must be a date after --since\n" << kUsage;
    return 2;
  }
  if (dir.empty()) {
    err << "flare digest: missing --out DIR\n" << kUsage;
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    err << "flare digest: cannot create " << dir << ": " << ec.message() << "\n";
    return 1;
  }
  const auto figures = commands::compute_digest(store, tables, calendar, *since, *until);
  const std::string stem = "digest-" + policy::format_rfc3339(*since).substr(0, 10);
  const auto md = std::filesystem::path(dir) / (stem + ".md");
  const auto png = std::filesystem::path(dir) / (stem + ".png");
  if (!write_file(md, messages::digest_markdown(figures), err)) return 1;
  if (!write_file(png, messages::digest_chart_png(figures.weeks), err)) return 1;
  out << "digest for " << policy::format_rfc3339(*since) << " to " << policy::format_rfc3339(*until)
      << " written to " << md.string() << " and " << png.string() << "\n";
  return 0;
}

}  // namespace flare
