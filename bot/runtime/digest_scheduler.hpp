// The weekly compliance digest (issue 12), posted to the security channel once a week at the
// configured day, time and zone (docs/configuration.md, `digest.*`). Each week's post is an
// outbox item keyed by its scheduled time ("weekly-digest/2026-11-23T08:00:00Z"): enqueueing the
// same key again returns the stored item, so a week is posted at most once even across
// restarts, and a post decided before a crash is made after it. The chart (PNG,
// messages/digest_chart.hpp) is an "upload" outbox item keyed by the same slot
// ("weekly-digest-chart/…"), enqueued in the same transaction, so it is uploaded once after the
// post and retried like any outbox item.
// After a restart a slot missed by less than `catch_up` is still posted; older ones are not.
// Time comes from the injected clock: tests call fire_if_due() after moving a manual clock.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <date/tz.h>

#include "bot/runtime/clock.hpp"
#include "bot/store/store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"

namespace flare {

struct digest_schedule {
  date::weekday day = date::Monday;
  std::chrono::minutes time_of_day{9 * 60};
  const date::time_zone* zone = nullptr;  // nullptr: UTC
};

// The latest scheduled time at or before `now`, and the first after it.
sys_seconds last_digest_slot(const digest_schedule& s, sys_seconds now);
sys_seconds next_digest_slot(const digest_schedule& s, sys_seconds now);

class digest_scheduler {
 public:
  // `upload_chart` false: no chart (the console cannot share files); the post still goes.
  digest_scheduler(boost::asio::any_io_executor ex, store::store& store, bool upload_chart,
                   const clock& clock, const policy::tables& tables,
                   const policy::business_calendar& calendar, digest_schedule schedule,
                   std::string security_channel, std::function<void()> wake_outbox,
                   std::chrono::seconds catch_up = std::chrono::hours(24));

  // Posts the latest slot's digest if it is due, within catch_up and not posted yet. True when
  // this call enqueued it.
  boost::asio::awaitable<bool> fire_if_due();
  // Waits for each slot (in steps of at most an hour, so a changed wall clock is noticed) and
  // fires it, until stop().
  boost::asio::awaitable<void> run();
  void stop();

 private:
  store::store& store_;
  bool upload_chart_;
  const clock& clock_;
  const policy::tables& tables_;
  const policy::business_calendar& calendar_;
  digest_schedule schedule_;
  std::string channel_;
  std::function<void()> wake_outbox_;
  std::chrono::seconds catch_up_;
  boost::asio::steady_timer timer_;
  std::optional<sys_seconds> fired_slot_;  // this process already decided this slot
  bool stopped_ = false;
};

}  // namespace flare
