#include "bot/runtime/inbox.hpp"

#include "input/json_fields.hpp"
#include "policy/rfc3339.hpp"

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
  explicit batch(asio::any_io_executor ex)
      : committed(std::move(ex), asio::steady_timer::time_point::max()) {}
  std::vector<store::new_delivery> deliveries;
  std::vector<std::optional<std::int64_t>> ids;
  std::string error;  // non-empty: the commit failed
  bool finished = false;
  asio::steady_timer committed;
};

struct inbox::state : std::enable_shared_from_this<state> {
  state(asio::any_io_executor ex, store::store& s, const clock& c, inbox_options o)
      : executor(std::move(ex)), store(s), clock_(c), options(std::move(o)), window_timer(executor) {}

  asio::any_io_executor executor;
  store::store& store;
  const clock& clock_;
  inbox_options options;
  asio::steady_timer window_timer;
  std::shared_ptr<batch> open_batch;
  std::vector<std::int64_t> done_marks;
  bool timer_armed = false;
  bool ok = true;

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
      const auto now = clock_.now();
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

inbox::~inbox() { state_->window_timer.cancel(); }

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

std::vector<std::pair<std::int64_t, slack::envelope>> inbox::unfinished(std::size_t limit) {
  std::vector<std::pair<std::int64_t, slack::envelope>> out;
  auto& s = *state_;
  for (auto& d : s.store.unfinished_deliveries(limit)) {
    // Counted (and committed) before the handler runs: a handler that kills the process counts.
    if (const int attempts = s.store.count_replay(d.id); attempts > s.options.max_replays) {
      const std::string reason =
          "not handled after " + std::to_string(s.options.max_replays) + " replays (one per start)";
      s.store.park_delivery(d.id, reason, s.clock_.now());
      // Names the delivery, never its payload (a report's text may be sensitive).
      spdlog::error(
          "inbox: delivery {} ({} envelope {}, key {}, received {}) parked as a dead letter: {}. It is kept "
          "in the store's inbox table (parked_at set) for an operator; docs/reliability.md says how to "
          "look at it and hand it back",
          d.id, d.type, d.envelope_id, d.key, policy::format_rfc3339(d.received_at), reason);
      if (s.options.on_parked) s.options.on_parked(d);
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

}  // namespace flare
