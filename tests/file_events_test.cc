// File-event matrix (issue 7): what happens to a session's files on disk —
// rotation, truncation, rewrites, deletion, inode reuse, a partial line when
// tsync is killed, CRLF, invalid UTF-8, a 20 MiB line, empty files, ids and
// symlinks that lead outside the session, unreadable and read-only paths, a
// full disk under the checkpoint — each driven through the real `tsync`
// binary (save, or the hook-started watcher) against the refserver, with the
// expected outcome asserted by read-back: exactly which backend files hold
// exactly which lines. The unit tests (session_tracker_test.cc,
// chunk_reader_test.cc) pin down the detection; these prove what reaches the
// backend end to end.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/sha256.h"
#include "base/utf8.h"
#include "tests/refserver_process.h"
#include "tests/sync_proof.h"
#include "tracker/chunk_reader.h"

namespace tsync::testing {
namespace {

using namespace proof;
namespace fs = std::filesystem;
using Files = std::map<std::string, std::vector<std::string>>;

constexpr const char* kId = "e7e70000-0000-4000-8000-00000000f11e";

std::string Line(const std::string& tag, int n) {
  return R"({"type":"user","tag":")" + tag + R"(","n":)" + std::to_string(n) +
         R"(,"message":{"role":"user","content":"line )" + tag + std::to_string(n) + R"( of the file-event matrix"}})";
}

/// Lines tag[from], …, tag[to - 1].
std::vector<std::string> Lines(const std::string& tag, int from, int to) {
  std::vector<std::string> v;
  for (int i = from; i < to; ++i) v.push_back(Line(tag, i));
  return v;
}

std::string Text(const std::vector<std::string>& lines, const std::string& eol = "\n") {
  std::string t;
  for (const std::string& l : lines) t += l + eol;
  return t;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

uint64_t Inode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_ino);
}

/// One session in a private home, synced to its own refserver.
struct EventsFixture {
  ProofHome fx;
  RefServer server;
  std::string project = fx.projects + "/-home-dev-events";
  std::string transcript = project + "/" + kId + ".jsonl";
  std::string name = std::string(kId) + ".jsonl";

  EventsFixture() {
    fx.backend_url = server.url();
    fs::create_directories(project);
  }
  std::string Subagent(const std::string& agent_id) const {
    return project + "/" + kId + "/subagents/agent-" + agent_id + ".jsonl";
  }
  std::string Gen(int n) const { return std::string(kId) + ".gen" + std::to_string(n) + ".jsonl"; }

