// The redaction engine: where rules run, how spans map back to raw bytes, and
// what must never change. Uses small explicit rule sets; the built-in
// catalogue has its own tests (catalogue_test.cc, redaction_corpus_test.cc).
#include "redact/redactor.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

#include "redact/json_strings.h"
#include "base/json.h"
#include "redact/key_names.h"
#include "tests/test_util.h"

using namespace tsync::redact;

namespace {

RuleSpec Rule(std::string id, std::string pattern, std::vector<std::string> keywords, int group = 0) {
  return RuleSpec{id, "test", "test rule", pattern, keywords, group, 0, false};
}

std::unique_ptr<Redactor> TestRedactor(std::vector<KeyRuleSpec> key_rules = {}) {
  auto r = Redactor::Create({Rule("demo-token", R"(\bdemo_[A-Za-z0-9]{20}\b)", {"demo_"}),
                             Rule("demo-pem", R"((?s)-----BEGIN DEMO KEY-----.*?-----END DEMO KEY-----)", {"-----begin"}),
                             Rule("demo-url-password", R"(https://[^:/\s]+:([^@\s]+)@)", {"https"}, 1)},
                            std::move(key_rules));
  REQUIRE(r.ok());
  return std::move(r).value();
}

void CheckStructure(std::string_view before, std::string_view after) {
  INFO(after);
  CHECK(tsync::testing::SameJsonStructure(before, after));
}

const std::string kToken = "demo_Ab3dE5gH7jK9mN1pQ2rS";

}  // namespace

TEST_CASE("a line with nothing to redact comes back byte-identical, without a copy", "[redactor]") {
  auto r = TestRedactor();
  std::string line = R"({"b":1.50,"a":"x\u00e9\/y","n":12345678901234567890,"s":"<b>&amp;</b>"})";
  RedactResult out = r->RedactLine(line);
  CHECK_FALSE(out.changed());
  CHECK(out.text().data() == line.data());
  CHECK(out.text() == line);
}

TEST_CASE("a secret changes only inside its span — key order, numbers and escapes stay", "[redactor]") {
  auto r = TestRedactor();
  std::string line = R"({"z":1.50,"cmd":"export T=)" + kToken + R"( && echo \"ok\"\n","a":[1,2e3]})";
  RedactResult out = r->RedactLine(line);
  REQUIRE(out.changed());
  CHECK(out.text() == R"({"z":1.50,"cmd":"export T=[REDACTED:demo-token] && echo \"ok\"\n","a":[1,2e3]})");
  CHECK(out.fired == std::vector<std::string_view>{"demo-token"});
  CheckStructure(line, out.text());
}

TEST_CASE("secrets are found whatever escapes the JSON writer used", "[redactor]") {
  auto r = TestRedactor();
  SECTION("PEM newlines written as \\n") {
    std::string line = R"({"content":"key:\n-----BEGIN DEMO KEY-----\nMIIBOgIBAAJBAK\n-----END DEMO KEY-----\ndone"})";
    RedactResult out = r->RedactLine(line);
    CHECK(out.text() == R"({"content":"key:\n[REDACTED:demo-pem]\ndone"})");
  }
  SECTION("\\/ in a URL") {
    std::string line = R"({"u":"https:\/\/alice:pa55w0rd!@example.org\/x"})";
    RedactResult out = r->RedactLine(line);
    CHECK(out.text() == R"({"u":"https:\/\/alice:[REDACTED:demo-url-password]@example.org\/x"})");
  }
  SECTION("\\uXXXX escapes inside the secret are replaced with it") {
    std::string line = R"({"t":"demo_Ab3dE5gH7jK9mN1pQ2r\u0053 end"})";
    RedactResult out = r->RedactLine(line);
    CHECK(out.text() == R"({"t":"[REDACTED:demo-token] end"})");
  }
  SECTION("a surrogate pair before the secret keeps offsets right") {
    std::string line = R"({"t":"\ud83d\ude80 )" + kToken + R"("})";
    RedactResult out = r->RedactLine(line);
    CHECK(out.text() == R"({"t":"\ud83d\ude80 [REDACTED:demo-token]"})");
  }
}

