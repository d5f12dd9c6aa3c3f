// Fake secrets for redaction tests: correctly shaped, obviously not real.
//
// Each kind matches the pattern secret scanners use for the real thing
// (AWS access key id, GitHub classic token, Anthropic API key, a
// `password=` assignment, a PEM private key), but carries a FAKE/EXAMPLE
// marker so no one mistakes generated data for a leak. A PEM block holds
// real newlines, so inside a JSON string it appears as `\n` escapes — the
// case redaction must handle after decoding.
// Thread-safety: pure functions of the Rng passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "testdata/rng.h"

namespace tsync::testdata {

enum class SecretKind {
  kAwsAccessKeyId,   // AKIA + 16 of [A-Z2-7], ending in EXAMPLE
  kGithubToken,      // ghp_ + 36 alphanumerics
  kAnthropicApiKey,  // sk-ant-api03- + 93 of [A-Za-z0-9_-] + AA
  kPassword,         // password=<value>
  kPrivateKeyPem,    // -----BEGIN RSA PRIVATE KEY----- ... END, 64-column base64
};
inline constexpr int kSecretKindCount = 5;

/// Where a fake secret was planted, so tests can check redaction found it.
struct PlantedSecret {
  SecretKind kind;
  std::string value;  // decoded text; inside the file it is JSON-escaped
  std::string path;   // file it was written to
  uint64_t line = 0;  // 1-based line number in that file
};

/// Stable lowercase name: "aws_access_key_id", "github_token", ...
std::string_view SecretKindName(SecretKind kind);

/// A fresh fake secret of `kind`.
std::string MakeFakeSecret(Rng& rng, SecretKind kind);

}  // namespace tsync::testdata
