// A throwaway certificate authority for one test run, made with the OpenSSL 3 C API, so that
// tests exercise real peer verification (SLACK_CA_FILE) instead of switching it off.
#include "tests/fake_slack/fake_slack.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <stdlib.h>  // NOLINT(modernize-deprecated-headers): mkdtemp is POSIX, declared here

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace flare::testing {

namespace {

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct x509_free {
  void operator()(X509* p) const { X509_free(p); }
};
struct bio_free {
  void operator()(BIO* p) const { BIO_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test_ca: ") + what + " failed");
}

pkey_ptr make_key() {
  pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "EVP_PKEY_Q_keygen");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(added == 1, "X509_add_ext");
}

// A fresh random serial: verifiers may cache by issuer+serial across runs.
void set_random_serial(X509* cert) {
  BIGNUM* bn = BN_new();
  check(bn != nullptr && BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "BN_rand");
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  check(serial != nullptr, "BN_to_ASN1_INTEGER");
}

x509_ptr make_cert(EVP_PKEY* key, const std::string& common_name) {
  x509_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), 2) == 1, "X509_set_version");
  set_random_serial(cert.get());
  // Valid from an hour ago so a slightly skewed clock doesn't matter; short-lived on purpose.
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600) != nullptr, "notAfter");
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("flare tests"), -1, -1, 0) == 1,
        "subject O");
  check(
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
      "subject CN");
  return cert;
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::string subject_alt_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ',';
    out += (is_ip_address(n) ? "IP:" : "DNS:") + n;
  }
  return out;
}

std::string cert_pem(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::string key_pem(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace

struct test_ca::impl {
  std::filesystem::path dir;
  std::string ca_file;
  std::string server_cert_pem;
  std::string server_key_pem;
};

test_ca::test_ca(std::vector<std::string> server_names) : impl_(std::make_unique<impl>()) {
  if (server_names.empty()) throw std::invalid_argument("test_ca: no server names");

  pkey_ptr ca_key = make_key();
  x509_ptr ca = make_cert(ca_key.get(), "flare test CA");
  check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())) == 1, "CA issuer");
  add_extension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (CA)");

  pkey_ptr server_key = make_key();
  x509_ptr server = make_cert(server_key.get(), server_names.front());
  check(X509_set_issuer_name(server.get(), X509_get_subject_name(ca.get())) == 1, "issuer");
  add_extension(server.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(server.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(server.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  add_extension(server.get(), ca.get(), NID_subject_key_identifier, "hash");
  add_extension(server.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  add_extension(server.get(), ca.get(), NID_subject_alt_name, subject_alt_names(server_names));
  check(X509_sign(server.get(), ca_key.get(), EVP_sha256()) > 0, "X509_sign (server)");

  impl_->server_cert_pem = cert_pem(server.get());
  impl_->server_key_pem = key_pem(server_key.get());

  std::string templ = (std::filesystem::temp_directory_path() / "flare-test-ca-XXXXXX").string();
  check(mkdtemp(templ.data()) != nullptr, "mkdtemp");
  impl_->dir = templ;
  impl_->ca_file = (impl_->dir / "ca.pem").string();
  std::ofstream out(impl_->ca_file, std::ios::binary | std::ios::trunc);
  out << cert_pem(ca.get());
  out.close();
  if (!out) {
    std::error_code ec;
    std::filesystem::remove_all(impl_->dir, ec);
    throw std::runtime_error("test_ca: cannot write " + impl_->ca_file);
  }
}

test_ca::~test_ca() {
  std::error_code ec;  // a destructor must not throw; a leftover temp dir is harmless
  std::filesystem::remove_all(impl_->dir, ec);
}

const std::string& test_ca::ca_file() const { return impl_->ca_file; }
const std::string& test_ca::server_cert_pem() const { return impl_->server_cert_pem; }
const std::string& test_ca::server_key_pem() const { return impl_->server_key_pem; }

}  // namespace flare::testing
