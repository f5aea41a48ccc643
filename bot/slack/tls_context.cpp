#include "bot/slack/tls_context.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fstream>
#include <stdexcept>

namespace flare {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& extra_ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  // Slack requires TLS 1.2+; older versions are switched off outright, not just unpreferred.
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("TLS: cannot require TLS 1.2 or newer");
  }
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);

  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) throw std::runtime_error("TLS: cannot load the system trust store: " + ec.message());

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