TEST_CASE("secret-named JSON keys redact their string values whole", "[redactor]") {
  auto r = TestRedactor();
  struct Case {
    std::string line, expected;
  };
  std::vector<Case> cases = {
      {R"({"password":"hunter2"})", R"({"password":"[REDACTED:json-secret-field]"})"},
      {R"({"clientSecret":"a8f!kq","x":1})", R"({"clientSecret":"[REDACTED:json-secret-field]","x":1})"},
      {R"({"API-Key":"k3y-v4lue-99"})", R"({"API-Key":"[REDACTED:json-secret-field]"})"},
      {R"({"db.password":"pw0rd123"})", R"({"db.password":"[REDACTED:json-secret-field]"})"},
      {R"({"refresh_token":"1//0gAbCdEf"})", R"({"refresh_token":"[REDACTED:json-secret-field]"})"},
      // Untouched: empty, placeholders, variables, numbers, objects, token counts, token types.
      {R"({"password":""})", R"({"password":""})"},
      {R"({"password":"${DB_PASSWORD}"})", R"({"password":"${DB_PASSWORD}"})"},
      {R"({"api_key":"<your-api-key>"})", R"({"api_key":"<your-api-key>"})"},
      {R"({"token":12345})", R"({"token":12345})"},
      {R"({"input_tokens":12,"output_tokens":7,"token_type":"Bearer"})", R"({"input_tokens":12,"output_tokens":7,"token_type":"Bearer"})"},
      {R"({"auth":{"user":"bob"}})", R"({"auth":{"user":"bob"}})"},
      {R"({"keyboard":"qwerty","monkey":"banana"})", R"({"keyboard":"qwerty","monkey":"banana"})"},
      // A secret-named string as an array element or a value is not a key.
      {R"(["password","hunter2"])", R"(["password","hunter2"])"},
      {R"({"field":"password","value":"x"})", R"({"field":"password","value":"x"})"},
  };
  for (const Case& c : cases) {
    INFO(c.line);
    RedactResult out = r->RedactLine(c.line);
    CHECK(out.text() == c.expected);
    CheckStructure(c.line, out.text());
  }
}

TEST_CASE("key names normalise across case, camelCase, kebab, dotted and spaced forms", "[redactor]") {
  CHECK(NormalizeKeyName("clientSecret") == "client_secret");
  CHECK(NormalizeKeyName("Client-Secret") == "client_secret");
  CHECK(NormalizeKeyName("client.secret") == "client_secret");
  CHECK(NormalizeKeyName("CLIENT_SECRET") == "client_secret");
  CHECK(NormalizeKeyName("HTTPProxyPassword") == "http_proxy_password");
  CHECK(NormalizeKeyName("apiKey") == "api_key");
  CHECK(IsSecretKeyName("DB_PASSWORD"));
  CHECK(IsSecretKeyName("x-api-key"));
  CHECK(IsSecretKeyName("privateKey"));
  CHECK(IsSecretKeyName("credentials"));
  CHECK_FALSE(IsSecretKeyName("max_tokens"));
  CHECK_FALSE(IsSecretKeyName("token_type"));
  CHECK_FALSE(IsSecretKeyName("nextPageToken"));
  CHECK_FALSE(IsSecretKeyName("public_key"));
  CHECK_FALSE(IsSecretKeyName("key"));
  CHECK_FALSE(IsSecretKeyName("keyboard"));
}

TEST_CASE("custom key rules redact values under matching keys", "[redactor]") {
  auto r = TestRedactor({KeyRuleSpec{"acme-license", "(?i)license_?code"}});
  RedactResult out = r->RedactLine(R"({"licenseCode":"ZX-91-QQ","other":"licence"})");
  CHECK(out.text() == R"({"licenseCode":"[REDACTED:acme-license]","other":"licence"})");
  auto bad = Redactor::Create({}, {KeyRuleSpec{"broken", "(unclosed"}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().kind() == tsync::Status::Kind::kConfig);
  CHECK(bad.status().message().find("broken") != std::string::npos);
}

TEST_CASE("redacting twice gives the same result as once", "[redactor]") {
  auto r = TestRedactor();
  std::vector<std::string> lines = {
      R"({"password":"hunter2","t":")" + kToken + R"("})",
      R"({"u":"https://a:b1c2d3@h/"})",
      "plain text with " + kToken + " inside",
  };
  for (const std::string& line : lines) {
    std::string once(r->RedactLine(line).text());
    RedactResult twice = r->RedactLine(once);
    CHECK_FALSE(twice.changed());
    CHECK(twice.text() == once);
  }
}

TEST_CASE("overlapping spans become one marker", "[redactor]") {
  auto r = Redactor::Create({Rule("long", R"(abc_[0-9]{10})", {"abc_"}), Rule("short", R"(_[0-9]{4})", {"abc_"})});
  REQUIRE(r.ok());
  RedactResult out = (*r)->RedactLine(R"({"s":"x abc_0123456789 y"})");
  CHECK(out.text() == R"({"s":"x [REDACTED:long] y"})");
  CHECK(out.fired.size() == 1);
}

TEST_CASE("lines that are not JSON are redacted as plain text", "[redactor]") {
  auto r = TestRedactor();
  for (std::string line : {"not json " + kToken, "{\"truncated\": \"" + kToken, "[1,2] trailing " + kToken}) {
    INFO(line);
    RedactResult out = r->RedactLine(line);
    CHECK(out.changed());
    CHECK(out.text().find(kToken) == std::string_view::npos);
  }
  CHECK(r->RedactText(R"({"password":"hunter2"})").text() == R"({"password":"hunter2"})");  // text is never JSON
}

TEST_CASE("hostile inputs finish (linear work)", "[redactor]") {
  auto r = TestRedactor();
  std::string begins;
  while (begins.size() < (256u << 10)) begins += "-----BEGIN";
  RedactResult a = r->RedactLine("{\"s\":\"" + begins + "\"}");
  CHECK_FALSE(a.changed());
  std::string spaces(4u << 20, ' ');
  RedactResult b = r->RedactLine(spaces + kToken);
  CHECK(b.changed());
  std::string huge = "{\"s\":\"" + std::string(20u << 20, 'a') + " " + kToken + "\"}";
  RedactResult c = r->RedactLine(huge);
  CHECK(c.changed());
  CHECK(c.text().size() == huge.size() - kToken.size() + std::string("[REDACTED:demo-token]").size());
  std::string keys = "{";
  for (int i = 0; i < 50000; ++i) keys += "\"svc" + std::to_string(i) + "_password\":\"v4lu3-" + std::to_string(i) + "\",";
  keys += "\"end\":1}";
  RedactResult d = r->RedactLine(keys);
  CHECK(d.fired.size() == 50000);
}

TEST_CASE("ScanJsonStrings tells keys from values and rejects non-JSON", "[redactor]") {
  std::vector<JsonString> s;
  REQUIRE(ScanJsonStrings(R"({"a":"b","c":["d",{"e":"f\"g"}],"h":1})", &s));
  REQUIRE(s.size() == 7);
  CHECK(s[0].is_key);
  CHECK_FALSE(s[1].is_key);
  CHECK(s[1].key == 0);
  CHECK(s[2].is_key);
  CHECK(s[3].key == -1);  // array element
  CHECK(s[5].key == 4);
  CHECK(s[5].has_escape);
  CHECK_FALSE(s[1].has_escape);
  CHECK_FALSE(ScanJsonStrings(R"({"a":"b")", &s));
  CHECK_FALSE(ScanJsonStrings(R"("just a string")", &s));
  CHECK_FALSE(ScanJsonStrings(R"({"a":1} {"b":2})", &s));
  CHECK_FALSE(ScanJsonStrings("", &s));
  CHECK(ScanJsonStrings(R"( {"a":"\\"} )", &s));
  CHECK(s[1].raw_end - s[1].raw_begin == 2);
}

