// Summaries that belong to another session, end to end: the real `tsync save`
// against the real refserver, over a project where a resumed session's
// summary line points into the first session's transcript.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/summary_links.h"
#include "base/json.h"
#include "redact/redactor.h"
#include "tests/refserver_process.h"
#include "tests/rule_examples.h"
#include "tests/test_util.h"
#include "uploader/archive_sink.h"

namespace tsync::testing {
namespace {

constexpr const char* kFirst = "aaaaaaaa-1111-4111-8111-000000000001";
constexpr const char* kSecond = "bbbbbbbb-2222-4222-8222-000000000002";
constexpr const char* kThird = "cccccccc-3333-4333-8333-000000000003";
constexpr const char* kLeaf = "a4000000-0000-4000-8000-000000000004";  // the first session's last message

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string Message(const char* type, const std::string& uuid, const std::string& session, const std::string& text) {
  const std::string role = type;
  return R"({"parentUuid":null,"isSidechain":false,"type":")" + role + R"(","message":{"role":")" + role +
         R"(","content":)" + Quoted(text) + R"(},"uuid":")" + uuid + R"(","timestamp":"2025-06-01T10:00:00.000Z",)" +
         R"("cwd":"/home/dev/app","sessionId":")" + session + R"(","version":"2.0.20","gitBranch":"main"})" + "\n";
}

std::string Summary(const std::string& text, const std::string& leaf) {
  return R"({"type":"summary","summary":)" + Quoted(text) + R"(,"leafUuid":")" + leaf + "\"}\n";
}

/// A private HOME with one project, the refserver, and the real tsync.
struct Home {
  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-app";
  RefServer server;

  Home() {
    std::filesystem::create_directories(project);
    WriteFile(Transcript(kFirst), Message("user", "a1000000-0000-4000-8000-000000000001", kFirst, "fix the parser") +
                                      Message("assistant", "a2000000-0000-4000-8000-000000000002", kFirst, "Looking.") +
                                      Message("user", "a3000000-0000-4000-8000-000000000003", kFirst, "and the test") +
                                      Message("assistant", kLeaf, kFirst, "Both fixed."));
  }
  std::string Transcript(const std::string& id) const { return project + "/" + id + ".jsonl"; }
  /// The resumed session: its first line summarises the first session.
  void WriteSecond(const std::string& summary_of_first) const {
    WriteFile(Transcript(kSecond),
              Summary(summary_of_first, kLeaf) +
                  Message("user", "b1000000-0000-4000-8000-000000000001", kSecond, "continue with the docs") +
                  Message("assistant", "b2000000-0000-4000-8000-000000000002", kSecond, "Docs updated.") +
                  Summary("Docs for the parser", "b2000000-0000-4000-8000-000000000002"));
  }
  ProcessResult Tsync(std::vector<std::string> args) const {
    args.insert(args.begin(), TSYNC_BINARY);
    return RunProcess(args, {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude,
                             "TSYNC_BACKEND_URL=" + server.url(), "TSYNC_API_KEY=k1"});
  }
  /// Rows of `sql` (one text parameter) from the server's database.
  std::vector<std::vector<std::string>> Query(const char* sql, const std::string& param) const {
    std::vector<std::vector<std::string>> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* q = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, param.c_str(), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(q) == SQLITE_ROW) {
          rows.emplace_back();
          for (int c = 0; c < sqlite3_column_count(q); ++c) {
            const unsigned char* v = sqlite3_column_text(q, c);
            rows.back().emplace_back(v ? reinterpret_cast<const char*>(v) : "<null>");
          }
        }
      }
      sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return rows;
  }
  /// The session's current summary ("<null>" when none; "" when unknown).
  std::string SummaryOf(const std::string& external_id) const {
    auto rows = Query("SELECT summary FROM sessions WHERE external_id = ?1", external_id);
    return rows.empty() ? "" : rows[0][0];
  }
  /// Every summary PATCHed for the session, oldest first.
  std::vector<std::string> PatchesOf(const std::string& external_id) const {
    std::vector<std::string> out;
    for (auto& row : Query("SELECT m.summary FROM summaries m JOIN sessions s ON s.id = m.session_id "
                           "WHERE s.external_id = ?1 ORDER BY m.id",
                           external_id)) {
      out.push_back(row[0]);
    }
    return out;
  }
};

