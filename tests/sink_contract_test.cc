// The Sink contract (uploader/sink.h), checked against both implementations:
// the local archive and the sync backend (SyncSink over SyncClient, talking
// to the real tsync-refserver process on 127.0.0.1). Every case runs once per
// sink, so "nothing lost" means the same thing for both.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "tracker/chunk_reader.h"
#include "uploader/archive_sink.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::uploader {
namespace {

using testing::RefServer;
using testing::TempDir;
using tracker::FileType;

constexpr const char* kExt = "7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

enum class Kind { kArchive, kBackend };
const char* KindName(Kind kind) { return kind == Kind::kArchive ? "archive" : "backend"; }

/// One sink of either kind with whatever it needs kept alive.
class SinkUnderTest {
 public:
  explicit SinkUnderTest(Kind kind) {
    if (kind == Kind::kArchive) {
      sink_ = std::make_unique<ArchiveSink>(dir_.path() + "/archive");
      return;
    }
    server_ = std::make_unique<RefServer>();
    config::Config config;
    config.backend_url = server_->url();
    config.api_key = "k1";
    auto client = SyncClient::Create(config);
    REQUIRE(client.ok());
    sink_ = std::make_unique<SyncSink>(std::move(client.value()));
  }

  Sink& sink() { return *sink_; }
  /// Client-bug violations the backend counted (0 for the archive).
  int64_t violations() const { return server_ ? testing::TotalViolations(server_->port()) : 0; }

 private:
  TempDir dir_;
  std::unique_ptr<RefServer> server_;
  std::unique_ptr<Sink> sink_;
};

SessionInfo Info(std::string external_id = kExt) {
  SessionInfo info;
  info.external_id = std::move(external_id);
  info.transcript_path = "/home/u/.claude/projects/p/" + info.external_id + ".jsonl";
  info.metadata_json = R"({"cwd":"/home/u/p","hostname":"h"})";
  return info;
}

std::vector<std::string> Numbered(uint64_t first, uint64_t count) {
  std::vector<std::string> out;
  for (uint64_t i = 0; i < count; ++i) out.push_back(R"({"n":)" + std::to_string(first + i) + "}");
  return out;
}

Result<ChunkOutcome> Append(Sink& sink, const std::string& sid, const std::string& file, uint64_t first,
                            const std::vector<std::string>& lines, FileType type = FileType::kTranscript) {
  std::vector<std::string_view> views(lines.begin(), lines.end());
  ChunkRequest req;
  req.session_id = sid;
  req.file_name = file;
  req.file_type = type;
  req.first_line = first;
  req.lines = views;
  return sink.AppendChunk(req);
}

std::string InitSession(Sink& sink, const SessionInfo& info = Info()) {
  Result<InitResult> init = sink.Init(info);
  REQUIRE(init.ok());
  REQUIRE(LooksLikeUuid(init->session_id));
  return init->session_id;
}

/// Runs `body` once per sink kind, each in its own Catch section.
template <typename Body>
void ForEachSink(Body body) {
  for (Kind kind : {Kind::kArchive, Kind::kBackend}) {
    DYNAMIC_SECTION(KindName(kind)) {
      SinkUnderTest t(kind);
      body(t);
      CHECK(t.violations() == 0);
    }
  }
}

}  // namespace

TEST_CASE("sink contract — init creates once and re-init returns the same id and counts", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    Result<InitResult> first = t.sink().Init(Info());
    REQUIRE(first.ok());
    CHECK(first->last_synced_line.empty());
    REQUIRE(Append(t.sink(), first->session_id, kExt + std::string(".jsonl"), 1, Numbered(1, 3))->accepted());
    REQUIRE(Append(t.sink(), first->session_id, "agent-a1.jsonl", 1, Numbered(1, 2), FileType::kAgent)->accepted());

    SessionInfo again = Info();
    again.metadata_json = "{}";  // re-init may change metadata
    Result<InitResult> second = t.sink().Init(again);
    REQUIRE(second.ok());
    CHECK(second->session_id == first->session_id);
    CHECK(second->last_synced_line ==
          std::map<std::string, uint64_t>{{kExt + std::string(".jsonl"), 3}, {"agent-a1.jsonl", 2}});

    // Another session is another id; FindSession looks up without creating.
    Result<std::string> found = t.sink().FindSession(kExt);
    REQUIRE(found.ok());
    CHECK(*found == first->session_id);
    CHECK(t.sink().FindSession("never-initialised").status().kind() == Status::Kind::kNotFound);
    CHECK(t.sink().FindSession("never-initialised").status().kind() == Status::Kind::kNotFound);  // still none
    CHECK(InitSession(t.sink(), Info("other-session")) != first->session_id);
  });
}

