// The two Slack surfaces of issue 12 beyond messages: sharing files (the incident record, the
// digest's chart) and publishing a person's App Home tab. A separate interface from slack_api, so
// the transports that have neither (the console) need not pretend, and callers hold an optional
// pointer: none means "not available here", which they say to the person.
//
// web_slack_files implements it over the Web API client (bot/slack/web_api_client.hpp):
// - files: files.getUploadURLExternal, a POST of the bytes to the presigned upload URL (https
//   only, no token, the peer verified like every Slack connection, each step within the request
//   timeout, no retry here: the outbox's "upload" items start again from the first step when the
//   failure is transient, e.g. the upload URL answering 5xx, "upload_unavailable"), then
//   files.completeUploadExternal sharing them (docs/slack.md §5.7);
// - App Home: views.publish.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "bot/slack/slack_api.hpp"

namespace flare::slack {

class web_api_client;

// A file to share in a conversation.
struct file_upload {
  std::string filename;  // "INC-7-record.md"
  std::string title;     // shown in Slack
  std::string content;   // the bytes
};

class slack_files {
 public:
  virtual ~slack_files() = default;
  // Uploads `files` and shares them in `channel` (in the thread `thread_ts` when not empty) with
  // `comment` as the message. Returns the file ids.
  virtual boost::asio::awaitable<api_result<std::vector<std::string>>> upload_files(
      std::string channel, std::string thread_ts, std::string comment, std::vector<file_upload> files) = 0;
  // views.publish: the App Home tab of `user`.
  virtual boost::asio::awaitable<api_result<view_ref>> publish_home(std::string user,
                                                                    nlohmann::json view) = 0;
};

class web_slack_files final : public slack_files {
 public:
  // `client` must outlive this. `extra_ca_file` and `step_timeout` as for the client
  // (SLACK_CA_FILE, the request timeout). Throws std::runtime_error on an unusable CA file.
  web_slack_files(boost::asio::any_io_executor ex, web_api_client& client, const std::string& extra_ca_file,
                  std::chrono::milliseconds step_timeout);
  ~web_slack_files() override;

  boost::asio::awaitable<api_result<std::vector<std::string>>> upload_files(
      std::string channel, std::string thread_ts, std::string comment,
      std::vector<file_upload> files) override;
  boost::asio::awaitable<api_result<view_ref>> publish_home(std::string user, nlohmann::json view) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace flare::slack
