// SyncSink + SyncClient against the real tsync-refserver process: the
// failures only a network backend has (lost replies, 401/403, 429 and 503
// bursts, the decoded-size cap, compression), and the recovery protocol of
// PROTOCOL.md — after any failed or unanswered chunk, re-init and resume at
// the server's last_synced_line + 1 — proven to leave no gap and no
// duplicate. (tests/sink_contract_test.cc has what both sinks share.)
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "tests/refserver_process.h"
#include "uploader/retry.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::uploader {
namespace {

using testing::RefServer;
using tracker::FileType;

constexpr const char* kExt = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c";

/// A sink of one client; `pooled`: more clients, one per call at once.
std::unique_ptr<SyncSink> MakeSink(const RefServer& server, std::string key = "k1", SyncClientOptions options = {},
                                   bool pooled = false) {
  config::Config config;
  config.backend_url = server.url();
  config.api_key = std::move(key);
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  options.retry.base = std::chrono::milliseconds(20);
  options.retry.cap = std::chrono::milliseconds(500);
  options.retry.max_attempts = 8;
  auto client = SyncClient::Create(config, options);
  REQUIRE(client.ok());
  SyncSink::ClientFactory more;
  if (pooled) more = [config, options] { return SyncClient::Create(config, options); };
  return std::make_unique<SyncSink>(std::move(client.value()), std::move(more));
}

SessionInfo Info() {
  SessionInfo info;
  info.external_id = kExt;
  info.transcript_path = std::string("/home/u/.claude/projects/p/") + kExt + ".jsonl";
  info.metadata_json = R"({"cwd":"/home/u/p"})";
  return info;
}

std::vector<std::string> Lines(size_t count) {
  std::vector<std::string> out;
  for (size_t i = 1; i <= count; ++i) {
    out.push_back(R"({"type":"assistant","n":)" + std::to_string(i) + R"(,"text":"line \")" + std::to_string(i) +
                  R"(\" of the session"})");
  }
  return out;
}

/// What happened while uploading one file with recovery.
struct UploadLog {
  int accepted = 0;
  int conflicts = 0;  // contiguity answers (expected_first_line)
  int failures = 0;   // transient failures: no reply, 503, 429
  int reinits = 0;
};

/// The engine's recovery protocol in miniature: send `chunk` lines at a
/// time; after any failure re-init (itself retried) and resume where the
/// server says it is. Gives up only on a non-transient error.
UploadLog UploadWithRecovery(Sink& sink, const std::vector<std::string>& lines, size_t chunk) {
  UploadLog log;
  Result<InitResult> init = sink.Init(Info());
  REQUIRE(init.ok());
  const std::string file = std::string(kExt) + ".jsonl";
  uint64_t next = 1;
  int streak = 0;  // failures in a row
  for (int rounds = 0; next <= lines.size(); ++rounds) {
    REQUIRE(rounds < 10'000);
    const size_t n = std::min(chunk, lines.size() - (next - 1));
    std::vector<std::string_view> views(lines.begin() + static_cast<ptrdiff_t>(next - 1),
                                        lines.begin() + static_cast<ptrdiff_t>(next - 1 + n));
    ChunkRequest req{init->session_id, file, FileType::kTranscript, next, views, std::nullopt, std::nullopt};
    Result<ChunkOutcome> r = sink.AppendChunk(req);
    if (r.ok() && r->accepted()) {
      ++log.accepted;
      streak = 0;
      next = r->last_synced_line + 1;
      continue;
    }
    if (r.ok()) {
      ++log.conflicts;
      next = *r->expected_first_line;
      continue;
    }
    INFO(r.status().ToString());
    REQUIRE(r.status().kind() == Status::Kind::kTransient);
    ++log.failures;
    // Back off before trying again (Retry-After when the server sent one),
    // as the engine does; re-sending at once would only meet the same 429.
    const RetryPolicy policy{8, std::chrono::milliseconds(20), std::chrono::milliseconds(500)};
    std::this_thread::sleep_for(r.status().retry_after().value_or(BackoffDelay(policy, std::min(streak++, 5), 0.99)));
    Result<InitResult> again = sink.Init(Info());
    for (int i = 0; !again.ok() && i < 20; ++i) again = sink.Init(Info());
    REQUIRE(again.ok());
    REQUIRE(again->session_id == init->session_id);
    ++log.reinits;
    next = again->last_synced_line[file] + 1;
  }
  return log;
}

void RequireExactlyStored(Sink& sink, const std::vector<std::string>& lines) {
  Result<InitResult> init = sink.Init(Info());
  REQUIRE(init.ok());
  const std::string file = std::string(kExt) + ".jsonl";
  CHECK(init->last_synced_line[file] == lines.size());
  Result<std::vector<std::string>> back = sink.ReadLines(init->session_id, file, 0);
  REQUIRE(back.ok());
  CHECK(back->size() == lines.size());
  CHECK(*back == lines);  // no gap, no duplicate, byte-identical
}

}  // namespace

