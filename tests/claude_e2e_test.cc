// End-to-end with the real Claude Code CLI: `claude -p` runs headless against
// tsync-fake-anthropic (tests/fake_anthropic) and writes a real transcript, a
// real subagent file and real hook inputs; these tests check what tsync relies
// on (TRANSCRIPTS.md) against the version scripts/install-claude-code pins.
//
// [claude] tests need $TSYNC_CLAUDE_BIN (the installer's last stdout line).
// Without it they are skipped with a warning — unless TSYNC_REQUIRE_CLAUDE=1
// (CI), where a missing binary fails. The [fake_anthropic] tests check the
// stand-in server alone and always run.
#include <dirent.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "agent/pending_queue.h"
#include "agent/watcher_registry.h"
#include "config/config.h"
#include "tests/fake_anthropic/claude_harness.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "uploader/sync_client.h"
#include "uploader/sync_sink.h"

namespace tsync::testing {
namespace {

namespace fs = std::filesystem;

// What the default script (tests/fake_anthropic/default_script.json) makes
// the agents say; the secrets are fake but shaped to match redact/'s rules.
constexpr const char* kSubagentPrompt = "TSYNC-E2E subagent task: report the deploy token of this project.";
constexpr const char* kSubagentReport = "TSYNC-E2E subagent report: the deploy token is ghp_YK0fFWqcajQLE9WVxuXbrFZmU3A6IIRgmKJS.";
constexpr const char* kFinalReply = "TSYNC-E2E final reply: done.";
constexpr const char* kFakeAwsKey = "AKIAQ3EGRTZ7WJYK5M2P";
constexpr const char* kFakeGithubToken = "ghp_YK0fFWqcajQLE9WVxuXbrFZmU3A6IIRgmKJS";

/// The claude binary, or "" after skipping (WARN) or failing (FAIL) as the
/// environment asks.
std::string ClaudeOrSkip() {
  std::string bin = ClaudeBinary();
  if (!bin.empty()) return bin;
  if (ClaudeRequired()) {
    FAIL("TSYNC_REQUIRE_CLAUDE=1 but TSYNC_CLAUDE_BIN does not name an executable claude; run "
         "scripts/install-claude-code and export TSYNC_CLAUDE_BIN=<its last line>");
  }
  WARN("claude is not installed (TSYNC_CLAUDE_BIN unset): skipped; scripts/install-claude-code installs it");
  return "";
}

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> lines;
  std::string data = ReadWholeFile(path), line;
  for (char c : data) {
    if (c != '\n') {
      line += c;
    } else if (!line.empty()) {
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  return lines;
}

/// The string at JSON pointer `ptr` in `json`, or "" (also for non-strings).
std::string Str(const std::string& json, const char* ptr) {
  simdjson::dom::parser parser;
  std::string_view v;
  if (parser.parse(json).at_pointer(ptr).get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

/// The number at JSON pointer `ptr` in `json` (an array: its size), or -1.
int64_t Num(const std::string& json, const char* ptr) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).at_pointer(ptr).get(e) != simdjson::SUCCESS) return -1;
  if (e.is_array()) return static_cast<int64_t>(simdjson::dom::array(e).size());
  int64_t v = -1;
  return e.get(v) == simdjson::SUCCESS ? v : -1;
}

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

/// Files in `dir` whose names start with `prefix` and end with `suffix`.
std::vector<std::string> FilesIn(const std::string& dir, const std::string& prefix, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(suffix)) out.push_back(e.path().string());
  }
  return out;
}

/// settings.json whose hooks append each hook's stdin (one JSON object) and a
/// newline to `log`.
std::string HookSettings(const std::string& log) {
  std::string cmd = "{ cat; echo; } >> '" + log + "'";
  std::string hook = R"([{"matcher": "*", "hooks": [{"type": "command", "command": ")" + cmd + R"("}]}])";
  std::string out = "{\"hooks\": {";
  const char* events[] = {"SessionStart", "UserPromptSubmit", "SubagentStart", "SubagentStop", "Stop", "SessionEnd"};
  for (size_t i = 0; i < std::size(events); ++i) out += (i ? ", \"" : "\"") + std::string(events[i]) + "\": " + hook;
  return out + "}}\n";
}

