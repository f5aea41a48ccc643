// The set-up the evidence tests (issue 12: export upload, App Home, digest post) share: a SQLite
// store in a temporary directory, the fake Slack over TLS, the real Web API client and files
// client on it (one attempt per call: the outbox does the retrying), a manual clock, the policy
// tables, and an outbox sender that sends "upload" items through the files client with a
// millisecond backoff. Each step runs on `io` for a bounded time (run, drain).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bot/runtime/clock.hpp"
#include "bot/runtime/outbox.hpp"
#include "bot/slack/slack_files.hpp"
#include "bot/slack/web_api_client.hpp"
#include "bot/store/sqlite_store.hpp"
#include "policy/business_calendar.hpp"
#include "policy/tables.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare::testing {

class evidence_fixture : public ::testing::Test {
 protected:
  evidence_fixture(const std::string& dir_name, sys_seconds start)
      : dir(dir_name),
        db(store::sqlite_store::open(
            dir.file("flare.db"),
            store::sqlite_options{store::synchronous_mode::normal, std::chrono::milliseconds(5000)})),
        wall_clock(start),
        calendar(tables.calendar) {
    slack::web_api_options o;
    o.api_url = fake.api_url();
    o.bot_token = fake.options().bot_token;
    o.extra_ca_file = fake.ca_file();
    o.connect_timeout = std::chrono::seconds(3);
    o.request_timeout = std::chrono::seconds(5);
    o.max_attempts = 1;
    o.channel_posts_per_second = 100;
    o.channel_burst = 100;
    client = std::make_unique<slack::web_api_client>(io.get_executor(), o);
    files = std::make_unique<slack::web_slack_files>(io.get_executor(), *client, fake.ca_file(),
                                                     std::chrono::seconds(5));
    outbox_options retry_fast;
    retry_fast.retry_initial = std::chrono::milliseconds(1);
    retry_fast.retry_max = std::chrono::milliseconds(5);
    outbox = std::make_unique<outbox_sender>(io.get_executor(), *db, *client, wall_clock, retry_fast);
    outbox->use_files(files.get());
  }
  ~evidence_fixture() override {
    outbox.reset();
    files.reset();
    client.reset();
    db.reset();
  }

 public:
  evidence_fixture(const evidence_fixture&) = delete;
  evidence_fixture& operator=(const evidence_fixture&) = delete;

 protected:
  // Runs `task` to its end on `io` (bounded: the fake answers at once).
  template <class T>
  T run(boost::asio::awaitable<T> task) {
    std::optional<T> out;
    boost::asio::co_spawn(
        io, [&]() -> boost::asio::awaitable<void> { out = co_await std::move(task); }, boost::asio::detached);
    io.run_for(std::chrono::seconds(20));
    io.restart();
    if (!out) throw std::runtime_error("did not finish");
    return std::move(*out);
  }
  void run(boost::asio::awaitable<void> task) {
    bool done = false;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          co_await std::move(task);
          done = true;
        },
        boost::asio::detached);
    io.run_for(std::chrono::seconds(20));
    io.restart();
    if (!done) throw std::runtime_error("did not finish");
  }
  // One pass over the outbox (outbox_sender::drain_once): every pending item once; an item that
  // failed transiently waits for the next pass. Returns how many were sent.
  std::size_t drain() { return run(outbox->drain_once()); }
  // What Slack shared: one entry per file of every successful files.completeUploadExternal (a
  // refused share or an upload never shared is not here), {"id", "name", "title", "content",
  // "channel", "thread_ts", "initial_comment"}.
  std::vector<nlohmann::json> shared_files() const {
    std::vector<nlohmann::json> out;
    for (const auto& c : fake.calls("files.shared")) out.push_back(c.body);
    return out;
  }

  // Destroyed in reverse: the clients and the store go before the fake and the directory.
  fake_slack fake;
  boost::asio::io_context io;
  temp_dir dir;
  std::unique_ptr<store::sqlite_store> db;
  manual_clock wall_clock;
  policy::tables tables;
  policy::business_calendar calendar;
  std::unique_ptr<slack::web_api_client> client;
  std::unique_ptr<slack::web_slack_files> files;
  std::unique_ptr<outbox_sender> outbox;
};

}  // namespace flare::testing