TEST_CASE("StripUrlUserinfo removes credentials from remote URLs", "[redactor]") {
  CHECK(StripUrlUserinfo("https://user:ghp_tok@github.com/o/r.git") == "https://github.com/o/r.git");
  CHECK(StripUrlUserinfo("https://tok@github.com/o/r") == "https://github.com/o/r");
  CHECK(StripUrlUserinfo("https://github.com/o/r") == "https://github.com/o/r");
  CHECK(StripUrlUserinfo("git@github.com:o/r.git") == "git@github.com:o/r.git");
  CHECK(StripUrlUserinfo("ssh://git@host:22/r?x=a@b") == "ssh://host:22/r?x=a@b");
}

TEST_CASE("JSON documents inside strings are searched as JSON, with offsets mapped through both levels", "[redactor]") {
  auto r = TestRedactor();
  // A tool result holding `cat config.json`: the inner document's key rules
  // apply, and its own escapes (\n inside the PEM) are decoded too.
  std::string inner = R"({"db_password":"n3st3d!pw","key":"-----BEGIN DEMO KEY-----\nQUJD\n-----END DEMO KEY-----"})";
  std::string line = std::string(R"({"type":"tool_result","content":)");
  tsync::AppendJsonString(&line, inner);
  line += "}";
  RedactResult out = r->RedactLine(line);
  REQUIRE(out.fired.size() == 2);
  std::string expected_inner = R"({"db_password":"[REDACTED:json-secret-field]","key":"[REDACTED:demo-pem]"})";
  std::string expected = R"({"type":"tool_result","content":)";
  tsync::AppendJsonString(&expected, expected_inner);
  expected += "}";
  CHECK(out.text() == expected);
  CheckStructure(line, out.text());
}