/// Hook inputs recorded by HookSettings() whose hook_event_name is `event`.
std::vector<std::string> HookInputs(const std::string& log, const std::string& event) {
  std::vector<std::string> out;
  for (std::string& line : Lines(log)) {
    if (Str(line, "/hook_event_name") == event) out.push_back(std::move(line));
  }
  return out;
}

/// The /v1/messages requests in the fake server's log, as "agent:turn".
std::vector<std::string> MessageTurns(const std::string& log) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(log)) {
    if (Str(line, "/path") == "/v1/messages") out.push_back(Str(line, "/agent") + ":" + Str(line, "/turn"));
  }
  return out;
}

/// Polls `done` every 100 ms for up to `limit`; true once it holds.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

/// Every file the refserver holds for the session, read back as a client
/// would (PROTOCOL.md "Read-back"): file_name -> lines.
std::map<std::string, std::vector<std::string>> ServerFiles(const RefServer& server, const std::string& session) {
  std::map<std::string, std::vector<std::string>> out;
  config::Config cfg;
  cfg.backend_url = server.url();
  cfg.api_key = "k1";
  auto client = uploader::SyncClient::Create(cfg);
  REQUIRE(client.ok());
  uploader::SyncSink sink(std::move(client.value()));
  Result<std::string> id = sink.FindSession(session);
  if (!id.ok()) return out;
  Result<std::vector<uploader::FileInfo>> files = sink.ListFiles(*id);
  REQUIRE(files.ok());
  for (const uploader::FileInfo& f : *files) {
    Result<std::vector<std::string>> lines = sink.ReadLines(*id, f.file_name, 0);
    REQUIRE(lines.ok());
    out[f.file_name] = *lines;
  }
  return out;
}

/// Processes whose command line is `… watch … <session> …` (a tsync watcher
/// of that session), from /proc.
std::vector<std::string> WatcherProcesses(const std::string& session) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string pid = e.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cmdline = ReadWholeFile(e.path().string() + "/cmdline");
    if (Has(cmdline, std::string("\0watch\0", 7)) && Has(cmdline, session)) found.push_back(pid);
  }
  return found;
}

/// The stored lines equal the local complete lines one for one, except that
/// a line holding one of `secrets` is stored redacted: the secret gone, a
/// [REDACTED:…] marker in its place, the JSON structure the same.
void CheckLineForLine(const std::string& what, const std::vector<std::string>& local,
                      const std::vector<std::string>& stored, const std::vector<std::string>& secrets,
                      size_t* redacted_lines) {
  INFO(what);
  REQUIRE(stored.size() == local.size());
  for (size_t i = 0; i < local.size(); ++i) {
    INFO("line " << i + 1);
    bool secret = false;
    for (const std::string& s : secrets) {
      secret = secret || Has(local[i], s);
      CHECK_FALSE(Has(stored[i], s));
    }
    if (!secret) {
      CHECK(stored[i] == local[i]);
      continue;
    }
    ++*redacted_lines;
    CHECK(Has(stored[i], "[REDACTED:"));
    CHECK(SameJsonStructure(local[i], stored[i]));
  }
}

/// `args` plus the flags of a headless run. Nothing may wait for a person:
/// whatever would prompt is denied. The default script needs no permission
/// (Agent asks none); a script using Bash or Edit must name them in
/// `allowed_tools`.
std::vector<std::string> Headless(std::vector<std::string> args, const std::string& allowed_tools = "Agent") {
  args.insert(args.end(), {"--output-format", "json", "--permission-prompts", "none", "--allowedTools", allowed_tools});
  return args;
}

/// tsync set up in the sandbox as a user would: its configuration in the
/// private HOME (the key in a 0600 file, never on a command line or in an
/// environment), syncing to `server`, and its hooks added to the sandbox's
/// CLAUDE_CONFIG_DIR by `tsync hooks install`. Returns the environment to
/// run tsync in.
std::vector<std::string> InstallTsyncHooks(const ClaudeSandbox& box, const RefServer& server) {
  WriteFile(box.home + "/.config/tsync/config.json",
            R"({"backend_url": ")" + server.url() + R"(", "api_key": "k1"})" "\n", 0600);
  const std::vector<std::string> tsync_env = {"HOME=" + box.home, "PATH=/usr/bin:/bin",
                                              "CLAUDE_CONFIG_DIR=" + box.config_dir};
  ProcessResult install = RunProcess({TSYNC_BINARY, "hooks", "install"}, tsync_env);
  INFO("hooks install: " << install.out << install.err);
  REQUIRE(install.exit_code == 0);
  return tsync_env;
}

