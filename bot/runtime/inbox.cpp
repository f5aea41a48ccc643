#include "bot/runtime/inbox.hpp"

#include "input/json_fields.hpp"
#include "policy/rfc3339.hpp"

#include <map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace flare {
namespace asio = boost::asio;
using json = nlohmann::json;

using input::string_at;

std::string inbox_key(const slack::envelope& envelope) {
  if (envelope.type == "events_api") {
    if (auto id = string_at(envelope.payload, "event_id"); !id.empty()) return store::inbox_key_for_event(id);
  } else if (envelope.type == "slash_commands" || envelope.type == "interactive") {
    // A slash command redelivered after a crash comes in a new envelope with the same trigger_id.
    if (auto id = string_at(envelope.payload, "trigger_id"); !id.empty())
      return store::inbox_key_for_trigger(id);
  }
  return store::inbox_key_for_envelope(envelope.envelope_id);
}

// One group commit: the envelopes waiting for it, and a timer every waiter awaits; cancelling it
// wakes them all once the outcome is known.
struct batch {
  explicit batch(asio::any_io_executor ex) : committed(ex, asio::steady_timer::time_point::max()) {}
  std::vector<store::new_delivery> deliveries;
  std::vector<std::optional<std::int64_t>> ids;
  std::string error;  // non-empty: the commit failed
  bool finished = false;
  asio::steady_timer committed;
};

struct inbox::state : std::enable_shared_from_this<state> {
  state(asio::any_io_executor ex, store::store& s, const clock& c, inbox_options o)
      : executor(std::move(ex)),
        store(s),
        time_source(c),
        options(std::move(o)),
        window_timer(executor),
        claim_timer(executor) {}

  asio::any_io_executor executor;
  store::store& store;
  const clock& time_source;
  inbox_options options;
  asio::steady_timer window_timer;
  std::shared_ptr<batch> open_batch;
  std::vector<std::int64_t> done_marks;
  bool timer_armed = false;
  bool ok = true;
  // Several replicas: the deliveries whose handlers run here (recorded or replayed by this
  // replica, not yet marked done in the store), with when they started: their claims are renewed.
  std::map<std::int64_t, std::chrono::steady_clock::time_point> held_since;
  asio::steady_timer claim_timer;
  bool stopped = false;

  void arm() {
    if (timer_armed) return;
    timer_armed = true;
    window_timer.expires_after(options.window);
    window_timer.async_wait([weak = weak_from_this()](const boost::system::error_code&) {
      if (auto self = weak.lock()) {
        self->timer_armed = false;
        self->commit();
      }
    });
  }

  // Runs on the event loop and blocks it for one disk sync: the price of synchronous=FULL, paid
  // once per batch instead of once per envelope.
  void commit() {
    auto current = std::move(open_batch);
    open_batch.reset();
    auto marks = std::move(done_marks);
    done_marks.clear();
    if (!current && marks.empty()) return;
    std::string error;
    std::vector<std::optional<std::int64_t>> ids;
    try {
      const auto now = time_source.now();
      store.transaction([&] {
        if (current) ids = store.record_deliveries(current->deliveries, now);
        store.mark_deliveries_done(marks, now);
      });
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "unknown store error";
    }
    const bool succeeded = error.empty();
    if (succeeded != ok) {
      if (succeeded) spdlog::info("inbox: the store takes writes again");
      else
        spdlog::error(
            "inbox: cannot write to the store ({}); envelopes are not acked, so Slack redelivers them",
            error);
    }
    ok = succeeded;
    if (succeeded && options.claims) {
      const auto started = std::chrono::steady_clock::now();
      for (const auto& id : ids)
        if (id) held_since.emplace(*id, started);
      for (auto id : marks) held_since.erase(id);
    }
    if (!succeeded) {
      // Done marks that could not be written wait for the next commit. Should they never make
      // it, the rows are replayed after a restart, which is safe: a handler's effects are
      // idempotent or were marked done with them (docs/reliability.md).
      done_marks.insert(done_marks.end(), marks.begin(), marks.end());
    }
    if (options.on_write) options.on_write(succeeded, error);
    if (current) {
      current->ids = std::move(ids);
      current->error = std::move(error);
      current->finished = true;
      current->committed.cancel();
    }
  }
};

inbox::inbox(asio::any_io_executor executor, store::store& store, const clock& clock, inbox_options options)
    : state_(std::make_shared<state>(std::move(executor), store, clock, std::move(options))) {}

inbox::~inbox() {
  state_->window_timer.cancel();
  state_->stopped = true;
  state_->claim_timer.cancel();
}

