#include "uploader/archive_sink.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_util.h"

namespace tsync::uploader {
namespace {

using testing::AppendFile;
using testing::ReadWholeFile;
using testing::TempDir;
using tracker::FileType;

constexpr const char* kExt = "0b7f3c1e-5d2a-4c3b-9a8e-1f2d3c4b5a69";

SessionInfo Info(std::string external_id = kExt, std::string metadata = R"({"cwd":"/home/u/p","hostname":"h"})") {
  SessionInfo info;
  info.external_id = std::move(external_id);
  info.transcript_path = "/home/u/.claude/projects/p/" + info.external_id + ".jsonl";
  info.metadata_json = std::move(metadata);
  return info;
}

std::vector<std::string> Numbered(uint64_t first, uint64_t count, std::string_view tag = "l") {
  std::vector<std::string> out;
  for (uint64_t i = 0; i < count; ++i) {
    out.push_back("{\"" + std::string(tag) + "\":" + std::to_string(first + i) + "}");
  }
  return out;
}

/// Appends owned lines through the sink (ChunkRequest only borrows them).
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

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// Every path under `dir`, relative, sorted.
std::set<std::string> Tree(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    out.insert(std::filesystem::relative(it->path(), dir).string());
  }
  return out;
}

mode_t Mode(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

TEST_CASE("Init creates a session and re-init keeps its id and counts", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  ArchiveSink sink(root);
  Result<InitResult> first = sink.Init(Info());
  REQUIRE(first.ok());
  CHECK(LooksLikeUuid(first->session_id));
  CHECK(first->session_id[14] == '4');
  CHECK(first->last_synced_line.empty());
  std::string dir = sink.SessionDir("claude-code", kExt);
  CHECK(dir == root + "/claude-code/" + kExt);

  REQUIRE(Append(sink, first->session_id, std::string(kExt) + ".jsonl", 1, Numbered(1, 3))->accepted());
  REQUIRE(Append(sink, first->session_id, "agent-a1.jsonl", 1, Numbered(1, 2), FileType::kAgent)->accepted());

  // Re-init overwrites metadata (server quirk), keeps id and counts.
  Result<InitResult> again = sink.Init(Info(kExt, R"({"cwd":""})"));
  REQUIRE(again.ok());
  CHECK(again->session_id == first->session_id);
  CHECK(again->last_synced_line == std::map<std::string, uint64_t>{{std::string(kExt) + ".jsonl", 3},
                                                                   {"agent-a1.jsonl", 2}});
  Result<ArchiveManifest> m = sink.ReadManifest(first->session_id);
  REQUIRE(m.ok());
  CHECK(m->metadata_json == R"({"cwd":""})");
  CHECK(m->provider == "claude-code");
  CHECK(m->external_id == kExt);
  CHECK(m->files.at("agent-a1.jsonl").file_type == FileType::kAgent);
  CHECK(m->files.at("agent-a1.jsonl").bytes == Joined(Numbered(1, 2)).size());

  // A second session gets a different id.
  Result<InitResult> other = sink.Init(Info("other-session"));
  REQUIRE(other.ok());
  CHECK(other->session_id != first->session_id);
}

TEST_CASE("Manifest survives a new ArchiveSink over the same root", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  std::string sid;
  {
    ArchiveSink sink(root);
    Result<InitResult> init = sink.Init(Info());
    REQUIRE(init.ok());
    sid = init->session_id;
    REQUIRE(Append(sink, sid, "t.jsonl", 1, Numbered(1, 4))->accepted());
  }
  ArchiveSink fresh(root);
  // Without Init, the new object finds the session by scanning the root.
  Result<std::vector<std::string>> lines = fresh.ReadLines(sid, "t.jsonl", 0);
  REQUIRE(lines.ok());
  CHECK(*lines == Numbered(1, 4));
  Result<ChunkOutcome> next = Append(fresh, sid, "t.jsonl", 5, Numbered(5, 1));
  REQUIRE(next.ok());
  CHECK(next->accepted());
  CHECK(next->last_synced_line == 5);
  Result<InitResult> init = fresh.Init(Info());
  REQUIRE(init.ok());
  CHECK(init->session_id == sid);
  CHECK(init->last_synced_line.at("t.jsonl") == 5);
  CHECK(ReadWholeFile(fresh.SessionDir("claude-code", kExt) + "/t.jsonl") == Joined(Numbered(1, 5)));
}

TEST_CASE("Chunks must be contiguous: gap, overlap and resend conflict and store nothing", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  std::string path = sink.SessionDir("claude-code", kExt) + "/t.jsonl";

  SECTION("a new file must start at line 1") {
    Result<ChunkOutcome> r = Append(sink, sid, "t.jsonl", 2, Numbered(2, 1));
    REQUIRE(r.ok());
    CHECK_FALSE(r->accepted());
    CHECK(r->expected_first_line == 1u);
    CHECK(r->last_synced_line == 0);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK(sink.ListFiles(sid)->empty());
  }

  Result<ChunkOutcome> ok = Append(sink, sid, "t.jsonl", 1, Numbered(1, 3));
  REQUIRE(ok.ok());
  REQUIRE(ok->accepted());
  CHECK(ok->last_synced_line == 3);
  const std::string before = ReadWholeFile(path);
  CHECK(before == Joined(Numbered(1, 3)));

  uint64_t first = GENERATE(1u, 2u, 3u, 5u, 100u);  // overlap, overlap, overlap, gap, gap
  INFO("first_line " << first);
  Result<ChunkOutcome> r = Append(sink, sid, "t.jsonl", first, Numbered(first, 2));
  REQUIRE(r.ok());
  CHECK_FALSE(r->accepted());
  CHECK(r->expected_first_line == 4u);
  CHECK(r->last_synced_line == 3);
  CHECK(ReadWholeFile(path) == before);
  CHECK(sink.ReadManifest(sid)->files.at("t.jsonl").last_synced_line == 3);
  CHECK(sink.ReadManifest(sid)->files.at("t.jsonl").chunks == 1);

  SECTION("an exact resend of the last accepted chunk conflicts") {
    Result<ChunkOutcome> resend = Append(sink, sid, "t.jsonl", 1, Numbered(1, 3));
    REQUIRE(resend.ok());
    CHECK(resend->expected_first_line == 4u);
    CHECK(ReadWholeFile(path) == before);
  }
  SECTION("the expected line is then accepted") {
    Result<ChunkOutcome> next = Append(sink, sid, "t.jsonl", 4, Numbered(4, 2));
    REQUIRE(next.ok());
    CHECK(next->accepted());
    CHECK(next->last_synced_line == 5);
    CHECK(ReadWholeFile(path) == Joined(Numbered(1, 5)));
  }
}

TEST_CASE("Malformed chunks are rejected with nothing written", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  const std::set<std::string> tree_before = Tree(tmp.path());

  auto expect_invalid = [&](const Result<ChunkOutcome>& r) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  };
  SECTION("newline in a line") { expect_invalid(Append(sink, sid, "t.jsonl", 1, {"{\"a\":1}", "bad\nline"})); }
  SECTION("carriage return in a line") { expect_invalid(Append(sink, sid, "t.jsonl", 1, {"bad\rline"})); }
  SECTION("no lines") { expect_invalid(Append(sink, sid, "t.jsonl", 1, {})); }
  SECTION("first_line 0") { expect_invalid(Append(sink, sid, "t.jsonl", 0, {"x"})); }
  SECTION("past line 99,999,999") { expect_invalid(Append(sink, sid, "t.jsonl", kMaxLineNumber, {"x", "y"})); }
  SECTION("empty first_user_message") {
    std::vector<std::string_view> lines = {"x"};
    ChunkRequest req{sid, "t.jsonl", FileType::kTranscript, 1, lines, std::nullopt, std::string()};
    expect_invalid(sink.AppendChunk(req));
  }
  SECTION("oversized summary") {
    std::vector<std::string_view> lines = {"x"};
    ChunkRequest req{sid, "t.jsonl", FileType::kTranscript, 1, lines, std::string(2049, 's'), std::nullopt};
    expect_invalid(sink.AppendChunk(req));
  }
  SECTION("bad file names") {
    std::string name = GENERATE(as<std::string>(), "", "../escape.jsonl", "a/../../x.jsonl", "/etc/passwd",
                                "a//b.jsonl", "a\\b.jsonl", "..", "dir/", "./a.jsonl", "a/./b.jsonl", "a/.",
                                std::string(513, 'n'), std::string("nul\0x", 5), "manifest.json", "events.jsonl",
                                ".lock", "manifest.json.tmp.1.2", "events.jsonl/x.jsonl", ".lock/x");
    INFO("file_name " << name);
    expect_invalid(Append(sink, sid, name, 1, {"x"}));
  }
  CHECK(Tree(tmp.path()) == tree_before);
  CHECK(sink.ListFiles(sid)->empty());

}

TEST_CASE("Unknown sessions and hostile external ids are refused", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  ArchiveSink sink(root);

  std::string bad = GENERATE(as<std::string>(), "", "../../etc", "a/b", "..", ".", "a b", "x\ny", std::string(129, 'a'),
                             "/abs");
  INFO("external_id " << bad);
  Result<InitResult> r = sink.Init(Info(bad));
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == Status::Kind::kInvalidInput);
  CHECK(sink.SetSummary(bad, "s").kind() == Status::Kind::kInvalidInput);
  CHECK(Tree(tmp.path()).empty());

