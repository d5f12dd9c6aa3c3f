#include "testdata/fake_secrets.h"

#include "testdata/fake_text.h"

namespace tsync::testdata {
namespace {

std::string RandomFrom(Rng& rng, std::string_view alphabet, size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) s.push_back(alphabet[rng.Below(alphabet.size())]);
  return s;
}

constexpr std::string_view kUpperBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kKeyChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

std::string FakePem(Rng& rng) {
  std::string pem = "-----BEGIN RSA PRIVATE KEY-----\n";
  // Real RSA keys start "MIIE"; the rest is noise with a marker in it.
  std::string body = "MIIEowIBAAKCAQEAtsyncFAKEkeyFORtestsONLY";
  AppendBase64(rng, &body, 64 * 12 - body.size());
  for (size_t i = 0; i < body.size(); i += 64) pem.append(body, i, 64).push_back('\n');
  pem += "-----END RSA PRIVATE KEY-----";
  return pem;
}

}  // namespace

std::string_view SecretKindName(SecretKind kind) {
  switch (kind) {
    case SecretKind::kAwsAccessKeyId: return "aws_access_key_id";
    case SecretKind::kGithubToken: return "github_token";
    case SecretKind::kAnthropicApiKey: return "anthropic_api_key";
    case SecretKind::kPassword: return "password";
    case SecretKind::kPrivateKeyPem: return "private_key_pem";
  }
  return "unknown";
}

std::string MakeFakeSecret(Rng& rng, SecretKind kind) {
  switch (kind) {
    case SecretKind::kAwsAccessKeyId:
      return "AKIA" + RandomFrom(rng, kUpperBase32, 9) + "EXAMPLE";
    case SecretKind::kGithubToken:
      return "ghp_FAKE" + RandomFrom(rng, kAlnum, 32);
    case SecretKind::kAnthropicApiKey:
      return "sk-ant-api03-FAKE" + RandomFrom(rng, kKeyChars, 89) + "AA";
    case SecretKind::kPassword:
      return "password=fake-" + RandomFrom(rng, kAlnum, 12) + "!Pw";
    case SecretKind::kPrivateKeyPem:
      return FakePem(rng);
  }
  return {};
}

}  // namespace tsync::testdata