/// After Claude Code exited, the SessionEnd hook has asked the session's
/// watcher to flush, send session_end and exit: waits (bounded) until it is
/// gone, and checks that it ended well and left nothing pending.
void CheckWatcherEnded(const ClaudeSandbox& box, const std::string& session, const char* what) {
  const std::string state = box.home + "/.local/state/tsync";
  const auto start = std::chrono::steady_clock::now();
  const bool gone = WaitFor([&] { return WatcherProcesses(session).empty(); }, std::chrono::seconds(60));
  std::printf("claude e2e (%s): the watcher was gone %.2f s after claude exited\n", what,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  INFO("tsync log: " << ReadWholeFile(state + "/logs/tsync.log"));
  REQUIRE(gone);
  for (const agent::WatcherEntry& e : agent::ListWatcherEntries(state)) CHECK_FALSE(agent::WatcherLive(e));
  std::optional<agent::WatcherEntry> watcher = agent::ReadWatcherEntry(state, session);
  REQUIRE(watcher);
  CHECK(watcher->state == agent::WatcherState::kDone);
  CHECK(watcher->claude.pid > 0);  // it found the Claude Code process it belonged to
  CHECK(watcher->last_error.empty());
  CHECK_FALSE(agent::AnyPending(state));
}

/// The server holds exactly the session's `local_files`, each line for line
/// (CheckLineForLine, counting redacted lines in `*redacted`), and `tsync
/// verify` agrees. Returns every stored line, one per line.
std::string CheckSessionSynced(const RefServer& server, const std::vector<std::string>& tsync_env,
                               const std::string& session, const std::vector<std::string>& local_files,
                               const std::vector<std::string>& secrets, size_t* redacted) {
  std::map<std::string, std::vector<std::string>> stored = ServerFiles(server, session);
  std::vector<std::string> names, expected;
  for (const auto& [name, lines] : stored) names.push_back(name);
  for (const std::string& f : local_files) expected.push_back(fs::path(f).filename().string());
  std::sort(expected.begin(), expected.end());
  CHECK(names == expected);
  for (const std::string& f : local_files) {
    const std::string name = fs::path(f).filename().string();
    CheckLineForLine(name, Lines(f), stored[name], secrets, redacted);
  }
  ProcessResult verify = RunProcess({TSYNC_BINARY, "verify", session}, tsync_env);
  INFO("verify: " << verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  std::string all_stored;
  for (const auto& [name, lines] : stored) {
    for (const std::string& line : lines) all_stored += line + "\n";
  }
  return all_stored;
}

}  // namespace

TEST_CASE("claude e2e: a headless run writes the transcript and a subagent file and fires the hooks", "[claude]") {
  const std::string claude = ClaudeOrSkip();
  if (claude.empty()) return;
  ClaudeSandbox box;
  const std::string hooks = box.root / "hooks.jsonl";
  WriteFile(box.config_dir + "/settings.json", HookSettings(hooks));
  FakeAnthropic api(box.root / "requests.jsonl");

  ClaudeResult r = box.Run(claude, Headless({"-p", "hello"}), api.url());
  std::printf("claude e2e: claude -p took %.2f s\n", r.seconds);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  CHECK(Str(r.out, "/subtype") == "success");
  CHECK(Has(Str(r.out, "/result"), kFakeAwsKey));
  const std::string session = Str(r.out, "/session_id");
  REQUIRE(session.size() == 36);

  // Exactly the scripted conversation: main -> subagent -> main, nothing else
  // (a new probe or side request in a newer Claude Code shows up here).
  CHECK(MessageTurns(box.root / "requests.jsonl") ==
        std::vector<std::string>{"main:main-spawns-subagent", "subagent:subagent-reports", "main:main-final"});
  CHECK(Lines(box.root / "requests.jsonl").size() == 3);

  // The transcript (TRANSCRIPTS.md "Layout on disk").
  const std::string transcript = box.ProjectsDir() + "/" + session + ".jsonl";
  REQUIRE(fs::exists(transcript));
  bool prompt = false, final_reply = false, tool_result = false;
  for (const std::string& line : Lines(transcript)) {
    const std::string type = Str(line, "/type");
    CHECK((type.empty() || Str(line, "/sessionId").empty() || Str(line, "/sessionId") == session));
    if (type == "user" && Str(line, "/message/content") == "hello") prompt = true;
    if (type == "user" && Has(line, "\"tool_result\"") && Has(line, kFakeGithubToken)) tool_result = true;
    if (type == "assistant" && Has(line, kFinalReply) && Has(line, kFakeAwsKey)) final_reply = true;
  }
  CHECK(prompt);
  CHECK(tool_result);  // the subagent's report comes back into the main file
  CHECK(final_reply);

  // The subagent: 2.1.x layout, <session>/subagents/agent-<id>.jsonl plus a
  // .meta.json sidecar; nothing in the old layout beside the session.
  const std::string subagents = box.ProjectsDir() + "/" + session + "/subagents";
  std::vector<std::string> agent_files = FilesIn(subagents, "agent-", ".jsonl");
  REQUIRE(agent_files.size() == 1);
  CHECK(FilesIn(box.ProjectsDir(), "agent-", ".jsonl").empty());
  const std::string agent_file = agent_files[0];
  const std::string agent_id = fs::path(agent_file).stem().string().substr(6);
  bool task = false, report = false;
  for (const std::string& line : Lines(agent_file)) {
    CHECK(Str(line, "/agentId") == agent_id);
    const std::string type = Str(line, "/type");
    if (type == "user" && Has(line, kSubagentPrompt)) task = true;
    if (type == "assistant" && Has(line, kSubagentReport)) report = true;
  }
  CHECK(task);
  CHECK(report);
  const std::string meta = ReadWholeFile(subagents + "/agent-" + agent_id + ".meta.json");
  CHECK(Str(meta, "/agentType") == "general-purpose");
  CHECK(Str(meta, "/toolUseId").starts_with("toolu_"));

  // Hooks fire headless, with the session id and the transcript's path.
  std::vector<std::string> start = HookInputs(hooks, "SessionStart"), end = HookInputs(hooks, "SessionEnd");
  INFO("hook inputs: " << ReadWholeFile(hooks));
  REQUIRE(start.size() == 1);
  REQUIRE(end.size() == 1);
  for (const std::string& in : {start[0], end[0]}) {
    CHECK(Str(in, "/session_id") == session);
    CHECK(Str(in, "/transcript_path") == transcript);
    CHECK(Str(in, "/cwd") == box.project);
  }
  CHECK(Str(start[0], "/source") == "startup");
  CHECK(!Str(end[0], "/reason").empty());
  std::vector<std::string> subagent_stop = HookInputs(hooks, "SubagentStop");
  REQUIRE(subagent_stop.size() == 1);
  CHECK(Str(subagent_stop[0], "/agent_id") == agent_id);
  CHECK(Str(subagent_stop[0], "/agent_transcript_path") == agent_file);
  CHECK(HookInputs(hooks, "Stop").size() == 1);
}

TEST_CASE("claude e2e: --resume appends to the same transcript and fires SessionStart with source resume",
          "[claude]") {
  const std::string claude = ClaudeOrSkip();
  if (claude.empty()) return;
  ClaudeSandbox box;
  const std::string hooks = box.root / "hooks.jsonl";
  WriteFile(box.config_dir + "/settings.json", HookSettings(hooks));
  const std::vector<std::string> args = Headless({"-p", "hello"});
  std::string session, transcript;
  size_t lines_before = 0;
  {
    FakeAnthropic api(box.root / "requests1.jsonl");
    ClaudeResult r = box.Run(claude, args, api.url());
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    session = Str(r.out, "/session_id");
    transcript = box.ProjectsDir() + "/" + session + ".jsonl";
    lines_before = Lines(transcript).size();
  }
  FakeAnthropic api(box.root / "requests2.jsonl");  // a fresh script: the same three turns again
  ClaudeResult r = box.Run(claude, Headless({"-p", "hello again", "--resume", session}), api.url());
  std::printf("claude e2e: claude -p --resume took %.2f s\n", r.seconds);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Str(r.out, "/session_id") == session);
  CHECK(Lines(transcript).size() > lines_before);
  CHECK(FilesIn(box.ProjectsDir(), "", ".jsonl").size() == 1);  // no second session file
  CHECK(FilesIn(box.ProjectsDir() + "/" + session + "/subagents", "agent-", ".jsonl").size() == 2);
  std::vector<std::string> start = HookInputs(hooks, "SessionStart");
  REQUIRE(start.size() == 2);
  CHECK(Str(start[1], "/source") == "resume");
  CHECK(Str(start[1], "/session_id") == session);
  CHECK(Str(start[1], "/transcript_path") == transcript);
  CHECK(HookInputs(hooks, "SessionEnd").size() == 2);
}

