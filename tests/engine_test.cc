// The engine (agent/engine.h) in-process, for what the CLI tests cannot
// reach cheaply: a chunk, or a single line, that redaction makes outgrow the
// 16 MiB cap, and a backend that forgets the session mid-sync.
#include "agent/engine.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.h"

#include "tests/test_util.h"
#include "tracker/chunk_reader.h"
#include "uploader/archive_sink.h"

namespace tsync::agent {
namespace {

using testing::TempDir;

constexpr const char* kSessionId = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
const std::string kRuleId = "expanding-test-rule-with-a-deliberately-long-identifier-0123456789";

/// Every "qqq" becomes a marker ~20 times its size.
std::unique_ptr<redact::Redactor> ExpandingRedactor() {
  redact::RuleSpec rule{kRuleId, "custom", "test", "qqq", {"qqq"}, 0, 0, false};
  auto redactor = redact::Redactor::Create({rule});
  REQUIRE(redactor.ok());
  return std::move(redactor).value();
}

/// A JSON line of about `bytes` bytes whose text is "qqq qqq …".
std::string QqqLine(int n, size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += "qqq ";
  return "{\"n\":" + std::to_string(n) + ",\"t\":\"" + text + "\"}\n";
}

SyncOptions QuietOptions() {
  SyncOptions options;
  options.git_timeout = std::chrono::milliseconds(0);
  options.sleep = [](std::chrono::milliseconds) {};
  return options;
}

std::vector<std::string> Stored(uploader::Sink& sink, const std::string& file_name) {
  Result<std::string> sid = sink.FindSession(kSessionId);
  REQUIRE(sid.ok());
  Result<std::vector<std::string>> stored = sink.ReadLines(*sid, file_name, 0);
  REQUIRE(stored.ok());
  return *stored;
}

/// Forwards to an ArchiveSink, but answers "session not found" to the
/// chunks listed in `forget_at` (by call number) after dropping the session
/// from its memory — the way a backend that lost its data would.
class ForgetfulSink : public uploader::ArchiveSink {
 public:
  using ArchiveSink::ArchiveSink;
  std::set<int> forget_at;
  int chunk_calls = 0;
  int inits = 0;

