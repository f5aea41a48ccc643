#include "bot/slack/tls_context.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

namespace flare {

namespace ssl = boost::asio::ssl;

namespace {

std::shared_ptr<ssl::context> build_client_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  // Slack requires TLS 1.2+; older versions are switched off outright, not just unpreferred.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("TLS: cannot require TLS 1.2 or newer");
  }
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);

  // The system trust store from OpenSSL's built-in locations, not set_default_verify_paths():
  // that one also reads SSL_CERT_FILE and SSL_CERT_DIR from the environment, so anything able to
  // set an environment variable could make flare trust its own CA, silently. The one way to add
  // trust is SLACK_CA_FILE, which adds to the system store and is named in every error.
  boost::system::error_code ec;
  for (const char* ignored : {"SSL_CERT_FILE", "SSL_CERT_DIR"}) {
    if (const char* v = std::getenv(ignored); v && *v) {
      spdlog::warn("TLS: {} is set and ignored; flare trusts the system store plus SLACK_CA_FILE only",
                   ignored);
    }
  }
  const char* file = X509_get_default_cert_file();
  const char* dir = X509_get_default_cert_dir();
  std::error_code fs_ec;
  const bool have_file = file && std::filesystem::is_regular_file(file, fs_ec);
  const bool have_dir = dir && std::filesystem::is_directory(dir, fs_ec);
  if (!have_file && !have_dir) {
    throw std::runtime_error(std::string("TLS: no system trust store at ") + (file ? file : "?") + " or " +
                             (dir ? dir : "?") + " (install ca-certificates)");
  }
  if (SSL_CTX_load_verify_locations(ctx->native_handle(), have_file ? file : nullptr,
                                    have_dir ? dir : nullptr) != 1) {
    throw std::runtime_error("TLS: cannot load the system trust store: " + last_tls_error().message());
  }

  if (!extra_ca_file.empty()) {
    // Checked first so the message says "missing" rather than OpenSSL's "no such file" wording.
    if (!std::ifstream(extra_ca_file).good()) {
      throw std::runtime_error("TLS: extra CA file (SLACK_CA_FILE) '" + extra_ca_file +
                               "' is missing or unreadable");
    }
    ctx->load_verify_file(extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error("TLS: extra CA file (SLACK_CA_FILE) '" + extra_ca_file +
                               "' holds no usable PEM certificate: " + ec.message());
    }
  }
  return ctx;
}

}  // namespace

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& extra_ca_file) {
  // Parsing the system CA bundle was half of start-up CPU, and the Web API and Socket Mode
  // clients each did it: a context still in use for the same extra CA file is shared instead
  // (an SSL_CTX is meant to be shared by connections; nothing changes it after this function).
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<ssl::context>> made;
  std::lock_guard lock(mu);
  auto& slot = made[extra_ca_file];
  if (auto ctx = slot.lock()) return ctx;
  auto ctx = build_client_tls_context(extra_ca_file);
  slot = ctx;
  return ctx;
}

bool is_tls_verification_failure(const boost::system::error_code& ec, SSL* ssl) {
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const auto code = static_cast<unsigned long>(ec.value());
    if (ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      return true;
    }
  }
  return ssl != nullptr && ec && SSL_get_verify_result(ssl) != X509_V_OK;
}

std::string tls_verification_failure_reason(SSL* ssl) {
  if (ssl == nullptr) return "unknown";
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return "certificate rejected";
  return X509_verify_cert_error_string(result);
}

bool looks_like_ip_address(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

boost::system::error_code last_tls_error() {
  return {static_cast<int>(ERR_get_error()), boost::asio::error::get_ssl_category()};
}

}  // namespace flare
