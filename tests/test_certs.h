// Self-signed certificates for tests that run tsync-refserver with TLS
// (tls_test.cc, security_test.cc), made with the OpenSSL C API: EC P-256,
// valid from an hour ago for a day. Header-only; link OpenSSL::Crypto.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace tsync::testing {
namespace test_certs {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

/// PEM files of a self-signed certificate and its private key.
struct CertFiles {
  std::string cert;
  std::string key;
};

/// Everything `bio` holds.
inline std::string Drain(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

inline void AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  REQUIRE(ext != nullptr);
  REQUIRE(X509_add_ext(cert, ext.get(), -1) == 1);
}

/// Writes `<name>.crt` and `<name>.key` into `dir`: a self-signed CA:TRUE
/// certificate for CN=`common_name` with subjectAltName `san` (OpenSSL
/// config syntax, e.g. "DNS:localhost,IP:127.0.0.1"). The serial is random,
/// so two certificates with the same name are still different CAs.
inline CertFiles MakeSelfSigned(const TempDir& dir, const std::string& name, const std::string& common_name,
                                const std::string& san) {
  KeyPtr key(EVP_EC_gen("P-256"));
  REQUIRE(key != nullptr);
  CertPtr cert(X509_new());
  REQUIRE(cert != nullptr);
  REQUIRE(X509_set_version(cert.get(), 2) == 1);  // v3
  std::random_device random;
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), static_cast<long>(random() & 0x7fffffff)) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600) != nullptr);
  REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  REQUIRE(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1);
  REQUIRE(X509_set_issuer_name(cert.get(), subject) == 1);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  AddExtension(cert.get(), &ctx, NID_subject_alt_name, san.c_str());
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

  BioPtr cert_pem(BIO_new(BIO_s_mem()));
  BioPtr key_pem(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(cert_pem.get(), cert.get()) == 1);
  REQUIRE(PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  CertFiles files{dir / (name + ".crt"), dir / (name + ".key")};
  WriteFile(files.cert, Drain(cert_pem.get()));
  WriteFile(files.key, Drain(key_pem.get()), 0600);
  return files;
}

}  // namespace test_certs

using test_certs::CertFiles;
using test_certs::MakeSelfSigned;

/// The refserver flags that serve `files`.
inline std::vector<std::string> TlsArgs(const CertFiles& files) {
  return {"--tls-cert", files.cert, "--tls-key", files.key};
}

}  // namespace tsync::testing
