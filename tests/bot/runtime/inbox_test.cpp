// The inbox's replays after a restart: an unfinished delivery is replayed once per start, and one
// whose handler never finishes is parked as a dead letter after `max_replays`, named in the log
// and counted, instead of being replayed for ever or dropped.
#include "bot/runtime/inbox.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include "bot/store/sqlite_store.hpp"
#include "tests/support/temp_dir.hpp"

namespace flare {
namespace {

constexpr store::sys_seconds t0{std::chrono::seconds{1795338000}};

class inbox_replays : public ::testing::Test {
 protected:
  testing::temp_dir dir{"flare-inbox-test"};
  std::string path = dir.file("flare.db");
  manual_clock clock{t0};
  boost::asio::io_context io;
  std::vector<std::int64_t> parked;

  // One start of the bot: a fresh store connection and inbox, the unfinished deliveries it replays.
  std::vector<std::pair<std::int64_t, slack::envelope>> start() {
    auto db = store::sqlite_store::open(path);
    inbox_options o;
    o.max_replays = 3;
    o.on_parked = [this](const store::delivery& d) { parked.push_back(d.id); };
    inbox in(io.get_executor(), *db, clock, o);
    return in.unfinished(100);
  }
};

TEST_F(inbox_replays, a_delivery_that_never_finishes_is_parked_after_max_replays_and_the_rest_go_on) {
  std::int64_t poison = 0;
  {
    auto db = store::sqlite_store::open(path);
    const auto ids = db->record_deliveries(
        std::vector<store::new_delivery>{
            {store::inbox_key_for_event("Ev1"), "env-1", "events_api", {{"a", 1}}},
            {store::inbox_key_for_event("Ev2"), "env-2", "events_api", {{"a", 2}}}},
        t0);
    poison = *ids[0];
  }
  // Starts 1 to 3: both are replayed (the handlers "crash", so neither is marked done).
  for (int start_no = 1; start_no <= 3; ++start_no) {
    const auto replayed = start();
    ASSERT_EQ(replayed.size(), 2u) << "start " << start_no;
    EXPECT_EQ(replayed[0].first, poison);
    EXPECT_EQ(replayed[0].second.envelope_id, "env-1");
    EXPECT_FALSE(replayed[0].second.accepts_response_payload);
  }
  EXPECT_TRUE(parked.empty());
  // The second one is handled on the third start; the first never is.
  store::sqlite_store::open(path)->mark_deliveries_done(std::vector<std::int64_t>{poison + 1}, t0);

  const auto fourth = start();
  EXPECT_TRUE(fourth.empty());
  ASSERT_EQ(parked.size(), 1u);
  EXPECT_EQ(parked[0], poison);
  auto db = store::sqlite_store::open(path);
  const auto dead = db->parked_deliveries(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].envelope_id, "env-1");
  EXPECT_NE(dead[0].parked_reason.find("3 replays"), std::string::npos) << dead[0].parked_reason;
  // Not dropped: the row and its payload are still there.
  EXPECT_EQ(dead[0].payload, (store::json{{"a", 1}}));
  EXPECT_TRUE(start().empty());  // and never replayed again
  EXPECT_EQ(parked.size(), 1u);
}

}  // namespace
}  // namespace flare
