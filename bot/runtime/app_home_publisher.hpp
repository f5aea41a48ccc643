// The App Home tab (issue 12), kept current: on `app_home_opened` the person's tab is published
// (views.publish) with the open incidents they may see (messages/app_home.hpp); when an incident
// changes, the tab is published again for the people who opened it recently. Not a poll: nothing
// is published unless someone opened the tab or an incident changed. The set of recent openers
// is bounded (the oldest drops out) and so is the time zone cache (Slack's users.info `tz`).
//
// Who sees what: every open incident, except that a sensitive one is shown only to the Security
// Team and to its reporter (as `/incident list` does). The Mark done button runs the card's
// handler, which checks that the person is a responder.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <date/tz.h>

#include "bot/runtime/clock.hpp"
#include "bot/slack/slack_api.hpp"
#include "bot/slack/slack_files.hpp"
#include "bot/store/store.hpp"
#include "messages/app_home.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare {

struct app_home_options {
  // Who is republished on change: people who opened the tab within this window, at most
  // max_recent_users of them (views.publish is Slack tier 4, about 100 a minute).
  std::chrono::seconds recent_window{std::chrono::hours(8)};
  std::size_t max_recent_users = 50;
  std::chrono::seconds zone_ttl{std::chrono::hours(24)};  // users.info tz is looked up again after this
  std::size_t max_open_incidents = 500;                   // read from the store per publish
  std::string command_name = "/incident";
};

class app_home_publisher {
 public:
  using membership_check = std::function<boost::asio::awaitable<bool>(std::string user)>;

  // `slack` for users.info, `files` for views.publish; both must outlive this.
  app_home_publisher(boost::asio::any_io_executor ex, store::store& store, slack::slack_api& slack,
                     slack::slack_files& files, const clock& clock, const policy::tables& tables,
                     const policy::business_calendar& calendar, membership_check is_security_team,
                     app_home_options options = {});

  // The person opened the tab: remember them and publish their view.
  boost::asio::awaitable<void> opened(std::string user);
  // Something about an incident changed: publish again, once, for every recent opener (changes
  // arriving while that runs cause one more round, not one per change).
  void incident_changed();
  // The same round, awaited (tests; the coalescing of incident_changed() aside).
  boost::asio::awaitable<void> republish();

  // The view `user` gets now (no Slack call but the tz lookup).
  boost::asio::awaitable<nlohmann::json> view_for(std::string user);

  std::vector<std::string> recent_users() const;
  std::size_t publishes() const { return publishes_; }

 private:
  boost::asio::awaitable<void> publish(const std::string& user);
  boost::asio::awaitable<const date::time_zone*> zone_of(const std::string& user);
  boost::asio::awaitable<void> republish_loop();
  void forget_stale(sys_seconds now);

  struct opener {
    std::string user;
    sys_seconds at{};
  };
  struct cached_zone {
    const date::time_zone* zone = nullptr;
    sys_seconds fetched_at{};
  };

  boost::asio::any_io_executor ex_;
  store::store& store_;
  slack::slack_api& slack_;
  slack::slack_files& files_;
  const clock& clock_;
  const policy::tables& tables_;
  const policy::business_calendar& calendar_;
  membership_check is_security_team_;
  app_home_options options_;
  std::deque<opener> recent_;  // newest last, one entry per user
  std::map<std::string, cached_zone> zones_;
  bool running_ = false;
  bool dirty_ = false;
  std::size_t publishes_ = 0;
};

}  // namespace flare