/// Answers SetSummary from a script (then OK) and records every call.
class ScriptedSink : public uploader::ArchiveSink {
 public:
  using ArchiveSink::ArchiveSink;
  std::vector<Status> script;
  std::vector<std::pair<std::string, std::string>> calls;
  Status SetSummary(const std::string& external_id, std::string_view summary) override {
    calls.emplace_back(external_id, std::string(summary));
    if (script.empty()) return Status::Ok();
    Status st = script.front();
    script.erase(script.begin());
    return st;
  }
};

}  // namespace

TEST_CASE("summaries: transient failures back off, a 404 waits for the target's sync, a restart picks up what waits",
          "[summary_links]") {
  TempDir dir;
  const std::string project = dir / "projects/-home-dev-app";
  const agent::SessionRef first{kFirst, project, project + "/" + kFirst + ".jsonl"};
  const agent::SessionRef second{kSecond, project, project + "/" + kSecond + ".jsonl"};
  WriteFile(first.transcript_path, Message("assistant", kLeaf, kFirst, "done"));
  WriteFile(second.transcript_path, Summary("About the first", kLeaf) +
                                        Message("user", "b1000000-0000-4000-8000-000000000001", kSecond, "go on"));
  const std::string dest = dir / "dest";
  auto redactor = redact::Redactor::CreateDefault();
  REQUIRE(redactor.ok());
  int64_t now = 1000;
  agent::SummaryLinksOptions options;
  options.now = [&now] { return now; };
  ScriptedSink sink(dir / "archive");
  {
    agent::SummaryLinks links(second, dest, **redactor, options);
    CHECK(links.Claim("", "no leaf"));
    CHECK(links.Claim("ffffffff-0000-4000-8000-00000000000f", "unknown leaf"));
    CHECK(links.Claim("b1000000-0000-4000-8000-000000000001", "our own leaf"));
    CHECK_FALSE(links.Claim(kLeaf, "About the first"));
    CHECK(agent::WaitingSummaryCount(dest, kFirst) == 1);
    sink.script = {Status::Transient("503 Service Unavailable")};
    links.Send(sink);
    REQUIRE(sink.calls.size() == 1);
    now += 10;
    links.Send(sink);
    CHECK(sink.calls.size() == 1);  // backing off (30 s)
  }
  // Another process of the same session: it finds what it left waiting.
  now += 31;
  sink.script = {Status::NotFound("Session not found")};
  agent::SummaryLinks again(second, dest, **redactor, options);
  again.Send(sink);
  CHECK(sink.calls.size() == 2);
  now += 7200;
  again.Send(sink);
  CHECK(sink.calls.size() == 2);  // a 404 waits for the target, however long
  CHECK(agent::WaitingSummaryCount(dest, kFirst) == 1);

  // The target's own pass (it is synced now) sends what waits for it.
  agent::SummaryLinks target(first, dest, **redactor, options);
  target.Send(sink);
  REQUIRE(sink.calls.size() == 3);
  CHECK(sink.calls.back() == std::make_pair(std::string(kFirst), std::string("About the first")));
  CHECK(target.sent() == 1);
  CHECK(agent::WaitingSummaryCount(dest, kFirst) == 0);

  // The line read again by a later process: already sent, nothing waits or goes out.
  agent::SummaryLinks later(second, dest, **redactor, options);
  CHECK_FALSE(later.Claim(kLeaf, "About the first"));
  CHECK(agent::WaitingSummaryCount(dest, kFirst) == 0);
  later.Send(sink);
  CHECK(sink.calls.size() == 3);
}

