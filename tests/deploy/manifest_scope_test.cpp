// deploy/slack-app-manifest.yaml asks for exactly the scopes the code uses: every Slack Web API
// method named in the source has its scope in the manifest, and every scope in the manifest is
// needed by a method, an event subscription or the slash command. A new method call without its
// scope would fail in production with missing_scope; an unused scope widens what a leaked token
// can do.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
const fs::path source_dir = FLARE_SOURCE_DIR;

// The scopes each method needs. conversations.info needs the scope of the conversation kind it
// looks up: flare looks up #incidents (public) and the security channel (private) at start-up,
// never a DM, so im:read is not among them.
// docs/slack.md §5.3 and §6. An empty set: no scope (app token or none needed).
const std::map<std::string, std::set<std::string>> method_scopes = {
    {"chat.postMessage", {"chat:write"}},
    {"chat.update", {"chat:write"}},
    {"chat.postEphemeral", {"chat:write"}},
    {"conversations.open", {"im:write"}},
    {"conversations.info", {"channels:read", "groups:read"}},
    {"users.info", {"users:read"}},
    {"usergroups.users.list", {"usergroups:read"}},
    {"auth.test", {}},
    {"views.open", {}},
    {"views.update", {}},
    {"views.publish", {}},  // the App Home tab (issue 12)
    // Issue 12: incident records (and the weekly digest's chart) shared as files.
    {"files.getUploadURLExternal", {"files:write"}},
    {"files.completeUploadExternal", {"files:write"}},
    {"apps.connections.open", {}},  // app-level token, connections:write (not a bot scope)
};

// Bot event subscription -> the scope Slack requires for it (§3.2, §3.3).
const std::map<std::string, std::string> event_scopes = {
    {"app_mention", "app_mentions:read"},
    {"message.channels", "channels:history"},
    {"message.groups", "groups:history"},
    {"message.im", "im:history"},
    {"message.mpim", "mpim:history"},
    {"app_home_opened", ""},  // no scope (Slack's app_home_opened reference); issue 12's Home tab
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every string literal shaped like a Web API method ("family.method[.more]") in the product's
// source (not the tests, whose fake Slack names methods too). Slack's reminders.* family is left
// out: flare schedules its own reminders, and its configuration keys ("reminders.before") would
// read as method names.
std::map<std::string, std::string> methods_named_in_source() {
  static const std::regex literal(
      R"re("((chat|conversations|users|usergroups|auth|views|apps|reactions|files|pins|team|bots|dnd|search|emoji|admin|oauth|bookmarks|calls|dialog)\.[A-Za-z]+(\.[A-Za-z]+)*)")re");
  std::map<std::string, std::string> found;  // method -> a file naming it
  for (const char* dir : {"bot", "commands", "messages", "policy"}) {
    for (const auto& entry : fs::recursive_directory_iterator(source_dir / dir)) {
      const auto ext = entry.path().extension();
      if (ext != ".cpp" && ext != ".hpp") continue;
      const auto text = read_file(entry.path());
      for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it)
        found.emplace((*it)[1].str(), fs::relative(entry.path(), source_dir).string());
    }
  }
  return found;
}

YAML::Node manifest() { return YAML::LoadFile((source_dir / "deploy/slack-app-manifest.yaml").string()); }

std::set<std::string> manifest_scopes() {
  std::set<std::string> scopes;
  for (const auto& s : manifest()["oauth_config"]["scopes"]["bot"]) scopes.insert(s.as<std::string>());
  return scopes;
}

std::set<std::string> manifest_events() {
  std::set<std::string> events;
  for (const auto& e : manifest()["settings"]["event_subscriptions"]["bot_events"])
    events.insert(e.as<std::string>());
  return events;
}

}  // namespace

TEST(manifest_scopes, the_source_scan_finds_the_web_api_client_methods) {
  const auto methods = methods_named_in_source();
  for (const char* m : {"chat.postMessage", "conversations.info", "apps.connections.open"})
    EXPECT_TRUE(methods.count(m)) << m << " not found: the scan of the source is broken";
}

