// `tsync save`, end to end: the real binary against the real refserver
// process and against the local archive, over the real Claude Code samples
// and generated sessions with agents. "Nothing lost" is checked by reading
// every file back from the sink and comparing it line by line with the
// local file (equal, or the same JSON structure where redaction replaced
// text).
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"
#include "config/config.h"
#include "tests/refserver_process.h"
#include "tests/samples_home.h"
#include "tests/test_util.h"
#include "testdata/session_generator.h"
#include "uploader/archive_sink.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::testing {
namespace {

constexpr const char* kPlain = kSamplePlain;
constexpr const char* kWithAgent = kSampleWithAgent;
using SaveFixture = SamplesHome;

std::vector<std::string> LocalLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Every stored line equals the local one, or differs only inside strings
/// (a redaction marker), with nothing missing or extra.
void RequireSameLines(const std::vector<std::string>& stored, const std::string& local_path) {
  std::vector<std::string> local = LocalLines(local_path);
  REQUIRE(stored.size() == local.size());
  for (size_t i = 0; i < local.size(); ++i) {
    INFO(local_path << " line " << i + 1);
    if (stored[i] != local[i]) CHECK(SameJsonStructure(stored[i], local[i]));
  }
}

/// Reads every file of `external_id` back through `sink` and compares it
/// with the local files of the sample session directory.
void RequireSessionSaved(uploader::Sink& sink, const SaveFixture& fx, const std::string& external_id,
                         const std::string& backend_id, size_t expected_files) {
  Result<std::vector<uploader::FileInfo>> files = sink.ListFiles(backend_id);
  REQUIRE(files.ok());
  CHECK(files->size() == expected_files);
  for (const uploader::FileInfo& f : *files) {
    std::string local = f.file_name == external_id + ".jsonl" ? fx.project + "/" + f.file_name
                                                              : fx.project + "/" + external_id + "/subagents/" +
                                                                    f.file_name;
    Result<std::vector<std::string>> stored = sink.ReadLines(backend_id, f.file_name, 0);
    REQUIRE(stored.ok());
    RequireSameLines(*stored, local);
  }
}

std::string JsonField(const std::string& json, const char* session_id, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc)) return "";
  for (simdjson::dom::element s : doc["sessions"].get_array()) {
    if (std::string_view(s["session_id"]) == session_id) {
      std::string_view v;
      if (s[key].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
    }
  }
  return "";
}

/// A reader of what the refserver holds for user "k1".
std::unique_ptr<uploader::SyncSink> BackendSink(const RefServer& server) {
  config::Config cfg;
  cfg.backend_url = server.url();
  cfg.api_key = "k1";
  auto client = uploader::SyncClient::Create(cfg);
  REQUIRE(client.ok());
  return std::make_unique<uploader::SyncSink>(std::move(client.value()));
}

/// The sum of every file's "retries" in a --json report.
uint64_t TotalRetries(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  uint64_t total = 0;
  if (parser.parse(json).get(doc)) return 0;
  for (simdjson::dom::element s : doc["sessions"].get_array()) {
    for (simdjson::dom::element f : s["files"].get_array()) total += uint64_t(f["retries"]);
  }
  return total;
}

}  // namespace

TEST_CASE("save — archives every sample session, then a second run sends nothing", "[save]") {
  SaveFixture fx;
  const std::string archive = fx.home / "archive";
  ProcessResult first = fx.Run({"save", "--all", "--to", archive, "--json"});
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(first.out.find("\"exit_code\":0") != std::string::npos);

  uploader::ArchiveSink sink(archive);
  RequireSessionSaved(sink, fx, kPlain, JsonField(first.out, kPlain, "backend_session_id"), 1);
  RequireSessionSaved(sink, fx, kWithAgent, JsonField(first.out, kWithAgent, "backend_session_id"), 2);

  ProcessResult second = fx.Run({"save", "--all", "--to", archive});
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("nothing new to send") != std::string::npos);

  // One more line: exactly one line goes.
  AppendFile(fx.project + "/" + kPlain + ".jsonl", R"({"type":"user","message":{"role":"user","content":"more"}})"
                                                   "\n");
  ProcessResult third = fx.Run({"save", "f77", "--to", archive});
  REQUIRE(third.exit_code == 0);
  CHECK(third.out.find("1 line(s) sent") != std::string::npos);
  RequireSessionSaved(sink, fx, kPlain, JsonField(first.out, kPlain, "backend_session_id"), 1);
}

