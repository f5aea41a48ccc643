// The outbox sender: every Slack post the bot decides on is first written to the store's outbox
// (in the same transaction as the change that decided it) and then sent from here, in order, with
// retries. So a post decided before a crash is made after the restart, and a post is never
// silently dropped: one that fails for good is logged with its incident reference.
//
// Payload of an outbox item, by kind (all fields strings unless noted):
//   "post":      {"channel", "text", "blocks"(array), "thread_ts"?, "thread_of_incident"?(int),
//                 "record_as"?: "card" | "thread"}
//                thread_of_incident: post in that incident's thread, resolved when sent (so a
//                decision enqueued right after its card lands under the card once it exists).
//                record_as "card": the post is the incident's card; its ts becomes card_ts (and
//                thread_ts when the incident had no thread yet). "thread": only sets thread_ts.
//                dm_user: a direct message to that user (conversations.open, then the post).
//   "update":    {"channel"?, "ts"?, "card_of_incident"?(int), "text", "blocks"}
//                card_of_incident: chat.update of that incident's card (channel + card_ts).
//   "ephemeral": {"channel", "user", "text", "blocks"}
//   "upload":    {"channel"?, "thread_ts"?, "thread_of_incident"?(int), "comment",
//                 "audit_action"?, "failure_notice"?}
//                Shares the item's files (store::outbox_files, written with the item by
//                enqueue_upload) with `comment` as the message: files.getUploadURLExternal, the
//                upload to the presigned URL and files.completeUploadExternal, all three again on
//                a transient failure (the upload URL answering 5xx or not at all; a file id whose
//                upload failed is never shared, so nothing appears twice). On success, with
//                incident_id and audit_action, the incident's audit log gets that entry (actor
//                "flare") with the file ids. When it fails for good (a 4xx, or the attempts run
//                out) and failure_notice is set, that text and the error are posted where the
//                files were to go, so the people waiting for them learn it.
// new_outbox_item.incident_id ties the item to its incident (used for logs: "INC-7", and to keep
// an incident's posts in order).
//
// One ordered queue ("lane") per destination: a channel, or a person for ephemeral replies. Lanes
// send concurrently, each in its own order, so a burst in #incidents (Slack paces posts to about
// one per second per channel) never holds back a Security Team ping in its private channel, a DM
// or a reply to one person. Public channels share a bounded number of concurrent sends; private
// channels (the security channel, DMs, G-channels) and ephemeral replies never wait for a public
// send. An incident's items stay in order across lanes: an item waits while an earlier item of
// its incident is unsent anywhere. Every pending item is loaded (in pages, up to max_loaded at a
// time, more as room frees), so nothing due waits for something new to arrive.
#pragma once

#include "bot/runtime/clock.hpp"
#include "bot/slack/slack_api.hpp"
#include "bot/slack/slack_files.hpp"
#include "bot/store/outbox_claims.hpp"
#include "bot/store/store.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

namespace flare {

struct outbox_options {
  int max_attempts = 8;  // per item, across restarts, for transient failures
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{60000};
  // Public channels sending at the same time. Slack allows about one post per second per channel
  // (the Web API client paces each channel) and several hundred per minute per workspace.
  std::size_t max_concurrent_public_sends = 8;
  // Pending items held in memory at once; the rest are read as these are sent.
  std::size_t max_loaded = 5000;
  // Channels whose lanes go first (the private security channel). DMs ("D...") and private
  // groups ("G...") are recognised by their id.
  std::set<std::string> private_channels;
  // How often the store is read for work nobody announced with wake().
  std::chrono::seconds look_every{60};
  // Several replicas share the store (PostgreSQL): every look re-reads all pending items, since
  // another replica may have enqueued one or died holding its claim (docs/postgresql.md).
  bool shared_store = false;
  // An item claimed by another replica (or waiting for an earlier post of its incident there) is
  // tried again after this.
  std::chrono::milliseconds claimed_elsewhere_retry{2000};
  // A shared store's claims (the PostgreSQL store; null: SQLite, no claims). The claims of the
  // posts this replica is sending are renewed every `claim_renew_every` (a third of
  // store.outbox_lease_seconds), for as long as each call takes, Retry-After waits included; so a
  // live replica never loses a post it is sending, and a dead one's post is taken over one lease
  // after the last renewal (outbox_claims.hpp).
  store::outbox_claims* claims = nullptr;
  std::chrono::milliseconds claim_renew_every{0};
};

struct outbox_stats {
  std::uint64_t sent = 0;
  std::uint64_t failed = 0;  // given up for good
  std::uint64_t retried = 0;
  std::uint64_t claims_lost = 0;  // claims found taken over at a renewal (the post may go twice)
};

class outbox_sender {
 public:
  outbox_sender(boost::asio::any_io_executor executor, store::store& store, slack::slack_api& slack,
                const clock& clock, outbox_options options = {});
  ~outbox_sender();

  // Where "upload" items go (none: they fail for good with "file uploads are not available
  // here"). Must outlive this; set before run().
  void use_files(slack::slack_files* files);
  // Something was enqueued: send it soon.
  void wake();
  // Sends pending items until stop(); each lane waits for wake(), a retry time or an earlier item
  // of its incident in between.
  boost::asio::awaitable<void> run();
  // Sends every item pending now, once each, in order (lanes still concurrent); returns how many
  // were sent. For the console, tests and shutdown (after stop(): it first lets the sends under
  // way finish, so nothing goes twice).
  boost::asio::awaitable<std::size_t> drain_once();
  void stop();
  std::size_t pending() const;
  const outbox_stats& stats() const;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace flare