TEST_CASE("summaries: a resumed session's summary line sets the first session's summary once — not again after a "
          "restart",
          "[summary_links]") {
  Home h;
  h.WriteSecond("Fix the flaky parser test");
  ProcessResult save = h.Tsync({"save", "--all"});
  INFO(save.out << save.err);
  REQUIRE(save.exit_code == 0);
  CHECK(h.SummaryOf(kFirst) == "Fix the flaky parser test");
  CHECK(h.PatchesOf(kFirst) == std::vector<std::string>{"Fix the flaky parser test"});
  // The second session keeps its own summary (its leaf is in its own
  // transcript) and never gets the first one's.
  CHECK(h.SummaryOf(kSecond) == "Docs for the parser");
  CHECK(h.PatchesOf(kSecond).empty());

  // A new process, then the whole resumed transcript read and sent again (a
  // rewritten file starts a new generation): the summary line is seen again,
  // and skipped.
  REQUIRE(h.Tsync({"save", "--all"}).exit_code == 0);
  const std::string before = ReadWholeFile(h.Transcript(kSecond));
  WriteFile(h.Transcript(kSecond), R"({"type":"queue-operation","operation":"enqueue"})" "\n" + before);
  save = h.Tsync({"save", "--all"});
  INFO(save.out << save.err);
  REQUIRE(save.exit_code == 0);
  CHECK(h.Query("SELECT file_name FROM files WHERE file_name LIKE ?1", "%gen2%").size() == 1);
  CHECK(h.PatchesOf(kFirst) == std::vector<std::string>{"Fix the flaky parser test"});

  // Another text for the same session is another summary: sent once too.
  AppendFile(h.Transcript(kSecond), Summary("Fix the flaky parser test, take two", kLeaf));
  REQUIRE(h.Tsync({"save", "--all"}).exit_code == 0);
  REQUIRE(h.Tsync({"save", "--all"}).exit_code == 0);
  CHECK(h.PatchesOf(kFirst) ==
        std::vector<std::string>{"Fix the flaky parser test", "Fix the flaky parser test, take two"});
  CHECK(h.SummaryOf(kFirst) == "Fix the flaky parser test, take two");
  CHECK(ViolationCount(h.server.port(), "zstd_on_summary") == 0);
  CHECK(TotalViolations(h.server.port()) == 0);
}

TEST_CASE("summaries: a secret planted in another session's summary arrives redacted, controls removed",
          "[summary_links]") {
  std::string secret;
  for (const redact::testing::RuleExample& e : redact::testing::DevExamples()) {
    if (e.rule_id == "github-pat" && !e.secret.empty()) {
      secret = e.secret;
      break;
    }
  }
  REQUIRE_FALSE(secret.empty());
  Home h;
  h.WriteSecond("Rotated\tthe token " + secret + " in CI\x01");
  REQUIRE(h.Tsync({"save", "--all"}).exit_code == 0);
  const std::string stored = h.SummaryOf(kFirst);
  CHECK(stored == "Rotated the token [REDACTED:github-pat] in CI");
  CHECK(stored.find(secret) == std::string::npos);
  for (const std::string& p : h.PatchesOf(kFirst)) CHECK(p.find(secret) == std::string::npos);
}

TEST_CASE("summaries: a target not synced yet is retried after it is — leaves in the same or no transcript stay "
          "metadata",
          "[summary_links]") {
  Home h;
  h.WriteSecond("Fix the flaky parser test");
  // An agent file holding a uuid, and a session whose summary points there or nowhere.
  WriteFile(h.project + "/agent-a1b2c3d4.jsonl", Message("assistant", "ag000000-0000-4000-8000-000000000001",
                                                         "some-other-session", "agent work"));
  WriteFile(h.Transcript(kThird), Message("user", "c1000000-0000-4000-8000-000000000001", kThird, "hi") +
                                      Summary("About the agent", "ag000000-0000-4000-8000-000000000001") +
                                      Summary("About nothing known", "ffffffff-0000-4000-8000-00000000000f"));

  ProcessResult save = h.Tsync({"save", "bbbbbbbb", "cccccccc"});
  INFO(save.out << save.err);
  REQUIRE(save.exit_code == 0);
  CHECK(h.SummaryOf(kFirst).empty());  // not on the backend
  CHECK(h.SummaryOf(kThird) == "About nothing known");
  ProcessResult status = h.Tsync({"status", "--session", "aaaaaaaa", "--json"});
  CHECK(status.out.find("\"summaries_waiting\":1") != std::string::npos);

  save = h.Tsync({"save", "aaaaaaaa"});
  INFO(save.out << save.err);
  REQUIRE(save.exit_code == 0);
  CHECK(h.SummaryOf(kFirst) == "Fix the flaky parser test");
  CHECK(h.PatchesOf(kFirst).size() == 1);
  status = h.Tsync({"status", "--session", "aaaaaaaa", "--json"});
  CHECK(status.out.find("\"summaries_waiting\":0") != std::string::npos);

  REQUIRE(h.Tsync({"save", "--all"}).exit_code == 0);
  CHECK(h.PatchesOf(kFirst).size() == 1);
  CHECK(h.PatchesOf(kThird).empty());
  CHECK(h.PatchesOf(kSecond).empty());
  CHECK(TotalViolations(h.server.port()) == 0);
}

}  // namespace tsync::testing