TEST_CASE("save — syncs to the backend with the key from the environment, idempotently", "[save]") {
  SaveFixture fx;
  RefServer server;
  const std::vector<std::string> env = {"TSYNC_BACKEND_URL=" + server.url(), "TSYNC_API_KEY=k1"};
  ProcessResult first = fx.Run({"save", "--all", "--json"}, env);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);

  std::unique_ptr<uploader::SyncSink> backend = BackendSink(server);
  uploader::SyncSink& sink = *backend;
  RequireSessionSaved(sink, fx, kPlain, JsonField(first.out, kPlain, "backend_session_id"), 1);
  RequireSessionSaved(sink, fx, kWithAgent, JsonField(first.out, kWithAgent, "backend_session_id"), 2);
  CHECK(TotalViolations(server.port()) == 0);

  ProcessResult second = fx.Run({"save", "--all"}, env);
  CHECK(second.exit_code == 0);
  CHECK(second.out.find("nothing new to send") != std::string::npos);
}

TEST_CASE("save — a secret across the first message's or the summary's limit reaches the backend in no part",
          "[save][security]") {
  // Cut to the field's limit before redaction, the token's prefix matched no
  // rule and went out as text.
  SaveFixture fx;
  RefServer server;
  const std::string id = "5ec7e700-0000-4000-8000-000000000001";
  const std::string token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
  const std::string prompt = std::string(4096 - 16, 'p') + " " + token + " please";
  const std::string summary = std::string(2048 - 16, 's') + " " + token;
  WriteFile(fx.project + "/" + id + ".jsonl",
            R"({"type":"summary","summary":")" + summary + R"(","leafUuid":"5ec7e700-0000-4000-8000-0000000000aa"})"
            "\n"
            R"({"parentUuid":null,"isSidechain":false,"type":"user","message":{"role":"user","content":")" +
                prompt + R"("},"uuid":"5ec7e700-0000-4000-8000-0000000000aa","cwd":"/home/dev/demo-project",)"
                         R"("sessionId":")" + id + R"(","timestamp":"2026-11-21T00:00:00Z"})"
                                                   "\n");
  ProcessResult r = fx.Run({"save", id.substr(0, 8), "--to", server.url()}, {"TSYNC_API_KEY=k1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const StoredMetadata stored = StoredSessionMetadata(server, id);
  CHECK(stored.first_user_message == std::string(4096 - 16, 'p'));  // the marker would pass the limit
  CHECK(stored.summary == std::string(2048 - 16, 's'));
  CHECK(TotalViolations(server.port()) == 0);
}

TEST_CASE("save — git is asked once per session, not again by every later save", "[save]") {
  SaveFixture fx;
  const std::string repo = fx.home / "repo";
  ProcessResult made = RunProcess({"/usr/bin/git", "init", "-q", repo}, {"HOME=" + fx.home.path(), "PATH=/usr/bin:/bin"});
  REQUIRE(made.exit_code == 0);
  testdata::GeneratorOptions gen;
  gen.cwd = repo;
  gen.target_bytes = 64 << 10;
  Result<testdata::GeneratedSession> session = testdata::GenerateSession(fx.claude + "/projects", gen);
  REQUIRE(session.ok());
  // The git on PATH notes every run, then runs the real one.
  const std::string log = fx.home / "git-runs.log";
  WriteFile(fx.home / "bin/git", "#!/bin/sh\necho \"$*\" >> '" + log + "'\nexec /usr/bin/git \"$@\"\n", 0755);
  const std::vector<std::string> env = {"PATH=" + (fx.home / "bin") + ":/usr/bin:/bin"};
  const std::string archive = fx.home / "archive";
  const std::string prefix = session->session_id.substr(0, 8);
  auto read = [](const std::string& path) {
    Result<std::string> text = ReadFile(path, 1 << 20);
    return text.ok() ? *text : std::string();
  };

  ProcessResult first = fx.Run({"save", prefix, "--to", archive}, env);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string asked = read(log);
  CHECK(asked.find("status") != std::string::npos);

  AppendFile(session->transcript.path, R"({"type":"user","message":{"role":"user","content":"more"}})"
                                       "\n");
  ProcessResult second = fx.Run({"save", prefix, "--to", archive}, env);
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(second.out.find("1 line(s) sent") != std::string::npos);
  // Not asked again: the checkpoint kept the answer, and the second init
  // sent the same git_info (the archive keeps the latest init's metadata).
  CHECK(read(log) == asked);
  size_t with_git_info = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(archive)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    with_git_info += read(entry.path().string()).find("\"git_info\"") != std::string::npos;
  }
  CHECK(with_git_info == 1);
}

