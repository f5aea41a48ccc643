// Files and the App Home over the Web API (bot/slack/slack_files.hpp): the three-step upload,
// the upload step being one HTTPS POST to Slack's presigned URL, and views.publish.
#include "bot/slack/slack_files.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <memory>

#include "bot/slack/errors.hpp"
#include "bot/slack/tls_context.hpp"
#include "bot/slack/web_api_client.hpp"

namespace flare::slack {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxAnswer = std::size_t{64} * 1024;  // Slack answers "OK - <length>"

api_error step_failure(const beast::error_code& ec, const std::string& what) {
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
    return make_api_error(error::timeout, "file upload: " + what + " timed out");
  return make_api_error(error::connection_failed, "file upload: " + what + " failed: " + ec.message());
}

// POSTs `body` to `url` with no credentials; the HTTP status on a 2xx, else an error:
// "invalid_upload_url", the transport codes of bot/slack/errors.hpp (timeouts: transient),
// "upload_unavailable" for 5xx, 408 and 429 (transient: the outbox tries the upload again) or
// "upload_failed" for any other status (the request is refused: final).
asio::awaitable<api_result<int>> post_to_upload_url(asio::any_io_executor ex, asio::ssl::context& tls,
                                                    std::string url, std::string body,
                                                    std::chrono::milliseconds step_timeout) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->scheme() != "https" || parsed->host_address().empty()) {
    // The URL is not logged: it is a credential for the upload.
    api_error bad;  // named: GCC 12 mishandles braced string literals in coroutines
    bad.code = "invalid_upload_url";
    bad.detail = "Slack returned an upload URL that is not https";
    co_return bad;
  }
  const std::string host = parsed->host_address();
  const std::string port = parsed->has_port() ? std::string(parsed->port()) : std::string("443");
  std::string target = std::string(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  // The resolver ignores per-operation cancellation: a timer cancels it.
  tcp::resolver resolver(ex);
  asio::steady_timer deadline(ex);
  bool timed_out = false;
  deadline.expires_after(step_timeout);
  deadline.async_wait([&](beast::error_code ec) {
    if (!ec) {
      timed_out = true;
      resolver.cancel();
    }
  });
  auto [rec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
  deadline.cancel();
  if (timed_out) co_return make_api_error(error::timeout, "file upload: resolving " + host + " timed out");
  if (rec) co_return step_failure(rec, "resolving " + host);

  beast::ssl_stream<beast::tcp_stream> stream(ex, tls);
  if (auto ec = prepare_tls_stream(stream, host))
    co_return make_api_error(error::tls_handshake_failed, "file upload: cannot set up TLS for " + host);
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(step_timeout);
  auto [cec, endpoint] = co_await tcp_layer.async_connect(endpoints, use_tuple);
  if (cec) co_return step_failure(cec, "connecting to " + host);
  tcp_layer.expires_after(step_timeout);
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) {
    if (is_tls_verification_failure(hec, stream.native_handle()))
      co_return make_api_error(error::tls_verification_failed,
                               "file upload: the TLS certificate of " + host + " was rejected (" +
                                   tls_verification_failure_reason(stream.native_handle()) + ")");
    co_return step_failure(hec, "TLS handshake with " + host);
  }

  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, std::string(parsed->encoded_host_and_port()));
  req.set(http::field::user_agent, "flare/0.1");
  req.set(http::field::content_type, "application/octet-stream");
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  tcp_layer.expires_after(step_timeout);
  auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
  if (wec) co_return step_failure(wec, "sending to " + host);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswer);
  tcp_layer.expires_after(step_timeout);
  auto [rdec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (rdec) co_return step_failure(rdec, "reading the answer of " + host);
  tcp_layer.expires_after(step_timeout);
  co_await stream.async_shutdown(use_tuple);  // best effort: the upload is done either way
  const int status = static_cast<int>(parser.get().result_int());
  if (status < 200 || status > 299) {
    api_error failed;
    failed.code = status >= 500 || status == 408 || status == 429 ? "upload_unavailable" : "upload_failed";
    failed.detail = "file upload: " + host + " answered HTTP " + std::to_string(status);
    co_return failed;
  }
  co_return status;
}

}  // namespace

struct web_slack_files::impl {
  asio::any_io_executor ex;
  web_api_client& client;
  std::shared_ptr<asio::ssl::context> tls;
  std::chrono::milliseconds step_timeout;
};

web_slack_files::web_slack_files(asio::any_io_executor ex, web_api_client& client,
                                 const std::string& extra_ca_file, std::chrono::milliseconds step_timeout)
    : impl_(std::make_unique<impl>(
          impl{std::move(ex), client, make_client_tls_context(extra_ca_file), step_timeout})) {}

web_slack_files::~web_slack_files() = default;

asio::awaitable<api_result<std::vector<std::string>>> web_slack_files::upload_files(
    std::string channel, std::string thread_ts, std::string comment, std::vector<file_upload> files) {
  nlohmann::json shared = nlohmann::json::array();
  std::vector<std::string> ids;
  for (auto& f : files) {
    // Named, not braced in the co_await: GCC 12 mishandles braced temporaries in coroutine frames.
    nlohmann::json request = nlohmann::json::object();
    request["filename"] = f.filename;
    request["length"] = f.content.size();
    auto r = co_await impl_->client.call("files.getUploadURLExternal", std::move(request));
    if (!r) co_return r.error();
    const auto url = r.value().find("upload_url");
    const auto id = r.value().find("file_id");
    if (url == r.value().end() || !url->is_string() || id == r.value().end() || !id->is_string())
      co_return make_api_error(error::invalid_response,
                               "files.getUploadURLExternal: no upload_url or file_id");
    auto up = co_await post_to_upload_url(impl_->ex, *impl_->tls, url->get<std::string>(),
                                          std::move(f.content), impl_->step_timeout);
    if (!up) co_return up.error();
    nlohmann::json entry = nlohmann::json::object();
    entry["id"] = id->get<std::string>();
    entry["title"] = f.title;
    shared.push_back(std::move(entry));
    ids.push_back(id->get<std::string>());
  }
  nlohmann::json body = nlohmann::json::object();
  body["files"] = std::move(shared);
  body["channel_id"] = channel;
  if (!thread_ts.empty()) body["thread_ts"] = thread_ts;
  if (!comment.empty()) body["initial_comment"] = comment;
  auto r = co_await impl_->client.call("files.completeUploadExternal", std::move(body));
  if (!r) co_return r.error();
  co_return ids;
}

asio::awaitable<api_result<view_ref>> web_slack_files::publish_home(std::string user, nlohmann::json view) {
  nlohmann::json body = nlohmann::json::object();
  body["user_id"] = user;
  body["view"] = std::move(view);
  auto r = co_await impl_->client.call("views.publish", std::move(body));
  if (!r) co_return r.error();
  view_ref ref;
  if (auto v = r.value().find("view"); v != r.value().end() && v->is_object()) {
    if (auto it = v->find("id"); it != v->end() && it->is_string()) ref.id = it->get<std::string>();
    if (auto it = v->find("hash"); it != v->end() && it->is_string()) ref.hash = it->get<std::string>();
  }
  co_return ref;
}

}  // namespace flare::slack
