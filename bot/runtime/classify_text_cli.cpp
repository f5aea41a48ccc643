#include "bot/runtime/classify_text_cli.hpp"

#include <cstdio>
#include <istream>
#include <ostream>

#include <nlohmann/json.hpp>

#include "policy/report_recogniser.hpp"

namespace flare {

namespace {

std::string score_text(double score) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", score);
  return buf;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

void print_text(std::ostream& out, std::size_t line, const policy::recognition& r) {
  out << line << ": ";
  if (!r.is_report) {
    out << "not a report\n";
    return;
  }
  out << "report, " << (r.sensitive ? "sensitive (private)" : "not sensitive (public)") << ", kind "
      << policy::kind_name(r.kind) << "\n";
  for (const auto& c : r.categories)
    out << "    " << c.name << " " << score_text(c.score) << (c.sensitive ? " sensitive" : "") << ": "
        << join(c.triggers) << "\n";
}

void print_json(std::ostream& out, std::size_t line, const policy::recognition& r) {
  nlohmann::json categories = nlohmann::json::array();
  for (const auto& c : r.categories)
    categories.push_back({{"name", c.name},
                          {"score", c.score},
                          {"sensitive", c.sensitive},
                          {"kind", policy::kind_name(c.kind)},
                          {"triggers", c.triggers}});
  const nlohmann::json j{{"line", line},
                         {"is_report", r.is_report},
                         {"sensitive", r.sensitive},
                         {"kind", policy::kind_name(r.kind)},
                         {"categories", std::move(categories)}};
  // Replacement characters for invalid UTF-8 in trigger words: the output stays valid JSON.
  out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int run_classify_text_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                          std::ostream& err, const policy::report_lexicon& lexicon) {
  bool json = false;
  for (const auto& a : args) {
    if (a == "--json") {
      json = true;
      continue;
    }
    err << "flare classify-text: unknown argument '" << a
        << "'\nusage: flare classify-text [--json] < messages.txt\n";
    return 2;
  }
  const policy::report_recogniser recogniser(lexicon);
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto r = recogniser.recognise(text);
    json ? print_json(out, line, r) : print_text(out, line, r);
  }
  return 0;
}

}  // namespace flare