TEST_CASE("save — exit codes for usage, bad keys and an unreachable backend", "[save]") {
  SaveFixture fx;
  CHECK(fx.Run({"save"}).exit_code == 2);                    // neither prefixes nor --all
  CHECK(fx.Run({"save", "zzz", "--to", fx.home / "a"}).exit_code == 2);  // no such session
  ProcessResult ambiguous = fx.Run({"save", "", "--to", fx.home / "a"});
  CHECK(ambiguous.exit_code == 2);
  CHECK(fx.Run({"save", "--all", "--since", "5 days"}).exit_code == 2);

  RefServer server;
  ProcessResult bad_key = fx.Run({"save", "--all"}, {"TSYNC_BACKEND_URL=" + server.url(), "TSYNC_API_KEY=nope"});
  CHECK(bad_key.exit_code == 3);
  CHECK(bad_key.err.find("tsync login") != std::string::npos);
  CHECK(bad_key.err.find("nope") == std::string::npos);

  // Nothing listens on port 1: the client retries, then gives up with 4.
  ProcessResult down = fx.Run({"save", "--all"}, {"TSYNC_BACKEND_URL=http://127.0.0.1:1", "TSYNC_API_KEY=k1"});
  CHECK(down.exit_code == 4);
}

TEST_CASE("save — a file the backend refuses is quarantined and the others sync", "[save]") {
  SaveFixture fx;
  RefServer server;
  // Not JSON: the reference backend refuses it (422) every time.
  const std::string agent = fx.project + "/" + kWithAgent + "/subagents/agent-a9a14960adfa44d68.jsonl";
  AppendFile(agent, "this line is not json\n");
  const std::vector<std::string> env = {"TSYNC_BACKEND_URL=" + server.url(), "TSYNC_API_KEY=k1"};
  ProcessResult r = fx.Run({"save", "--all"}, env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("agent-a9a14960adfa44d68.jsonl: quarantined") != std::string::npos);
  CHECK(r.out.find(std::string(kPlain) + "  synced") != std::string::npos);

  // Quarantine is remembered: the next run does not send the file again.
  ProcessResult again = fx.Run({"save", "--all", "--json"}, env);
  CHECK(again.exit_code == 1);
  CHECK(again.out.find("\"state\":\"quarantined\"") != std::string::npos);
  CHECK(TotalViolations(server.port()) == 1);
}

TEST_CASE("save — lost replies and 503s from the backend end with every line stored once", "[save]") {
  SaveFixture fx;
  testdata::GeneratorOptions gen;
  gen.seed = 9;
  gen.target_bytes = 3u << 20;
  gen.agents = 3;
  gen.plant_secrets = true;
  Result<testdata::GeneratedSession> session = testdata::GenerateSession(fx.claude + "/projects", gen);
  REQUIRE(session.ok());
  RefServer server({"--drop-after-commit-rate", "0.3", "--fail-rate", "0.2", "--seed", "4"});
  const std::vector<std::string> env = {"TSYNC_BACKEND_URL=" + server.url(), "TSYNC_API_KEY=k1"};
  ProcessResult r = fx.Run({"save", session->session_id, "--json"}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(TotalRetries(r.out) > 0);  // the faults really happened

  std::unique_ptr<uploader::SyncSink> backend = BackendSink(server);
  uploader::SyncSink& sink = *backend;
  const std::string backend_id = JsonField(r.out, session->session_id.c_str(), "backend_session_id");
  Result<std::vector<uploader::FileInfo>> files = sink.ListFiles(backend_id);
  REQUIRE(files.ok());
  REQUIRE(files->size() == session->agents.size() + 1);
  for (const testdata::GeneratedFile& local : session->files) {
    if (local.lines == 0) continue;  // .meta.json sidecars are not uploaded
    const std::string name = std::filesystem::path(local.path).filename().string();
    Result<std::vector<std::string>> stored = sink.ReadLines(backend_id, name, 0);
    REQUIRE(stored.ok());
    RequireSameLines(*stored, local.path);
    for (const std::string& line : *stored) {
      for (const testdata::PlantedSecret& secret : session->secrets) {
        INFO(testdata::SecretKindName(secret.kind));
        CHECK(line.find(secret.value) == std::string::npos);
      }
    }
  }
  CHECK(TotalViolations(server.port()) == 0);
}

}  // namespace tsync::testing

