#include "bot/runtime/decide_cli.hpp"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "policy/decision_json.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts_json.hpp"

namespace flare {
namespace {

constexpr const char* usage = "usage: flare decide [--facts FILE]   (facts JSON on stdin without --facts)";

}  // namespace

int run_decide_cli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
                   std::ostream& err, const policy::tables& tables,
                   const policy::business_calendar& calendar) {
  std::string text;
  std::string source = "stdin";
  if (args.empty()) {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else if (args.size() == 2 && args[0] == "--facts") {
    source = args[1];
    std::ifstream file(args[1], std::ios::binary);
    if (!file) {
      err << "flare decide: cannot read facts file \"" << args[1] << "\"\n";
      return 2;
    }
    std::ostringstream buffer;
    buffer << file.rdbuf();
    if (file.bad()) {
      err << "flare decide: cannot read facts file \"" << args[1] << "\"\n";
      return 2;
    }
    text = buffer.str();
  } else {
    err << usage << "\n";
    return 2;
  }

  const policy::facts_result parsed = policy::facts_from_json_text(text);
  if (!parsed) {
    err << "flare decide: bad facts in " << source << ": " << parsed.error->text() << "\n";
    return 2;
  }
  const policy::decision d = policy::decide(parsed.value, tables, calendar);
  out << policy::to_json(d).dump(2) << "\n";
  return 0;
}

}  // namespace flare