TEST_CASE("sink contract — contiguous chunks read back byte for byte", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    const std::string sid = InitSession(t.sink());
    const std::vector<std::string> tricky = {
        R"({"text":"quote \" backslash \\ slash \/ tab \t"})",
        R"({"ctl":"\u0001\u001f\u007f","u2028":"a\u2028b"})",
        "{\"raw\":\"ü é 中文 🚀 \xe2\x80\xa8\"}",  // raw U+2028 inside a string is valid JSON
        "{}",
        R"({"nested":{"a":[1,2.5e3,true,null,"x"]}})",
    };
    const std::string transcript = kExt + std::string(".jsonl");
    Result<ChunkOutcome> r = Append(t.sink(), sid, transcript, 1, tricky);
    REQUIRE(r.ok());
    CHECK(r->accepted());
    CHECK(r->last_synced_line == 5);
    REQUIRE(Append(t.sink(), sid, transcript, 6, Numbered(6, 4))->last_synced_line == 9);
    const std::string journal = "subagents/workflows/run-1/journal.jsonl";
    REQUIRE(Append(t.sink(), sid, journal, 1, Numbered(1, 2), FileType::kWorkflowJournal)->accepted());

    std::vector<std::string> all = tricky;
    for (const std::string& l : Numbered(6, 4)) all.push_back(l);
    Result<std::vector<std::string>> back = t.sink().ReadLines(sid, transcript, 0);
    REQUIRE(back.ok());
    CHECK(*back == all);
    Result<std::vector<std::string>> tail = t.sink().ReadLines(sid, transcript, 7);
    REQUIRE(tail.ok());
    CHECK(*tail == std::vector<std::string>(all.begin() + 7, all.end()));
    Result<std::vector<std::string>> none = t.sink().ReadLines(sid, "agent-never.jsonl", 0);
    REQUIRE(none.ok());
    CHECK(none->empty());

    Result<std::vector<FileInfo>> files = t.sink().ListFiles(sid);
    REQUIRE(files.ok());
    REQUIRE(files->size() == 2);
    CHECK((*files)[0].file_name == transcript);
    CHECK((*files)[0].file_type == FileType::kTranscript);
    CHECK((*files)[0].last_synced_line == 9);
    CHECK((*files)[1].file_name == journal);
    CHECK((*files)[1].file_type == FileType::kWorkflowJournal);
    CHECK((*files)[1].last_synced_line == 2);
  });
}

TEST_CASE("sink contract — gap, overlap and resend conflict and store nothing", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    const std::string sid = InitSession(t.sink());
    REQUIRE(Append(t.sink(), sid, "s.jsonl", 1, Numbered(1, 4))->accepted());
    for (uint64_t first : {uint64_t{1}, uint64_t{3}, uint64_t{6}, uint64_t{100}}) {
      Result<ChunkOutcome> r = Append(t.sink(), sid, "s.jsonl", first, Numbered(first, 2));
      REQUIRE(r.ok());
      CHECK_FALSE(r->accepted());
      CHECK(r->expected_first_line == uint64_t{5});
      CHECK(r->last_synced_line == 4);
    }
    // A file never stored expects line 1.
    Result<ChunkOutcome> fresh = Append(t.sink(), sid, "agent-b.jsonl", 2, Numbered(2, 1), FileType::kAgent);
    REQUIRE(fresh.ok());
    CHECK(fresh->expected_first_line == uint64_t{1});
    CHECK(*t.sink().ReadLines(sid, "s.jsonl", 0) == Numbered(1, 4));
    CHECK(t.sink().ReadLines(sid, "agent-b.jsonl", 0)->empty());
  });
}