  Result<uploader::InitResult> Init(const uploader::SessionInfo& info) override {
    ++inits;
    return ArchiveSink::Init(info);
  }
  Result<uploader::ChunkOutcome> AppendChunk(const uploader::ChunkRequest& req) override {
    if (forget_at.count(++chunk_calls) > 0) return Status::NotFound("Session not found");
    return ArchiveSink::AppendChunk(req);
  }
};

/// Runs `during` inside every AppendChunk, before storing: the file changes
/// while a chunk is in flight and the next one is being read ahead.
class MeddlingSink : public uploader::ArchiveSink {
 public:
  using ArchiveSink::ArchiveSink;
  std::function<void(int call)> during;
  int chunk_calls = 0;
  Result<uploader::ChunkOutcome> AppendChunk(const uploader::ChunkRequest& req) override {
    if (during) during(++chunk_calls);
    return ArchiveSink::AppendChunk(req);
  }
};

std::string NumberedLine(int n) { return "{\"n\":" + std::to_string(n) + ",\"pad\":\"" + std::string(200, 'p') + "\"}"; }

}  // namespace

TEST_CASE("engine — lines appended while a chunk is in flight follow it in order, each once", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  std::string text;
  for (int n = 0; n < 200; ++n) text += NumberedLine(n) + "\n";
  testing::WriteFile(transcript, text);
  auto redactor = ExpandingRedactor();
  MeddlingSink sink(dir / "archive");
  int next = 200;
  sink.during = [&](int call) {
    if (call > 20) return;
    std::string more;
    for (int i = 0; i < 7; ++i) more += NumberedLine(next++) + "\n";
    more += "{\"partial\":";  // completed by the next call's append
    testing::AppendFile(transcript, call == 1 ? more : "1}\n" + more);
  };
  SyncOptions options = QuietOptions();
  options.chunk.budget = 4096;  // many chunks: every one read ahead of an in-flight one
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", options);
  SessionReport report = sync.Run();
  REQUIRE(report.complete());
  REQUIRE(sink.chunk_calls > 20);
  sink.during = nullptr;
  testing::AppendFile(transcript, "1}\n");
  REQUIRE(sync.Run().complete());

  // The stored file is the local file, line for line.
  std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  std::vector<std::string> local;
  {
    std::ifstream in(transcript, std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t at = 0, nl; (nl = all.find('\n', at)) != std::string::npos; at = nl + 1) local.push_back(all.substr(at, nl - at));
  }
  REQUIRE(stored.size() == local.size());
  CHECK(stored == local);
}

TEST_CASE("engine — a file replaced while a chunk is in flight starts a new generation, the read-ahead dropped",
          "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  std::string text;
  for (int n = 0; n < 100; ++n) text += NumberedLine(n) + "\n";
  testing::WriteFile(transcript, text);
  auto redactor = ExpandingRedactor();
  MeddlingSink sink(dir / "archive");
  std::string rewritten;
  for (int n = 0; n < 30; ++n) rewritten += "{\"other\":" + std::to_string(n) + "}\n";
  sink.during = [&](int call) {
    if (call != 3) return;  // replaced the way editors and rotations do: a new file renamed over it
    testing::WriteFile(transcript + ".new", rewritten);
    std::filesystem::rename(transcript + ".new", transcript);
  };
  SyncOptions options = QuietOptions();
  options.chunk.budget = 4096;
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", options);
  SessionReport report = sync.Run();
  REQUIRE(report.complete());

  // Generation 1 got the chunks sent before the rewrite was seen (no line of
  // the new content), generation 2 the new content whole.
  std::vector<std::string> first = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE_FALSE(first.empty());
  for (size_t i = 0; i < first.size(); ++i) CHECK(first[i] == NumberedLine(static_cast<int>(i)));
  std::vector<std::string> second = Stored(sink, std::string(kSessionId) + ".gen2.jsonl");
  REQUIRE(second.size() == 30);
  CHECK(second.front() == "{\"other\":0}");
  CHECK(second.back() == "{\"other\":29}");
}

TEST_CASE("engine — a chunk redaction pushes over the cap is re-read smaller and nothing is lost", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  // 24 lines of ~100 KiB of "qqq ": with a 2.5 MiB budget they fit one chunk
  // raw, but redacted they would be ~40 MiB, far over the 16 MiB cap.
  std::string body;
  for (int i = 0; i < 24; ++i) body += QqqLine(i, 100 * 1024);
  testing::WriteFile(transcript, body);

  auto redactor = ExpandingRedactor();
  uploader::ArchiveSink sink(dir / "archive");
  SyncOptions options = QuietOptions();
  options.chunk.budget = 2560 * 1024;
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", options);
  SessionReport report = sync.Run();
  INFO(report.status.ToString());
  REQUIRE(report.complete());
  REQUIRE(report.files.size() == 1);
  CHECK(report.files[0].lines_sent == 24);
  CHECK(report.files[0].chunks_sent > 1);  // more chunks than the raw budget needs
  CHECK(report.files[0].redactions.at(kRuleId) > 0);

  std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE(stored.size() == 24);
  for (const std::string& line : stored) CHECK(line.find("qqq") == std::string::npos);
  CHECK(stored[23].starts_with("{\"n\":23,\"t\":\"[REDACTED:" + kRuleId + "]"));
}

}  // namespace tsync::agent

