#include "bot/runtime/outbox.hpp"

#include "bot/slack/backoff.hpp"
#include "bot/slack/errors.hpp"
#include "input/json_fields.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <vector>

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

using input::string_at;

std::optional<std::int64_t> integer(const json& payload, const char* key) {
  auto it = payload.find(key);
  if (it == payload.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

slack::message message_from(const json& payload, std::string reference) {
  slack::message msg;
  msg.channel = string_at(payload, "channel");
  msg.text = string_at(payload, "text");
  msg.blocks = payload.value("blocks", json::array());
  msg.thread_ts = string_at(payload, "thread_ts");
  msg.reference = std::move(reference);
  return msg;
}

// The outcome of one attempt at one item.
enum class outcome { sent, retry_later, failed, waiting };

}  // namespace

// One destination's queue, in enqueue order.
struct lane {
  lane(asio::any_io_executor ex, std::string k, bool p) : key(std::move(k)), priority(p), timer(ex) {}
  std::string key;
  bool priority;
  std::deque<store::outbox_item> items;
  bool running = false;
  asio::steady_timer timer;  // sleeps until a retry is due or another lane made progress
};

struct outbox_sender::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, store::store& s, slack::slack_api& api, const flare::clock& c,
       outbox_options o)
      : executor(ex),
        store(s),
        slack(api),
        wall(c),
        options(std::move(o)),
        wakeup(ex),
        slot_free(ex),
        lanes_done(ex),
        heartbeat(ex) {
    options.max_concurrent_public_sends = std::max<std::size_t>(1, options.max_concurrent_public_sends);
    options.max_loaded = std::max<std::size_t>(1, options.max_loaded);
  }

  asio::any_io_executor executor;
  store::store& store;
  slack::slack_api& slack;
  slack::slack_files* files = nullptr;
  const flare::clock& wall;
  outbox_options options;
  asio::steady_timer wakeup;      // the loader: something was enqueued
  asio::steady_timer slot_free;   // public lanes waiting for a send slot
  asio::steady_timer lanes_done;  // drain_once waiting for every lane to finish
  asio::steady_timer heartbeat;   // renews the claims of the posts being sent
  bool heartbeat_running = false;
  // Items claimed (begin_attempt) whose send is under way: their claims are renewed.
  std::set<std::int64_t> claimed;
  bool stopped = false;
  bool woken = false;
  bool draining = false;
  outbox_stats stats;
  // When a transiently failed item may be tried again (in memory: after a restart, pending items
  // are simply tried at once).
  std::map<std::int64_t, std::chrono::steady_clock::time_point> retry_at;
  // The one backoff (bot/slack/backoff.hpp): equal jitter, so a retried post never hammers at once.
  slack::backoff retry_backoff{
      slack::backoff_policy{options.retry_initial, options.retry_max, slack::jitter::equal}};

  std::map<std::string, std::unique_ptr<lane>> lanes;
  // Loaded, unsent item ids per incident, across lanes: the smallest goes first.
  std::map<std::int64_t, std::set<std::int64_t>> incident_items;
  std::int64_t cursor = 0;  // the highest id loaded
  std::size_t loaded = 0;
  bool more_in_store = false;  // the last load stopped at max_loaded
  std::size_t public_sends = 0;
  std::size_t in_flight = 0;
  std::size_t running_lanes = 0;

  std::string reference_of(const store::outbox_item& item) const {
    return item.incident_id ? store::incident_reference(*item.incident_id) : "no incident";
  }

  // The wait before retrying an item that has failed `attempts` times.
  std::chrono::milliseconds backoff(int attempts) { return retry_backoff.delay(attempts); }

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
    if (const std::string user = string_at(p, "dm_user"); !user.empty()) {
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
      record_post(*incident_id, string_at(p, "record_as"), posted.value());
    co_return outcome::sent;
  }

  asio::awaitable<outcome> send_update(const store::outbox_item& item, json& result) {
    const json& p = item.payload;
    std::string channel = string_at(p, "channel");
    std::string ts = string_at(p, "ts");
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
    auto sent = co_await slack.post_ephemeral(string_at(item.payload, "user"),
                                              message_from(item.payload, reference_of(item)));
    if (!sent) co_return fail(item, sent.error());
    result = {{"message_ts", sent.value()}};
    co_return outcome::sent;
  }

  // Where an "upload" item's files go: its incident's thread (resolved now, like a post's), or
  // the channel and thread it names.
  std::pair<std::string, std::string> upload_destination(const store::outbox_item& item) {
    const json& p = item.payload;
    std::string channel = string_at(p, "channel");
    std::string thread = string_at(p, "thread_ts");
    if (auto incident_id = integer(p, "thread_of_incident")) {
      if (auto incident = store.find_incident(*incident_id)) {
        channel = incident->channel;
        thread = incident->thread_ts.value_or(incident->card_ts.value_or(thread));
      }
    }
    return {channel, thread};
  }

  asio::awaitable<outcome> send_upload(const store::outbox_item& item, json& result) {
    const json& p = item.payload;
    if (!files) {
      slack::api_error none;  // named: GCC 12 mishandles braced string literals in coroutines
      none.code = "not_available";
      none.detail = "file uploads are not available here";
      co_return fail(item, none);
    }
    const auto destination = upload_destination(item);  // not a structured binding: a coroutine
    const std::string& channel = destination.first;
    const std::string& thread = destination.second;
    std::vector<slack::file_upload> uploads;
    for (auto& f : store.outbox_files(item.id)) {
      slack::file_upload u;
      u.filename = std::move(f.filename);
      u.title = std::move(f.title);
      u.content = std::move(f.content);
      uploads.push_back(std::move(u));
    }
    if (uploads.empty()) {
      spdlog::error("{}: outbox item {} is an upload without files; abandoned", reference_of(item), item.id);
      store.abandon(item.id, "an upload without files", wall.now());
      co_return outcome::failed;
    }
    std::string comment = string_at(p, "comment");
    if (item.attempt_started_at)
      comment +=
          "\n_Uploaded again after a restart: if you see these files twice, the first upload got through._";
    auto shared = co_await files->upload_files(channel, thread, std::move(comment), std::move(uploads));
    if (!shared) co_return fail(item, shared.error());
    result = json::object();
    result["channel"] = channel;
    result["thread_ts"] = thread;
    result["file_ids"] = shared.value();
    if (const std::string action = string_at(p, "audit_action"); item.incident_id && !action.empty()) {
      // Where the evidence went, as Slack named the files: itself part of the evidence.
      store::audit_entry entry;
      entry.incident_id = *item.incident_id;
      entry.actor = "flare";
      entry.action = action;
      entry.at = wall.now();
      entry.details = json::object();
      entry.details["file_ids"] = shared.value();
      entry.details["channel"] = channel;
      entry.details["outbox_item"] = item.id;
      store.append_audit(entry);
    }
    co_return outcome::sent;
  }

  // An upload that failed for good says so where its files were to go (payload failure_notice).
  void report_failed_upload(const store::outbox_item& item, const slack::api_error& error) {
    const std::string notice = string_at(item.payload, "failure_notice");
    if (notice.empty()) return;
    const std::string why = error.code + (error.detail.empty() ? "" : ": " + error.detail);
    json post = json::object();
    const std::string text = notice + " (Slack: " + why + ")";
    post["text"] = text;
    json section = json::object();
    section["type"] = "section";
    section["text"] = json{{"type", "mrkdwn"}, {"text", text}};
    post["blocks"] = json::array({section});
    if (auto incident_id = integer(item.payload, "thread_of_incident")) {
      post["thread_of_incident"] = *incident_id;
    } else {
      post["channel"] = string_at(item.payload, "channel");
      if (const std::string thread = string_at(item.payload, "thread_ts"); !thread.empty())
        post["thread_ts"] = thread;
    }
    try {
      store::new_outbox_item n;
      n.idempotency_key = "upload-failed/" + std::to_string(item.id);
      n.incident_id = item.incident_id;
      n.kind = "post";
      n.payload = std::move(post);
      auto queued = store.enqueue(n, wall.now());
      if (queued.inserted && queued.state == store::outbox_state::pending) {
        hold(queued);  // this lane (or a new one) sends it next, even while draining
        start_idle_lanes();
      }
    } catch (const std::exception& e) {
      spdlog::error("{}: the notice of the failed upload (outbox item {}) was not enqueued: {}",
                    reference_of(item), item.id, e.what());
    }
  }

  outcome fail(const store::outbox_item& item, const slack::api_error& error) {
    const bool give_up = !transient(error) || item.attempts + 1 >= options.max_attempts;
    store.mark_failed(item.id, error.code + (error.detail.empty() ? "" : ": " + error.detail), wall.now(),
                      give_up);
    if (give_up) {
      ++stats.failed;
      // Never silent: the post is named by its incident and kind (not its text, which may be
      // sensitive), so a person can repeat it by hand.
      spdlog::error("{}: Slack {} (outbox item {}) failed for good after {} attempt(s): {} {}",
                    reference_of(item), item.kind, item.id, item.attempts + 1, error.code, error.detail);
      if (item.kind == "upload") report_failed_upload(item, error);
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
             {"elements",
              json::array(
                  {{{"type", "mrkdwn"},
                    {"text",
                     "_Re-sent after a restart: if you see this twice, the first one got through._"}}})}});
    }
    if (!store.begin_attempt(item.id, wall.now())) {
      // Sent, failed or abandoned since it was read (the lane holds items in memory): not again.
      // Still pending: on a shared store another replica holds its claim, or an earlier post of
      // its incident is not sent yet (pg_store::begin_attempt). Look again shortly: if that
      // replica dies, its claim expires and this one takes the post over.
      if (auto fresh = store.find_outbox_item(item.id);
          fresh && fresh->state == store::outbox_state::pending) {
        retry_at[item.id] = std::chrono::steady_clock::now() + options.claimed_elsewhere_retry;
        co_return outcome::retry_later;
      }
      co_return outcome::failed;
    }
    claimed.insert(item.id);  // until run_lane has the outcome: renewed meanwhile
    json result = json::object();
    outcome done = outcome::failed;
    if (item.kind == "post") done = co_await send_post(item, result);
    else if (item.kind == "update") done = co_await send_update(item, result);
    else if (item.kind == "ephemeral") done = co_await send_ephemeral(item, result);
    else if (item.kind == "upload") done = co_await send_upload(item, result);
    else {
      spdlog::error("{}: outbox item {} has unknown kind '{}'; abandoned", reference_of(item), item.id,
                    item.kind);
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

  // ---- the claims' heartbeat ----

  // Renews the claims of the sends under way. A claim that ran out and was taken over (the event
  // loop stalled for a whole lease) stays with the replica that took it: said, and counted.
  void renew_claims() {
    if (claimed.empty()) return;
    const std::vector<std::int64_t> ids(claimed.begin(), claimed.end());
    try {
      const auto held = options.claims->renew_outbox_claims(ids, wall.now());
      if (held < ids.size()) {
        stats.claims_lost += ids.size() - held;
        spdlog::warn(
            "outbox: {} of {} claim(s) ran out before their renewal; another replica may send those posts "
            "too (marked re-sent)",
            ids.size() - held, ids.size());
      }
    } catch (const std::exception& e) {
      spdlog::error("outbox: renewing claims: {}", e.what());
    }
  }

  bool heartbeat_needed() const { return !(stopped && claimed.empty() && !draining); }

  void start_heartbeat() {
    if (!options.claims || options.claim_renew_every.count() <= 0 || heartbeat_running) return;
    heartbeat_running = true;
    asio::co_spawn(executor, keep_claims(shared_from_this()), asio::detached);
  }

  static asio::awaitable<void> keep_claims(std::shared_ptr<impl> self) {
    while (self->heartbeat_needed()) {
      self->heartbeat.expires_after(self->options.claim_renew_every);
      co_await self->heartbeat.async_wait(asio::as_tuple(asio::use_awaitable));
      self->renew_claims();
    }
    self->heartbeat_running = false;
  }

  // A send ended (whatever its outcome): its claim is cleared by the store or left to expire.
  void release_claim(std::int64_t id) {
    claimed.erase(id);
    if (!heartbeat_needed()) heartbeat.cancel();
  }

  // ---- lanes ----

  std::string destination_of(const store::outbox_item& item) {
    const json& p = item.payload;
    // An ephemeral reply is for one person and is not paced per channel: its own lane.
    if (item.kind == "ephemeral") return "ephemeral:" + string_at(p, "channel") + ":" + string_at(p, "user");
    auto incident_id = integer(p, "thread_of_incident");
    if (!incident_id) incident_id = integer(p, "card_of_incident");
    if (incident_id) {
      if (auto incident = store.find_incident(*incident_id); incident && !incident->channel.empty())
        return incident->channel;
    }
    return string_at(p, "channel");
  }

  bool is_private(const std::string& key) const {
    return key.starts_with("ephemeral:") || key.starts_with('D') || key.starts_with('G') ||
           options.private_channels.contains(key);
  }

  // Reads pending items past the cursor into their lanes, up to max_loaded in memory.
  void load() {
    more_in_store = false;
    while (loaded < options.max_loaded) {
      const auto page =
          store.pending_outbox_after(cursor, std::min<std::size_t>(500, options.max_loaded - loaded));
      for (const auto& item : page) hold(item);
      if (page.empty()) return;
    }
    more_in_store = true;
  }

  void hold(const store::outbox_item& item) {
    cursor = std::max(cursor, item.id);
    const auto key = destination_of(item);
    auto& l = lanes[key];
    if (!l) l = std::make_unique<lane>(executor, key, is_private(key));
    l->items.push_back(item);
    l->timer.cancel();  // a lane sleeping until a retry looks at its new item now
    if (item.incident_id) incident_items[*item.incident_id].insert(item.id);
    ++loaded;
  }

  // A shared store (several replicas): pending items behind the cursor are read again, because
  // another replica enqueued them or died holding them; those already held stay as they are.
  void rescan() {
    std::set<std::int64_t> held;
    for (const auto& [key, l] : lanes)
      for (const auto& item : l->items) held.insert(item.id);
    std::int64_t after = 0;
    while (loaded < options.max_loaded) {
      const auto page =
          store.pending_outbox_after(after, std::min<std::size_t>(500, options.max_loaded - loaded));
      if (page.empty()) return;
      for (const auto& item : page) {
        after = item.id;
        if (!held.contains(item.id)) hold(item);
      }
    }
  }

  void start_idle_lanes() {
    // By key, looked up afresh: co_spawn may run a lane at once, and a lane that finishes erases
    // itself (and may start others), so no iterator or pointer survives a spawn.
    std::vector<std::string> idle;
    for (const auto& [key, l] : lanes)
      if (!l->running && !l->items.empty()) idle.push_back(key);
    for (const auto& key : idle) {
      auto it = lanes.find(key);
      if (it == lanes.end() || it->second->running || it->second->items.empty()) continue;
      it->second->running = true;
      ++running_lanes;
      asio::co_spawn(executor, run_lane(shared_from_this(), it->second.get()), asio::detached);
    }
  }

  // Another lane sent (or gave up on) something: lanes waiting on an incident look again.
  void notify_lanes() {
    for (auto& [key, l] : lanes) l->timer.cancel();
  }

  // The first item of the lane that may go now, or the time to look again.
  std::pair<std::optional<store::outbox_item>, std::chrono::steady_clock::time_point> next_sendable(
      const lane& l) {
    const auto now = std::chrono::steady_clock::now();
    auto wake_at = std::chrono::steady_clock::time_point::max();
    std::set<std::int64_t> held;
    for (const auto& item : l.items) {
      if (item.incident_id) {
        if (held.contains(*item.incident_id)) continue;
        const auto ids = incident_items.find(*item.incident_id);
        if (ids != incident_items.end() && !ids->second.empty() &&
            *ids->second.begin() < item.id) {  // an earlier item of its incident is unsent
          held.insert(*item.incident_id);
          continue;
        }
      }
      if (auto it = retry_at.find(item.id); it != retry_at.end() && it->second > now) {
        wake_at = std::min(wake_at, it->second);
        if (item.incident_id) held.insert(*item.incident_id);
        continue;
      }
      return {item, wake_at};
    }
    return {std::nullopt, wake_at};
  }

  void forget(lane& l, const store::outbox_item& item) {
    std::erase_if(l.items, [&](const store::outbox_item& i) { return i.id == item.id; });
    retry_at.erase(item.id);
    if (item.incident_id) {
      auto it = incident_items.find(*item.incident_id);
      if (it != incident_items.end()) {
        it->second.erase(item.id);
        if (it->second.empty()) incident_items.erase(it);
      }
    }
    --loaded;
    if (more_in_store && loaded <= options.max_loaded / 2) {
      load();
      start_idle_lanes();
    }
  }

  bool halted() const { return stopped && !draining; }

  void refresh(lane& l, std::int64_t id) {
    auto it =
        std::find_if(l.items.begin(), l.items.end(), [&](const store::outbox_item& i) { return i.id == id; });
    if (it == l.items.end()) return;
    auto fresh = store.find_outbox_item(id);
    if (fresh && fresh->state == store::outbox_state::pending) *it = std::move(*fresh);
  }

  static asio::awaitable<void> run_lane(std::shared_ptr<impl> self, lane* l) {
    while (!self->halted() && !l->items.empty()) {
      auto [item, wake_at] = self->next_sendable(*l);
      if (!item) {
        // Draining, once each: what waits for a retry stays for the next run, and what waits for
        // an earlier item of its incident waits only while some lane is still sending.
        if (self->draining && self->in_flight == 0) break;
        l->timer.expires_at(self->draining ? std::chrono::steady_clock::time_point::max() : wake_at);
        co_await l->timer.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (!l->priority) {
        while (self->public_sends >= self->options.max_concurrent_public_sends && !self->halted()) {
          self->slot_free.expires_at(std::chrono::steady_clock::time_point::max());
          co_await self->slot_free.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        if (self->halted()) break;
        ++self->public_sends;
      }
      outcome done = outcome::failed;
      ++self->in_flight;
      try {
        done = co_await self->send(*item);
      } catch (const std::exception& e) {
        // A store error mid-send: the item stays pending; try it again later.
        spdlog::error("outbox: item {} ({}): {}", item->id, self->reference_of(*item), e.what());
        self->retry_at[item->id] = std::chrono::steady_clock::now() + self->backoff(item->attempts);
        done = outcome::retry_later;
      }
      self->release_claim(item->id);
      --self->in_flight;
      if (!l->priority) {
        --self->public_sends;
        self->slot_free.cancel();
      }
      if (done == outcome::retry_later) {
        self->refresh(*l, item->id);  // attempts and attempt_started_at as the store now has them
        if (self->draining) {
          self->retry_at[item->id] = std::chrono::steady_clock::time_point::max();
          self->notify_lanes();
        }
        continue;
      }
      self->forget(*l, *item);
      if (item->incident_id || self->draining) self->notify_lanes();
    }
    l->running = false;
    --self->running_lanes;
    if (l->items.empty()) {
      const std::string key = l->key;
      self->lanes.erase(key);  // l is gone from here on
    }
    if (self->draining) self->notify_lanes();
    if (self->running_lanes == 0) self->lanes_done.cancel();
  }
};

outbox_sender::outbox_sender(asio::any_io_executor executor, store::store& store, slack::slack_api& slack,
                             const clock& clock, outbox_options options)
    : impl_(std::make_shared<impl>(std::move(executor), store, slack, clock, std::move(options))) {}

outbox_sender::~outbox_sender() = default;

void outbox_sender::use_files(slack::slack_files* files) { impl_->files = files; }

void outbox_sender::wake() {
  impl_->woken = true;
  impl_->wakeup.cancel();
}

asio::awaitable<void> outbox_sender::run() {
  auto self = impl_;
  self->start_heartbeat();
  bool periodic = false;
  while (!self->stopped) {
    self->woken = false;
    try {
      if (periodic && self->options.shared_store) self->rescan();
      self->load();
      self->start_idle_lanes();
    } catch (const std::exception& e) {
      spdlog::error("outbox: reading pending posts: {}", e.what());
    }
    if (self->stopped || self->woken) continue;
    // Lanes wait for their own retries; this waits for new work. A periodic look as well, in case
    // something was enqueued without a wake() (another tool on the same store).
    self->wakeup.expires_after(self->options.look_every);
    auto [ec] = co_await self->wakeup.async_wait(asio::as_tuple(asio::use_awaitable));
    periodic = !ec;
  }
  self->slot_free.cancel();
  for (auto& [key, l] : self->lanes) l->timer.cancel();
}

asio::awaitable<std::size_t> outbox_sender::drain_once() {
  auto self = impl_;
  // Sends still under way (after stop()) finish first, so no item is sent twice at once.
  while (self->running_lanes > 0) {
    self->lanes_done.expires_at(std::chrono::steady_clock::time_point::max());
    co_await self->lanes_done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  const auto sent_before = self->stats.sent;
  self->draining = true;
  self->start_heartbeat();
  self->retry_at.clear();
  self->load();
  self->start_idle_lanes();
  while (self->running_lanes > 0) {
    self->lanes_done.expires_at(std::chrono::steady_clock::time_point::max());
    co_await self->lanes_done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  self->draining = false;
  if (!self->heartbeat_needed()) self->heartbeat.cancel();
  self->retry_at.clear();
  co_return static_cast<std::size_t>(self->stats.sent - sent_before);
}

void outbox_sender::stop() {
  impl_->stopped = true;
  impl_->wakeup.cancel();
  impl_->slot_free.cancel();
  if (!impl_->heartbeat_needed()) impl_->heartbeat.cancel();
  for (auto& [key, l] : impl_->lanes) l->timer.cancel();
}

std::size_t outbox_sender::pending() const { return impl_->store.pending_outbox(100000).size(); }
const outbox_stats& outbox_sender::stats() const { return impl_->stats; }

}  // namespace flare
