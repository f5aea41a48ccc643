#include "bot/runtime/reminder_scheduler.hpp"

#include "messages/reminder_post.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts_json.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace flare {
namespace asio = boost::asio;

namespace {

policy::reminder_kind to_policy(store::deadline_kind k) {
  switch (k) {
    case store::deadline_kind::initial: return policy::reminder_kind::initial;
    case store::deadline_kind::update: return policy::reminder_kind::update;
    case store::deadline_kind::resolution: return policy::reminder_kind::resolution;
  }
  return policy::reminder_kind::initial;
}

store::deadline_kind to_store(policy::reminder_kind k) {
  switch (k) {
    case policy::reminder_kind::initial: return store::deadline_kind::initial;
    case policy::reminder_kind::update: return store::deadline_kind::update;
    case policy::reminder_kind::resolution: return store::deadline_kind::resolution;
  }
  return store::deadline_kind::initial;
}

store::new_reminder to_new(const policy::ladder_step& s) {
  return store::new_reminder{to_store(s.kind), s.deadline, s.fire_at, s.step};
}

store::new_reminder to_new(const store::reminder& r) {
  return store::new_reminder{r.kind, r.deadline, r.fire_at, r.step};
}

}  // namespace

struct reminder_scheduler::impl {
  impl(asio::any_io_executor ex, store::store& s, const clock& c, const policy::tables& t,
       const policy::business_calendar& cal, reminder_settings rs, std::function<void()> wake)
      : timer(ex), store(s), clk(c), tables(t), calendar(cal), settings(std::move(rs)), wake_outbox(std::move(wake)) {}

  asio::steady_timer timer;
  store::store& store;
  const clock& clk;
  const policy::tables& tables;
  const policy::business_calendar& calendar;
  reminder_settings settings;
  std::function<void()> wake_outbox;
  bool stopped = false;

  void reschedule(std::int64_t id) {
    const auto now = clk.now();
    const auto inc = store.find_incident(id);
    if (!inc) {
      store.cancel_reminders(id);
      return;
    }
    auto parsed = policy::facts_from_json(inc->facts);
    if (!parsed) {
      // Stored facts are validated when written; keep the reminders rather than drop them.
      spdlog::warn("{}: reminders not recomputed, stored facts unreadable: {}", inc->reference(), parsed.error->text());
      return;
    }
    auto facts = std::move(parsed.value);
    if (inc->state == store::incident_state::resolved && !facts.resolved_at) facts.resolved_at = inc->resolved_at;
    const auto decision = policy::decide(facts, tables, calendar);

    std::vector<policy::sent_step> sent;
    for (const auto& r : store.reminders_for(id)) {
      if (r.state == store::reminder_state::sent) sent.push_back({to_policy(r.kind), r.deadline, r.fire_at, r.step});
    }
    const auto steps = policy::reminder_ladder(decision.customer_notifications.schedule, facts.notifications_sent,
                                               settings.ladder, now, sent);
    if (steps.empty()) {
      store.cancel_reminders(id);
      return;
    }
    std::vector<store::new_reminder> fresh;
    fresh.reserve(steps.size());
    for (const auto& s : steps) fresh.push_back(to_new(s));
    store.replace_pending_reminders(id, fresh);
  }

  // One due reminder, in one transaction with its post and its overdue follower.
  bool fire(const store::reminder& r, sys_seconds now) {
    bool posted = false;
    bool was_late = false;
    store.transaction([&] {
      auto late = now - r.fire_at;
      was_late = late > settings.late_grace;
      if (late <= settings.late_grace) late = std::chrono::seconds{0};
      if (!store.mark_reminder_sent(r.id, now, late)) return;  // someone else sent it
      const auto inc = store.find_incident(r.incident_id);
      if (!inc) return;
      messages::reminder_view view{inc->id, inc->reference(), to_policy(r.kind), r.deadline, r.step, late,
                                   settings.security_team_group};
      const auto m = messages::reminder_post(view, now);
      store::json payload{{"channel", inc->channel},
                          {"text", m.text},
                          {"blocks", m.blocks},
                          {"thread_of_incident", inc->id}};
      if (inc->thread_ts) payload["thread_ts"] = *inc->thread_ts;
      store.enqueue({"reminder:" + std::to_string(r.id), inc->id, "post", std::move(payload)}, now);
      posted = true;

      const policy::ladder_step fired{to_policy(r.kind), r.deadline, r.fire_at, r.step};
      if (const auto next = policy::next_overdue_step(fired, settings.ladder, now)) {
        std::vector<store::new_reminder> keep;
        for (const auto& other : store.reminders_for(inc->id))
          if (other.state == store::reminder_state::pending) keep.push_back(to_new(other));
        keep.push_back(to_new(*next));
        store.replace_pending_reminders(inc->id, keep);
      }
    });
    if (posted && settings.on_sent) settings.on_sent(was_late, now > r.deadline);
    return posted;
  }

  std::size_t fire_due() {
    const auto now = clk.now();
    std::size_t posted = 0;
    // One at a time, re-reading: firing may replace the incident's other pending reminders.
    // Bounded so a broken store cannot spin here.
    for (int guard = 0; guard < 100000; ++guard) {
      const auto due = store.due_reminders(now, 1);
      if (due.empty()) break;
      if (fire(due.front(), now)) ++posted;
    }
    if (posted > 0 && wake_outbox) wake_outbox();
    return posted;
  }
};

reminder_scheduler::reminder_scheduler(asio::any_io_executor executor, store::store& store, const clock& clock,
                                       const policy::tables& tables, const policy::business_calendar& calendar,
                                       reminder_settings settings, std::function<void()> wake_outbox)
    : impl_(std::make_unique<impl>(std::move(executor), store, clock, tables, calendar, std::move(settings),
                                   std::move(wake_outbox))) {}

reminder_scheduler::~reminder_scheduler() = default;

void reminder_scheduler::incident_changed(std::int64_t incident_id) {
  impl_->store.transaction([&] { impl_->reschedule(incident_id); });
  impl_->timer.cancel();  // the next reminder may now be earlier: re-arm
}

std::size_t reminder_scheduler::fire_due() { return impl_->fire_due(); }

asio::awaitable<void> reminder_scheduler::run() {
  auto& s = *impl_;
  while (!s.stopped) {
    std::chrono::seconds wait = s.settings.max_wait;
    try {
      s.fire_due();
      if (const auto next = s.store.next_pending_reminder()) {
        wait = std::clamp(std::chrono::duration_cast<std::chrono::seconds>(next->fire_at - s.clk.now()),
                          std::chrono::seconds{1}, s.settings.max_wait);
      }
    } catch (const std::exception& e) {
      // A store failure must not end reminders for good; try again after a pause.
      spdlog::error("reminders: {}", e.what());
      wait = std::chrono::seconds{30};
    }
    s.timer.expires_after(wait);
    co_await s.timer.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled: re-arm
  }
}

void reminder_scheduler::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace flare
