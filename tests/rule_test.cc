#include "redact/rule.h"

#include <catch2/catch.hpp>

using namespace tsync::redact;

TEST_CASE("placeholders are recognised, real-shaped values are not", "[rule]") {
  for (const char* p : {"${API_KEY}", "{{ token }}", "<your-token>", "xxxxxxxxxxxx", "********", "AKIAXXXXXXXXXXXXXXXX",
                        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "your_api_key_here", "changeme", "sk-...", "…",
                        "[REDACTED:aws-access-key-id]", "password", "example", "00000000", "••••••••", "●●●●●●"}) {
    INFO(p);
    CHECK(IsPlaceholder(p));
  }
  for (const char* real : {"hunter2", "s3cr3t!", "AKIAIOSFODNN7EXAMPLE",
                           "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Tr0ub4dor&3"}) {
    INFO(real);
    CHECK_FALSE(IsPlaceholder(real));
  }
}

TEST_CASE("code-like values are recognised for shapeless rules", "[rule]") {
  for (const char* code : {"request.form", "settings.DB_PASSWORD", "db_password", "DB_PASSWORD", "getPassword",
                           "PasswordField", "str", "String", "None", "$DB_PASSWORD", "getpass()", "process.env.SECRET",
                           "cfg[\"password\"]", "user?.password"}) {
    INFO(code);
    CHECK(LooksLikeCode(code));
  }
  for (const char* secret : {"hunter2", "s3cr3t!", "Tr0ub4dor&3", "correct-horse-battery", "p4ss_w0rd",
                             "aB3xY9qZ"}) {
    INFO(secret);
    CHECK_FALSE(LooksLikeCode(secret));
  }
}

TEST_CASE("Shannon entropy in bits per byte", "[rule]") {
  CHECK(ShannonEntropy("") == 0);
  CHECK(ShannonEntropy("aaaa") == 0);
  CHECK(ShannonEntropy("abab") == Approx(1.0));
  CHECK(ShannonEntropy("abcdefgh") == Approx(3.0));
}

TEST_CASE("FindAll reports the secret group, skips placeholders, entropy failures and code", "[rule]") {
  RuleSpec spec{"t-assign", "test", "d", R"((?i)secret\s*=\s*(\S+))", {"secret"}, 1, 2.5, true};
  auto rule = CompiledRule::Compile(spec);
  REQUIRE(rule.ok());
  std::vector<Span> spans;
  std::string text = "SECRET=q8Zr!4vL secret = aaaa secret=${X} secret=settings.KEY secret=zQ3#kP9w";
  (*rule)->FindAll(text, &spans);
  REQUIRE(spans.size() == 2);
  CHECK(text.substr(spans[0].begin, spans[0].end - spans[0].begin) == "q8Zr!4vL");
  CHECK(text.substr(spans[1].begin, spans[1].end - spans[1].begin) == "zQ3#kP9w");
  CHECK(Marker("x-y") == "[REDACTED:x-y]");
}

TEST_CASE("FindAll goes on after the secret, not the match, so text matched after a secret is searched too",
          "[rule]") {
  // The YAML-style rules match a trailing comment up to the line's end; a
  // second assignment inside it was skipped, and a second redaction pass then
  // found it (fuzz/redactor_fuzz.cc).
  RuleSpec spec{"t-yaml", "test", "d", R"((?i)pw:[ \t]+([a-z0-9]+)[ \t]*(?:#[^\n]*)?$)", {"pw:"}, 1, 0, false};
  auto rule = CompiledRule::Compile(spec);
  REQUIRE(rule.ok());
  std::vector<Span> spans;
  std::string text = "pw: one1 # pw: two2";
  (*rule)->FindAll(text, &spans);
  REQUIRE(spans.size() == 2);
  CHECK(text.substr(spans[0].begin, spans[0].end - spans[0].begin) == "one1");
  CHECK(text.substr(spans[1].begin, spans[1].end - spans[1].begin) == "two2");
}

TEST_CASE("a rule whose every match begins with a keyword is searched at the hit only, anchored", "[rule]") {
  RuleSpec jwtish{"t-prefix", "test", "d", R"(\b(eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}))", {"eyj"}, 1, 0, false};
  auto rule = CompiledRule::Compile(jwtish);
  REQUIRE(rule.ok());
  CHECK((*rule)->match_starts_at_keyword());
  const std::string text = "token: eyJhbGciOiJI.zzzzzzzzzzzz and eyJnope";
  std::vector<Span> spans;
  (*rule)->FindAt(text, 7, text.size(), &spans);
  REQUIRE(spans.size() == 1);
  CHECK(text.substr(spans[0].begin, spans[0].end - spans[0].begin) == "eyJhbGciOiJI.zzzzzzzzzzzz");
  spans.clear();
  (*rule)->FindAt(text, 6, text.size(), &spans);  // a byte early: anchored, no match
  (*rule)->FindAt(text, 37, text.size(), &spans);  // the other "eyJ": not a token
  (*rule)->FindAt(text, 7, 20, &spans);  // the token does not end by 20
  CHECK(spans.empty());

  // Patterns whose matches may begin elsewhere keep the window search.
  for (const char* pattern : {R"((?i)\b(eyJ[a-z]{8,}))", R"(\b[MNO](eyJ[a-z]{8,}))", R"(\b(ey[A-Z]{8,}))"}) {
    INFO(pattern);
    auto other = CompiledRule::Compile(RuleSpec{"t-other", "test", "d", pattern, {"eyj"}, 1, 0, false});
    REQUIRE(other.ok());
    CHECK_FALSE((*other)->match_starts_at_keyword());
  }
}