namespace tsync::agent {

TEST_CASE("engine — a single line that outgrows the cap once redacted goes as a placeholder, the rest follows",
          "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  // ~1 MiB of "qqq " redacts to ~20 MiB: over the cap on its own.
  const std::string big = QqqLine(1, 1 << 20);
  testing::WriteFile(transcript, "{\"n\":0}\n" + big + "{\"n\":2}\n");
  auto redactor = ExpandingRedactor();
  uploader::ArchiveSink sink(dir / "archive");
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", QuietOptions());
  SessionReport report = sync.Run();
  INFO(report.status.ToString());
  REQUIRE(report.complete());
  CHECK(report.files[0].state == FileState::kSynced);
  CHECK(report.files[0].lines_sent == 3);

  std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE(stored.size() == 3);
  CHECK(stored[0] == "{\"n\":0}");
  const std::string raw = big.substr(0, big.size() - 1);
  CHECK(stored[1] == tracker::OversizePlaceholder(raw.size(), Sha256Hex(raw)));
  CHECK(stored[2] == "{\"n\":2}");
}

TEST_CASE("engine — a backend that forgets the session is re-inited and gets every line once", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  std::string body;
  for (int i = 0; i < 40; ++i) body += "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}\n";
  testing::WriteFile(transcript, body);
  auto redactor = ExpandingRedactor();
  ForgetfulSink sink(dir / "archive");
  sink.forget_at = {2, 3};  // the second chunk, and its first retry
  SyncOptions options = QuietOptions();
  options.chunk.budget = 2048;  // ~9 lines a chunk: several chunks
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", options);
  SessionReport report = sync.Run();
  INFO(report.status.ToString());
  REQUIRE(report.complete());
  CHECK(report.files[0].retries == 2);
  CHECK(sink.inits == 3);  // the first init, then one per "not found"

  std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE(stored.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(stored[i].starts_with("{\"n\":" + std::to_string(i) + ","));
}

TEST_CASE("engine — a backend that keeps forgetting the session stops it pending, with the reason", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  testing::WriteFile(transcript, "{\"n\":0}\n");
  auto redactor = ExpandingRedactor();
  ForgetfulSink sink(dir / "archive");
  for (int i = 1; i <= 100; ++i) sink.forget_at.insert(i);
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", QuietOptions());
  SessionReport report = sync.Run();
  CHECK_FALSE(report.complete());
  CHECK(report.status.kind() == Status::Kind::kNotFound);
  CHECK(report.status.message().find("Session not found") != std::string::npos);
  CHECK(sink.chunk_calls < 100);  // bounded: it gave up rather than looping
}

}  // namespace tsync::agent

namespace tsync::agent {

TEST_CASE("engine — later passes send only what was appended, without another init", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  testing::WriteFile(transcript, "{\"n\":0}\n{\"n\":1}\n");
  auto redactor = ExpandingRedactor();
  ForgetfulSink sink(dir / "archive");
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", QuietOptions());
  SessionReport first = sync.Run();
  REQUIRE(first.complete());
  CHECK(first.lines_sent() == 2);

  SessionReport idle = sync.Run();
  CHECK(idle.complete());
  CHECK(idle.lines_sent() == 0);

  testing::AppendFile(transcript, "{\"n\":2}\n{\"n\":3,\"partial");  // the last line is not complete yet
  SessionReport second = sync.Run();
  REQUIRE(second.complete());
  CHECK(second.lines_sent() == 1);
  CHECK(sink.inits == 1);

  // A pass that fails re-inits on the next one and resumes where the sink is.
  testing::AppendFile(transcript, "\"}\n");
  sink.forget_at = {sink.chunk_calls + 1, sink.chunk_calls + 2, sink.chunk_calls + 3, sink.chunk_calls + 4};
  SessionReport failed = sync.Run();
  CHECK_FALSE(failed.complete());
  sink.forget_at.clear();
  SessionReport recovered = sync.Run();
  REQUIRE(recovered.complete());
  CHECK(recovered.lines_sent() == 1);

  std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE(stored.size() == 4);
  CHECK(stored[3] == "{\"n\":3,\"partial\"}");
}

}  // namespace tsync::agent

namespace tsync::agent {

/// Answers "temporarily unavailable" to the chunk calls listed in `fail_at`
/// (by call number), else stores like the archive.
class FlakySink : public uploader::ArchiveSink {
 public:
  using ArchiveSink::ArchiveSink;
  std::set<int> fail_at;
  int chunk_calls = 0;

  Result<uploader::ChunkOutcome> AppendChunk(const uploader::ChunkRequest& req) override {
    if (fail_at.count(++chunk_calls) > 0) return Status::Transient("503 Service Unavailable (test)");
    return ArchiveSink::AppendChunk(req);
  }
};

TEST_CASE("engine — after failures shrink the chunk budget, a line over it still goes whole, not as a placeholder",
          "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string transcript = project + "/" + kSessionId + ".jsonl";
  // 300 KiB: far under the server's cap, over the 64 KiB the budget shrinks to.
  const std::string big = "{\"n\":1,\"t\":\"" + std::string(300 * 1024, 'b') + "\"}";
  testing::WriteFile(transcript, "{\"n\":0}\n" + big + "\n{\"n\":2}\n");
  auto redactor = ExpandingRedactor();
  FlakySink sink(dir / "archive");
  for (int i = 1; i <= 9; ++i) sink.fail_at.insert(i);  // 14 MiB halved down to the 64 KiB floor
  SyncOptions options = QuietOptions();
  options.max_transient_failures = 20;
  SyncSession sync(SessionRef{kSessionId, project, transcript}, sink, *redactor, dir / "state", options);
  SessionReport report = sync.Run();
  INFO(report.status.ToString());
  REQUIRE(report.complete());
  CHECK(report.files[0].retries >= 9);
  const std::vector<std::string> stored = Stored(sink, std::string(kSessionId) + ".jsonl");
  REQUIRE(stored.size() == 3);
  CHECK(stored[1] == big);
  CHECK(stored[2] == "{\"n\":2}");
}

}  // namespace tsync::agent
