// Change detection, generations, resume and checkpoints, driven through
// SessionTracker the way the engine drives it, against an in-memory stand-in
// for the backend's stored lines.
#include "tracker/session_tracker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>

#include "base/fs.h"
#include "tests/test_util.h"

using namespace tsync::tracker;
using tsync::Result;
using tsync::Status;
using tsync::testing::AppendFile;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;

namespace {

constexpr const char* kSession = "11111111-2222-3333-4444-555555555555";

// What the backend holds: file_name -> lines, with strict contiguity.
struct FakeBackend {
  std::map<std::string, std::vector<std::string>> files;

  uint64_t Count(const std::string& name) const {
    auto it = files.find(name);
    return it == files.end() ? 0 : it->second.size();
  }
  void Store(const std::string& name, const Chunk& c) {
    auto& lines = files[name];
    REQUIRE(c.first_line == lines.size() + 1);  // the server's contiguity rule
    for (auto l : c.lines) lines.emplace_back(l);
  }
};

struct Fixture {
  TempDir dir;
  std::string project = dir / "projects/-home-dev-demo";
  std::string transcript = project + "/" + kSession + ".jsonl";
  FakeBackend backend;

  SessionTracker MakeTracker() {
    return SessionTracker(SessionLocation{project, kSession, transcript}, ChunkOptions{});
  }

