// The planted-secret corpus: every positive rule example planted in every
// line shape of testdata/redaction_corpus.h must lose its secret (recall
// 100 %, reported per family), and no near-miss line may change at all.
// Also: the real sample transcripts come out as valid JSON with the same
// structure, byte-identical where nothing fired, and idempotent.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "redact/catalogue.h"
#include "redact/redactor.h"
#include "testdata/redaction_corpus.h"
#include "testdata/session_generator.h"
#include "tests/test_util.h"
#include "tests/rule_examples.h"

using namespace tsync::redact;
using tsync::redact::testing::RuleExample;

namespace {

const Redactor& Default() {
  static const std::unique_ptr<Redactor> r = std::move(Redactor::CreateDefault()).value();
  return *r;
}

std::vector<RuleExample> AllExamples() {
  std::vector<RuleExample> all;
  for (auto group : {testing::CloudExamples, testing::DevExamples, testing::SaasExamples, testing::GenericExamples}) {
    for (RuleExample& e : group()) all.push_back(std::move(e));
  }
  return all;
}

std::string FamilyOf(const std::string& rule_id) {
  for (const RuleSpec& s : BuiltinRules()) {
    if (s.id == rule_id) return s.family;
  }
  return "?";
}

// Every string of a JSON document, decoded, and recursively the strings of
// JSON documents nested inside strings: the forms a reader could recover.
void DecodedStrings(simdjson::dom::element e, int depth, std::vector<std::string>* out) {
  using T = simdjson::dom::element_type;
  if (e.type() == T::OBJECT) {
    simdjson::dom::object obj = e.get_object().value();
    for (auto field : obj) {
      out->emplace_back(field.key);
      DecodedStrings(field.value, depth, out);
    }
  } else if (e.type() == T::ARRAY) {
    simdjson::dom::array arr = e.get_array().value();
    for (auto v : arr) DecodedStrings(v, depth, out);
  } else if (e.type() == T::STRING) {
    std::string_view s = e.get_string().value();
    out->emplace_back(s);
    simdjson::dom::parser nested;
    simdjson::padded_string padded(s);
    simdjson::dom::element inner;
    if (depth < 3 && nested.parse(padded).get(inner) == simdjson::SUCCESS) DecodedStrings(inner, depth + 1, out);
  }
}

bool SecretSurvives(std::string_view line, const std::string& secret) {
  if (line.find(secret) != std::string_view::npos) return true;
  simdjson::dom::parser p;
  simdjson::padded_string padded(line);
  simdjson::dom::element root;
  if (p.parse(padded).get(root) != simdjson::SUCCESS) return true;  // cannot prove it gone
  std::vector<std::string> strings;
  DecodedStrings(root, 0, &strings);
  for (const std::string& s : strings) {
    if (s.find(secret) != std::string::npos) return true;
  }
  return false;
}

bool ParsesAsJson(std::string_view line) {
  simdjson::dom::parser p;
  simdjson::padded_string s(line);
  return p.parse(s).error() == simdjson::SUCCESS;
}

}  // namespace

TEST_CASE("planted secrets: recall is 100 % in every family and line shape", "[redaction-corpus]") {
  std::map<std::string, std::pair<int, int>> recall;  // family -> (caught, planted)
  for (const RuleExample& ex : AllExamples()) {
    if (ex.secret.empty()) continue;
    for (const auto& planted : tsync::testdata::PlantInContexts(ex.text)) {
      INFO("rule " << ex.rule_id << " in " << planted.context << ": " << planted.line);
      RedactResult r = Default().RedactLine(planted.line);
      std::string_view out = r.text();
      // Gone from the raw line and from every decoded string in it.
      REQUIRE(SecretSurvives(planted.line, ex.secret));  // the planting worked
      bool caught = !SecretSurvives(out, ex.secret);
      auto& [hit, total] = recall[FamilyOf(ex.rule_id)];
      hit += caught;
      ++total;
      CHECK(caught);
      CHECK(ParsesAsJson(out));
    }
  }
  std::printf("planted-secret recall by family:\n");
  for (const auto& [family, c] : recall) {
    std::printf("  %-20s %4d / %-4d %6.1f %%\n", family.c_str(), c.first, c.second, 100.0 * c.first / c.second);
  }
}

TEST_CASE("near misses planted in every line shape leave the line unchanged", "[redaction-corpus]") {
  for (const RuleExample& ex : AllExamples()) {
    if (!ex.secret.empty()) continue;
    for (const auto& planted : tsync::testdata::PlantInContexts(ex.text)) {
      INFO("near miss of " << ex.rule_id << " in " << planted.context << ": " << planted.line);
      RedactResult r = Default().RedactLine(planted.line);
      if (r.changed()) INFO("fired: " << r.fired[0] << " -> " << r.text());
      CHECK_FALSE(r.changed());
    }
  }
}

TEST_CASE("the real samples stay valid JSON with the same structure, idempotent", "[redaction-corpus]") {
  namespace fs = std::filesystem;
  int files = 0, lines = 0;
  for (const auto& entry : fs::recursive_directory_iterator(TSYNC_SAMPLES_DIR)) {
    if (entry.path().extension() != ".jsonl") continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      ++lines;
      INFO(entry.path().string() << " line " << lines);
      RedactResult once = Default().RedactLine(line);
      if (!once.changed()) {
        CHECK(once.text().data() == line.data());
        continue;
      }
      CHECK(ParsesAsJson(once.text()));
      std::string first(once.text());
      RedactResult twice = Default().RedactLine(first);
      CHECK_FALSE(twice.changed());
    }
  }
  CHECK(files == 4);
  CHECK(lines > 80);
}