  ProcessResult Save(std::vector<std::string> prefix = {}) const { return fx.Run({"save", kId}, std::move(prefix)); }
  Files Stored() const {
    std::optional<Files> s = ReadBack(server.url(), kId);
    return s ? *s : Files{};
  }
  /// The backend holds exactly `expected`: these files, these lines.
  void RequireStored(const Files& expected) const {
    const Files stored = Stored();
    Proof p = Compare(stored, expected, /*prefix=*/false);
    INFO(p.Text() << "\nlog tail:\n" << Tail(fx.LogPath(), 20));
    CHECK(p.ok());
    size_t nonempty = 0;
    for (const auto& [n, lines] : expected) nonempty += lines.empty() ? 0 : 1;
    CHECK(stored.size() == nonempty);
    CHECK(TotalViolations(server.port()) == 0);
  }
  size_t StoredCount(const std::string& file_name) const {
    const Files s = Stored();
    auto it = s.find(file_name);
    return it == s.end() ? 0 : it->second.size();
  }
  bool WaitStored(const std::string& file_name, size_t n) const {
    return WaitUntil([&] { return StoredCount(file_name) == n; }, milliseconds(20'000));
  }

  // Live sync, as Claude Code's hooks drive it.
  pid_t StartWatcher(const std::string& hook = "session-start") const {
    REQUIRE(fx.Hook(hook, ProofHome::Payload(kId, transcript, "SessionStart")).exit_code == 0);
    std::optional<agent::WatcherEntry> w;
    REQUIRE(WaitUntil([&] { return (w = fx.LiveWatcher(kId)).has_value(); }, milliseconds(10'000)));
    return w->process.pid;
  }
  void EndSession() const {
    REQUIRE(fx.Hook("session-end", ProofHome::Payload(kId, transcript, "SessionEnd", R"(,"reason":"other")"))
                .exit_code == 0);
    REQUIRE(WaitUntil([&] { return fx.Processes().empty(); }, milliseconds(60'000)));
  }
  int SessionEnds() const {
    int n = 0;
    for (const StoredEvent& e : StoredEvents(server, kId)) n += e.type == "session_end" ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST_CASE("file events — copytruncate keeps the synced lines and sends the new content as a new generation",
          "[file-events]") {
  EventsFixture f;
  WriteFile(f.transcript, Text(Lines("a", 0, 5)));
  REQUIRE(f.Save().exit_code == 0);
  // logrotate copytruncate: copy, then truncate in place (same inode); the
  // agent keeps appending to the now shorter file. Lines written after the
  // last sync and before the truncation (a5, a6) live on only in the copy —
  // copytruncate's own window; tsync follows the path, not the copy.
  AppendFile(f.transcript, Text(Lines("a", 5, 7)));
  fs::copy_file(f.transcript, f.transcript + ".1");
  const uint64_t ino = Inode(f.transcript);
  fs::resize_file(f.transcript, 0);
  AppendFile(f.transcript, Text(Lines("b", 0, 3)));
  REQUIRE(Inode(f.transcript) == ino);

  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("was truncated after 5 line(s)") != std::string::npos);
  f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), Lines("b", 0, 3)}});
  // A second run finds nothing to send.
  CHECK(f.Save().out.find("nothing new to send") != std::string::npos);
}

TEST_CASE("file events — truncate and rewrite in place — replaced, rewritten tail, and an edit no fingerprint sees",
          "[file-events]") {
  EventsFixture f;
  WriteFile(f.transcript, Text(Lines("a", 0, 10)));
  REQUIRE(f.Save().exit_code == 0);

  // Rewritten in place (O_TRUNC, same inode), longer than before: not a
  // truncation by size — the changed head makes it a replacement.
  const uint64_t ino = Inode(f.transcript);
  std::vector<std::string> b = Lines("b", 0, 100);  // ~9 KiB: past both 4 KiB fingerprints
  WriteFile(f.transcript, Text(b));
  REQUIRE(Inode(f.transcript) == ino);
  ProcessResult replaced = f.Save();
  INFO(replaced.out << replaced.err);
  CHECK(replaced.exit_code == 0);
  CHECK(replaced.err.find("was replaced after 10 line(s)") != std::string::npos);
  f.RequireStored({{f.name, Lines("a", 0, 10)}, {f.Gen(2), b}});

  // The last synced line edited in place (same length), head untouched: the
  // tail fingerprint sees it; the whole current file becomes generation 3.
  std::string text = Text(b);
  const size_t at = text.rfind("\"n\":99");
  REQUIRE(at != std::string::npos);
  text.replace(at, 6, "\"n\":98");
  b.back().replace(b.back().find("\"n\":99"), 6, "\"n\":98");
  const int fd = ::open(f.transcript.c_str(), O_WRONLY);
  REQUIRE(::pwrite(fd, text.data() + at, 6, static_cast<off_t>(at)) == 6);
  ::close(fd);
  AppendFile(f.transcript, Line("b", 100) + "\n");
  b.push_back(Line("b", 100));
  ProcessResult rewritten = f.Save();
  INFO(rewritten.out << rewritten.err);
  CHECK(rewritten.exit_code == 0);
  CHECK(rewritten.err.find("was rewritten after 100 line(s)") != std::string::npos);
  f.RequireStored({{f.name, Lines("a", 0, 10)}, {f.Gen(2), Lines("b", 0, 100)}, {f.Gen(3), b}});

  // An edit in the middle, outside both fingerprints, is not seen by change
  // detection (transcripts are append-only; hashing every byte on every
  // pass would cost a full read): the stored line keeps what was synced,
  // appended lines still follow — and `tsync verify` reports the one line.
  text = Text(b);
  const size_t mid = text.find("\"n\":50");
  REQUIRE(mid != std::string::npos);
  const int fd2 = ::open(f.transcript.c_str(), O_WRONLY);
  REQUIRE(::pwrite(fd2, "\"n\":05", 6, static_cast<off_t>(mid)) == 6);
  ::close(fd2);
  AppendFile(f.transcript, Line("b", 101) + "\n");
  ProcessResult edited = f.Save();
  CHECK(edited.exit_code == 0);
  CHECK(edited.out.find("1 line(s) sent") != std::string::npos);
  const Files stored = f.Stored();
  REQUIRE(stored.at(f.Gen(3)).size() == 102);
  CHECK(stored.at(f.Gen(3))[50] == Line("b", 50));
  CHECK(stored.at(f.Gen(3))[101] == Line("b", 101));
  ProcessResult verify = f.fx.Run({"verify", kId, "--json"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 1);
  CHECK(verify.out.find("\"differing\":1") != std::string::npos);
}

TEST_CASE("file events — rename rotation under the live watcher — old lines stay, the new file is a new generation",
          "[file-events]") {
  EventsFixture f;
  WriteFile(f.transcript, Text(Lines("a", 0, 5)));
  f.StartWatcher();
  REQUIRE(f.WaitStored(f.name, 5));
  AppendFile(f.transcript, Text(Lines("a", 5, 7)));
  REQUIRE(f.WaitStored(f.name, 7));
  fs::rename(f.transcript, f.transcript + ".1");
  WriteFile(f.transcript, Text(Lines("b", 0, 3)));
  REQUIRE(f.WaitStored(f.Gen(2), 3));
  // The rotated file is not followed: a line written to it after the rename
  // goes nowhere; the new file goes on in generation 2.
  AppendFile(f.transcript + ".1", Line("a", 7) + "\n");
  AppendFile(f.transcript, Line("b", 3) + "\n");
  REQUIRE(f.WaitStored(f.Gen(2), 4));
  f.EndSession();
  f.RequireStored({{f.name, Lines("a", 0, 7)}, {f.Gen(2), Lines("b", 0, 4)}});
  CHECK(f.SessionEnds() == 1);
}

TEST_CASE("file events — delete and recreate — the deleted file's lines stay, the new one is a new generation",
          "[file-events]") {
  EventsFixture f;
  const std::string agent = f.Subagent("aaaaaa000001");
  WriteFile(f.transcript, Text(Lines("t", 0, 3)));
  WriteFile(agent, Text(Lines("a", 0, 4)));
  REQUIRE(f.Save().exit_code == 0);
  f.RequireStored({{f.name, Lines("t", 0, 3)}, {"agent-aaaaaa000001.jsonl", Lines("a", 0, 4)}});

  fs::remove(agent);
  AppendFile(f.transcript, Line("t", 3) + "\n");
  ProcessResult deleted = f.Save();
  INFO(deleted.out << deleted.err);
  CHECK(deleted.exit_code == 0);
  f.RequireStored({{f.name, Lines("t", 0, 4)}, {"agent-aaaaaa000001.jsonl", Lines("a", 0, 4)}});

  WriteFile(agent, Text(Lines("c", 0, 2)));
  ProcessResult recreated = f.Save();
  INFO(recreated.out << recreated.err);
  CHECK(recreated.exit_code == 0);
  f.RequireStored({{f.name, Lines("t", 0, 4)},
                   {"agent-aaaaaa000001.jsonl", Lines("a", 0, 4)},
                   {"agent-aaaaaa000001.gen2.jsonl", Lines("c", 0, 2)}});
}

namespace {

/// Writes `text` to new files in `dir` until one gets inode number `ino`
/// (ext4 hands a freed number to the next file created; other file systems,
/// or a process creating files meanwhile, may not), at most 65 files.
/// Returns the last file written: the one on `ino` when any got it.
std::string WriteHopingForInode(const std::string& dir, const std::string& tag, const std::string& text,
                                uint64_t ino) {
  std::string made;
  for (int i = 0; i < 65 && (made.empty() || Inode(made) != ino); ++i) {
    made = dir + "/" + tag + "-" + std::to_string(i) + ".tmp";
    WriteFile(made, text);
  }
  return made;
}

}  // namespace

TEST_CASE("file events — inode reuse — another file on the same inode number is a new generation",
          "[file-events]") {
  EventsFixture f;
  WriteFile(f.transcript, Text(Lines("a", 0, 5)));
  REQUIRE(f.Save().exit_code == 0);
  const uint64_t old_ino = Inode(f.transcript);
  fs::remove(f.transcript);
  const std::vector<std::string> b = Lines("b", 0, 8);
  std::string made = WriteHopingForInode(f.project, "first", Text(b), old_ino);
  const bool reused = Inode(made) == old_ino;
  if (!reused) {
    std::printf("WARN: file events — inode reuse: this file system did not reuse inode %llu; the case ran as a "
                "replacement by another inode\n",
                static_cast<unsigned long long>(old_ino));
  }
  fs::rename(made, f.transcript);
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("was replaced after 5 line(s)") != std::string::npos);
  f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), b}});

  // Reuse by a file that starts with exactly the synced lines cannot be told
  // from growth — and need not be: the stored lines equal the local ones.
  // Another process (a test running beside this one) may take the freed
  // number first, so spares are made again; a file on another inode is a
  // replacement, whatever it starts with.
  const uint64_t ino2 = Inode(f.transcript);
  fs::remove(f.transcript);
  const std::vector<std::string> grown = Concat(b, Lines("c", 0, 2));
  made = WriteHopingForInode(f.project, "again", Text(grown), ino2);
  const bool reused_again = Inode(made) == ino2;
  INFO("inode reused: " << reused_again);
  fs::rename(made, f.transcript);
  REQUIRE(f.Save().exit_code == 0);
  if (reused_again) {
    f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), grown}});
  } else {
    f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), b}, {f.Gen(3), grown}});
  }
}

