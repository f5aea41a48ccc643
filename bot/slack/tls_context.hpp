// TLS for every connection flare makes to Slack (Web API and Socket Mode): one client context
// that always verifies the peer, and the per-connection setup (SNI + host-name check).
// Include only from bot/*.cpp: it pulls in Asio's SSL headers (not Beast).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace flare {

// A TLS client context: TLS 1.2 or newer, verify_peer, the system trust store plus, when
// `extra_ca_file` is non-empty, the PEM certificates in that file (SLACK_CA_FILE: a corporate
// proxy's CA, or the test CA). Throws std::runtime_error naming the file if it can't be loaded.
// While a context made for the same `extra_ca_file` is still in use it is returned again, so the
// CA bundle is parsed once for both clients.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& extra_ca_file);

// Whether `host` is an IP literal (no SNI for those), and OpenSSL's latest error as an error_code.
bool looks_like_ip_address(const std::string& host);
boost::system::error_code last_tls_error();

// Prepares a client TLS stream (boost::asio::ssl::stream or boost::beast::ssl_stream) for `host`
// before its handshake: SNI, because Slack's edge serves several names from one address, and
// host-name verification, because a valid chain for some other name proves nothing.
// Returns an error when OpenSSL refuses the SNI name.
template <class TlsStream>
boost::system::error_code prepare_tls_stream(TlsStream& stream, const std::string& host) {
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
  // SNI carries names only; RFC 6066 forbids IP literals in it.
  if (!looks_like_ip_address(host) &&
      SSL_set_tlsext_host_name(stream.native_handle(), const_cast<char*>(host.c_str())) != 1) {
    return last_tls_error();
  }
  return {};
}

// True when a handshake failed because the peer's certificate was not trusted or not issued for
// the host: a configuration problem that retrying cannot fix.
bool is_tls_verification_failure(const boost::system::error_code& ec, SSL* ssl);

// Why verification failed, for logs ("unable to get local issuer certificate", ...).
std::string tls_verification_failure_reason(SSL* ssl);

}  // namespace flare