TEST_CASE("the samples' planted secrets are redacted", "[redaction-corpus]") {
  std::ifstream in(std::string(TSYNC_SAMPLES_DIR) + "/claude-code-2.1.328/hook-inputs.jsonl");
  std::string all, line;
  while (std::getline(in, line)) all += std::string(Default().RedactLine(line).text()) + "\n";
  CHECK(all.find("sk-ant-api03-AAAA") == std::string::npos);
  CHECK(all.find("hunter2") == std::string::npos);
  CHECK(all.find("[REDACTED:") != std::string::npos);
}

TEST_CASE("generated sessions: same structure, idempotent, every planted secret gone", "[redaction-corpus]") {
  tsync::testing::TempDir dir;
  tsync::testdata::GeneratorOptions options;
  options.seed = 11;
  options.target_bytes = 2u << 20;
  options.agents = 3;
  options.layout = tsync::testdata::AgentLayout::kBoth;
  options.workflow = true;
  options.image_rate = 0.05;
  options.plant_secrets = true;
  auto session = tsync::testdata::GenerateSession(dir / "projects", options);
  REQUIRE(session.ok());
  REQUIRE(session->secrets.size() >= 10);
  std::map<std::string, std::vector<std::string>> redacted;  // path -> lines out
  size_t lines = 0, changed = 0;
  for (const auto& f : session->files) {
    std::ifstream in(f.path, std::ios::binary);
    for (std::string line; std::getline(in, line);) {
      ++lines;
      RedactResult r = Default().RedactLine(line);
      std::string out(r.text());
      if (r.changed()) {
        ++changed;
        INFO(f.path << " line " << redacted[f.path].size() + 1);
        CHECK(tsync::testing::SameJsonStructure(line, out));
        CHECK_FALSE(Default().RedactLine(out).changed());
      } else {
        CHECK(r.text().data() == line.data());
      }
      redacted[f.path].push_back(std::move(out));
    }
  }
  for (const auto& secret : session->secrets) {
    INFO(tsync::testdata::SecretKindName(secret.kind) << " at " << secret.path << ":" << secret.line);
    const auto& out = redacted[secret.path];
    REQUIRE(secret.line >= 1);
    REQUIRE(secret.line <= out.size());
    CHECK_FALSE(SecretSurvives(out[secret.line - 1], secret.value));
  }
  // Clean lines far outnumber the planted ones: nothing else may change.
  CHECK(changed < lines / 20);
}

TEST_CASE("what must never be redacted stays byte-identical under the whole catalogue", "[redaction-corpus]") {
  std::string b64;  // a thinking signature / image payload: random-looking base64
  uint64_t x = 88172645463325252ull;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < (1 << 20); ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b64.push_back(alphabet[x % 64]);
  }
  std::vector<std::string> lines = {
      R"({"type":"assistant","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","content":[{"type":"thinking","thinking":"Let me check.","signature":")" +
          b64.substr(0, 4096) + R"("}]},"requestId":"req_011CSHrXcrA2pG5fMZUq3Lk3"})",
      R"({"type":"user","message":{"content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":")" + b64 +
          R"("}}]}})",
      R"({"type":"user","message":{"content":[{"tool_use_id":"toolu_01A09q90qw90lq917835lq9","type":"tool_result","content":"commit 8f14e45fceea167a5a36dedd4bea2543a3e1f7c2\nAuthor: Dev <dev@example.com>\n\n    Fix the password reset flow"}]}})",
      R"({"uuid":"7c9e6679-7425-40de-944b-e07fc1f98ae1","parentUuid":"550e8400-e29b-41d4-a716-446655440000","sessionId":"29a570ad-a0aa-4b9d-bb21-a8fcb685d10e"})",
      R"({"content":"\"integrity\": \"sha512-9VyG4HbNGzJxq0nMd9wZfXcQ1nBkA8gq0Hk0T1b6hTq0mYk4n2tH0RZ6pVh8XdyqAn1mF2YbKzZ1Qo2f7H3uCg==\""})",
      R"({"content":"FROM node@sha256:3e9f1d6b1c4c2a8f1f3b8e2a7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c"})",
      R"({"content":"Edit /home/dev/demo-project/src/auth/password_reset_controller.ts and tests/auth/token_refresh.test.ts"})",
      R"({"content":"const passwordField = form.elements.namedItem('password'); const refreshTokenTtl = config.refresh_token_ttl;"})",
      R"({"content":"The password must be at least 12 characters. Never commit your API key; rotate the token if it leaks."})",
      R"({"content":"export API_KEY=${API_KEY}\nexport DB_PASSWORD=<your-db-password>\nSTRIPE_SECRET_KEY=your_api_key_here\nTOKEN=xxxxxxxxxxxxxxxx"})",
      R"({"content":"$ git log --oneline\n4b825dc fix: task-management-service retries\n9fceb02 feat: add user_access_token_cache"})",
      R"({"usage":{"input_tokens":1523,"cache_creation_input_tokens":0,"cache_read_input_tokens":48112,"output_tokens":312}})",
  };
  for (const std::string& line : lines) {
    INFO(line.substr(0, 200));
    RedactResult r = Default().RedactLine(line);
    if (r.changed()) INFO("fired: " << r.fired[0]);
    CHECK_FALSE(r.changed());
  }
}