TEST_CASE("file events — a partial line at the moment of a kill is never stored and arrives whole after the restart",
          "[file-events]") {
  EventsFixture f;
  // Line 3 is cut inside a multi-byte character.
  const std::string line3 = R"({"type":"assistant","n":3,"message":{"content":"déjà vu — ✓"}})";
  const size_t cut = line3.find("\xc3\xa0") + 1;
  WriteFile(f.transcript, Text(Lines("a", 0, 3)) + line3.substr(0, cut));
  const pid_t watcher = f.StartWatcher();
  REQUIRE(f.WaitStored(f.name, 3));
  std::this_thread::sleep_for(milliseconds(2500));  // past settle and max delay: passes have seen the fragment
  ::kill(watcher, SIGKILL);
  REQUIRE(WaitUntil([&] { return !f.fx.LiveWatcher(kId).has_value(); }, milliseconds(10'000)));
  CHECK(f.StoredCount(f.name) == 3);
  // A user's save with the fragment still there sends nothing of it.
  ProcessResult save = f.Save();
  CHECK(save.exit_code == 0);
  CHECK(f.StoredCount(f.name) == 3);

  AppendFile(f.transcript, line3.substr(cut) + "\n" + Line("a", 4).substr(0, 17));
  f.StartWatcher("user-prompt-submit");  // the next hook starts a new watcher
  REQUIRE(f.WaitStored(f.name, 4));
  AppendFile(f.transcript, Line("a", 4).substr(17) + "\n");
  REQUIRE(f.WaitStored(f.name, 5));
  f.EndSession();
  f.RequireStored({{f.name, {Line("a", 0), Line("a", 1), Line("a", 2), line3, Line("a", 4)}}});
  CHECK(f.SessionEnds() == 1);
}

TEST_CASE("file events — CRLF line ends are dropped and a stray carriage return becomes a space", "[file-events]") {
  EventsFixture f;
  const std::string stray = "{\"type\":\"user\",\"text\":\"before\rafter\"}";
  WriteFile(f.transcript, Line("a", 0) + "\r\n" + Line("a", 1) + "\n" + Line("a", 2) + "\r\n" + stray + "\r\n" +
                              Line("a", 4) + "\r");  // the last line's '\n' has not arrived
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  const std::string spaced = "{\"type\":\"user\",\"text\":\"before after\"}";
  f.RequireStored({{f.name, {Line("a", 0), Line("a", 1), Line("a", 2), spaced}}});
  AppendFile(f.transcript, "\n");
  REQUIRE(f.Save().exit_code == 0);
  CHECK(f.Stored().at(f.name).back() == Line("a", 4));
  CHECK(f.StoredCount(f.name) == 5);
}

TEST_CASE("file events — invalid UTF-8 arrives as U+FFFD and the line numbering holds", "[file-events]") {
  EventsFixture f;
  const std::vector<std::string> raw = {
      Line("a", 0),
      "{\"type\":\"user\",\"text\":\"bad \xff byte\"}",
      "{\"type\":\"user\",\"text\":\"cut \xe2\x82 sequence\"}",
      "{\"type\":\"user\",\"text\":\"overlong \xc0\xaf slash\"}",
      "{\"type\":\"user\",\"text\":\"surrogate \xed\xa0\x80 half\"}",
      Line("a", 5),
  };
  WriteFile(f.transcript, Text(raw));
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  std::vector<std::string> expected;
  for (const std::string& line : raw) {
    std::string repaired;
    AppendRepairedUtf8(&repaired, line);
    expected.push_back(repaired);
  }
  CHECK(expected[1] == "{\"type\":\"user\",\"text\":\"bad \xEF\xBF\xBD byte\"}");  // one byte, one U+FFFD
  f.RequireStored({{f.name, expected}});
  const Files stored = f.Stored();
  for (const std::string& line : stored.at(f.name)) CHECK(IsValidUtf8(line));
}

TEST_CASE("file events — a 20 MiB line becomes a placeholder with its number, written whole or piece by piece",
          "[file-events]") {
  EventsFixture f;
  const std::string big = R"({"type":"user","blob":")" + std::string(20u << 20, 'A') + R"("})";
  const std::string placeholder = tracker::OversizePlaceholder(big.size(), Sha256Hex(big));
  WriteFile(f.transcript, Line("a", 0) + "\n" + big + "\n" + Line("a", 2) + "\n");
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  f.RequireStored({{f.name, {Line("a", 0), placeholder, Line("a", 2)}}});

  // Under the live watcher, the same line arrives in four writes: nothing of
  // it is stored until its newline, then the placeholder, then what follows.
  f.StartWatcher();
  const size_t quarter = big.size() / 4;
  for (int i = 0; i < 3; ++i) {
    AppendFile(f.transcript, big.substr(i * quarter, quarter));
    std::this_thread::sleep_for(milliseconds(600));
    CHECK(f.StoredCount(f.name) == 3);
  }
  AppendFile(f.transcript, big.substr(3 * quarter) + "\n" + Line("a", 4) + "\n");
  REQUIRE(f.WaitStored(f.name, 5));
  f.EndSession();
  f.RequireStored({{f.name, {Line("a", 0), placeholder, Line("a", 2), placeholder, Line("a", 4)}}});
}

TEST_CASE("file events — empty files send nothing until their first line", "[file-events]") {
  EventsFixture f;
  const std::string agent = f.Subagent("eeeeee000001");
  WriteFile(f.transcript, "");
  WriteFile(agent, "");
  WriteFile(f.project + "/" + kId + "/subagents/agent-eeeeee000001.meta.json", R"({"agentType":"general-purpose"})");
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(f.Stored().empty());
  AppendFile(f.transcript, Line("t", 0) + "\n");
  REQUIRE(f.Save().exit_code == 0);
  f.RequireStored({{f.name, {Line("t", 0)}}});
  AppendFile(agent, Line("a", 0) + "\n");
  REQUIRE(f.Save().exit_code == 0);
  f.RequireStored({{f.name, {Line("t", 0)}}, {"agent-eeeeee000001.jsonl", {Line("a", 0)}}});
}

TEST_CASE("file events — agent ids and symlinks that lead outside the session are refused", "[file-events]") {
  EventsFixture f;
  const std::string outside = f.fx.home / "outside";
  const std::string marker = "OUTSIDE-THE-SESSION-7f3a";
  WriteFile(outside + "/agent.jsonl",
            R"({"type":"user","sessionId":")" + std::string(kId) + R"(","text":")" + marker + "\"}\n");
  WriteFile(outside + "/agent-dddddd000001.jsonl", R"({"type":"user","text":")" + marker + "\"}\n");
  const std::vector<std::string> transcript = {
      Line("t", 0),
      R"({"type":"user","toolUseResult":{"agentId":"../../../../outside/agent"},"message":{"content":"x"}})",
      R"({"type":"progress","data":{"type":"agent_progress","agentId":"../outside"}})",
      R"({"type":"user","toolUseResult":{"agentId":"aaaaaa000002"},"message":{"content":"y"}})",
  };
  WriteFile(f.transcript, Text(transcript));
  WriteFile(f.Subagent("aaaaaa000002"), Text(Lines("a", 0, 2)));
  fs::create_symlink(outside + "/agent.jsonl", f.Subagent("ffffff000001"));              // new layout, out
  fs::create_symlink(outside + "/agent.jsonl", f.project + "/agent-ffffff000002.jsonl");  // old layout, out
  fs::create_directories(f.project + "/" + kId + "/subagents/workflows");
  fs::create_directory_symlink(outside, f.project + "/" + kId + "/subagents/workflows/run1");  // a whole dir, out

  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  f.RequireStored({{f.name, transcript}, {"agent-aaaaaa000002.jsonl", Lines("a", 0, 2)}});
  const std::string log = ReadWholeFile(f.fx.LogPath());
  CHECK(log.find("rejected unsafe agent id") != std::string::npos);
  CHECK(Leaks(f.Stored(), {marker}) == 0);
}

TEST_CASE("file events — a read-only path syncs, an unreadable file waits and loses nothing", "[file-events]") {
  EventsFixture f;
  const std::string agent = f.Subagent("bbbbbb000001");
  WriteFile(f.transcript, Text(Lines("t", 0, 4)));
  WriteFile(agent, Text(Lines("a", 0, 3)));
  // Read-only: tsync only ever reads transcripts.
  for (const std::string& p : {f.transcript, agent}) fs::permissions(p, fs::perms(0444));
  for (const std::string& d : {f.project + "/" + kId + "/subagents", f.project + "/" + kId, f.project}) {
    fs::permissions(d, fs::perms(0555));
  }
  ProcessResult ro = f.Save();
  INFO(ro.out << ro.err);
  CHECK(ro.exit_code == 0);
  f.RequireStored({{f.name, Lines("t", 0, 4)}, {"agent-bbbbbb000001.jsonl", Lines("a", 0, 3)}});

  // Unreadable: root reads anything, so tsync runs without the capabilities
  // that bypass file permissions (as an ordinary user would).
  std::vector<std::string> as_user;
  if (::geteuid() == 0) {
    REQUIRE(fs::exists("/usr/bin/setpriv"));
    as_user = {"/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"};
  }
  for (const std::string& d : {f.project + "/" + kId + "/subagents", f.project + "/" + kId, f.project}) {
    fs::permissions(d, fs::perms(0755));
  }
  AppendFile(f.transcript, Line("t", 4) + "\n");
  AppendFile(agent, Line("a", 3) + "\n");
  fs::permissions(agent, fs::perms::none);
  ProcessResult unreadable = f.Save(as_user);
  INFO(unreadable.out << unreadable.err);
  CHECK(unreadable.exit_code == 1);
  CHECK(unreadable.out.find("agent-bbbbbb000001.jsonl: pending") != std::string::npos);
  CHECK(unreadable.out.find("Permission denied") != std::string::npos);
  f.RequireStored({{f.name, Lines("t", 0, 5)}, {"agent-bbbbbb000001.jsonl", Lines("a", 0, 3)}});

  // The transcript itself unreadable: nothing of it is sent, nothing is lost.
  fs::permissions(agent, fs::perms(0644));
  AppendFile(f.transcript, Line("t", 5) + "\n");
  fs::permissions(f.transcript, fs::perms::none);
  ProcessResult no_transcript = f.Save(as_user);
  INFO(no_transcript.out << no_transcript.err);
  CHECK(no_transcript.exit_code == 1);
  fs::permissions(f.transcript, fs::perms(0644));
  ProcessResult readable = f.Save();
  INFO(readable.out << readable.err);
  CHECK(readable.exit_code == 0);
  f.RequireStored({{f.name, Lines("t", 0, 6)}, {"agent-bbbbbb000001.jsonl", Lines("a", 0, 4)}});
}

TEST_CASE("file events — a full disk while the checkpoint is written loses and doubles nothing", "[file-events]") {
  ProofHome fx;
  RefServer server;
  fx.backend_url = server.url();
  testdata::GeneratorOptions gen;
  gen.seed = 77;
  gen.target_bytes = 256 * 1024;
  gen.agents = 8;  // a checkpoint of a dozen files: over one 4 KiB page
  gen.workflow = true;
  SessionReplay session(fx.projects, gen);
  session.Finish();
  // The checkpoint directory of this destination (agent/save_command.cc).
  const std::string dest = fx.state + "/dest-" + Sha256Hex(server.url()).substr(0, 16);
  const std::string sessions = dest + "/sessions";
  fs::create_directories(sessions);

  // A private mount namespace with an 8 KiB tmpfs on the checkpoint
  // directory, 4 KiB of it taken: the checkpoint write runs out of space
  // part way. The mount dies with the namespace.
  const std::string script =
      "dir=$1; shift; mount -t tmpfs -o size=8k,mode=0700 tsync-full \"$dir\" || exit 97; "
      "head -c 4096 /dev/zero > \"$dir/filler\" || exit 97; \"$@\"; rc=$?; "
      "echo '=== checkpoint dir:'; ls -A \"$dir\"; exit $rc";
  auto run_full = [&]() {
    return RunProcess({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script, "sh", sessions, TSYNC_BINARY, "save",
                       session.id()},
                      fx.Env());
  };
  const bool can_unshare = fs::exists("/usr/bin/unshare");
  ProcessResult first = can_unshare ? run_full() : ProcessResult{97, "", "no /usr/bin/unshare"};
  const bool tmpfs = first.exit_code != 97;
  if (!tmpfs) {
    // No mount namespace here (not root, no unshare): the checkpoint
    // directory becomes a file instead, so every checkpoint write fails
    // (ENOTDIR rather than ENOSPC).
    std::printf("WARN: file events — full disk: cannot mount a tmpfs in a private namespace (exit %d: %s); the "
                "checkpoint writes fail on a file where the directory should be instead of on a full disk\n",
                first.exit_code, first.err.c_str());
    fs::remove_all(sessions);
    WriteFile(sessions, "not a directory");
    first = fx.Run({"save", session.id()});
  }
  INFO(first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.err.find("cannot save the checkpoint") != std::string::npos);
  if (tmpfs) {
    CHECK(first.err.find("No space left on device") != std::string::npos);
    // A failed write leaves no temporary file behind on the full disk.
    CHECK(first.out.substr(first.out.find("=== checkpoint dir:")) == "=== checkpoint dir:\nfiller\n");
  }
  std::optional<Files> stored = ReadBack(server.url(), session.id());
  REQUIRE(stored);
  Proof p = Compare(*stored, session.Expected(), /*prefix=*/false);
  INFO(p.Text());
  CHECK(p.ok());
  CHECK(stored->size() == session.file_count());

  // Still full, a line more: without a checkpoint the files are rescanned
  // against the backend's counts, and only the new line goes.
  AppendFile(session.transcript(), Line("late", 0) + "\n");
  ProcessResult second = tmpfs ? run_full() : fx.Run({"save", session.id()});
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("1 new line(s) sent") != std::string::npos);
  // Still full, the transcript rewritten in place with other, longer
  // content: without a checkpoint only the backend's last line can tell
  // (agent/resume_check.h) — the new content is a new generation, whole.
  const std::vector<std::string> rewritten = Lines("rewritten", 0, 400);
  WriteFile(session.transcript(), Text(rewritten));
  ProcessResult replaced = tmpfs ? run_full() : fx.Run({"save", session.id()});
  INFO(replaced.out << replaced.err);
  CHECK(replaced.exit_code == 0);
  CHECK(replaced.err.find("was replaced") != std::string::npos);
  const std::string gen2 = session.id() + ".gen2.jsonl";
  stored = ReadBack(server.url(), session.id());
  REQUIRE(stored);
  CHECK(stored->at(gen2) == rewritten);
  CHECK(stored->at(session.id() + ".jsonl").back() == Line("late", 0));  // the old lines stay

  // Room again: the checkpoint is written, nothing is resent.
  if (!tmpfs) fs::remove(sessions);
  ProcessResult third = fx.Run({"save", session.id()});
  CHECK(third.exit_code == 0);
  CHECK(third.out.find("nothing new to send") != std::string::npos);
  CHECK(fs::exists(sessions + "/" + session.id() + ".json"));
  stored = ReadBack(server.url(), session.id());
  REQUIRE(stored);
  Files expected = session.Expected();
  expected[gen2] = expected.at(session.id() + ".jsonl");  // the transcript as it is now
  expected[session.id() + ".jsonl"] = stored->at(session.id() + ".jsonl");
  Proof again = Compare(*stored, expected, /*prefix=*/false);
  INFO(again.Text());
  CHECK(again.ok());
  CHECK(TotalViolations(server.port()) == 0);
}

