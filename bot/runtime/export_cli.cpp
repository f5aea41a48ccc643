#include "bot/runtime/export_cli.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "commands/incident_export.hpp"
#include "messages/incident_record.hpp"

namespace flare {
namespace {

constexpr const char* kUsage = "usage: flare export INC-7 --out FILE [--format md|json]\n";

}  // namespace

int run_export_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                   store::store& store, const policy::tables& tables,
                   const policy::business_calendar& calendar, std::chrono::sys_seconds now) {
  std::string reference, file, format;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--out" || args[i] == "--format") && i + 1 < args.size()) {
      (args[i] == "--out" ? file : format) = args[i + 1];
      ++i;
    } else if (!args[i].starts_with("--") && reference.empty()) {
      reference = args[i];
    } else {
      err << "flare export: unexpected argument '" << args[i] << "'\n" << kUsage;
      return 2;
    }
  }
  const auto id = store::parse_incident_reference(reference);
  if (!id) {
    err << "flare export: "
        << (reference.empty() ? "missing the incident (INC-7)" : "'" + reference + "' is not an incident ID")
        << "\n"
        << kUsage;
    return 2;
  }
  if (file.empty()) {
    err << "flare export: missing --out FILE ('-' for standard output)\n" << kUsage;
    return 2;
  }
  if (format.empty()) format = file.ends_with(".json") ? "json" : "md";
  if (format != "md" && format != "json") {
    err << "flare export: --format must be md or json, not '" << format << "'\n" << kUsage;
    return 2;
  }
  const auto record = commands::build_incident_record(store, *id, tables, calendar, now);
  if (!record) {
    err << "flare export: " << store::incident_reference(*id) << " does not exist\n";
    return 1;
  }
  const std::string text =
      format == "md" ? messages::record_markdown(*record) : messages::record_json(*record).dump(2) + "\n";
  if (file == "-") {
    out << text;
    return 0;
  }
  const std::string partial = file + ".partial";
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) {
      err << "flare export: cannot write " << partial << "\n";
      std::remove(partial.c_str());
      return 1;
    }
  }
  std::error_code ec;
  std::filesystem::rename(partial, file, ec);
  if (ec) {
    err << "flare export: cannot rename " << partial << " to " << file << ": " << ec.message() << "\n";
    std::remove(partial.c_str());
    return 1;
  }
  out << "record of " << store::incident_reference(*id) << " written to " << file << " (" << format << ", "
      << text.size() << " bytes)\n";
  return 0;
}

}  // namespace flare