  SessionInfo info = Info();
  info.provider = "";
  CHECK(sink.Init(info).status().kind() == Status::Kind::kInvalidInput);
  info.provider = "../x";
  CHECK(sink.Init(info).status().kind() == Status::Kind::kInvalidInput);
  info = Info();
  info.metadata_json = "[1]";
  CHECK(sink.Init(info).status().kind() == Status::Kind::kInvalidInput);
  info.metadata_json = "{not json";
  CHECK(sink.Init(info).status().kind() == Status::Kind::kInvalidInput);
  info = Info();
  info.transcript_path = "";
  CHECK(sink.Init(info).status().kind() == Status::Kind::kInvalidInput);
  CHECK(Tree(tmp.path()).empty());

  // Unknown or non-UUID session ids are kNotFound, like the server's 404.
  CHECK(Append(sink, "not-a-uuid", "t.jsonl", 1, {"x"}).status().kind() == Status::Kind::kNotFound);
  CHECK(Append(sink, "00000000-0000-4000-8000-000000000000", "t.jsonl", 1, {"x"}).status().kind() ==
        Status::Kind::kNotFound);
  CHECK(sink.ListFiles("../../etc").status().kind() == Status::Kind::kNotFound);
  CHECK(sink.SetSummary("never-initialised", "s").kind() == Status::Kind::kNotFound);
  CHECK(Tree(tmp.path()).empty());
}