asio::awaitable<std::optional<std::int64_t>> inbox::record(const slack::envelope& envelope) {
  auto s = state_;
  if (!s->open_batch) s->open_batch = std::make_shared<batch>(s->executor);
  auto b = s->open_batch;
  const std::size_t index = b->deliveries.size();
  b->deliveries.push_back({inbox_key(envelope), envelope.envelope_id, envelope.type, envelope.payload});
  if (b->deliveries.size() >= s->options.max_batch) {
    s->window_timer.cancel();  // its handler commits (and finds an empty batch) or we do now
    s->commit();
  } else {
    s->arm();
  }
  while (!b->finished) co_await b->committed.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!b->error.empty()) throw store::store_error(b->error);
  co_return index < b->ids.size() ? b->ids[index] : std::nullopt;
}

void inbox::handled(std::int64_t id) {
  state_->done_marks.push_back(id);
  state_->arm();
}

void inbox::flush() {
  state_->window_timer.cancel();
  state_->commit();
}

bool inbox::writable() const { return state_->ok; }

namespace {

// The replay cap: each replay is counted (and committed) before the handler runs, so a handler
// that kills the process counts; one past `max_replays` is parked instead of returned.
std::vector<std::pair<std::int64_t, slack::envelope>> replayable(store::store& store, const clock& clock,
                                                                 const inbox_options& options,
                                                                 std::vector<store::delivery> deliveries) {
  std::vector<std::pair<std::int64_t, slack::envelope>> out;
  for (auto& d : deliveries) {
    if (const int attempts = store.count_replay(d.id); attempts > options.max_replays) {
      const std::string reason = "not handled after " + std::to_string(options.max_replays) +
                                 (options.claims ? " replays" : " replays (one per start)");
      store.park_delivery(d.id, reason, clock.now());
      // Names the delivery, never its payload (a report's text may be sensitive).
      spdlog::error(
          "inbox: delivery {} ({} envelope {}, key {}, received {}) parked as a dead letter: {}. It is kept "
          "in the store's inbox table (parked_at set) for an operator; docs/reliability.md says how to "
          "look at it and hand it back",
          d.id, d.type, d.envelope_id, d.key, policy::format_rfc3339(d.received_at), reason);
      if (options.on_parked) options.on_parked(d);
      continue;
    }
    slack::envelope env;
    env.envelope_id = d.envelope_id;
    env.type = d.type;
    env.payload = std::move(d.payload);
    env.accepts_response_payload = false;  // its ack is long gone: replies are posted instead
    out.emplace_back(d.id, std::move(env));
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::int64_t, slack::envelope>> inbox::unfinished(std::size_t limit) {
  auto& s = *state_;
  return replayable(s.store, s.time_source, s.options, s.store.unfinished_deliveries(limit));
}

asio::awaitable<void> inbox::run_claims(std::function<void(std::int64_t, slack::envelope)> replay) {
  auto s = state_;
  if (!s->options.claims) co_return;
  constexpr std::size_t batch = 100;
  const auto every =
      s->options.claim_every.count() > 0
          ? s->options.claim_every
          : std::chrono::duration_cast<std::chrono::milliseconds>(s->options.claims->claim_lease()) / 3;
  while (!s->stopped) {
    std::size_t claimed = 0;
    try {
      // Renew first: a claim about to expire must not be taken by the look below, or by another
      // replica. A handler running for longer than max_handler_time is given up on (it failed,
      // or hangs): its delivery is left to expire and be replayed.
      const auto steady_now = std::chrono::steady_clock::now();
      std::vector<std::int64_t> ids;
      for (auto it = s->held_since.begin(); it != s->held_since.end();) {
        if (steady_now - it->second > s->options.max_handler_time) {
          spdlog::warn(
              "inbox: delivery {} not finished after {}s (its handler failed or hangs); its claim is left "
              "to expire, and the delivery is replayed then",
              it->first, s->options.max_handler_time.count());
          it = s->held_since.erase(it);
        } else {
          ids.push_back(it->first);
          ++it;
        }
      }
      const auto now = s->time_source.now();
      if (!ids.empty()) s->options.claims->renew_claims(ids, now);
      auto deliveries = s->options.claims->claim_unfinished(now, batch);
      claimed = deliveries.size();
      auto envelopes = replayable(s->store, s->time_source, s->options, std::move(deliveries));
      for (const auto& e : envelopes) s->held_since.emplace(e.first, steady_now);
      if (!envelopes.empty())
        spdlog::info("inbox: replaying {} delivery(ies) left unfinished by a replica that stopped",
                     envelopes.size());
      for (auto& [id, envelope] : envelopes) replay(id, std::move(envelope));
    } catch (const std::exception& e) {
      spdlog::warn("inbox: could not renew or claim unfinished deliveries ({}); trying again", e.what());
    }
    if (s->stopped) break;
    // A full batch: more may be waiting, look again at once (after the handlers just started
    // had their turn).
    s->claim_timer.expires_after(claimed == batch ? std::chrono::milliseconds(0) : every);
    co_await s->claim_timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void inbox::stop() {
  state_->stopped = true;
  state_->claim_timer.cancel();
}

std::size_t inbox::held() const { return state_->held_since.size(); }

}  // namespace flare
