#include "bot/runtime/digest_scheduler.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "commands/weekly_digest.hpp"
#include "messages/digest_chart.hpp"
#include "messages/weekly_digest.hpp"
#include "policy/rfc3339.hpp"

namespace flare {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

// The slot in the week of local day `d` (a local midnight), as UTC.
sys_seconds slot_in_week_of(const digest_schedule& s, date::local_days d) {
  const date::local_days monday = d - (date::weekday{d} - date::Monday);
  const date::local_seconds local = monday + (s.day - date::Monday) + s.time_of_day;
  if (!s.zone) return sys_seconds{local.time_since_epoch()};
  // A slot in a DST gap or overlap is taken at the earlier instant: it still fires once.
  return date::floor<std::chrono::seconds>(s.zone->to_sys(local, date::choose::earliest));
}

date::local_days local_day(const digest_schedule& s, sys_seconds t) {
  if (!s.zone) return date::local_days{date::floor<date::days>(t).time_since_epoch()};
  return date::floor<date::days>(s.zone->to_local(t));
}

}  // namespace

sys_seconds last_digest_slot(const digest_schedule& s, sys_seconds now) {
  const auto today = local_day(s, now);
  sys_seconds slot = slot_in_week_of(s, today);
  if (slot > now) slot = slot_in_week_of(s, today - date::days(7));
  return slot;
}

sys_seconds next_digest_slot(const digest_schedule& s, sys_seconds now) {
  const auto today = local_day(s, now);
  sys_seconds slot = slot_in_week_of(s, today);
  if (slot <= now) slot = slot_in_week_of(s, today + date::days(7));
  return slot;
}

digest_scheduler::digest_scheduler(asio::any_io_executor ex, store::store& store, bool upload_chart,
                                   const clock& clock, const policy::tables& tables,
                                   const policy::business_calendar& calendar, digest_schedule schedule,
                                   std::string security_channel, std::function<void()> wake_outbox,
                                   std::chrono::seconds catch_up)
    : store_(store),
      upload_chart_(upload_chart),
      clock_(clock),
      tables_(tables),
      calendar_(calendar),
      schedule_(schedule),
      channel_(std::move(security_channel)),
      wake_outbox_(std::move(wake_outbox)),
      catch_up_(catch_up),
      timer_(ex) {}

void digest_scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
}

asio::awaitable<bool> digest_scheduler::fire_if_due() {
  const sys_seconds now = clock_.now();
  const sys_seconds slot = last_digest_slot(schedule_, now);
  if (now - slot > catch_up_ || channel_.empty() || fired_slot_ == slot) co_return false;
  const std::string when = policy::format_rfc3339(slot);
  const std::string key = "weekly-digest/" + when;
  const sys_seconds since = slot - std::chrono::days(7);
  const auto figures = commands::compute_digest(store_, tables_, calendar_, since, slot);
  json payload = messages::as_post_body(messages::digest_message(figures));
  payload["channel"] = channel_;

  // The chart goes with the post as an "upload" outbox item keyed by the same slot, enqueued in
  // the same transaction: sent once after the post, retried like it.
  const std::string day = when.substr(0, 10);
  std::vector<store::outbox_file> chart;
  if (upload_chart_) {
    try {
      store::outbox_file png;
      png.filename = "weekly-digest-" + day + ".png";
      png.title = "Compliance, last 12 weeks";
      png.content = messages::digest_chart_png(figures.weeks);
      chart.push_back(std::move(png));
    } catch (const std::exception& e) {
      spdlog::warn("digest: the chart could not be drawn: {}", e.what());
    }
  }
  store::new_outbox_item upload;
  upload.idempotency_key = "weekly-digest-chart/" + when;
  upload.kind = "upload";
  upload.payload = json::object();
  upload.payload["channel"] = channel_;
  upload.payload["comment"] = "Weekly compliance digest: the last 12 weeks";
  upload.payload["failure_notice"] = "The chart of the weekly compliance digest of " + day +
                                     " could not be uploaded. `flare digest --since " +
                                     policy::format_rfc3339(since).substr(0, 10) +
                                     " --out DIR` on the bot's host draws it.";
  store::new_outbox_item post;
  post.idempotency_key = key;
  post.kind = "post";
  post.payload = std::move(payload);
  bool fresh = false;
  store_.transaction([&] {
    // The store returns the first item for a known key: then this week was decided before (by
    // an earlier run; this run's own repeats are caught by fired_slot_).
    fresh = store_.enqueue(post, now).inserted;
    if (fresh && !chart.empty()) store_.enqueue_upload(upload, chart, now);
  });
  fired_slot_ = slot;
  if (!fresh) co_return false;
  if (wake_outbox_) wake_outbox_();
  spdlog::info("digest: weekly digest for {} enqueued for the security channel{}", when,
               chart.empty() ? "" : ", with its chart");
  co_return true;
}

asio::awaitable<void> digest_scheduler::run() {
  while (!stopped_) {
    try {
      co_await fire_if_due();
    } catch (const std::exception& e) {
      spdlog::error("digest: the weekly digest failed: {}", e.what());
    }
    const sys_seconds now = clock_.now();
    const auto wait =
        std::min<std::chrono::seconds>(next_digest_slot(schedule_, now) - now, std::chrono::hours(1));
    timer_.expires_after(std::max<std::chrono::seconds>(wait, std::chrono::seconds(1)));
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace flare