TEST_CASE("Workflow file names create private subdirectories", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  ArchiveSink sink(root);
  std::string sid = sink.Init(Info())->session_id;
  std::string dir = sink.SessionDir("claude-code", kExt);
  const std::string agent = "subagents/workflows/run-1/agent-a9.jsonl";
  const std::string journal = "subagents/workflows/run-1/journal.jsonl";
  REQUIRE(Append(sink, sid, agent, 1, Numbered(1, 2), FileType::kAgent)->accepted());
  REQUIRE(Append(sink, sid, journal, 1, Numbered(1, 1, "j"), FileType::kWorkflowJournal)->accepted());
  CHECK(ReadWholeFile(dir + "/" + agent) == Joined(Numbered(1, 2)));
  CHECK(ReadWholeFile(dir + "/" + journal) == Joined(Numbered(1, 1, "j")));

  for (const std::string& d : {root + "/claude-code", dir, dir + "/subagents", dir + "/subagents/workflows",
                               dir + "/subagents/workflows/run-1"}) {
    INFO(d);
    CHECK(Mode(d) == 0700);
  }
  for (const std::string& f : {dir + "/" + agent, dir + "/" + journal, dir + "/manifest.json"}) {
    INFO(f);
    CHECK(Mode(f) == 0600);
  }
  Result<std::vector<FileInfo>> files = sink.ListFiles(sid);
  REQUIRE(files.ok());
  REQUIRE(files->size() == 2);
  CHECK((*files)[0].file_name == agent);
  CHECK((*files)[0].file_type == FileType::kAgent);
  CHECK((*files)[0].last_synced_line == 2);
  CHECK((*files)[1].file_name == journal);
  CHECK((*files)[1].file_type == FileType::kWorkflowJournal);
  CHECK((*files)[1].last_synced_line == 1);

  // The type of a file cannot change under it.
  CHECK(Append(sink, sid, agent, 3, {"x"}, FileType::kTranscript).status().kind() == Status::Kind::kInvalidInput);
}

