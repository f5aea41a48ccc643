// flare's command line. `flare` runs the bot (Slack when tokens are set, else the console);
// the other subcommands are tools an operator or responder runs by hand.
#include "bot/ops/config.hpp"
#include "bot/ops/redact.hpp"
#include "bot/runtime/app.hpp"
#include "bot/runtime/decide_cli.hpp"
#include "bot/runtime/digest_cli.hpp"
#include "bot/runtime/export_cli.hpp"
#include "bot/store/pg_store.hpp"
#include "bot/store/sqlite_store.hpp"
#include "bot/store/store_lock.hpp"
#include "policy/business_calendar.hpp"

#include "bot/runtime/classify_text_cli.hpp"
#include "policy/report_signals.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr const char* usage_text =
    "usage: flare [--config FILE] [COMMAND]\n"
    "\n"
    "commands:\n"
    "  run                 run the bot: Slack when SLACK_APP_TOKEN/SLACK_BOT_TOKEN are set,\n"
    "                      otherwise the console (the default command)\n"
    "  console             run the bot against this terminal, whatever the environment says\n"
    "  check-config [--online] [FILE]\n"
    "                      validate a configuration file and the environment, naming every bad key;\n"
    "                      --online also checks the channels, groups and users against Slack\n"
    "  decide [--facts FILE]\n"
    "                      print the policy decision (JSON) for incident facts (JSON on stdin)\n"
    "  export INC-7 --out FILE [--format md|json]\n"
    "                      write the incident record (docs/evidence.md) from the store; '-' for\n"
    "                      standard output\n"
    "  digest --since YYYY-MM-DD [--until YYYY-MM-DD] --out DIR\n"
    "                      write the weekly compliance digest (Markdown and PNG chart) to DIR\n"
    "  classify-text [--json]\n"
    "                      print how intake reads each line on stdin: report or not, categories,\n"
    "                      sensitivity and trigger words (docs/intake.md)\n"
    "  backup [--force] PATH\n"
    "                      write an online, consistent copy of the store to PATH (refuses an\n"
    "                      existing file unless --force, and the store's own files always)\n"
    "  restore BACKUP      replace the store with BACKUP after checking it (no bot may be running;\n"
    "                      the replaced store is kept beside it as <store>.replaced-<time>)\n"
    "  migrate-store --from sqlite:PATH --to postgresql://URL\n"
    "                      copy a SQLite store (stopped) into an empty PostgreSQL store and verify\n"
    "                      the row counts; the password from PGPASSWORD or store.password_file\n"
    "                      (docs/postgresql.md)\n"
    "  version             print the version\n"
    "  help                print this text\n"
    "\n"
    "The configuration file is --config FILE, else $FLARE_CONFIG, else ./flare.toml if present.\n";

std::string default_config_path(const std::map<std::string, std::string>& env) {
  if (auto it = env.find("FLARE_CONFIG"); it != env.end() && !it->second.empty()) return it->second;
  if (std::filesystem::exists("flare.toml")) return "flare.toml";
  return {};
}