namespace tsync::testing {

TEST_CASE("verify — a saved session verifies, a tampered or unsaved line does not", "[save][verify]") {
  SaveFixture fx;
  const std::string archive = fx.home / "archive";
  REQUIRE(fx.Run({"save", "--all", "--to", archive}).exit_code == 0);
  ProcessResult good = fx.Run({"verify", "29a", "--to", archive});
  INFO(good.out << good.err);
  CHECK(good.exit_code == 0);
  CHECK(good.out.find("verified: 29a570ad") != std::string::npos);
  CHECK(good.out.find("equal up to redaction") != std::string::npos);

  // Tamper with the stored transcript: same length, one byte changed.
  const std::string stored = archive + "/claude-code/" + kPlain + "/" + kPlain + ".jsonl";
  std::string bytes = ReadWholeFile(stored);
  const size_t at = bytes.find("\"type\":\"user\"");
  REQUIRE(at != std::string::npos);
  bytes[at + 9] = 'U';
  WriteFile(stored, bytes, 0600);
  ProcessResult tampered = fx.Run({"verify", "f77", "--to", archive, "--json"});
  CHECK(tampered.exit_code == 1);
  CHECK(tampered.out.find("\"differing\":1") != std::string::npos);

  // A line written after the save is missing from the archive until the next save.
  AppendFile(fx.project + "/" + kWithAgent + ".jsonl", "{\"type\":\"user\",\"late\":true}\n");
  ProcessResult missing = fx.Run({"verify", "29a", "--to", archive});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find("1 missing (not saved yet)") != std::string::npos);
  REQUIRE(fx.Run({"save", "29a", "--to", archive}).exit_code == 0);
  CHECK(fx.Run({"verify", "29a", "--to", archive}).exit_code == 0);

  // Never saved to this destination.
  CHECK(fx.Run({"verify", "29a", "--to", fx.home / "elsewhere"}).exit_code == 1);
}

}  // namespace tsync::testing

namespace tsync::testing {

TEST_CASE("list — sessions with title and sync state for the destination", "[save][list]") {
  SaveFixture fx;
  const std::string archive = fx.home / "archive";
  ProcessResult before = fx.Run({"list", "--to", archive, "--json"});
  REQUIRE(before.exit_code == 0);
  CHECK(before.out.find("\"state\":\"saved\"") == std::string::npos);
  CHECK(before.out.find("\"title\":\"please spawn a subagent\"") != std::string::npos);

  REQUIRE(fx.Run({"save", "--all", "--to", archive}).exit_code == 0);
  AppendFile(fx.project + "/" + kPlain + ".jsonl", "{\"type\":\"user\",\"late\":true}\n");
  ProcessResult after = fx.Run({"list", "--to", archive, "--json"});
  REQUIRE(after.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(after.out);
  std::map<std::string, std::string> state;
  for (simdjson::dom::element s : doc["sessions"].get_array()) {
    state[std::string(std::string_view(s["session_id"]))] = std::string(std::string_view(s["state"]));
  }
  CHECK(state[kWithAgent] == "saved");
  CHECK(state[kPlain] == "partial");
  CHECK(fx.Run({"list", "--since", "soon"}).exit_code == 2);
}

}  // namespace tsync::testing

namespace tsync::testing {

TEST_CASE("save — a destination holding more lines than the local file is never resent to", "[save]") {
  SaveFixture fx;
  const std::string archive = fx.home / "archive";
  const std::string state = fx.home / "state";
  REQUIRE(fx.Run({"--state-dir", state, "save", "f77", "--to", archive}).exit_code == 0);
  // Lose the checkpoint and shorten the file: nothing local says what happened.
  std::filesystem::remove_all(state);
  const std::string transcript = fx.project + "/" + kPlain + ".jsonl";
  std::vector<std::string> lines = LocalLines(transcript);
  std::string shorter;
  for (size_t i = 0; i < 5; ++i) shorter += lines[i] + "\n";
  WriteFile(transcript, shorter);
  ProcessResult r = fx.Run({"--state-dir", state, "save", "f77", "--to", archive, "--json"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("\"state\":\"pending\"") != std::string::npos);
  CHECK(r.err.find("nothing is resent") != std::string::npos);
  uploader::ArchiveSink sink(archive);
  Result<std::string> id = sink.FindSession(kPlain);
  REQUIRE(id.ok());
  CHECK(sink.ReadLines(*id, std::string(kPlain) + ".jsonl", 0)->size() == lines.size());  // untouched
}

}  // namespace tsync::testing