TEST_CASE("A crash between append and manifest update is reconciled", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  std::string sid;
  std::string path;
  {
    ArchiveSink sink(root);
    sid = sink.Init(Info())->session_id;
    path = sink.SessionDir("claude-code", kExt) + "/t.jsonl";
    REQUIRE(Append(sink, sid, "t.jsonl", 1, Numbered(1, 3))->accepted());
  }
  // Simulate the crash: lines 4-5 (and a torn line) reached the data file,
  // the manifest never heard of them.
  std::string ghost = GENERATE(as<std::string>(), "{\"l\":4}\n{\"l\":5}\n", "{\"l\":4}\n{\"torn", "x");
  AppendFile(path, ghost);

  ArchiveSink sink(root);
  SECTION("AppendChunk continues from the manifest's count") {
    // The ghost lines are not visible to readers.
    CHECK(*sink.ReadLines(sid, "t.jsonl", 0) == Numbered(1, 3));
    Result<ChunkOutcome> r = Append(sink, sid, "t.jsonl", 4, Numbered(4, 3, "new"));
    REQUIRE(r.ok());
    CHECK(r->accepted());
    CHECK(r->last_synced_line == 6);
    std::vector<std::string> expected = Numbered(1, 3);
    for (const auto& l : Numbered(4, 3, "new")) expected.push_back(l);
    CHECK(ReadWholeFile(path) == Joined(expected));
    CHECK(*sink.ReadLines(sid, "t.jsonl", 0) == expected);
  }
  SECTION("a chunk that assumes the ghost lines were stored is a conflict") {
    Result<ChunkOutcome> r = Append(sink, sid, "t.jsonl", 6, {"x"});
    REQUIRE(r.ok());
    CHECK(r->expected_first_line == 4u);
  }
  SECTION("Init truncates the tail and reports the acknowledged count") {
    Result<InitResult> init = sink.Init(Info());
    REQUIRE(init.ok());
    CHECK(init->last_synced_line.at("t.jsonl") == 3);
    CHECK(ReadWholeFile(path) == Joined(Numbered(1, 3)));
  }
  SECTION("a file the manifest never recorded is started from scratch") {
    std::string orphan = sink.SessionDir("claude-code", kExt) + "/agent-x.jsonl";
    testing::WriteFile(orphan, "{\"half\":1}\n{\"ha", 0600);
    REQUIRE(Append(sink, sid, "agent-x.jsonl", 1, Numbered(1, 2), FileType::kAgent)->accepted());
    CHECK(ReadWholeFile(orphan) == Joined(Numbered(1, 2)));
  }
}

TEST_CASE("Lost acknowledged lines are reported as corruption, never papered over", "[archive]") {
  TempDir tmp;
  std::string root = tmp / "archive";
  ArchiveSink sink(root);
  std::string sid = sink.Init(Info())->session_id;
  std::string path = sink.SessionDir("claude-code", kExt) + "/t.jsonl";
  REQUIRE(Append(sink, sid, "t.jsonl", 1, Numbered(1, 3))->accepted());

  SECTION("file shorter than acknowledged") { testing::WriteFile(path, "{\"l\":1}\n", 0600); }
  SECTION("acknowledged part does not end a line") {
    std::string data = ReadWholeFile(path);
    data[data.size() - 1] = 'X';
    data += "\n";
    testing::WriteFile(path, data, 0600);
  }
  SECTION("file deleted") { std::filesystem::remove(path); }
  CHECK(Append(sink, sid, "t.jsonl", 4, {"x"}).status().kind() == Status::Kind::kCorrupt);
  CHECK(sink.Init(Info()).status().kind() == Status::Kind::kCorrupt);
}

TEST_CASE("Init refuses a corrupt manifest instead of resetting counts", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  REQUIRE(Append(sink, sid, "t.jsonl", 1, Numbered(1, 2))->accepted());
  std::string manifest = sink.SessionDir("claude-code", kExt) + "/manifest.json";
  testing::WriteFile(manifest, "{\"version\":1,", 0600);
  CHECK(sink.Init(Info()).status().kind() == Status::Kind::kCorrupt);
  CHECK(ReadWholeFile(sink.SessionDir("claude-code", kExt) + "/t.jsonl") == Joined(Numbered(1, 2)));
}

