#include "redact/key_names.h"

#include <array>

namespace tsync::redact {

std::string NormalizeKeyName(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool upper = c >= 'A' && c <= 'Z';
    if (upper) {
      // A capital after a lower-case letter or digit starts a word (camelCase);
      // so does the last capital of a run followed by lower case (HTTPProxy).
      bool prev_lower = i > 0 && ((key[i - 1] >= 'a' && key[i - 1] <= 'z') || (key[i - 1] >= '0' && key[i - 1] <= '9'));
      bool run_end = i > 0 && key[i - 1] >= 'A' && key[i - 1] <= 'Z' && i + 1 < key.size() && key[i + 1] >= 'a' &&
                     key[i + 1] <= 'z';
      if ((prev_lower || run_end) && !out.empty() && out.back() != '_') out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == '-' || c == '.' || c == ' ' || c == '_') {
      if (!out.empty() && out.back() != '_') out.push_back('_');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

namespace {

// The last word (or the last two) of a normalised key that make it secret.
constexpr std::array<std::string_view, 12> kSecretLastWords = {
    "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "credential",
    "credentials", "auth", "authorization", "cookie"};
constexpr std::array<std::string_view, 9> kSecretLastPairs = {
    "api_key", "private_key", "access_key", "secret_key", "signing_key", "encryption_key",
    "master_key", "session_key", "account_key"};
// Names that end like a secret but hold none.
constexpr std::array<std::string_view, 12> kNotSecret = {
    "token_type", "next_token", "next_page_token", "page_token", "continuation_token", "csrf_token_name",
    "auth_type", "auth_method", "auth_url", "auth_mode", "auth_provider", "auth_domain"};

}  // namespace

bool IsSecretKeyName(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  std::string n = NormalizeKeyName(key);
  for (std::string_view no : kNotSecret) {
    if (n == no) return false;
  }
  size_t last = n.rfind('_');
  std::string_view word = last == std::string::npos ? std::string_view(n) : std::string_view(n).substr(last + 1);
  for (std::string_view w : kSecretLastWords) {
    if (word == w) return true;
  }
  if (last != std::string::npos) {
    size_t prev = n.rfind('_', last - 1);
    std::string_view pair = prev == std::string::npos || last == 0 ? std::string_view(n)
                                                                    : std::string_view(n).substr(prev + 1);
    for (std::string_view p : kSecretLastPairs) {
      if (pair == p) return true;
    }
  }
  return false;
}

}  // namespace tsync::redact