TEST_CASE("sink contract — malformed requests are refused before anything is stored", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    const std::string sid = InitSession(t.sink());
    for (const char* bad : {"", "../x.jsonl", "/abs.jsonl", "a//b.jsonl", "a\\b.jsonl", "a/./b.jsonl"}) {
      Result<ChunkOutcome> r = Append(t.sink(), sid, bad, 1, Numbered(1, 1));
      CHECK(r.status().kind() == Status::Kind::kInvalidInput);
    }
    CHECK(Append(t.sink(), sid, "s.jsonl", 1, {"{\"a\":1}\n{\"b\":2}"}).status().kind() ==
          Status::Kind::kInvalidInput);
    CHECK(Append(t.sink(), sid, "s.jsonl", 1, {"{\"a\":\"x\r\"}"}).status().kind() == Status::Kind::kInvalidInput);
    CHECK(Append(t.sink(), sid, "s.jsonl", 1, {}).status().kind() == Status::Kind::kInvalidInput);
    CHECK(Append(t.sink(), sid, "s.jsonl", 0, Numbered(0, 1)).status().kind() == Status::Kind::kInvalidInput);

    std::vector<std::string_view> one = {"{}"};
    ChunkRequest empty_message{sid, "s.jsonl", FileType::kTranscript, 1, one, std::nullopt, std::string()};
    CHECK(t.sink().AppendChunk(empty_message).status().kind() == Status::Kind::kInvalidInput);

    SessionInfo bad_metadata = Info();
    bad_metadata.metadata_json = "[1,2]";
    CHECK(t.sink().Init(bad_metadata).status().kind() == Status::Kind::kInvalidInput);
    SessionInfo bad_provider = Info();
    bad_provider.provider = "vim";
    CHECK(t.sink().Init(bad_provider).status().kind() == Status::Kind::kInvalidInput);
    CHECK(t.sink().SendEvent(sid, "Session-End", "2026-11-21T10:00:00Z", "{}").kind() == Status::Kind::kInvalidInput);
    CHECK(t.sink().SendEvent(sid, "session_end", "2026-11-21T10:00:00Z", "{nope").kind() ==
          Status::Kind::kInvalidInput);
    CHECK(t.sink().SetSummary(kExt, std::string(2049, 's')).kind() == Status::Kind::kInvalidInput);

    Result<std::vector<FileInfo>> files = t.sink().ListFiles(sid);
    REQUIRE(files.ok());
    CHECK(files->empty());
  });
}

TEST_CASE("sink contract — unknown sessions are not found", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    InitSession(t.sink());
    const std::string unknown = "0b7c6f1e-1111-4222-8333-944445555666";
    CHECK(Append(t.sink(), unknown, "s.jsonl", 1, Numbered(1, 1)).status().kind() == Status::Kind::kNotFound);
    CHECK(t.sink().ListFiles(unknown).status().kind() == Status::Kind::kNotFound);
    CHECK(t.sink().ReadLines(unknown, "s.jsonl", 0).status().kind() == Status::Kind::kNotFound);
    CHECK(t.sink().SendEvent(unknown, "session_end", "2026-11-21T10:00:00Z", "{}").kind() ==
          Status::Kind::kNotFound);
    CHECK(t.sink().SetSummary("never-initialised", "s").kind() == Status::Kind::kNotFound);
  });
}

TEST_CASE("sink contract — events and summaries are accepted for a known session", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    const std::string sid = InitSession(t.sink());
    CHECK(t.sink().SendEvent(sid, "session_end", "2026-11-21T10:00:00+01:00", R"({"reason":"exit"})").ok());
    CHECK(t.sink().SetSummary(kExt, "Fixed the \"parser\" — with ü").ok());
    CHECK(t.sink().SetSummary(kExt, std::string(2048, 's')).ok());
  });
}

TEST_CASE("sink contract — a chunk of escape-heavy lines just under the 16 MiB cap round-trips", "[sink]") {
  ForEachSink([](SinkUnderTest& t) {
    const std::string sid = InitSession(t.sink());
    // Each line is valid JSON whose raw text is mostly '\"' and '\\u0001':
    // every such byte is escaped again on the wire, so the encoded body is
    // about twice the raw size. Fill to 16 MiB minus 4 KiB of envelope room.
    std::string unit;
    for (int i = 0; i < 4096; ++i) unit += (i % 2) ? "\\\"" : "\\u0001";
    const std::string line = "{\"t\":\"" + unit + "\"}";
    std::vector<std::string> lines;
    ChunkRequest probe{sid, "s.jsonl", FileType::kTranscript, 1, {}, std::nullopt, std::nullopt};
    const size_t envelope = EncodeChunkBody(probe).size();
    const size_t per_line = tracker::EncodedLinesSize(std::vector<std::string_view>{line}) - 2 + 1;  // +1 comma
    const size_t count = (kMaxChunkBodyBytes - envelope - 4096) / per_line;
    lines.assign(count, line);
    std::vector<std::string_view> views(lines.begin(), lines.end());
    ChunkRequest req = probe;
    req.lines = views;
    const size_t body = EncodeChunkBody(req).size();
    CHECK(body <= kMaxChunkBodyBytes);
    CHECK(body > kMaxChunkBodyBytes - 64 * 1024);
    Result<ChunkOutcome> r = t.sink().AppendChunk(req);
    REQUIRE(r.ok());
    CHECK(r->last_synced_line == count);
    Result<std::vector<std::string>> back = t.sink().ReadLines(sid, "s.jsonl", count - 2);
    REQUIRE(back.ok());
    CHECK(*back == std::vector<std::string>{line, line});
  });
}

}  // namespace tsync::uploader
