#include "bot/runtime/outbox.hpp"

#include "bot/slack/errors.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace flare {
namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

// Failures worth trying again later. A rejected request (channel_not_found, not_in_channel,
// invalid_blocks, ...) or a refused token fails the same way every time; a post cut off by
// shutdown (cancelled) stays pending for the next start.
bool transient(const slack::api_error& e) {
  const auto kind = slack::classify(e);
  return kind != slack::error_kind::rejected && kind != slack::error_kind::refused;
}

std::string str(const json& payload, const char* key) {
  auto it = payload.find(key);
  return it != payload.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<std::int64_t> integer(const json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

slack::message message_from(const json& payload, std::string reference) {
  slack::message msg;
  msg.channel = str(payload, "channel");
  msg.text = str(payload, "text");
  msg.blocks = payload.value("blocks", json::array());
  msg.thread_ts = str(payload, "thread_ts");
  msg.reference = std::move(reference);
  return msg;
}

// The outcome of one attempt at one item.
enum class outcome { sent, retry_later, failed, waiting };

}  // namespace

struct outbox_sender::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, store::store& s, slack::slack_api& api, const flare::clock& c, outbox_options o)
      : executor(ex), store(s), slack(api), wall(c), options(o), wakeup(ex) {}

  asio::any_io_executor executor;
  store::store& store;
  slack::slack_api& slack;
  const flare::clock& wall;
  outbox_options options;
  asio::steady_timer wakeup;
  bool stopped = false;
  bool woken = false;
  bool sending = false;
  outbox_stats stats;
  // When a transiently failed item may be tried again (in memory: after a restart, pending items
  // are simply tried at once).
  std::map<std::int64_t, std::chrono::steady_clock::time_point> retry_at;
  std::mt19937 jitter{std::random_device{}()};

  std::string reference_of(const store::outbox_item& item) const {
    return item.incident_id ? store::incident_reference(*item.incident_id) : "no incident";
  }

  std::chrono::milliseconds backoff(int attempts) {
    auto delay = options.retry_initial * (1 << std::min(attempts, 16));
    delay = std::min<std::chrono::milliseconds>(delay, options.retry_max);
    std::uniform_int_distribution<long long> spread(delay.count() / 2, delay.count());
    return std::chrono::milliseconds(spread(jitter));
  }

  // Records where the incident's card (or thread) now lives.
  void record_post(std::int64_t incident_id, const std::string& as, const slack::posted_message& posted) {
    for (int tries = 0; tries < 3; ++tries) {
      auto incident = store.find_incident(incident_id);
      if (!incident) return;
      if (as == "card") {
        incident->card_ts = posted.ts;
        incident->channel = posted.channel;
      }
      if (!incident->thread_ts) incident->thread_ts = posted.ts;
      store::audit_entry entry{incident_id, "flare", as == "card" ? "card-posted" : "thread-started",
                               wall.now(), json{{"channel", posted.channel}, {"ts", posted.ts}}};
      if (store.update_incident(*incident, entry)) return;
    }
    spdlog::error("{}: could not record the card's ts after 3 tries", store::incident_reference(incident_id));
  }

  asio::awaitable<outcome> send_post(const store::outbox_item& item, json& result) {
    const json& p = item.payload;
    slack::message msg = message_from(p, reference_of(item));
    if (auto incident_id = integer(p, "thread_of_incident")) {
      auto incident = store.find_incident(*incident_id);
      if (incident && incident->thread_ts) {
        msg.thread_ts = *incident->thread_ts;
        msg.channel = incident->channel;
      } else if (incident && incident->card_ts) {
        msg.thread_ts = *incident->card_ts;
        msg.channel = incident->channel;
      } else if (incident) {
        // No card or thread yet. Earlier items of this incident (its card) are handled first, so
        // this only happens when the card itself failed for good: post at top level rather than
        // never.
        msg.channel = incident->channel;
        spdlog::warn("{}: no thread to post into; posting at top level", reference_of(item));
      }
    }
    if (const std::string user = str(p, "dm_user"); !user.empty()) {
      // A DM: conversations.open gives the DM channel (the same one every time, so a retry
      // after a failure here is harmless), then chat.postMessage.
      auto dm = co_await slack.open_dm(user);
      if (!dm) co_return fail(item, dm.error());
      msg.channel = dm.value();
    }
    auto posted = co_await slack.post_message(msg);
    if (!posted) co_return fail(item, posted.error());
    result = {{"channel", posted->channel}, {"ts", posted->ts}};
    if (auto incident_id = item.incident_id; incident_id && p.contains("record_as"))
      record_post(*incident_id, str(p, "record_as"), posted.value());
    co_return outcome::sent;
  }

  asio::awaitable<outcome> send_update(const store::outbox_item& item, json& result) {
    const json& p = item.payload;
    std::string channel = str(p, "channel");
    std::string ts = str(p, "ts");
    if (auto incident_id = integer(p, "card_of_incident")) {
      auto incident = store.find_incident(*incident_id);
      if (!incident) co_return outcome::failed;
      if (!incident->card_ts) {
        // The card was never posted (it failed for good): post the current card instead.
        slack::message msg = message_from(p, reference_of(item));
        msg.channel = incident->channel;
        msg.thread_ts = incident->thread_ts.value_or("");
        auto posted = co_await slack.post_message(msg);
        if (!posted) co_return fail(item, posted.error());
        result = {{"channel", posted->channel}, {"ts", posted->ts}};
        record_post(*incident_id, "card", posted.value());
        co_return outcome::sent;
      }
      channel = incident->channel;
      ts = *incident->card_ts;
    }
    auto updated = co_await slack.update_message(channel, ts, message_from(p, reference_of(item)));
    if (!updated) co_return fail(item, updated.error());
    result = {{"channel", updated->channel}, {"ts", updated->ts}};
    co_return outcome::sent;
  }

  asio::awaitable<outcome> send_ephemeral(const store::outbox_item& item, json& result) {
    auto sent = co_await slack.post_ephemeral(str(item.payload, "user"), message_from(item.payload, reference_of(item)));
    if (!sent) co_return fail(item, sent.error());
    result = {{"message_ts", sent.value()}};
    co_return outcome::sent;
  }

  outcome fail(const store::outbox_item& item, const slack::api_error& error) {
    const bool give_up = !transient(error) || item.attempts + 1 >= options.max_attempts;
    store.mark_failed(item.id, error.code + (error.detail.empty() ? "" : ": " + error.detail), wall.now(), give_up);
    if (give_up) {
      ++stats.failed;
      // Never silent: the post is named by its incident and kind (not its text, which may be
      // sensitive), so a person can repeat it by hand.
      spdlog::error("{}: Slack {} (outbox item {}) failed for good after {} attempt(s): {} {}",
                    reference_of(item), item.kind, item.id, item.attempts + 1, error.code, error.detail);
      return outcome::failed;
    }
    ++stats.retried;
    const auto delay = backoff(item.attempts);
    retry_at[item.id] = std::chrono::steady_clock::now() + delay;
    spdlog::warn("{}: Slack {} (outbox item {}) failed ({}); retrying in {} ms", reference_of(item),
                 item.kind, item.id, error.code, delay.count());
    return outcome::retry_later;
  }

  asio::awaitable<outcome> send(store::outbox_item item) {
    if (item.attempt_started_at) {
      // The process stopped during an earlier attempt, so Slack may already have this post. We
      // cannot look (that would need history scopes), and a missing deadline notice is worse than
      // a repeated one: send it again, saying so.
      spdlog::warn("{}: outbox item {} was being sent when flare stopped; sending again (may repeat)",
                   reference_of(item), item.id);
      if (item.payload.contains("blocks") && item.payload["blocks"].is_array() && item.kind != "update")
        item.payload["blocks"].push_back(
            {{"type", "context"},
             {"elements", json::array({{{"type", "mrkdwn"},
                                        {"text", "_Re-sent after a restart: if you see this twice, the first one got through._"}}})}});
    }
    store.begin_attempt(item.id, wall.now());
    json result = json::object();
    outcome done = outcome::failed;
    if (item.kind == "post") done = co_await send_post(item, result);
    else if (item.kind == "update") done = co_await send_update(item, result);
    else if (item.kind == "ephemeral") done = co_await send_ephemeral(item, result);
    else {
      spdlog::error("{}: outbox item {} has unknown kind '{}'; abandoned", reference_of(item), item.id, item.kind);
      store.abandon(item.id, "unknown kind " + item.kind, wall.now());
      co_return outcome::failed;
    }
    if (done == outcome::sent) {
      store.mark_sent(item.id, result, wall.now());
      retry_at.erase(item.id);
      ++stats.sent;
    }
    co_return done;
  }

  // One pass over the pending items, in order. An incident whose earlier item is waiting for a
  // retry holds its later items back, so a thread post never overtakes its card.
  asio::awaitable<std::size_t> pass() {
    std::size_t sent = 0;
    std::set<std::int64_t> held;
    const auto now = std::chrono::steady_clock::now();
    for (const auto& item : store.pending_outbox(500)) {
      if (stopped) break;
      if (item.incident_id && held.contains(*item.incident_id)) continue;
      if (auto it = retry_at.find(item.id); it != retry_at.end() && it->second > now) {
        if (item.incident_id) held.insert(*item.incident_id);
        continue;
      }
      const outcome done = co_await send(item);
      if (done == outcome::sent) ++sent;
      if (done == outcome::retry_later && item.incident_id) held.insert(*item.incident_id);
    }
    co_return sent;
  }
};