TEST_CASE("a keyword that starts inside another keyword still wakes its rules", "[redactor]") {
  // The keyword scan resumes after a match, so "abcd" hid "cdef_key" in
  // "abcdef_key=" and the second rule never ran there (found by
  // fuzz/redactor_fuzz.cc as "AKIAccess_key = …": redacting twice fired again).
  auto made = Redactor::Create({Rule("abcd-id", R"(\babcd[0-9]{8}\b)", {"abcd"}),
                                Rule("cdef-key", R"(cdef_key=([A-Za-z0-9]{16}))", {"cdef_key"}, 1)});
  REQUIRE(made.ok());
  const Redactor& r = **made;
  for (std::string_view text : {"xabcdef_key=Q1w2E3r4T5y6U7i8", "ABcdef_key=Q1w2E3r4T5y6U7i8 and abcd12345678"}) {
    INFO(text);
    RedactResult out = r.RedactText(text);
    REQUIRE(out.changed());
    CHECK(out.text().find("Q1w2E3r4T5y6U7i8") == std::string_view::npos);
    bool fired = false;
    for (std::string_view id : out.fired) fired = fired || id == "cdef-key";
    CHECK(fired);
    CHECK_FALSE(r.RedactText(out.text()).changed());
  }
  RedactResult line = r.RedactLine(R"({"cmd":"abcdef_key=Q1w2E3r4T5y6U7i8"})");
  CHECK(line.text() == R"({"cmd":"abcdef_key=[REDACTED:cdef-key]"})");
}

TEST_CASE("a rule id inside a marker wakes no rule, so redacting twice equals once", "[redactor]") {
  // "[REDACTED:tok-password]" holds the keyword "passw": a second pass ran the
  // password rule near it, its search window grew, and a match the first pass
  // could not reach fired (found by fuzz/redactor_fuzz.cc).
  // A YAML-style line: the value, then an optional comment to the line's end.
  RuleSpec pw = Rule("pw", R"((?i)passw[a-z]*:[ \t]+([a-z0-9-]+)[ \t]*(?:#[^\n]*)?$)", {"passw"}, 1);
  pw.max_match_bytes = 40;
  auto made = Redactor::Create({pw, Rule("tok-password", R"(tok_[A-Z]{8})", {"tok_"})});
  REQUIRE(made.ok());
  const Redactor& r = **made;
  // The line ends beyond the password rule's reach: only the token is found.
  const std::string text = "passw: s3cr3t-hunter2 #" + std::string(60, 'x') + " tok_ABCDEFGH";
  RedactResult once = r.RedactText(text);
  REQUIRE(once.changed());
  CHECK(once.text() == "passw: s3cr3t-hunter2 #" + std::string(60, 'x') + " [REDACTED:tok-password]");
  CHECK_FALSE(r.RedactText(once.text()).changed());
}

TEST_CASE("a match that runs across a marker already in the text is cut around it, the marker kept", "[redactor]") {
  // The URL rule reads "admi[REDACTED" as the user name and the rest, up to
  // '@', as the password: the old marker was half overwritten (found by
  // fuzz/redactor_fuzz.cc: markers went from 1 to 1 with 1 rule fired).
  auto r = TestRedactor();
  const std::string text = "see https://admi[REDACTED:demo-token]n:hunter22@db.internal/app and more";
  RedactResult once = r->RedactText(text);
  REQUIRE(once.changed());
  CHECK(once.text() == "see https://admi[REDACTED:demo-token][REDACTED:demo-url-password]@db.internal/app and more");
  CHECK(once.fired.size() == 1);
  CHECK_FALSE(r->RedactText(once.text()).changed());

  // A match wholly inside old markers changes nothing.
  const std::string only = "https://u:[REDACTED:demo-token]@host";
  CHECK_FALSE(r->RedactText(only).changed());

  // In a JSON line the same.
  const std::string line = R"({"cmd":"psql https://admi[REDACTED:demo-token]n:hunter22@db"})";
  RedactResult in_json = r->RedactLine(line);
  CHECK(in_json.text() == R"({"cmd":"psql https://admi[REDACTED:demo-token][REDACTED:demo-url-password]@db"})");
}

TEST_CASE("redaction runs to a fixed point: a secret a marker brings into sight is redacted in the same call",
          "[redactor]") {
  // "HAKIA…" has no word boundary before AKIA; once the token before it is
  // a marker, "]AKIA…" has one — a second redaction found the key (found by
  // fuzz/redactor_fuzz.cc). Now the first call does.
  auto made = Redactor::Create(
      {Rule("tok", R"(tok_[A-Z]{8})", {"tok_"}), Rule("aws-like", R"(\bAKIA[A-Z0-9]{16}\b)", {"akia"})});
  REQUIRE(made.ok());
  const Redactor& r = **made;
  RedactResult once = r.RedactText("key tok_ABCDEFGHAKIAIOSFODNN7EXAMPLE end");
  CHECK(once.text() == "key [REDACTED:tok][REDACTED:aws-like] end");
  CHECK(once.fired.size() == 2);
  CHECK_FALSE(r.RedactText(once.text()).changed());
  RedactResult line = r.RedactLine(R"({"k":"tok_ABCDEFGHAKIAIOSFODNN7EXAMPLE"})");
  CHECK(line.text() == R"({"k":"[REDACTED:tok][REDACTED:aws-like]"})");
}