  // The engine's loop for one file: read, "upload", acknowledge until dry.
  std::vector<Change> SyncFile(SessionTracker& t, TrackedFile& f) {
    std::vector<Change> seen;
    for (int guard = 0; guard < 1000; ++guard) {
      auto p = t.Next(f);
      REQUIRE(p.ok());
      seen.push_back(p->change);
      if (p->chunk.empty()) break;
      backend.Store(f.file_name, p->chunk);
      t.Acknowledge(f, *p);
    }
    return seen;
  }
  void SyncAll(SessionTracker& t) {
    t.Discover(true);
    for (auto& f : t.files()) SyncFile(t, f);
  }
};

std::vector<std::string> Lines(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

}  // namespace

TEST_CASE("GenerationFileName keeps the extension last", "[tracker]") {
  CHECK(GenerationFileName("abc.jsonl", 1) == "abc.jsonl");
  CHECK(GenerationFileName("abc.jsonl", 2) == "abc.gen2.jsonl");
  CHECK(GenerationFileName("subagents/workflows/r1/journal.jsonl", 3) == "subagents/workflows/r1/journal.gen3.jsonl");
  CHECK(GenerationFileName("noext", 2) == "noext.gen2");
}

TEST_CASE("appended lines are read once each, partial lines wait", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n{\"n\":2}\n{\"n\"");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  CHECK(fx.backend.files[std::string(kSession) + ".jsonl"] == Lines({"{\"n\":1}", "{\"n\":2}"}));

  auto& f = t.files()[0];
  CHECK(f.pos.lines == 2);
  CHECK(f.pos.offset == 16);
  auto idle = t.Next(f);
  REQUIRE(idle.ok());
  CHECK(idle->chunk.empty());
  CHECK(idle->change == Change::kGrown);  // the partial line is past the offset
  CHECK(f.pos.lines == 2);

  AppendFile(fx.transcript, ":3}\n{\"n\":4}\n");
  CHECK(fx.SyncFile(t, f).front() == Change::kGrown);
  CHECK(fx.backend.files[f.file_name] == Lines({"{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}"}));
}

TEST_CASE("an empty transcript is tracked and sends nothing until it has a line", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  CHECK(fx.backend.files.empty());
  AppendFile(fx.transcript, "{}\n");
  fx.SyncAll(t);
  CHECK(fx.backend.Count(std::string(kSession) + ".jsonl") == 1);
}

TEST_CASE("truncation starts a new generation — synced lines stay", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n{\"n\":2}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  // copytruncate: same inode, cut to zero, then new writes smaller than before.
  REQUIRE(::truncate(fx.transcript.c_str(), 0) == 0);
  AppendFile(fx.transcript, "{\"x\":1}\n");
  auto& f = t.files()[0];
  CHECK(fx.SyncFile(t, f).front() == Change::kTruncated);
  CHECK(f.generation == 2);
  CHECK(f.file_name == std::string(kSession) + ".gen2.jsonl");
  CHECK(fx.backend.files[std::string(kSession) + ".jsonl"] == Lines({"{\"n\":1}", "{\"n\":2}"}));
  CHECK(fx.backend.files[f.file_name] == Lines({"{\"x\":1}"}));
}

TEST_CASE("replacement with a new inode starts a new generation", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  std::string tmp = fx.project + "/new.tmp";
  WriteFile(tmp, "{\"n\":1}\n{\"other\":true}\n");
  REQUIRE(::rename(tmp.c_str(), fx.transcript.c_str()) == 0);
  auto& f = t.files()[0];
  CHECK(fx.SyncFile(t, f).front() == Change::kReplaced);
  // Even though line 1 is equal, the new file is sent whole: it is another file.
  CHECK(fx.backend.files[f.file_name] == Lines({"{\"n\":1}", "{\"other\":true}"}));
  CHECK(fx.backend.Count(std::string(kSession) + ".jsonl") == 1);
}

TEST_CASE("the same inode with another beginning (inode reuse) is a replacement", "[tracker]") {
  // A reused inode looks exactly like this: same device and inode number,
  // different bytes from the start. Overwriting in place reproduces it
  // deterministically on any file system.
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  WriteFile(fx.transcript, "{\"m\":9}\n{\"m\":10}\n");  // O_TRUNC on the same inode, larger
  auto& f = t.files()[0];
  CHECK(fx.SyncFile(t, f).front() == Change::kReplaced);
  CHECK(fx.backend.files[f.file_name] == Lines({"{\"m\":9}", "{\"m\":10}"}));
}

TEST_CASE("a rewrite below the offset is detected and never uploaded as a fragment", "[tracker]") {
  Fixture fx;
  std::string head(5000, 'h');  // beyond the 4 KiB head fingerprint
  WriteFile(fx.transcript, "{\"h\":\"" + head + "\"}\n{\"n\":2}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  // Same size prefix, one byte changed in the last synced line, then growth.
  std::string content = tsync::testing::ReadWholeFile(fx.transcript);
  content[content.size() - 3] = '7';
  WriteFile(fx.transcript, content + "{\"n\":3}\n");
  auto& f = t.files()[0];
  CHECK(fx.SyncFile(t, f).front() == Change::kRewritten);
  CHECK(f.generation == 2);
  REQUIRE(fx.backend.files[f.file_name].size() == 3);
  CHECK(fx.backend.files[f.file_name][1] == "{\"n\":7}");
  CHECK(fx.backend.Count(std::string(kSession) + ".jsonl") == 2);
}

TEST_CASE("a deleted file is missing, keeps its state, and a recreated one is a new generation", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  REQUIRE(::unlink(fx.transcript.c_str()) == 0);
  auto& f = t.files()[0];
  auto gone = t.Next(f);
  REQUIRE(gone.ok());
  CHECK(gone->change == Change::kMissing);
  CHECK(gone->chunk.empty());
  CHECK(f.pos.lines == 1);
  WriteFile(fx.transcript, "{\"again\":1}\n");
  auto back = t.Next(f);
  REQUIRE(back.ok());
  // Recreated: another inode (or a reused one with other content).
  CHECK(back->change == Change::kReplaced);
  CHECK(f.generation == 2);
}

TEST_CASE("a device number that changed across a reboot is not a replacement", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  auto& f = t.files()[0];
  f.pos.dev += 1;  // as a checkpoint from before the reboot would say
  AppendFile(fx.transcript, "{\"n\":2}\n");
  CHECK(fx.SyncFile(t, f).front() == Change::kGrown);
  CHECK(f.generation == 1);
  CHECK(fx.backend.Count(f.file_name) == 2);

  f.pos.dev += 1;  // and with other content the fingerprints still catch it
  WriteFile(fx.transcript, "{\"other\":1}\n{\"other\":2}\n{\"other\":3}\n");
  CHECK(fx.SyncFile(t, f).front() == Change::kReplaced);
  CHECK(f.generation == 2);
}

TEST_CASE("mtime changes alone do not disturb an unchanged file", "[tracker]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  struct timespec times[2] = {{0, UTIME_NOW}, {12345, 0}};
  REQUIRE(::utimensat(AT_FDCWD, fx.transcript.c_str(), times, 0) == 0);
  auto p = t.Next(t.files()[0]);
  REQUIRE(p.ok());
  CHECK(p->change == Change::kUnchanged);
  CHECK(t.files()[0].generation == 1);
}

TEST_CASE("resume from a checkpoint that matches the backend keeps the offset", "[tracker][resume]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n{\"n\":2}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  REQUIRE(SaveCheckpoint(fx.dir / "state", t.Snapshot()).ok());
  AppendFile(fx.transcript, "{\"n\":3}\n");

  auto loaded = LoadCheckpoint(fx.dir / "state", kSession);
  REQUIRE(loaded.checkpoint.has_value());
  auto t2 = fx.MakeTracker();
  t2.Restore(*loaded.checkpoint);
  t2.Discover(true);
  auto& f = t2.files()[0];
  auto from = t2.Resume(f, fx.backend.Count(f.file_name));
  REQUIRE(from.ok());
  CHECK(*from == ResumeFrom::kCheckpoint);
  CHECK(f.pos.offset == 16);
  fx.SyncFile(t2, f);
  CHECK(fx.backend.Count(f.file_name) == 3);
}

TEST_CASE("resume with a mismatching backend count rescans to the backend's line", "[tracker][resume]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  auto stale = t.Snapshot();  // says 4 lines

  SECTION("backend has fewer lines than the checkpoint (older backend state)") {
    fx.backend.files[std::string(kSession) + ".jsonl"].resize(2);
    auto t2 = fx.MakeTracker();
    t2.Restore(stale);
    auto& f = t2.files()[0];
    auto from = t2.Resume(f, 2);
    REQUIRE(from.ok());
    CHECK(*from == ResumeFrom::kRescan);
    CHECK(f.pos.offset == 16);
    fx.SyncFile(t2, f);
    CHECK(fx.backend.files[f.file_name] == Lines({"{\"n\":1}", "{\"n\":2}", "{\"n\":3}", "{\"n\":4}"}));
  }
  SECTION("a checkpoint from an older run (fewer lines than the backend)") {
    stale.files[0].pos.lines = 1;
    stale.files[0].pos.offset = 8;
    auto t2 = fx.MakeTracker();
    t2.Restore(stale);
    auto& f = t2.files()[0];
    auto from = t2.Resume(f, 4);
    REQUIRE(from.ok());
    CHECK(*from == ResumeFrom::kRescan);
    CHECK(f.pos.offset == 32);
    CHECK(f.pos.lines == 4);
  }
  SECTION("no checkpoint at all") {
    auto t2 = fx.MakeTracker();
    t2.Discover(true);
    auto& f = t2.files()[0];
    auto from = t2.Resume(f, 3);
    REQUIRE(from.ok());
    CHECK(*from == ResumeFrom::kRescan);
    CHECK(f.pos.offset == 24);
  }
  SECTION("the backend holds more lines than the file: conflict, nothing resent") {
    auto t2 = fx.MakeTracker();
    t2.Discover(true);
    auto& f = t2.files()[0];
    auto from = t2.Resume(f, 9);
    REQUIRE_FALSE(from.ok());
    CHECK(from.status().kind() == Status::Kind::kConflict);
    CHECK(from.status().message().find("holds 9 lines") != std::string::npos);
  }
}

TEST_CASE("resume after the file was replaced while tsync was away starts a new generation", "[tracker][resume]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  auto cp = t.Snapshot();
  std::string tmp = fx.project + "/x.tmp";
  WriteFile(tmp, "{\"z\":1}\n");
  REQUIRE(::rename(tmp.c_str(), fx.transcript.c_str()) == 0);
  auto t2 = fx.MakeTracker();
  t2.Restore(cp);
  auto& f = t2.files()[0];
  auto from = t2.Resume(f, 1);
  REQUIRE(from.ok());
  CHECK(*from == ResumeFrom::kNewGeneration);
  auto again = t2.Resume(f, fx.backend.Count(f.file_name));
  REQUIRE(again.ok());
  CHECK(*again == ResumeFrom::kCheckpoint);  // generation 2 starts at byte 0
  CHECK(f.pos.offset == 0);
  fx.SyncFile(t2, f);
  CHECK(fx.backend.files[std::string(kSession) + ".gen2.jsonl"] == Lines({"{\"z\":1}"}));
}

TEST_CASE("checkpoints round-trip and are written 0600 in a 0700 directory", "[checkpoint]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  t.set_backend_session_id("9b2c7a8e-0000-4000-8000-000000000001");
  fx.SyncAll(t);
  std::string state = fx.dir / "state";
  REQUIRE(SaveCheckpoint(state, t.Snapshot()).ok());
  struct stat st;
  REQUIRE(::stat(CheckpointPath(state, kSession).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((state + "/sessions").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto loaded = LoadCheckpoint(state, kSession);
  REQUIRE(loaded.checkpoint.has_value());
  CHECK(loaded.ignored_because.empty());
  const Checkpoint saved = t.Snapshot();
  const auto& a = saved.files[0];
  const auto& b = loaded.checkpoint->files[0];
  CHECK(loaded.checkpoint->backend_session_id == "9b2c7a8e-0000-4000-8000-000000000001");
  CHECK(b.path == a.path);
  CHECK(b.file_name == a.file_name);
  CHECK(b.pos.offset == a.pos.offset);
  CHECK(b.pos.lines == a.pos.lines);
  CHECK(b.pos.dev == a.pos.dev);
  CHECK(b.pos.ino == a.pos.ino);
  CHECK(b.pos.mtime_ns == a.pos.mtime_ns);
  CHECK(b.pos.head_hash == a.pos.head_hash);
  CHECK(b.pos.tail_hash == a.pos.tail_hash);
  // When the backend last acknowledged lines (tsync status --session).
  CHECK(a.acked_at > 0);
  CHECK(b.acked_at == a.acked_at);
}

TEST_CASE("a checkpoint keeps the session's init metadata, and drops one that is not a small object",
          "[checkpoint]") {
  Fixture fx;
  WriteFile(fx.transcript, "{\"n\":1}\n");
  auto t = fx.MakeTracker();
  fx.SyncAll(t);
  REQUIRE(t.Snapshot().files.size() == 1);
  CHECK(t.Snapshot().metadata_json.empty());
  CHECK(SerializeCheckpoint(t.Snapshot()).find("metadata") == std::string::npos);
  t.set_metadata_json(R"({"cwd":"/home/u/p","git_info":{"branch":"main"}})");
  std::string text = SerializeCheckpoint(t.Snapshot());
  Result<Checkpoint> parsed = ParseCheckpoint(text);
  REQUIRE(parsed.ok());
  CHECK(parsed->metadata_json == R"({"cwd":"/home/u/p","git_info":{"branch":"main"}})");
  auto restored = fx.MakeTracker();
  restored.Restore(*parsed);
  CHECK(restored.metadata_json() == t.metadata_json());

  // Only a cache of what git said: a bad value is dropped, the rest loads.
  const std::string marker = R"("metadata":{"cwd":"/home/u/p","git_info":{"branch":"main"}})";
  REQUIRE(text.find(marker) != std::string::npos);
  for (const std::string& bad : {std::string(R"("metadata":"a string")"), std::string(R"("metadata":[1,2])"),
                                 R"("metadata":{"pad":")" + std::string(kMaxCheckpointMetadata, 'x') + R"("})"}) {
    std::string tampered = text;
    tampered.replace(tampered.find(marker), marker.size(), bad);
    Result<Checkpoint> loaded = ParseCheckpoint(tampered);
    REQUIRE(loaded.ok());
    CHECK(loaded->metadata_json.empty());
    CHECK(loaded->files.size() == 1);
  }
}

TEST_CASE("a missing, empty, corrupt or foreign checkpoint is ignored with a reason", "[checkpoint]") {
  TempDir dir;
  std::string state = dir / "state";
  std::string path = CheckpointPath(state, kSession);

  auto none = LoadCheckpoint(state, kSession);
  CHECK_FALSE(none.checkpoint.has_value());
  CHECK(none.ignored_because.empty());

  struct Case {
    const char* what;
    std::string text;
    const char* reason;
  };
  std::string good_file =
      R"({"path":"/p/s.jsonl","base_name":"s.jsonl","file_name":"s.jsonl","file_type":"transcript","generation":1,)"
      R"("dev":1,"ino":2,"offset":10,"lines":1,"size":10,"mtime_ns":5,"head_len":0,"head_hash":"","tail_len":0,"tail_hash":""})";
  std::vector<Case> cases = {
      {"empty", "", "empty"},
      {"whitespace", "  \n", "empty"},
      {"truncated JSON", R"({"version":1,"session_id":")", "invalid JSON"},
      {"not an object", "[1,2]", "not an object"},
      {"newer version", R"({"version":2,"session_id":"x","backend_session_id":"","files":[]})", "version 2"},
      {"wrong type", std::string(R"({"version":1,"session_id":")") + kSession + R"(","backend_session_id":7,"files":[]})",
       "backend_session_id must be a string"},
      {"another session", R"({"version":1,"session_id":"other","backend_session_id":"","files":[]})", "belongs to session other"},
      {"bad file type",
       std::string(R"({"version":1,"session_id":")") + kSession + R"(","backend_session_id":"","files":[)" +
           std::string(good_file).replace(good_file.find("transcript"), 10, "todo") + "]}",
       "file_type is unknown"},
      {"inconsistent offsets",
       std::string(R"({"version":1,"session_id":")") + kSession + R"(","backend_session_id":"","files":[)" +
           std::string(good_file).replace(good_file.find("\"lines\":1"), 9, "\"lines\":99") + "]}",
       "more lines than bytes"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    WriteFile(path, c.text);
    auto loaded = LoadCheckpoint(state, kSession);
    CHECK_FALSE(loaded.checkpoint.has_value());
    CHECK(loaded.ignored_because.find(c.reason) != std::string::npos);
  }
  // And the well-formed one loads.
  WriteFile(path, std::string(R"({"version":1,"session_id":")") + kSession + R"(","backend_session_id":"","files":[)" +
                      good_file + "]}");
  auto ok = LoadCheckpoint(state, kSession);
  REQUIRE(ok.checkpoint.has_value());
  CHECK(ok.checkpoint->files.size() == 1);
}

TEST_CASE("hostile session ids never become checkpoint paths", "[checkpoint]") {
  TempDir dir;
  Checkpoint cp{"../../etc/x", "", {}, ""};
  auto st = SaveCheckpoint(dir / "state", cp);
  CHECK_FALSE(st.ok());
  CHECK(st.kind() == Status::Kind::kInvalidInput);
  CHECK(LoadCheckpoint(dir / "state", "a/b").ignored_because == "the session id is not valid");
  CHECK_FALSE(IsValidSessionId(""));
  CHECK_FALSE(IsValidSessionId(std::string(129, 'a')));
  CHECK(IsValidSessionId(kSession));
}