TEST_CASE("fake anthropic: streams scripted turns as SSE and answers JSON, count_tokens and unknown paths",
          "[fake_anthropic]") {
  TempDir dir;
  FakeAnthropic api(dir / "requests.jsonl");
  const Headers json = {{"Content-Type", "application/json"}, {"x-api-key", "secret-value"}};
  const std::string first = R"({"model":"m1","stream":true,"tools":[{"name":"Agent"}],)"
                            R"("messages":[{"role":"user","content":"hello"},{"role":"system","content":"env"}]})";
  Reply r = Send(api.port(), "POST", "/v1/messages?beta=true", json, first);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "text/event-stream");
  for (const char* e : {"event: message_start", "event: content_block_start", "\"input_json_delta\"",
                        "event: content_block_stop", "\"stop_reason\":\"tool_use\"", "event: message_stop"}) {
    CHECK(Has(r.body, e));
  }
  // The subagent is recognised by the prompt the server handed out.
  const std::string sub = std::string(R"({"model":"m1","stream":false,"messages":[{"role":"user","content":")") +
                          kSubagentPrompt + R"("}]})";
  r = Send(api.port(), "POST", "/v1/messages", json, sub);
  REQUIRE(r.status == 200);
  CHECK(Str(r.body, "/type") == "message");
  CHECK(Str(r.body, "/content/0/text") == kSubagentReport);
  CHECK(Str(r.body, "/stop_reason") == "end_turn");
  CHECK(Str(r.body, "/model") == "m1");

  r = Send(api.port(), "POST", "/v1/messages/count_tokens", json, first);
  CHECK(r.status == 200);
  CHECK(Has(r.body, "\"input_tokens\":"));
  r = Send(api.port(), "GET", "/v1/models", {});
  CHECK(r.status == 404);
  CHECK(Str(r.body, "/error/type") == "not_found_error");
  r = Send(api.port(), "POST", "/v1/messages", json, "not json");
  CHECK(r.status == 400);

  const std::string log = ReadWholeFile(dir / "requests.jsonl");
  CHECK(MessageTurns(dir / "requests.jsonl") ==
        std::vector<std::string>{"main:main-spawns-subagent", "subagent:subagent-reports", ":"});
  CHECK(Has(log, "\"x-api-key\""));      // header names are logged...
  CHECK_FALSE(Has(log, "secret-value"));  // ...never their values
  CHECK(Has(log, "\"path\":\"/v1/models\""));
  CHECK(Has(log, "\"query\":\"beta=true\""));
}