TEST_CASE("backend — stored but reply lost is recovered by re-init with no gap and no duplicate", "[backend]") {
  RefServer server({"--drop-after-commit-rate", "0.3", "--seed", "11"});
  auto sink = MakeSink(server);
  const std::vector<std::string> lines = Lines(600);
  UploadLog log = UploadWithRecovery(*sink, lines, 7);
  INFO("accepted " << log.accepted << " conflicts " << log.conflicts << " failures " << log.failures);
  // The faults really happened. A lost reply shows up either as a failure
  // or, when libcurl re-sent the request on a fresh connection (it does so
  // once when a reused connection dies before any reply), as the server's
  // contiguity answer to the resend: both resume at the server's count.
  CHECK(log.failures + log.conflicts > 10);
  CHECK(log.reinits == log.failures);
  RequireExactlyStored(*sink, lines);
  CHECK(testing::TotalViolations(server.port()) == 0);
}

TEST_CASE("backend — resets, 503s and lost replies together still converge exactly", "[backend]") {
  RefServer server({"--drop-after-commit-rate", "0.1", "--reset-rate", "0.1", "--fail-rate", "0.15", "--seed", "5"});
  auto sink = MakeSink(server);
  const std::vector<std::string> lines = Lines(500);
  UploadLog log = UploadWithRecovery(*sink, lines, 5);
  CHECK(log.failures + log.conflicts > 10);
  RequireExactlyStored(*sink, lines);
  CHECK(testing::TotalViolations(server.port()) == 0);
}

TEST_CASE("backend — a 429 burst is ridden out with backoff", "[backend]") {
  // 20 requests/s with a burst of 3: the upload outruns the bucket at once.
  RefServer server({"--rate", "20", "--burst", "3"});
  auto sink = MakeSink(server);
  const std::vector<std::string> lines = Lines(120);
  UploadLog log = UploadWithRecovery(*sink, lines, 4);
  CHECK(log.failures > 0);  // chunks are never retried inside the client
  RequireExactlyStored(*sink, lines);
}

TEST_CASE("backend — a bad key is an auth error that says to log in again", "[backend]") {
  RefServer server;
  for (const char* key : {"wrong-key", ""}) {
    auto sink = MakeSink(server, key);
    Result<InitResult> init = sink->Init(Info());
    REQUIRE_FALSE(init.ok());
    CHECK(init.status().kind() == Status::Kind::kAuth);
    CHECK(init.status().message().find("tsync login") != std::string::npos);
    if (*key) CHECK(init.status().message().find(key) == std::string::npos);
  }
}

TEST_CASE("backend — another user's session is forbidden and an unknown one not found", "[backend]") {
  RefServer server;
  auto mine = MakeSink(server, "k1");
  auto theirs = MakeSink(server, "k2");
  Result<InitResult> init = mine->Init(Info());
  REQUIRE(init.ok());
  std::vector<std::string> lines = Lines(2);
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ChunkRequest req{init->session_id, "s.jsonl", FileType::kTranscript, 1, views, std::nullopt, std::nullopt};

  Result<ChunkOutcome> forbidden = theirs->AppendChunk(req);
  CHECK(forbidden.status().kind() == Status::Kind::kAuth);
  CHECK(forbidden.status().message().find("HTTP 403") != std::string::npos);
  CHECK(theirs->ReadLines(init->session_id, "s.jsonl", 0).status().kind() == Status::Kind::kAuth);

  req.session_id = "00000000-0000-4000-8000-000000000000";
  CHECK(mine->AppendChunk(req).status().kind() == Status::Kind::kNotFound);
  req.session_id = "not-a-uuid";
  CHECK(mine->AppendChunk(req).status().kind() == Status::Kind::kNotFound);

  // The same external id under another user is another session.
  Result<InitResult> other = theirs->Init(Info());
  REQUIRE(other.ok());
  CHECK(other->session_id != init->session_id);
  CHECK(mine->ListFiles(init->session_id)->empty());
}

TEST_CASE("backend — zstd on and off store identical lines", "[backend]") {
  RefServer server;
  const std::vector<std::string> lines = Lines(3000);  // ~270 KiB: several compressed chunks
  SyncClientOptions plain;
  plain.compress = false;
  for (auto options : {SyncClientOptions{}, plain}) {
    DYNAMIC_SECTION("compress " << options.compress) {
      auto sink = MakeSink(server, "k1", options);
      UploadLog log = UploadWithRecovery(*sink, lines, 1000);
      CHECK(log.accepted == 3);
      CHECK(log.failures == 0);
      RequireExactlyStored(*sink, lines);
    }
  }
  CHECK(testing::TotalViolations(server.port()) == 0);
}

