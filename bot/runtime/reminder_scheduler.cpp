#include "bot/runtime/reminder_scheduler.hpp"

#include "commands/incident_checklist.hpp"
#include "messages/reminder_post.hpp"
#include "messages/report_reply.hpp"
#include "policy/disclosure.hpp"
#include "policy/facts_json.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <string_view>

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

constexpr std::string_view untriaged_nudge_step = "untriaged-nudge";
constexpr std::string_view untriaged_security_step = "untriaged-security";
// The obligation the untriaged steps are stored under (not a checklist item: classify ends it).
constexpr std::string_view triage_obligation = "triage";

bool is_untriaged_step(std::string_view step) {
  return step == untriaged_nudge_step || step == untriaged_security_step;
}

// Nobody has given it a severity yet (classify sets it, in the row and in the facts).
bool untriaged(const store::incident& inc) {
  if (inc.state != store::incident_state::open || inc.severity || inc.classification) return false;
  const auto parsed = policy::facts_from_json(inc.facts);
  return parsed.error || !parsed.value.severity;
}

}  // namespace

struct reminder_scheduler::impl {
  impl(asio::any_io_executor ex, store::store& s, const clock& c, const policy::tables& t,
       const policy::business_calendar& cal, reminder_settings rs, std::function<void()> wake)
      : timer(ex),
        store(s),
        clk(c),
        tables(t),
        calendar(cal),
        settings(std::move(rs)),
        wake_outbox(std::move(wake)) {}

  asio::steady_timer timer;
  store::store& store;
  const clock& clk;
  const policy::tables& tables;
  const policy::business_calendar& calendar;
  reminder_settings settings;
  std::function<void()> wake_outbox;
  bool stopped = false;

  static store::deadline_kind kind_of(std::string_view obligation) {
    if (obligation.starts_with(policy::obligation_ids::update_prefix)) return store::deadline_kind::update;
    if (obligation == policy::obligation_ids::resolution_message) return store::deadline_kind::resolution;
    return store::deadline_kind::initial;
  }

  void reschedule(std::int64_t id) {
    const auto now = clk.now();
    const auto inc = store.find_incident(id);
    if (!inc) {
      store.cancel_reminders(id);
      return;
    }
    const auto checklist = commands::stored_checklist(store, id, tables, calendar, now);
    if (!checklist) {
      // Stored facts are validated when written; keep the reminders rather than drop them.
      spdlog::warn("{}: reminders not recomputed, stored facts unreadable", inc->reference());
      return;
    }
    if (inc->state == store::incident_state::resolved) {
      // A resolved incident stops reminding once its resolution message is marked done (or is
      // not needed); until then everything still owed keeps reminding.
      const auto* resolution = checklist->find(policy::obligation_ids::resolution_message);
      if (!resolution || resolution->state != policy::obligation_state::pending) {
        store.cancel_reminders(id);
        return;
      }
    }
    const auto next = policy::next_reminders(*checklist, settings.obligations, calendar.zone(), now);
    std::vector<store::new_reminder> fresh;
    fresh.reserve(next.size() + 2);
    for (const auto& r : next) {
      fresh.push_back(
          store::new_reminder{kind_of(r.obligation_id), r.due, r.fire_at, r.step, r.obligation_id});
    }
    add_untriaged_steps(*inc, fresh);
    if (fresh.empty()) {
      store.cancel_reminders(id);
      return;
    }
    store.replace_pending_reminders(id, fresh);
  }

  // Issue 8: an incident nobody classifies is nudged after untriaged_after, then the Security
  // Team after twice that; each step once (sent ones are remembered in the reminders table), and
  // none once it is classified or resolved.
  void add_untriaged_steps(const store::incident& inc, std::vector<store::new_reminder>& fresh) {
    if (settings.untriaged_after.count() <= 0 || !untriaged(inc)) return;
    std::set<std::string, std::less<>> sent;
    for (const auto& r : store.reminders_for(inc.id))
      if (r.state == store::reminder_state::sent && is_untriaged_step(r.step)) sent.insert(r.step);
    const auto add = [&](std::string_view step, sys_seconds at) {
      if (sent.contains(step)) return;
      fresh.push_back(store::new_reminder{store::deadline_kind::initial, at, at, std::string{step},
                                          std::string{triage_obligation}});
    };
    add(untriaged_nudge_step, inc.created_at + settings.untriaged_after);
    add(untriaged_security_step, inc.created_at + 2 * settings.untriaged_after);
  }