// The store the running bot uses, for the commands that read it (export, digest): PostgreSQL when
// store.url is set (the password from PGPASSWORD or store.password_file), else the SQLite file.
std::unique_ptr<flare::store::store> open_configured_store(const flare::config& cfg) {
  if (cfg.store_url.empty()) return flare::store::sqlite_store::open(cfg.store_path);
  flare::store::pg_options options;
  options.outbox_lease = std::chrono::seconds(cfg.store_outbox_lease_seconds);
  if (!cfg.store_password_file.empty())
    options.password = flare::store::read_password_file(cfg.store_password_file);
  return flare::store::pg_store::open(cfg.store_url, options);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const auto env = flare::read_environment();
  std::string config_path;
  bool config_given = false;
  if (args.size() >= 2 && args[0] == "--config") {
    config_path = args[1];
    config_given = true;
    args.erase(args.begin(), args.begin() + 2);
  } else if (!args.empty() && args[0].rfind("--config=", 0) == 0) {
    config_path = args[0].substr(9);
    config_given = true;
    args.erase(args.begin());
  }
  if (!config_given) config_path = default_config_path(env);

  const std::string command = args.empty() ? "run" : args[0];
  if (command == "help" || command == "--help" || command == "-h") {
    std::cout << usage_text;
    return flare::exit_ok;
  }
  if (command == "version" || command == "--version") {
    std::cout << "flare 0.1.0\n";
    return flare::exit_ok;
  }
  bool online = false;
  if (command == "check-config") {
    const auto flag = std::find(args.begin() + 1, args.end(), "--online");
    if (flag != args.end()) {
      online = true;
      args.erase(flag);
    }
  }
  if (command == "check-config" && args.size() >= 2) config_path = args[1];
  if (command == "check-config" && args.size() > 2) {
    std::cerr << "flare check-config takes at most one FILE\n" << usage_text;
    return flare::exit_usage;
  }

  flare::config cfg;
  try {
    cfg = flare::load_config(config_path, env);
  } catch (const flare::config_error& e) {
    std::cerr << flare::redact_secrets(e.what()) << "\n";
    return flare::exit_bad_config;
  }
  flare::install_logger(cfg.log_level, cfg.secrets());
  // A misspelt override would otherwise be ignored without a word (check-config refuses it).
  if (command == "run" || command == "console")
    for (const auto& p : flare::unknown_environment(env)) spdlog::warn("config: {} {}", p.key, p.reason);

  try {
    if (command == "check-config") {
      std::vector<flare::config_problem> problems;
      try {
        flare::policy::validate(cfg.policy_tables);
        flare::policy::business_calendar check(cfg.policy_tables.calendar);
      } catch (const std::exception& e) {
        problems.push_back({"policy", e.what()});
      }
      if (cfg.has_slack_tokens() || online)
        for (auto& p : flare::slack_mode_problems(cfg)) problems.push_back(p);
      for (auto& p : flare::unknown_environment(env)) problems.push_back(p);
      if (!problems.empty()) {
        std::cerr << flare::config_error(cfg.source, problems).what() << "\n";
        return flare::exit_bad_config;
      }
      if (online) {
        if (!cfg.has_slack_tokens()) {
          std::cerr
              << "check-config --online needs SLACK_BOT_TOKEN (and SLACK_APP_TOKEN) in the environment\n";
          return flare::exit_bad_config;
        }
        if (const int rc = flare::check_slack_online(cfg, std::cout, std::cerr); rc != flare::exit_ok)
          return rc;
      }
      std::cout << "configuration OK (" << cfg.source
                << "): " << (cfg.has_slack_tokens() ? "Slack mode" : "console mode (no Slack tokens)")
                << ", store " << cfg.store_path << ", time zone " << cfg.policy_tables.calendar.zone
                << ", policy version " << flare::policy::policy_version(cfg.policy_tables) << "\n";
      return flare::exit_ok;
    }
    if (command == "decide") {
      const flare::policy::business_calendar calendar(cfg.policy_tables.calendar);
      return flare::run_decide_cli({args.begin() + 1, args.end()}, std::cin, std::cout, std::cerr,
                                   cfg.policy_tables, calendar);
    }
    if (command == "export") {
      const flare::policy::business_calendar calendar(cfg.policy_tables.calendar);
      std::unique_ptr<flare::store::store> store;
      try {
        store = open_configured_store(cfg);
      } catch (const flare::store::store_error& e) {
        std::cerr << "flare export: " << e.what() << "\n";
        return flare::exit_failure;
      }
      const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
      return flare::run_export_cli({args.begin() + 1, args.end()}, std::cout, std::cerr, *store,
                                   cfg.policy_tables, calendar, now);
    }
    if (command == "digest") {
      const flare::policy::business_calendar calendar(cfg.policy_tables.calendar);
      std::unique_ptr<flare::store::store> store;
      try {
        store = open_configured_store(cfg);
      } catch (const flare::store::store_error& e) {
        std::cerr << "flare digest: " << e.what() << "\n";
        return flare::exit_failure;
      }
      return flare::run_digest_cli({args.begin() + 1, args.end()}, std::cout, std::cerr, *store,
                                   cfg.policy_tables, calendar);
    }
    if (command == "classify-text") {
      return flare::run_classify_text_cli(
          {args.begin() + 1, args.end()}, std::cin, std::cout, std::cerr,
          flare::policy::configured_lexicon(cfg.signals, cfg.sensitive_categories, cfg.intake_threshold));
    }
    if ((command == "backup" || command == "restore") && !cfg.store_url.empty()) {
      std::cerr << "flare " << command
                << ": store.url is set, and backup and restore are for the SQLite file; back PostgreSQL up "
                   "with pg_dump or the database's own backups (docs/postgresql.md)\n";
      return flare::exit_usage;
    }
    if (command == "backup") {
      // No lock: the copy is a read transaction, consistent while the bot keeps writing.
      const bool force = args.size() == 3 && args[1] == "--force";
      if (args.size() != 2 && !force) {
        std::cerr << "usage: flare backup [--force] PATH\n";
        return flare::exit_usage;
      }
      const std::string& target = args.back();
      try {
        flare::store::sqlite_store::backup_file(cfg.store_path, target, force);
      } catch (const flare::store::store_error& e) {
        std::cerr << "flare backup: " << e.what() << "\n";
        return flare::exit_failure;
      }
      std::cout << "backup of " << cfg.store_path << " written to " << target << "\n";
      return flare::exit_ok;
    }
    if (command == "migrate-store") {
      std::string from, to;
      for (std::size_t i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == "--from") from = args[i + 1];
        else if (args[i] == "--to") to = args[i + 1];
        else from = to = "";
      }
      if (args.size() != 5 || !from.starts_with("sqlite:") || !flare::store::is_postgresql_url(to)) {
        std::cerr << "usage: flare migrate-store --from sqlite:PATH --to postgresql://USER@HOST/DB\n";
        return flare::exit_usage;
      }
      const std::string source = from.substr(7);
      // The source must not change under the copy: take its lock, as restore does.
      std::unique_ptr<flare::store::store_lock> lock;
      try {
        lock = flare::store::store_lock::acquire(source);
      } catch (const flare::store::store_locked& e) {
        std::cerr << "flare migrate-store: " << e.what() << "\n";
        return flare::exit_bad_config;
      }
      try {
        flare::store::pg_options options;
        if (!cfg.store_password_file.empty())
          options.password = flare::store::read_password_file(cfg.store_password_file);
        auto target = flare::store::pg_store::open(to, options);
        std::cout << "copying " << source << " into " << target->display_url() << "\n";
        for (const auto& c : target->import_sqlite(source))
          std::cout << "  " << c.table << ": " << c.rows << " rows, counts match\n";
        std::cout << "done: set store.url = \"" << target->display_url()
                  << "\" and start the replicas (docs/postgresql.md)\n";
      } catch (const flare::store::store_error& e) {
        std::cerr << "flare migrate-store: " << e.what() << "\n";
        return flare::exit_failure;
      }
      return flare::exit_ok;
    }
    if (command == "restore") {
      if (args.size() != 2) {
        std::cerr << "usage: flare restore BACKUP\n";
        return flare::exit_usage;
      }
      std::unique_ptr<flare::store::store_lock> lock;
      try {
        lock = flare::store::store_lock::acquire(cfg.store_path);
      } catch (const flare::store::store_locked& e) {
        std::cerr << "flare restore: " << e.what() << "\n";
        return flare::exit_bad_config;
      }
      try {
        const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
        const auto aside = flare::store::sqlite_store::restore_file(args[1], cfg.store_path, now);
        std::cout << "restored " << cfg.store_path << " from " << args[1]
                  << (aside.empty() ? std::string() : "; the replaced store is kept as " + aside) << "\n";
      } catch (const flare::store::store_error& e) {
        std::cerr << "flare restore: " << e.what() << "\n";
        return flare::exit_failure;
      }
      return flare::exit_ok;
    }
    if (command == "run" || command == "console") {
      flare::policy::validate(cfg.policy_tables);
      return flare::run_bot(cfg,
                            command == "console" ? flare::run_mode::console : flare::run_mode::automatic);
    }
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return flare::exit_failure;
  }
  std::cerr << "flare: unknown command '" << command << "'\n\n" << usage_text;
  return flare::exit_usage;
}