TEST_CASE("backend — a chunk over the 16 MiB decoded cap is refused before sending", "[backend]") {
  RefServer server;
  auto sink = MakeSink(server);
  Result<InitResult> init = sink->Init(Info());
  REQUIRE(init.ok());
  const std::string line = "{\"t\":\"" + std::string(1 << 20, '"') + "\"}";  // not JSON: never reaches the server
  std::vector<std::string_view> views(9, line);  // ~18 MiB encoded
  ChunkRequest req{init->session_id, "s.jsonl", FileType::kTranscript, 1, views, std::nullopt, std::nullopt};
  Result<ChunkOutcome> r = sink->AppendChunk(req);
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(r.status().message().find("fewer lines") != std::string::npos);
  CHECK(sink->ListFiles(init->session_id)->empty());
  CHECK(testing::TotalViolations(server.port()) == 0);
}

TEST_CASE("backend — chunks sent from several threads are on the wire side by side", "[backend]") {
  // Every write waits 400 ms on the server, so chunks sent at once overlap
  // there — unless the sink sends them one after the other.
  const std::vector<std::string> lines = Lines(50);
  std::vector<std::string_view> views(lines.begin(), lines.end());
  for (bool pooled : {true, false}) {
    DYNAMIC_SECTION("pooled " << pooled) {
      RefServer server({"--delay-ms", "400"});
      auto sink = MakeSink(server, "k1", {}, pooled);
      Result<InitResult> init = sink->Init(Info());
      REQUIRE(init.ok());
      std::vector<Result<ChunkOutcome>> outcomes(3, Status::Internal("not sent"));
      std::vector<std::thread> threads;
      for (size_t t = 0; t < outcomes.size(); ++t) {
        threads.emplace_back([&, t] {
          const std::string file = "f" + std::to_string(t) + ".jsonl";
          ChunkRequest req{init->session_id, file, FileType::kTranscript, 1, views, std::nullopt, std::nullopt};
          outcomes[t] = sink->AppendChunk(req);
        });
      }
      for (std::thread& t : threads) t.join();
      for (const Result<ChunkOutcome>& out : outcomes) {
        REQUIRE(out.ok());
        CHECK(out->accepted());
        CHECK(out->last_synced_line == lines.size());
      }
      // Pooled, each call has its own client and connection; without a
      // factory the one client is shared: one chunk at a time.
      CHECK(testing::PeakChunksInFlight(server.port()) == (pooled ? 3 : 1));
      Result<std::vector<FileInfo>> files = sink->ListFiles(init->session_id);
      REQUIRE(files.ok());
      CHECK(files->size() == 3);
      CHECK(testing::TotalViolations(server.port()) == 0);
    }
  }
}

TEST_CASE("backend — a pool that cannot make another client fails that call only", "[backend]") {
  // The one client is busy on a slow write; a second call at that moment
  // needs a new client, the factory refuses, and the call says why. The
  // first call and the pool go on.
  RefServer server({"--delay-ms", "1500"});
  config::Config config;
  config.backend_url = server.url();
  config.api_key = "k1";
  auto client = SyncClient::Create(config);
  REQUIRE(client.ok());
  int made = 0;
  SyncSink sink(std::move(client.value()), [&made]() -> Result<std::unique_ptr<SyncClient>> {
    ++made;
    return Status::Config("no more clients here");
  });
  Result<InitResult> init = sink.Init(Info());
  REQUIRE(init.ok());
  const std::vector<std::string> lines = Lines(10);
  std::vector<std::string_view> views(lines.begin(), lines.end());
  Result<ChunkOutcome> slow = Status::Internal("not sent");
  std::thread first([&] {
    slow = sink.AppendChunk({init->session_id, "a.jsonl", FileType::kTranscript, 1, views, std::nullopt, std::nullopt});
  });
  // Wait until the server holds the first chunk (it stays 1.5 s).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (testing::PeakChunksInFlight(server.port()) < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(testing::PeakChunksInFlight(server.port()) == 1);
  Result<ChunkOutcome> refused =
      sink.AppendChunk({init->session_id, "b.jsonl", FileType::kTranscript, 1, views, std::nullopt, std::nullopt});
  first.join();
  CHECK(made == 1);
  CHECK(refused.status().kind() == Status::Kind::kConfig);
  CHECK(refused.status().message() == "no more clients here");
  REQUIRE(slow.ok());
  CHECK(slow->accepted());
  // The pool still serves: the idle client takes the next call.
  Result<ChunkOutcome> later =
      sink.AppendChunk({init->session_id, "b.jsonl", FileType::kTranscript, 1, views, std::nullopt, std::nullopt});
  REQUIRE(later.ok());
  CHECK(later->accepted());
  CHECK(made == 1);
  CHECK(testing::TotalViolations(server.port()) == 0);
}

}  // namespace tsync::uploader
