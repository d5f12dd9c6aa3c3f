// The real `tsync` binary against the refserver's limits and read faults:
// 1) a file the backend refuses for good once it holds the most chunks a
//    file may have (PROTOCOL.md "Limits": 30,000, here --max-chunks-per-file
//    2) is quarantined with the server's reason, while the other sessions
//    go on syncing;
// 2) `tsync verify` gets through 503s on the reads it makes, because the
//    SyncClient retries GETs (uploader/sync_client.h).
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tests/refserver_process.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

constexpr const char* kSessionA = "a1a1a1a1-1111-4111-8111-111111111111";
constexpr const char* kSessionB = "b2b2b2b2-2222-4222-8222-222222222222";

/// A private HOME with a Claude Code projects directory, and a way to run
/// `tsync` in it with the refserver's key for user 1.
struct ClaudeHome {
  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-limits";

  ClaudeHome() { std::filesystem::create_directories(project); }

  std::string Transcript(const char* session) const { return project + "/" + session + ".jsonl"; }

  /// Appends turn `n` (< 60, a complete line) to `session`'s transcript.
  void AddTurn(const char* session, int n) const {
    const std::string second = (n < 10 ? "0" : "") + std::to_string(n);
    const std::string line = R"({"type":"user","message":{"role":"user","content":"turn )" + std::to_string(n) +
                             R"("},"uuid":"u-)" + std::to_string(n) + R"(","sessionId":")" + session +
                             R"(","cwd":"/home/dev/limits","timestamp":"2026-01-02T03:04:)" + second + ".000Z\"}\n";
    const std::string path = Transcript(session);
    std::filesystem::exists(path) ? AppendFile(path, line) : WriteFile(path, line);
  }

  ProcessResult Run(std::vector<std::string> args) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude,
                             "TSYNC_API_KEY=k1"});
  }
};

/// What the refserver holds for `session`'s main transcript ("" when none).
std::string Stored(const RefServer& server, const char* session) {
  const Headers auth = {{"Authorization", "Bearer k1"}};
  Reply found = Send(server.port(), "GET", std::string("/api/v1/sessions/by-external-id/") + session, auth);
  simdjson::dom::parser parser;
  std::string_view id;
  if (found.status != 200 || parser.parse(found.body)["session_id"].get(id) != simdjson::SUCCESS) return "";
  Reply lines = Send(server.port(), "GET",
                     "/api/v1/sessions/" + std::string(id) + "/sync/file?file_name=" + session + ".jsonl", auth);
  REQUIRE(lines.status == 200);
  return lines.body;
}

}  // namespace

TEST_CASE("refserver limits: tsync save quarantines a file at the chunk limit — other sessions still sync",
          "[refserver][save]") {
  ClaudeHome h;
  RefServer server({"--max-chunks-per-file", "2"});
  const std::vector<std::string> save = {"save", "--all", "--to", server.url()};
  h.AddTurn(kSessionA, 1);
  h.AddTurn(kSessionA, 2);
  h.AddTurn(kSessionB, 1);

  ProcessResult first = h.Run(save);  // chunk 1 of A and of B
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  h.AddTurn(kSessionA, 3);
  ProcessResult second = h.Run(save);  // chunk 2 of A: the last one it may have
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  const std::string a_before = ReadWholeFile(h.Transcript(kSessionA));
  CHECK(Stored(server, kSessionA) == a_before);

  h.AddTurn(kSessionA, 4);
  h.AddTurn(kSessionB, 2);
  ProcessResult third = h.Run(save);
  INFO(third.out << third.err);
  CHECK(third.exit_code == 1);
  // The report names the file, its state and the server's reason.
  const std::string quarantined = std::string(kSessionA) + ".jsonl: quarantined";
  CHECK(third.out.find(quarantined) != std::string::npos);
  CHECK(third.out.find("too many chunks (limit: 2)") != std::string::npos);
  CHECK(Stored(server, kSessionA) == a_before);  // nothing of the refused chunk
  CHECK(Stored(server, kSessionB) == ReadWholeFile(h.Transcript(kSessionB)));

  // Quarantined, the file is not sent again; the run still says why it is not done.
  ProcessResult fourth = h.Run(save);
  INFO(fourth.out << fourth.err);
  CHECK(fourth.exit_code == 1);
  CHECK(fourth.out.find(quarantined) != std::string::npos);
  CHECK(Stored(server, kSessionA) == a_before);
}

TEST_CASE("refserver limits: tsync verify gets through 503s on its reads — GETs are retried", "[refserver][verify]") {
  ClaudeHome h;
  for (int n = 1; n <= 5; ++n) h.AddTurn(kSessionA, n);
  for (int n = 1; n <= 3; ++n) h.AddTurn(kSessionB, n);
  // A seeded server sees the same sequence of GETs every run (save makes
  // none but capabilities, which never fails; verify reads one session at a
  // time), so this seed always injects faults and never outlasts the
  // client's five attempts.
  RefServer server({"--read-fail-rate", "0.3", "--seed", "5"});
  ProcessResult saved = h.Run({"save", "--all", "--to", server.url()});
  INFO(saved.out << saved.err);
  REQUIRE(saved.exit_code == 0);
  CHECK(InjectedFaults(server.port(), "read_503") == 0);

  for (const char* session : {kSessionA, kSessionB}) {
    ProcessResult verified = h.Run({"verify", std::string(session).substr(0, 8), "--to", server.url()});
    INFO(session << "\n" << verified.out << verified.err);
    CHECK(verified.exit_code == 0);
  }
  CHECK(InjectedFaults(server.port(), "read_503") >= 1);
}

}  // namespace tsync::testing