TEST_CASE("fake anthropic: a bad script is refused with the turn and field named", "[fake_anthropic]") {
  TempDir dir;
  WriteFile(dir / "bad.json", R"({"turns": [{"name": "t1", "match": {"agent": "robot"}, "reply": [{"type": "text", "text": "x"}]}]})");
  ProcessResult r = RunProcess({TSYNC_FAKE_ANTHROPIC, "--script", dir / "bad.json"}, {});
  CHECK(r.exit_code == 2);
  CHECK(Has(r.err, "turns[0] (t1)"));
  CHECK(Has(r.err, "match.agent"));
  WriteFile(dir / "bad2.json", R"({"turns": [{"reply": [{"type": "tool_use", "name": "Agent"}]}]})");
  r = RunProcess({TSYNC_FAKE_ANTHROPIC, "--script", dir / "bad2.json"}, {});
  CHECK(r.exit_code == 2);
  CHECK(Has(r.err, "\"input\""));
}

}  // namespace tsync::testing

namespace tsync::testing {

TEST_CASE("claude e2e: after tsync hooks install a real session with a subagent syncs live — line for line, "
          "secrets redacted, one session_end, no watcher left",
          "[claude]") {
  const std::string claude = ClaudeOrSkip();
  if (claude.empty()) return;
  ClaudeSandbox box;
  RefServer server({"--lifecycle-events"});
  const std::vector<std::string> tsync_env = InstallTsyncHooks(box, server);
  const std::string settings = ReadWholeFile(box.config_dir + "/settings.json");
  // Claude Code gives a SessionEnd hook ~1.5 s at exit unless it declares a timeout.
  CHECK(Has(settings, std::string(R"("command": ")") + TSYNC_BINARY + R"( hook session-end",)" "\n" +
                          R"(            "timeout": 30)"));

  // A fake AWS access key id in the prompt; the script adds a GitHub token
  // (the subagent's report) and another AWS key id (the final reply).
  constexpr const char* kPromptSecret = "AKIAZ7QW3ERTYU5IOPL2";
  const std::vector<std::string> secrets = {kPromptSecret, kFakeAwsKey, kFakeGithubToken};
  FakeAnthropic api(box.root / "requests.jsonl");
  ClaudeResult r = box.Run(
      claude, Headless({"-p", std::string("hello. For the deploy, my AWS access key id is ") + kPromptSecret + " — keep it safe."}),
      api.url());
  std::printf("claude e2e (live sync): claude -p took %.2f s\n", r.seconds);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  const std::string session = Str(r.out, "/session_id");
  REQUIRE(session.size() == 36);

  CheckWatcherEnded(box, session, "live sync");

  // The transcript and the subagent file, line for line.
  const std::string transcript = box.ProjectsDir() + "/" + session + ".jsonl";
  std::vector<std::string> agent_files = FilesIn(box.ProjectsDir() + "/" + session + "/subagents", "agent-", ".jsonl");
  REQUIRE(agent_files.size() == 1);
  bool prompt_planted = false;
  for (const std::string& line : Lines(transcript)) prompt_planted = prompt_planted || Has(line, kPromptSecret);
  CHECK(prompt_planted);
  size_t redacted = 0;
  const std::string all_stored =
      CheckSessionSynced(server, tsync_env, session, {transcript, agent_files[0]}, secrets, &redacted);
  CHECK(redacted >= 3);  // the prompt, the subagent's report, the final reply
  CHECK(Has(all_stored, "[REDACTED:aws-access-key-id]"));
  CHECK(Has(all_stored, "[REDACTED:github-pat]"));

  // Events: one session_end, after the session's start and its one turn.
  std::vector<StoredEvent> events = StoredEvents(server, session);
  std::map<std::string, int> counts;
  for (const StoredEvent& e : events) {
    ++counts[e.type];
    for (const std::string& s : secrets) CHECK_FALSE(Has(e.payload, s));
  }
  CHECK(counts["session_end"] == 1);
  CHECK(counts["session_start"] == 1);
  CHECK(counts["stop"] == 1);
  CHECK(counts.size() == 3);
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().type == "session_end");
  CHECK(Str(events.back().payload, "/session_id") == session);
  CHECK(!Str(events.back().payload, "/reason").empty());
  CHECK(TotalViolations(server.port()) == 0);
}

TEST_CASE("claude e2e: after tsync hooks install a git commit made by a Bash tool call is linked to the session — "
          "its github.com commit URL sent once, the tool not blocked, the transcript synced",
          "[claude]") {
  const std::string claude = ClaudeOrSkip();
  if (claude.empty()) return;
  ClaudeSandbox box;
  RefServer server({"--lifecycle-events"});
  const std::vector<std::string> tsync_env = InstallTsyncHooks(box, server);
  const std::string settings = ReadWholeFile(box.config_dir + "/settings.json");
  CHECK(Has(settings, R"("matcher": "Bash")"));
  CHECK(Has(settings, std::string(R"("command": ")") + TSYNC_BINARY + R"( hook post-tool-use")"));

  // The project is a git repository whose origin is on github.com (nothing
  // is pushed: the remote is never contacted), with one commit already.
  const std::vector<std::string> git_env = {"HOME=" + box.home, "PATH=/usr/bin:/bin"};
  auto git = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/git", "-C", box.project});
    ProcessResult g = RunProcess(args, git_env);
    INFO("git " << args[3] << ": " << g.out << g.err);
    REQUIRE(g.exit_code == 0);
    while (!g.out.empty() && g.out.back() == '\n') g.out.pop_back();
    return g.out;
  };
  git({"init", "-q", "-b", "main"});
  git({"config", "user.name", "TSYNC E2E"});
  git({"config", "user.email", "e2e@example.com"});
  git({"config", "commit.gpgsign", "false"});
  git({"remote", "add", "origin", "https://github.com/acme/widgets.git"});
  WriteFile(box.project + "/README", "widgets\n");
  git({"add", "README"});
  git({"commit", "-q", "-m", "initial"});
  const std::string initial = git({"rev-parse", "HEAD"});

  // The script: the main agent commits with one Bash call; its final reply
  // comes only when the tool_result shows git's commit line.
  FakeAnthropic api(box.root / "requests.jsonl", std::string(TSYNC_FAKE_ANTHROPIC_SCRIPTS) + "/commit_script.json");
  ClaudeResult r = box.Run(claude, Headless({"-p", "commit the widget"}, "Bash"), api.url());
  std::printf("claude e2e (commit link): claude -p took %.2f s\n", r.seconds);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code == 0);
  const std::string session = Str(r.out, "/session_id");
  REQUIRE(session.size() == 36);