TEST_CASE("file events — a file replaced while its checkpoint was lost is a new generation, not a continuation",
          "[file-events]") {
  EventsFixture f;
  WriteFile(f.transcript, Text(Lines("a", 0, 5)));
  REQUIRE(f.Save().exit_code == 0);
  // The state directory is lost (or was never written: a full disk), and
  // meanwhile the file is replaced by a longer one. The backend's count alone
  // would resume it at line 6, sending b5..b7 after a0..a4 and never b0..b4.
  fs::remove_all(f.fx.state);
  WriteFile(f.transcript + ".new", Text(Lines("b", 0, 8)));
  fs::rename(f.transcript + ".new", f.transcript);
  ProcessResult r = f.Save();
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("the backend's line 5 is not the local line 5") != std::string::npos);
  f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), Lines("b", 0, 8)}});
  CHECK(f.fx.Run({"verify", kId}).exit_code == 0);

  // Lost again, and again replaced: generation 2 on the backend is not this
  // file either, so it goes on as generation 3.
  fs::remove_all(f.fx.state);
  WriteFile(f.transcript + ".new", Text(Lines("c", 0, 9)));
  fs::rename(f.transcript + ".new", f.transcript);
  ProcessResult again = f.Save();
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
  f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), Lines("b", 0, 8)}, {f.Gen(3), Lines("c", 0, 9)}});

  // Lost once more, but the file only grew: the rescan agrees and nothing is resent.
  fs::remove_all(f.fx.state);
  AppendFile(f.transcript, Line("c", 9) + "\n");
  ProcessResult grown = f.Save();
  INFO(grown.out << grown.err);
  CHECK(grown.exit_code == 0);
  f.RequireStored({{f.name, Lines("a", 0, 5)}, {f.Gen(2), Lines("b", 0, 8)}, {f.Gen(3), Lines("c", 0, 10)}});
}

}  // namespace tsync::testing