TEST_CASE("Manifest serialisation round-trips", "[archive]") {
  ArchiveManifest m;
  m.session_id = "0b7f3c1e-5d2a-4c3b-9a8e-1f2d3c4b5a69";
  m.provider = "claude-code";
  m.external_id = "abc";
  m.transcript_path = "/p/\"q\".jsonl";
  m.metadata_json = R"({"cwd":"/x","git_info":{"branch":"main"}})";
  m.summary = "sum \"mary\"";
  m.events = 1;
  m.events_bytes = 40;
  m.files["subagents/workflows/r/journal.jsonl"] = {FileType::kWorkflowJournal, 2, 10, 1};
  Result<ArchiveManifest> back = ParseArchiveManifest(SerializeArchiveManifest(m));
  REQUIRE(back.ok());
  CHECK(back->session_id == m.session_id);
  CHECK(back->transcript_path == m.transcript_path);
  CHECK(back->metadata_json == m.metadata_json);
  CHECK(back->summary == m.summary);
  CHECK_FALSE(back->first_user_message.has_value());
  CHECK(back->events_bytes == 40);
  const auto& f = back->files.at("subagents/workflows/r/journal.jsonl");
  CHECK(f.file_type == FileType::kWorkflowJournal);
  CHECK(f.last_synced_line == 2);
  CHECK(f.bytes == 10);
  CHECK(f.chunks == 1);

  m.files["../x"] = {};
  CHECK(ParseArchiveManifest(SerializeArchiveManifest(m)).status().kind() == Status::Kind::kCorrupt);
  m.files.erase("../x");
  m.files["y"] = {FileType::kAgent, 5, 3, 1};  // fewer bytes than lines
  CHECK(ParseArchiveManifest(SerializeArchiveManifest(m)).status().kind() == Status::Kind::kCorrupt);
  CHECK(ParseArchiveManifest("[]").status().kind() == Status::Kind::kCorrupt);
}

TEST_CASE("Events are appended one JSON object per line", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  std::string events = sink.SessionDir("claude-code", kExt) + "/events.jsonl";
  REQUIRE(sink.SendEvent(sid, "session_end", "2026-11-21T07:00:00Z", "{\n  \"reason\": \"exit\"\n}").ok());
  REQUIRE(sink.SendEvent(sid, "session_end", "2026-11-21T08:00:00+01:00", "[1, 2]").ok());
  CHECK(ReadWholeFile(events) ==
        "{\"event_type\":\"session_end\",\"timestamp\":\"2026-11-21T07:00:00Z\",\"payload\":{\"reason\":\"exit\"}}\n"
        "{\"event_type\":\"session_end\",\"timestamp\":\"2026-11-21T08:00:00+01:00\",\"payload\":[1,2]}\n");
  CHECK(Mode(events) == 0600);
  CHECK(sink.ReadManifest(sid)->events == 2);

  CHECK(sink.SendEvent(sid, "session_end", "2026-11-21T07:00:00Z", "{bad").kind() == Status::Kind::kInvalidInput);
  CHECK(sink.SendEvent(sid, "", "2026-11-21T07:00:00Z", "{}").kind() == Status::Kind::kInvalidInput);
  CHECK(sink.SendEvent(sid, "session_end", "", "{}").kind() == Status::Kind::kInvalidInput);
  CHECK(sink.SendEvent("00000000-0000-4000-8000-000000000000", "session_end", "2026-11-21T07:00:00Z", "{}").kind() ==
        Status::Kind::kNotFound);

  // A torn event from a crash is cut off before the next one.
  AppendFile(events, "{\"event_type\":\"sess");
  REQUIRE(sink.SendEvent(sid, "session_end", "2026-11-21T09:00:00Z", "null").ok());
  std::string data = ReadWholeFile(events);
  CHECK(data.ends_with("\"payload\":[1,2]}\n{\"event_type\":\"session_end\",\"timestamp\":\"2026-11-21T09:00:00Z\","
                       "\"payload\":null}\n"));
  CHECK(std::count(data.begin(), data.end(), '\n') == 3);
}

TEST_CASE("Summary and first user message are stored in the manifest", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  REQUIRE(sink.SetSummary(kExt, "Fixing the parser").ok());
  CHECK(sink.ReadManifest(sid)->summary == "Fixing the parser");
  CHECK(sink.SetSummary(kExt, std::string(2049, 'x')).kind() == Status::Kind::kInvalidInput);

  std::vector<std::string_view> lines = {"{\"a\":1}"};
  ChunkRequest req{sid, "t.jsonl", FileType::kTranscript, 1, lines, std::string("chunk summary"),
                   std::string("first question")};
  REQUIRE(sink.AppendChunk(req)->accepted());
  req.first_line = 2;
  req.summary = "later summary";
  req.first_user_message = "second question";
  REQUIRE(sink.AppendChunk(req)->accepted());
  // Metadata on non-transcript chunks is ignored, like the server.
  ChunkRequest agent{sid, "agent-1.jsonl", FileType::kAgent, 1, lines, std::string("agent summary"), std::nullopt};
  REQUIRE(sink.AppendChunk(agent)->accepted());

  Result<ArchiveManifest> m = sink.ReadManifest(sid);
  REQUIRE(m.ok());
  CHECK(m->summary == "later summary");              // last write wins
  CHECK(m->first_user_message == "first question");  // first write wins
  // Re-init keeps them.
  REQUIRE(sink.Init(Info()).ok());
  CHECK(sink.ReadManifest(sid)->summary == "later summary");
}