  // The hook did not block the tool: the commit is there, Claude saw git's
  // output and gave its final reply.
  CHECK(Has(Str(r.out, "/result"), "TSYNC-E2E final reply: the widget is committed."));
  CHECK(Num(r.out, "/permission_denials") == 0);
  CHECK(MessageTurns(box.root / "requests.jsonl") == std::vector<std::string>{"main:main-commits", "main:main-final"});
  const std::string head = git({"rev-parse", "HEAD"});
  REQUIRE(head.size() == 40);
  CHECK(head != initial);
  CHECK(git({"rev-parse", "HEAD^"}) == initial);
  CHECK(git({"log", "-1", "--format=%s"}) == "TSYNC-E2E: add the widget");

  CheckWatcherEnded(box, session, "commit link");

  // The link: found by the PostToolUse hook, queued, sent by the watcher
  // once the session was on the backend (bounded wait: slower under ASan).
  std::vector<StoredGithubLink> links;
  WaitFor([&] { return !(links = StoredGithubLinks(server, session)).empty(); }, std::chrono::seconds(30));
  INFO("tsync log: " << ReadWholeFile(box.home + "/.local/state/tsync/logs/tsync.log"));
  REQUIRE(links.size() == 1);
  CHECK(links[0].url == "https://github.com/acme/widgets/commit/" + head);
  CHECK(links[0].link_type == "commit");
  CHECK(links[0].source == "cli_hook");
  CHECK(links[0].title == "TSYNC-E2E: add the widget");
  ProcessResult status = RunProcess({TSYNC_BINARY, "status", "--session", session, "--json"}, tsync_env);
  INFO("status: " << status.out << status.err);
  CHECK(Num(status.out, "/github_links_queued") == 0);

  // The transcript synced line for line, the Bash call and its result in it.
  const std::string transcript = box.ProjectsDir() + "/" + session + ".jsonl";
  bool tool_use = false, tool_result = false;
  for (const std::string& line : Lines(transcript)) {
    if (Str(line, "/type") == "assistant" && Has(line, "\"tool_use\"") && Has(line, "git commit -m")) tool_use = true;
    if (Str(line, "/type") == "user" && Has(line, "\"tool_result\"") && Has(line, "] TSYNC-E2E: add the widget")) {
      tool_result = true;
    }
  }
  CHECK(tool_use);
  CHECK(tool_result);
  size_t redacted = 0;
  CheckSessionSynced(server, tsync_env, session, {transcript}, {}, &redacted);
  CHECK(redacted == 0);
  std::map<std::string, int> counts;
  for (const StoredEvent& e : StoredEvents(server, session)) ++counts[e.type];
  CHECK(counts["session_end"] == 1);
  CHECK(TotalViolations(server.port()) == 0);
}

}  // namespace tsync::testing