outbox_sender::outbox_sender(asio::any_io_executor executor, store::store& store, slack::slack_api& slack,
                             const clock& clock, outbox_options options)
    : impl_(std::make_shared<impl>(std::move(executor), store, slack, clock, options)) {}

outbox_sender::~outbox_sender() = default;

void outbox_sender::wake() {
  impl_->woken = true;
  impl_->wakeup.cancel();
}

asio::awaitable<void> outbox_sender::run() {
  auto self = impl_;
  while (!self->stopped) {
    self->woken = false;
    self->sending = true;
    try {
      co_await self->pass();
    } catch (const std::exception& e) {
      spdlog::error("outbox: {}", e.what());
    }
    self->sending = false;
    if (self->stopped || self->woken) continue;
    auto next = std::chrono::steady_clock::now() + std::chrono::hours(1);
    for (const auto& [id, at] : self->retry_at) next = std::min(next, at);
    self->wakeup.expires_at(next);
    co_await self->wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<std::size_t> outbox_sender::drain_once() {
  auto self = impl_;
  self->retry_at.clear();
  co_return co_await self->pass();
}

void outbox_sender::stop() {
  impl_->stopped = true;
  impl_->wakeup.cancel();
}

std::size_t outbox_sender::pending() const { return impl_->store.pending_outbox(100000).size(); }
const outbox_stats& outbox_sender::stats() const { return impl_->stats; }

}  // namespace flare
