// The weekly digest end to end through the fake Slack (issue 12): the scheduler on a manual
// clock enqueues the week's post once (even after a "restart": a new scheduler on the same
// store), the outbox posts it to the security channel, and the chart is uploaded there as a PNG.
#include "bot/runtime/digest_scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <stdexcept>

#include "bot/runtime/outbox.hpp"
#include "bot/slack/slack_files.hpp"
#include "bot/slack/web_api_client.hpp"
#include "bot/store/sqlite_store.hpp"
#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"
#include "tests/fake_slack/fake_slack.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

sys_seconds at(std::string_view t) { return *policy::parse_rfc3339(t); }

class digest_post_test : public ::testing::Test {
 protected:
  digest_post_test()
      : dir("flare-digest-e2e"),
        store_(store::sqlite_store::open((dir.path() / "flare.db").string(),
                                         store::sqlite_options{store::synchronous_mode::normal, 5000ms})),
        clock_(at("2026-11-23T07:00:00Z")),  // Monday, before the slot
        calendar_(tables_.calendar) {
    slack::web_api_options o;
    o.api_url = fake_.api_url();
    o.bot_token = fake_.options().bot_token;
    o.extra_ca_file = fake_.ca_file();
    o.connect_timeout = 3s;
    o.request_timeout = 5s;
    o.max_attempts = 1;
    o.channel_posts_per_second = 100;
    o.channel_burst = 100;
    client_ = std::make_unique<slack::web_api_client>(io_.get_executor(), o);
    files_ = std::make_unique<slack::web_slack_files>(io_.get_executor(), *client_, fake_.ca_file(), 5s);
    schedule_.day = date::Monday;
    schedule_.time_of_day = std::chrono::hours(9);
    schedule_.zone = date::locate_zone("Europe/Berlin");  // 09:00 CET is 08:00 UTC
  }
  ~digest_post_test() override {
    files_.reset();
    client_.reset();
    store_.reset();
  }
  std::unique_ptr<digest_scheduler> scheduler() {
    return std::make_unique<digest_scheduler>(io_.get_executor(), *store_, files_.get(), clock_, tables_,
                                              calendar_, schedule_, "G_SECURITY", [] {});
  }
  template <class T>
  T run(asio::awaitable<T> task) {
    std::optional<T> out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out = co_await std::move(task); }, asio::detached);
    io_.run_for(20s);  // bounded
    io_.restart();
    if (!out) throw std::runtime_error("did not finish");
    return *out;
  }

  testing::fake_slack fake_;
  asio::io_context io_;
  flare::testing::temp_dir dir;  // removed last, after the store is closed
  std::unique_ptr<store::sqlite_store> store_;
  manual_clock clock_;
  policy::tables tables_;
  policy::business_calendar calendar_;
  std::unique_ptr<slack::web_api_client> client_;
  std::unique_ptr<slack::web_slack_files> files_;
  digest_schedule schedule_;
};

TEST(digest_slots, the_slot_is_the_configured_local_day_and_time) {
  digest_schedule s;
  s.day = date::Monday;
  s.time_of_day = std::chrono::hours(9);
  s.zone = date::locate_zone("Europe/Berlin");
  EXPECT_EQ(last_digest_slot(s, at("2026-11-25T12:00:00Z")), at("2026-11-23T08:00:00Z"));
  EXPECT_EQ(next_digest_slot(s, at("2026-11-25T12:00:00Z")), at("2026-11-30T08:00:00Z"));
  EXPECT_EQ(last_digest_slot(s, at("2026-11-23T08:00:00Z")), at("2026-11-23T08:00:00Z"));
  EXPECT_EQ(next_digest_slot(s, at("2026-11-23T08:00:00Z")), at("2026-11-30T08:00:00Z"));
  // Summer time: 09:00 CEST is 07:00 UTC.
  EXPECT_EQ(last_digest_slot(s, at("2026-07-08T00:00:00Z")), at("2026-07-06T07:00:00Z"));
}

TEST_F(digest_post_test, the_digest_is_posted_once_a_week_with_its_chart_even_across_restarts) {
  store::new_incident f;
  f.title = "Tenant data leak";
  f.reporter = "U_REP";
  f.channel = "C_INCIDENTS";
  f.facts = policy::to_json(policy::facts{});
  store_->create_incident(f, "U_REP", at("2026-11-18T10:00:00Z"), {{"inputs", {{"title", f.title}}}});

  auto s = scheduler();
  EXPECT_FALSE(run(s->fire_if_due())) << "before the slot nothing fires";
  clock_.set(at("2026-11-23T08:00:05Z"));
  EXPECT_TRUE(run(s->fire_if_due()));
  EXPECT_FALSE(run(s->fire_if_due())) << "the same week fires once";
  auto restarted = scheduler();
  clock_.advance(1h);
  EXPECT_FALSE(run(restarted->fire_if_due())) << "a restart does not post the week again";

  outbox_sender outbox(io_.get_executor(), *store_, *client_, clock_);
  EXPECT_EQ(run(outbox.drain_once()), 1u);
  const auto posts = fake_.posted_messages();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["channel"], "G_SECURITY");
  EXPECT_NE(posts[0]["text"].get<std::string>().find("Weekly compliance digest: 1 opened"),
            std::string::npos);

  const auto asked = fake_.calls("files.getUploadURLExternal");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].body["filename"], "weekly-digest-2026-11-23.png");
  const auto uploads = fake_.calls("upload");
  ASSERT_EQ(uploads.size(), 1u);
  EXPECT_EQ(uploads[0].body["content"].get<std::string>().substr(0, 4), "\x89PNG");
  const auto shared = fake_.calls("files.completeUploadExternal");
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0].body["channel_id"], "G_SECURITY");

  // The next week fires again.
  clock_.set(at("2026-11-30T08:00:00Z"));
  EXPECT_TRUE(run(restarted->fire_if_due()));
}

TEST_F(digest_post_test, a_slot_missed_by_more_than_a_day_is_not_posted_late) {
  auto s = scheduler();
  clock_.set(at("2026-11-25T08:00:00Z"));
  EXPECT_FALSE(run(s->fire_if_due()));
  EXPECT_TRUE(fake_.calls("files.completeUploadExternal").empty());
}

}  // namespace
}  // namespace flare
