// Integration tests: the real tsync binary, run as a user would, against the
// real Claude Code sample files. Each run gets its own HOME and config so
// nothing on the developer's machine leaks in.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/test_util.h"

using tsync::testing::ProcessResult;
using tsync::testing::RunProcess;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;

namespace {

struct CliFixture {
  TempDir home;
  std::string claude = home / ".claude";

  CliFixture() {
    std::filesystem::create_directories(claude + "/projects");
    std::filesystem::copy(std::string(TSYNC_SAMPLES_DIR) + "/claude-code-2.1.328/-home-dev-demo-project",
                          claude + "/projects/-home-dev-demo-project", std::filesystem::copy_options::recursive);
  }
  std::vector<std::string> Env(std::vector<std::string> extra = {}) const {
    std::vector<std::string> env = {"HOME=" + home.path(), "PATH=/usr/bin:/bin"};
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }
  ProcessResult Run(std::vector<std::string> args, std::vector<std::string> extra_env = {}) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, Env(std::move(extra_env)));
  }
};

}  // namespace

TEST_CASE("tsync scan reads the real samples, subagent included", "[cli]") {
  CliFixture fx;
  ProcessResult r = fx.Run({"scan", "--json"}, {"CLAUDE_CONFIG_DIR=" + fx.claude});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(r.out).get(doc) == simdjson::SUCCESS);
  simdjson::dom::array sessions = doc["sessions"].get_array();
  REQUIRE(sessions.size() == 2);

  simdjson::dom::element first = sessions.at(0);
  CHECK(std::string_view(first["session_id"]) == "29a570ad-a0aa-4b9d-bb21-a8fcb685d10e");
  simdjson::dom::array files = first["files"].get_array();
  REQUIRE(files.size() == 2);
  CHECK(std::string_view(files.at(0)["file_type"]) == "transcript");
  CHECK(uint64_t(files.at(0)["lines"]) == 45);
  CHECK(std::string_view(files.at(1)["file_name"]) == "agent-a9a14960adfa44d68.jsonl");
  CHECK(std::string_view(files.at(1)["file_type"]) == "agent");
  CHECK(uint64_t(files.at(1)["lines"]) == 15);

  simdjson::dom::element second = sessions.at(1);
  CHECK(std::string_view(second["session_id"]) == "f77208d6-3db0-4287-a546-37ae05a6bf08");
  CHECK(second["files"].get_array().size() == 1);
  CHECK(uint64_t(second["files"].at(0)["lines"]) == 23);
}

TEST_CASE("tsync scan selects by unique id prefix and explains misses", "[cli]") {
  CliFixture fx;
  ProcessResult one = fx.Run({"--claude-dir", fx.claude, "scan", "f77"});
  CHECK(one.exit_code == 0);
  CHECK(one.out.find("f77208d6-3db0-4287-a546-37ae05a6bf08.jsonl") != std::string::npos);
  CHECK(one.out.find("29a570ad") == std::string::npos);

  ProcessResult none = fx.Run({"--claude-dir", fx.claude, "scan", "zzz"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("no session id starts with 'zzz'") != std::string::npos);

  ProcessResult ambiguous = fx.Run({"--claude-dir", fx.claude, "scan", ""});
  CHECK(ambiguous.exit_code == 2);
  CHECK(ambiguous.err.find("matches 2 sessions") != std::string::npos);
}

TEST_CASE("tsync reports a missing Claude directory and bad usage with exit 2", "[cli]") {
  CliFixture fx;
  ProcessResult missing = fx.Run({"--claude-dir", fx.home / "nowhere", "scan"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("CLAUDE_CONFIG_DIR") != std::string::npos);

  ProcessResult usage = fx.Run({"frobnicate"});
  CHECK(usage.exit_code == 2);
}

TEST_CASE("tsync refuses a broken config file with exit 2 and names file and field", "[cli]") {
  CliFixture fx;
  std::string cfg = fx.home / "cfg.json";
  WriteFile(cfg, R"({"log_level": 3})", 0600);
  ProcessResult r = fx.Run({"scan"}, {"TSYNC_CONFIG=" + cfg, "CLAUDE_CONFIG_DIR=" + fx.claude});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(cfg) != std::string::npos);
  CHECK(r.err.find("log_level") != std::string::npos);

  WriteFile(cfg, "{not json", 0600);
  ProcessResult bad_json = fx.Run({"scan"}, {"TSYNC_CONFIG=" + cfg, "CLAUDE_CONFIG_DIR=" + fx.claude});
  CHECK(bad_json.exit_code == 2);
  CHECK(bad_json.err.find(cfg) != std::string::npos);
}

TEST_CASE("tsync redact streams a file, keeps unchanged lines and reports counts only", "[cli][redact]") {
  CliFixture fx;
  std::string cfg = fx.home / "cfg.json";
  WriteFile(cfg, R"({"redaction": {"rules": [{"id": "acme-token", "regex": "\\bacme_[a-z0-9]{16}\\b", "keywords": ["acme_"]}]}})",
            0600);
  std::string in = fx.home / "in.jsonl";
  const std::string secret = "acme_q1w2e3r4t5y6u7i8";
  WriteFile(in, "{\"a\":1,\"t\":\"key " + secret + " here\"}\n{\"b\":2.50}\nplain " + secret);  // no final newline
  ProcessResult r = fx.Run({"redact", "--report", in}, {"TSYNC_CONFIG=" + cfg});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "{\"a\":1,\"t\":\"key [REDACTED:acme-token] here\"}\n{\"b\":2.50}\nplain [REDACTED:acme-token]");
  CHECK(r.err.find("acme-token") != std::string::npos);
  CHECK(r.err.find("3 line(s), 2 changed, 2 redaction(s)") != std::string::npos);
  CHECK(r.err.find(secret) == std::string::npos);
}

TEST_CASE("tsync redact fails closed on a bad custom rule and on unreadable input", "[cli][redact]") {
  CliFixture fx;
  std::string cfg = fx.home / "cfg.json";
  WriteFile(cfg, R"({"redaction": {"rules": [{"id": "broken-rule", "regex": "(unclosed", "keywords": ["abc"]}]}})", 0600);
  std::string in = fx.home / "in.jsonl";
  WriteFile(in, "{}\n");
  ProcessResult bad = fx.Run({"redact", in}, {"TSYNC_CONFIG=" + cfg});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("broken-rule") != std::string::npos);
  CHECK(bad.out.empty());

  ProcessResult missing = fx.Run({"redact", fx.home / "nope.jsonl"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("nope.jsonl") != std::string::npos);
}