TEST(manifest_scopes, every_method_the_code_calls_has_its_scope) {
  const auto scopes = manifest_scopes();
  for (const auto& [method, file] : methods_named_in_source()) {
    const auto it = method_scopes.find(method);
    ASSERT_NE(it, method_scopes.end())
        << file << " calls " << method << ", which this test does not know: add it and its scope "
        << "to method_scopes here and the scope to deploy/slack-app-manifest.yaml";
    for (const auto& scope : it->second)
      EXPECT_TRUE(scopes.count(scope)) << method << " (" << file << ") needs " << scope;
  }
}

TEST(manifest_scopes, every_scope_in_the_manifest_is_used) {
  std::set<std::string> needed = {"commands"};  // the /incident slash command
  for (const auto& [method, file] : methods_named_in_source()) {
    if (auto it = method_scopes.find(method); it != method_scopes.end())
      needed.insert(it->second.begin(), it->second.end());
  }
  for (const auto& event : manifest_events()) {
    if (auto it = event_scopes.find(event); it != event_scopes.end() && !it->second.empty())
      needed.insert(it->second);
  }
  for (const auto& scope : manifest_scopes())
    EXPECT_TRUE(needed.count(scope)) << scope << " is in the manifest but nothing uses it";
}

TEST(manifest_scopes, every_subscribed_event_has_its_scope) {
  const auto scopes = manifest_scopes();
  for (const auto& event : manifest_events()) {
    const auto it = event_scopes.find(event);
    ASSERT_NE(it, event_scopes.end()) << "unknown event subscription " << event;
    if (it->second.empty()) continue;  // an event that needs no scope
    EXPECT_TRUE(scopes.count(it->second)) << event << " needs " << it->second;
  }
}

TEST(manifest, socket_mode_with_the_incident_command_interactivity_and_the_events_flare_handles) {
  const auto m = manifest();
  EXPECT_TRUE(m["settings"]["socket_mode_enabled"].as<bool>());
  EXPECT_TRUE(m["settings"]["interactivity"]["is_enabled"].as<bool>());
  EXPECT_FALSE(m["settings"]["event_subscriptions"]["request_url"]) << "Socket Mode needs no request URL";
  EXPECT_FALSE(m["settings"]["interactivity"]["request_url"]);

  const auto commands = m["features"]["slash_commands"];
  ASSERT_EQ(commands.size(), 1u);
  EXPECT_EQ(commands[0]["command"].as<std::string>(), "/incident");
  EXPECT_FALSE(commands[0]["url"]) << "Socket Mode delivers commands over the socket";
  EXPECT_FALSE(commands[0]["description"].as<std::string>().empty());
  // Mentions arrive as <@U…> and channels as <#C…|…>: the grammar expects escaped text.
  EXPECT_TRUE(commands[0]["should_escape"].as<bool>());
  EXPECT_LE(commands[0]["usage_hint"].as<std::string>().size(), 1000u);

  // Reports arrive as channel messages (public and private), DMs and mentions.
  const auto events = manifest_events();
  for (const char* e : {"message.channels", "message.groups", "message.im", "app_mention"})
    EXPECT_TRUE(events.count(e)) << e;

  EXPECT_LE(m["display_information"]["name"].as<std::string>().size(), 35u);
  EXPECT_TRUE(m["features"]["bot_user"]["display_name"]);
}

// Issue 8: people report by DM. Without the App Home Messages tab (writable) Slack tells them
// that sending messages to this app has been turned off.
TEST(manifest, app_home_messages_tab_lets_people_message_the_bot) {
  const auto home = manifest()["features"]["app_home"];
  ASSERT_TRUE(home) << "features.app_home is missing";
  // Issue 12: the Home tab, published on app_home_opened.
  EXPECT_TRUE(home["home_tab_enabled"].as<bool>());
  EXPECT_TRUE(manifest_events().count("app_home_opened"));
  EXPECT_TRUE(home["messages_tab_enabled"].as<bool>());
  EXPECT_FALSE(home["messages_tab_read_only_enabled"].as<bool>());
}

// The start-up checks and the DM routing call these; if one of them stopped being called, its
// scope would have to go too (every_scope_in_the_manifest_is_used reads the literals).
TEST(manifest_scopes, methods_of_the_start_up_checks_and_dms_are_named_in_the_source) {
  const auto methods = methods_named_in_source();
  for (const char* m : {"conversations.info", "usergroups.users.list", "users.info", "conversations.open"})
    EXPECT_TRUE(methods.count(m)) << m;
}
