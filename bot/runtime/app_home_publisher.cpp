#include "bot/runtime/app_home_publisher.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "commands/incident_checklist.hpp"

namespace flare {

namespace asio = boost::asio;
using json = nlohmann::json;

app_home_publisher::app_home_publisher(asio::any_io_executor ex, store::store& store, slack::slack_api& slack,
                                       slack::slack_files& files, const clock& clock,
                                       const policy::tables& tables,
                                       const policy::business_calendar& calendar,
                                       membership_check is_security_team, app_home_options options)
    : ex_(std::move(ex)),
      store_(store),
      slack_(slack),
      files_(files),
      clock_(clock),
      tables_(tables),
      calendar_(calendar),
      is_security_team_(std::move(is_security_team)),
      options_(std::move(options)) {}

std::vector<std::string> app_home_publisher::recent_users() const {
  std::vector<std::string> out;
  for (const auto& o : recent_) out.push_back(o.user);
  return out;
}

void app_home_publisher::forget_stale(sys_seconds now) {
  while (!recent_.empty() && now - recent_.front().at > options_.recent_window) recent_.pop_front();
}

asio::awaitable<void> app_home_publisher::opened(std::string user) {
  if (user.empty()) co_return;
  const sys_seconds now = clock_.now();
  std::erase_if(recent_, [&](const opener& o) { return o.user == user; });
  recent_.push_back({user, now});
  while (recent_.size() > options_.max_recent_users) recent_.pop_front();
  forget_stale(now);
  co_await publish(user);
}

void app_home_publisher::incident_changed() {
  dirty_ = true;
  if (running_) return;
  running_ = true;
  asio::co_spawn(ex_, republish_loop(), asio::detached);
}

asio::awaitable<void> app_home_publisher::republish_loop() {
  try {
    while (dirty_) {
      dirty_ = false;
      co_await republish();
    }
  } catch (const std::exception& e) {
    spdlog::warn("app home: republishing failed: {}", e.what());
  }
  running_ = false;
}

asio::awaitable<void> app_home_publisher::republish() {
  forget_stale(clock_.now());
  for (const auto& user : recent_users()) co_await publish(user);
}

asio::awaitable<const date::time_zone*> app_home_publisher::zone_of(const std::string& user) {
  const sys_seconds now = clock_.now();
  if (auto it = zones_.find(user);
      it != zones_.end() && now - it->second.fetched_at < options_.zone_ttl && now >= it->second.fetched_at)
    co_return it->second.zone;
  const date::time_zone* zone = calendar_.zone();  // the company's zone until Slack tells us theirs
  auto info = co_await slack_.users_info(user);
  if (info && !info->tz.empty()) {
    try {
      zone = date::locate_zone(info->tz);
    } catch (const std::exception&) {
      spdlog::debug("app home: unknown time zone '{}' of {}; using the company's", info->tz, user);
    }
  } else if (!info) {
    spdlog::debug("app home: users.info for {} failed ({}); using the company's zone", user,
                  info.error().code);
    co_return zone;  // not cached: try again next time
  }
  if (zones_.size() >= 2 * options_.max_recent_users) zones_.clear();  // bounded; refetched on demand
  zones_[user] = {zone, now};
  co_return zone;
}

asio::awaitable<json> app_home_publisher::view_for(std::string user) {
  const sys_seconds now = clock_.now();
  const auto incidents = store_.list_incidents(true, options_.max_open_incidents);
  std::optional<bool> security;  // looked up only if a sensitive incident is open
  std::vector<messages::home_incident> shown;
  for (const auto& i : incidents) {
    if (i.sensitive && i.reporter != user) {
      if (!security) security = co_await is_security_team_(user);
      if (!*security) continue;
    }
    messages::home_incident h;
    h.id = i.id;
    h.reference = i.reference();
    h.title = i.title;
    h.sensitive = i.sensitive;
    h.severity = i.severity;
    h.channel = i.channel;
    h.thread_ts = i.thread_ts.value_or(i.card_ts.value_or(""));
    if (const auto c = commands::stored_checklist(store_, i.id, tables_, calendar_, now)) {
      const auto deadlines = c->open_deadlines();
      const policy::obligation* next = deadlines.empty() ? nullptr : deadlines.front();
      if (!next) {
        for (const auto& o : c->items) {
          if (o.state == policy::obligation_state::pending && o.ready) {
            next = &o;
            break;
          }
        }
      }
      if (next) {
        h.obligation_id = next->id;
        h.obligation_title = next->title;
        h.due = next->due;
      }
    }
    shown.push_back(std::move(h));
  }
  co_return messages::app_home_view(std::move(shown), co_await zone_of(user), now, options_.command_name);
}

asio::awaitable<void> app_home_publisher::publish(const std::string& user) {
  json view = co_await view_for(user);
  auto r = co_await files_.publish_home(user, std::move(view));
  if (!r) {
    spdlog::warn("app home: views.publish for {} failed: {} ({})", user, r.error().code, r.error().detail);
    co_return;
  }
  ++publishes_;
}

}  // namespace flare