TEST_CASE("ReadLines after N returns exactly the following lines", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  std::string sid = sink.Init(Info())->session_id;
  std::vector<std::string> all;
  uint64_t next = 1;
  for (uint64_t size : {1u, 7u, 3u, 20u}) {
    std::vector<std::string> chunk = Numbered(next, size);
    // Lines with JSON escapes, tabs and non-ASCII survive byte for byte.
    chunk.back() = "{\"t\":\"tab\\there \\\"q\\\" \xc3\xa9\xe2\x82\xac\",\"n\":" + std::to_string(next + size - 1) + "}";
    REQUIRE(Append(sink, sid, "t.jsonl", next, chunk)->accepted());
    all.insert(all.end(), chunk.begin(), chunk.end());
    next += size;
  }
  uint64_t after = GENERATE(0u, 1u, 8u, 30u, 31u, 40u);
  INFO("after " << after);
  Result<std::vector<std::string>> got = sink.ReadLines(sid, "t.jsonl", after);
  REQUIRE(got.ok());
  std::vector<std::string> expected(all.begin() + static_cast<long>(std::min<uint64_t>(after, all.size())), all.end());
  CHECK(*got == expected);
  Result<std::vector<std::string>> missing = sink.ReadLines(sid, "missing.jsonl", 0);
  REQUIRE(missing.ok());
  CHECK(missing->empty());
}

TEST_CASE("Concurrent appends to different files and sessions end exact", "[archive]") {
  TempDir tmp;
  ArchiveSink sink(tmp / "archive");
  constexpr uint64_t kChunks = 60;
  constexpr uint64_t kPerChunk = 5;

  auto writer = [&](std::string sid, std::string file, FileType type, bool* ok) {
    *ok = true;
    for (uint64_t c = 0; c < kChunks && *ok; ++c) {
      uint64_t first = c * kPerChunk + 1;
      Result<ChunkOutcome> r = Append(sink, sid, file, first, Numbered(first, kPerChunk, file), type);
      *ok = r.ok() && r->accepted() && r->last_synced_line == first + kPerChunk - 1;
    }
  };

  std::string a = sink.Init(Info("session-a"))->session_id;
  std::string b = sink.Init(Info("session-b"))->session_id;
  struct Job {
    std::string sid, file;
    FileType type;
  };
  std::vector<Job> jobs = {{a, "session-a.jsonl", FileType::kTranscript},
                           {a, "agent-1.jsonl", FileType::kAgent},
                           {b, "session-b.jsonl", FileType::kTranscript},
                           {b, "subagents/workflows/r/journal.jsonl", FileType::kWorkflowJournal}};
  bool oks[4] = {false, false, false, false};
  std::vector<std::thread> threads;
  for (size_t i = 0; i < jobs.size(); ++i) threads.emplace_back(writer, jobs[i].sid, jobs[i].file, jobs[i].type, &oks[i]);
  for (auto& t : threads) t.join();

  for (size_t i = 0; i < jobs.size(); ++i) {
    INFO(jobs[i].file);
    CHECK(oks[i]);
    Result<std::vector<std::string>> lines = sink.ReadLines(jobs[i].sid, jobs[i].file, 0);
    REQUIRE(lines.ok());
    CHECK(*lines == Numbered(1, kChunks * kPerChunk, jobs[i].file));
  }
  Result<InitResult> ra = sink.Init(Info("session-a"));
  REQUIRE(ra.ok());
  CHECK(ra->last_synced_line == std::map<std::string, uint64_t>{{"agent-1.jsonl", kChunks * kPerChunk},
                                                                {"session-a.jsonl", kChunks * kPerChunk}});
  CHECK(sink.ReadManifest(b)->files.size() == 2);
}

}  // namespace
}  // namespace tsync::uploader