  // An untriaged nudge, in the incident's thread; nothing when it was classified or resolved
  // meanwhile (the reschedule normally drops it first).
  bool fire_untriaged(const store::reminder& r, const store::incident& inc, sys_seconds now) {
    if (!untriaged(inc)) return false;
    const bool escalation = r.step == untriaged_security_step;
    // A sensitive incident's thread is in the private channel: the Security Team is nudged there.
    std::string group =
        escalation || inc.sensitive ? settings.security_team_group : settings.responders_group;
    if (group.empty()) group = settings.security_team_group;
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - inc.created_at);
    const auto m =
        messages::untriaged_nudge(inc.reference(), waited, group, escalation, settings.command_name);
    store::json payload{
        {"channel", inc.channel}, {"text", m.text}, {"blocks", m.blocks}, {"thread_of_incident", inc.id}};
    if (inc.thread_ts) payload["thread_ts"] = *inc.thread_ts;
    store.enqueue({"reminder:" + std::to_string(r.id), inc.id, "post", std::move(payload)}, now);
    spdlog::info("{}: untriaged after {}s; {} nudged", inc.reference(), waited.count(),
                 escalation ? "Security Team" : "responders");
    return true;
  }

  // One due reminder, in one transaction with its post and the next step of its ladder.
  bool fire(const store::reminder& r, sys_seconds now) {
    bool posted = false;
    bool untriaged_post = false;
    bool was_late = false;
    store.transaction([&] {
      auto late = now - r.fire_at;
      was_late = late > settings.late_grace;
      if (late <= settings.late_grace) late = std::chrono::seconds{0};
      if (!store.mark_reminder_sent(r.id, now, late)) return;  // someone else sent it
      const auto inc = store.find_incident(r.incident_id);
      if (!inc) return;
      if (is_untriaged_step(r.step)) {
        untriaged_post = fire_untriaged(r, *inc, now);
        return;
      }
      std::string title = r.obligation;
      if (const auto checklist = commands::stored_checklist(store, inc->id, tables, calendar, now)) {
        if (const auto* o = checklist->find(r.obligation)) title = o->title;
      }
      messages::slack_message m;
      if (r.obligation.empty()) {
        // Stored before checklists: the old reminder text.
        messages::reminder_view view{inc->id,
                                     inc->reference(),
                                     to_policy(r.kind),
                                     r.deadline,
                                     r.step,
                                     late,
                                     settings.security_team_group};
        m = messages::reminder_post(view, now);
      } else {
        messages::obligation_reminder_view view{
            inc->id,    inc->reference(), r.obligation, title,
            r.deadline, r.step,           late,         settings.security_team_group};
        m = messages::obligation_reminder_post(view, calendar.zone(), now);
      }
      store::json payload{
          {"channel", inc->channel}, {"text", m.text}, {"blocks", m.blocks}, {"thread_of_incident", inc->id}};
      if (inc->thread_ts) payload["thread_ts"] = *inc->thread_ts;
      store.enqueue({"reminder:" + std::to_string(r.id), inc->id, "post", std::move(payload)}, now);
      posted = true;
      // The next step of every ladder is the first one after now: recompute the incident.
      reschedule(inc->id);
    });
    if (posted && settings.on_sent) settings.on_sent(was_late, now > r.deadline);
    return posted || untriaged_post;
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

reminder_scheduler::reminder_scheduler(asio::any_io_executor executor, store::store& store,
                                       const clock& clock, const policy::tables& tables,
                                       const policy::business_calendar& calendar, reminder_settings settings,
                                       std::function<void()> wake_outbox)
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
