// The weekly digest end to end through the fake Slack (issue 12): the scheduler on a manual
// clock enqueues the week's post once (even after a "restart": a new scheduler on the same
// store), the outbox posts it to the security channel, and the chart is uploaded there as a PNG.
#include "bot/runtime/digest_scheduler.hpp"

#include <gtest/gtest.h>

#include "policy/facts_json.hpp"
#include "policy/rfc3339.hpp"
#include "tests/support/evidence_fixture.hpp"

namespace flare {
namespace {

namespace asio = boost::asio;
using json = nlohmann::json;
using namespace std::chrono_literals;

sys_seconds at(std::string_view t) { return *policy::parse_rfc3339(t); }

class digest_post_test : public testing::evidence_fixture {
 protected:
  digest_post_test()
      : evidence_fixture("flare-digest-e2e", at("2026-11-23T07:00:00Z")) {  // Monday, before the slot
    schedule.day = date::Monday;
    schedule.time_of_day = std::chrono::hours(9);
    schedule.zone = date::locate_zone("Europe/Berlin");  // 09:00 CET is 08:00 UTC
  }
  std::unique_ptr<digest_scheduler> scheduler() {
    return std::make_unique<digest_scheduler>(io.get_executor(), *db, true, wall_clock, tables, calendar,
                                              schedule, "G_SECURITY", [] {});
  }
  void an_incident() {
    store::new_incident f;
    f.title = "Tenant data leak";
    f.reporter = "U_REP";
    f.channel = "C_INCIDENTS";
    f.facts = policy::to_json(policy::facts{});
    db->create_incident(f, "U_REP", at("2026-11-18T10:00:00Z"), {{"inputs", {{"title", f.title}}}});
  }

  digest_schedule schedule;
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
  an_incident();
  auto s = scheduler();
  EXPECT_FALSE(run(s->fire_if_due())) << "before the slot nothing fires";
  wall_clock.set(at("2026-11-23T08:00:05Z"));
  EXPECT_TRUE(run(s->fire_if_due()));
  EXPECT_FALSE(run(s->fire_if_due())) << "the same week fires once";
  auto restarted = scheduler();
  wall_clock.advance(1h);
  EXPECT_FALSE(run(restarted->fire_if_due())) << "a restart does not post the week again";

  EXPECT_EQ(drain(), 2u) << "the post, then its chart";
  const auto posts = fake.posted_messages();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["channel"], "G_SECURITY");
  EXPECT_NE(posts[0]["text"].get<std::string>().find("Weekly compliance digest: 1 opened"),
            std::string::npos);

  const auto asked = fake.calls("files.getUploadURLExternal");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].body["filename"], "weekly-digest-2026-11-23.png");
  const auto shared = shared_files();
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0]["content"].get<std::string>().substr(0, 4), "\x89PNG");
  EXPECT_EQ(shared[0]["channel"], "G_SECURITY");
  EXPECT_EQ(drain(), 0u) << "nothing is sent twice";

  // The next week fires again.
  wall_clock.set(at("2026-11-30T08:00:00Z"));
  EXPECT_TRUE(run(restarted->fire_if_due()));
}

TEST_F(digest_post_test, a_chart_upload_answered_with_500_is_retried_and_shared_once) {
  an_incident();
  testing::fault unavailable;
  unavailable.http_status = 503;
  fake.inject("upload", unavailable);
  wall_clock.set(at("2026-11-23T08:00:05Z"));
  EXPECT_TRUE(run(scheduler()->fire_if_due()));

  EXPECT_EQ(drain(), 1u) << "the post went; the chart met the 503";
  EXPECT_TRUE(shared_files().empty());
  ASSERT_EQ(db->pending_outbox(10).size(), 1u);
  EXPECT_EQ(db->pending_outbox(10)[0].kind, "upload");

  EXPECT_EQ(drain(), 1u);
  const auto shared = shared_files();
  ASSERT_EQ(shared.size(), 1u);
  EXPECT_EQ(shared[0]["name"], "weekly-digest-2026-11-23.png");
  EXPECT_EQ(fake.posted_messages().size(), 1u) << "the digest once, and no failure notice";
}

TEST_F(digest_post_test, a_chart_refused_for_good_is_said_in_the_security_channel) {
  an_incident();
  testing::fault refused;
  refused.http_status = 403;
  fake.inject("upload", refused);
  wall_clock.set(at("2026-11-23T08:00:05Z"));
  EXPECT_TRUE(run(scheduler()->fire_if_due()));
  drain();
  EXPECT_TRUE(shared_files().empty());
  EXPECT_TRUE(db->pending_outbox(10).empty());
  const auto posts = fake.posted_messages();
  ASSERT_EQ(posts.size(), 2u);
  const std::string notice = posts[1]["text"];
  EXPECT_EQ(posts[1]["channel"], "G_SECURITY");
  EXPECT_NE(notice.find("chart of the weekly compliance digest of 2026-11-23 could not be uploaded"),
            std::string::npos)
      << notice;
  EXPECT_NE(notice.find("flare digest --since 2026-11-16"), std::string::npos) << notice;
}

TEST_F(digest_post_test, a_slot_missed_by_more_than_a_day_is_not_posted_late) {
  auto s = scheduler();
  wall_clock.set(at("2026-11-25T08:00:00Z"));
  EXPECT_FALSE(run(s->fire_if_due()));
  EXPECT_TRUE(db->pending_outbox(10).empty());
}

}  // namespace
}  // namespace flare
