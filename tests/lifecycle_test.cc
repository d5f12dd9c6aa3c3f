// Lifecycle events (agent/lifecycle_events.h): the real `tsync hook`
// processes queue session_start, resume, compact and stop, and the watcher
// they start mirrors them — redacted, in order, before the one session_end —
// to a refserver started with --lifecycle-events; to one without, none is
// sent and none is kept. Also the hook → event table and the payload cap.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "agent/hook_input.h"
#include "agent/lifecycle_events.h"
#include "agent/pending_queue.h"
#include "agent/watcher_registry.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"
#include "uploader/sink.h"

namespace tsync::testing {
namespace {

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// A fake AWS access key id, shaped to match redact/'s aws-access-key-id rule.
constexpr const char* kSecret = "AKIAZ7QW3ERTYU5IOPL2";

struct EventsFixture {
  explicit EventsFixture(std::vector<std::string> server_flags)
      : server(std::make_unique<RefServer>(std::move(server_flags))) {
    std::filesystem::create_directories(project);
    WriteFile(transcript, R"({"type":"user","message":{"content":"hi"}})" "\n");
  }
  ~EventsFixture() {
    if (std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id); e && agent::WatcherLive(*e)) {
      ::kill(e->process.pid, SIGKILL);
    }
  }

  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-events";
  std::string id = "7a3c9e10-life-4c1e-8f00-000000000001";
  std::string transcript = project + "/" + id + ".jsonl";
  std::string state = home / ".local/state/tsync";
  std::unique_ptr<RefServer> server;
  std::string backend_url = server->url();

  std::vector<std::string> Env() const {
    return {"HOME=" + home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + claude,
            "TSYNC_BACKEND_URL=" + backend_url, "TSYNC_API_KEY=k1"};
  }
  std::string Payload(const std::string& event, const std::string& extra = "") const {
    return R"({"session_id":")" + id + R"(","transcript_path":")" + transcript + R"(","cwd":"/home/dev/events",)" +
           R"("hook_event_name":")" + event + "\"" + extra + "}";
  }
  void Hook(const std::string& event, const std::string& json) const {
    ProcessResult r = RunProcess({TSYNC_BINARY, "hook", event}, Env(), json);
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK(r.err.empty());
  }
  bool WatcherGone() const {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(state, id);
    return !e || !agent::WatcherLive(*e);
  }
  std::vector<StoredEvent> Events() const { return StoredEvents(*server, id); }
  std::vector<std::string> Types() const {
    std::vector<std::string> out;
    for (const StoredEvent& e : Events()) out.push_back(e.type);
    return out;
  }
  std::string Log() const { return ReadWholeFile(state + "/logs/tsync.log"); }
};

std::string Str(const std::string& json, const char* pointer) {
  simdjson::dom::parser parser;
  std::string_view v;
  if (parser.parse(json).at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

bool Has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

const std::string kStopExtra = std::string(R"(,"stop_hook_active":false,"last_assistant_message":"the key is )") +
                               kSecret + "\"";

}  // namespace

TEST_CASE("lifecycle events — which hook makes which event", "[lifecycle]") {
  agent::HookInput in;
  auto event = [&](agent::HookEvent e, std::string source = "") {
    in.event = e;
    in.source = std::move(source);
    return std::string(agent::LifecycleEventFor(in));
  };
  CHECK(event(agent::HookEvent::kSessionStart, "startup") == "session_start");
  CHECK(event(agent::HookEvent::kSessionStart, "clear") == "session_start");
  CHECK(event(agent::HookEvent::kSessionStart, "fork") == "session_start");
  CHECK(event(agent::HookEvent::kSessionStart, "resume") == "resume");
  CHECK(event(agent::HookEvent::kSessionStart, "compact").empty());  // PreCompact already made it
  CHECK(event(agent::HookEvent::kPreCompact) == "compact");
  CHECK(event(agent::HookEvent::kStop) == "stop");
  CHECK(event(agent::HookEvent::kSessionEnd).empty());  // its own once-only path
  CHECK(event(agent::HookEvent::kSubagentStop).empty());
  CHECK(event(agent::HookEvent::kUserPromptSubmit).empty());
  CHECK(event(agent::HookEvent::kPostToolUse).empty());
}

TEST_CASE("lifecycle events — an oversized payload keeps its small fields and names the others", "[lifecycle]") {
  const std::string small = R"({"a":1,"b":"x"})";
  CHECK(agent::FitEventPayload(small, 100) == small);
  const std::string big = R"({"session_id":"s1","last_assistant_message":")" + std::string(10000, 'y') +
                          R"(","n":[1,2]})";
  const std::string fitted = agent::FitEventPayload(big, 1000);
  CHECK(fitted == R"({"session_id":"s1","n":[1,2],"omitted":["last_assistant_message"]})");
  CHECK(agent::FitEventPayload("[" + std::string(2000, '1') + "]", 1000) == R"({"omitted":["payload"]})");
}

TEST_CASE("lifecycle events — advertised: session_start, stop, compact, resume then one session_end, redacted",
          "[lifecycle][live]") {
  EventsFixture fx({"--lifecycle-events"});
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"startup")"));
  REQUIRE(WaitFor([&] { return fx.Types() == std::vector<std::string>{"session_start"}; }));
  fx.Hook("user-prompt-submit", fx.Payload("UserPromptSubmit", R"(,"prompt":"go")"));
  fx.Hook("stop", fx.Payload("Stop", kStopExtra));
  REQUIRE(WaitFor([&] { return fx.Types().size() == 2; }));
  fx.Hook("pre-compact", fx.Payload("PreCompact", R"(,"trigger":"auto")"));
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"compact")"));
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"resume")"));
  REQUIRE(WaitFor([&] { return fx.Types().size() == 4; }));
  fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"prompt_input_exit")"));
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));

  const std::vector<StoredEvent> events = fx.Events();
  std::vector<std::string> types;
  for (const StoredEvent& e : events) types.push_back(e.type);
  CHECK(types == std::vector<std::string>{"session_start", "stop", "compact", "resume", "session_end"});
  REQUIRE(events.size() == 5);
  const std::regex rfc3339_utc(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  for (const StoredEvent& e : events) {
    INFO(e.type << " at " << e.timestamp);
    CHECK(std::regex_match(e.timestamp, rfc3339_utc));
    CHECK(Str(e.payload, "/session_id") == fx.id);
    CHECK(Str(e.payload, "/transcript_path") == fx.transcript);
  }
  for (size_t i = 1; i < events.size(); ++i) CHECK(events[i - 1].timestamp <= events[i].timestamp);
  CHECK(Str(events[0].payload, "/source") == "startup");
  CHECK(Str(events[0].payload, "/hook_event_name") == "SessionStart");
  CHECK(Str(events[1].payload, "/hook_event_name") == "Stop");
  CHECK(Str(events[1].payload, "/last_assistant_message") == "the key is [REDACTED:aws-access-key-id]");
  CHECK(Str(events[2].payload, "/trigger") == "auto");
  CHECK(Str(events[3].payload, "/source") == "resume");
  CHECK(Str(events[4].payload, "/reason") == "prompt_input_exit");
  for (const StoredEvent& e : events) CHECK_FALSE(Has(e.payload, kSecret));

  CHECK(agent::QueuedLifecycleEvents(fx.state, fx.id) == 0);
  CHECK_FALSE(std::filesystem::exists(agent::LifecycleDir(fx.state, fx.id)));
  CHECK_FALSE(agent::AnyPending(fx.state));
  CHECK_FALSE(Has(fx.Log(), kSecret));
  CHECK(TotalViolations(fx.server->port()) == 0);
}

TEST_CASE("lifecycle events — not advertised: only session_end is sent and nothing is kept", "[lifecycle][live]") {
  EventsFixture fx({});
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"startup")"));
  REQUIRE(WaitFor([&] {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(fx.state, fx.id);
    return e && e->state == agent::WatcherState::kRunning && e->lines_synced == 1;
  }));
  fx.Hook("stop", fx.Payload("Stop", kStopExtra));
  fx.Hook("pre-compact", fx.Payload("PreCompact", R"(,"trigger":"manual")"));
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"resume")"));
  // Each was dropped by the watcher as it arrived.
  REQUIRE(WaitFor([&] { return agent::QueuedLifecycleEvents(fx.state, fx.id) == 0; }));
  fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"other")"));
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));

  CHECK(fx.Types() == std::vector<std::string>{"session_end"});
  CHECK(agent::QueuedLifecycleEvents(fx.state, fx.id) == 0);
  CHECK_FALSE(std::filesystem::exists(agent::LifecycleDir(fx.state, fx.id)));
  CHECK_FALSE(agent::AnyPending(fx.state));
  // Dropped unsent, never tried: a refused event would say "refused" in the log.
  const std::string log = fx.Log();
  CHECK(Has(log, "not sent: " + fx.server->url() + " does not advertise lifecycle_events"));
  CHECK_FALSE(Has(log, "refused the"));
}

TEST_CASE("lifecycle events — with the backend down they wait and sync --pending sends them before session_end",
          "[lifecycle][live]") {
  EventsFixture fx({"--lifecycle-events"});
  const std::string real_url = fx.backend_url;
  fx.backend_url = "http://127.0.0.1:1";  // nothing listens
  fx.Hook("session-start", fx.Payload("SessionStart", R"(,"source":"startup")"));
  fx.Hook("stop", fx.Payload("Stop", kStopExtra));
  REQUIRE(WaitFor([&] { return agent::AnyPending(fx.state); }));
  fx.Hook("session-end", fx.Payload("SessionEnd", R"(,"reason":"logout")"));
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }, std::chrono::seconds(60)));
  CHECK(agent::QueuedLifecycleEvents(fx.state, fx.id) == 2);
  CHECK(fx.Events().empty());

  fx.backend_url = real_url;  // back
  ProcessResult retry = RunProcess({TSYNC_BINARY, "sync", "--pending"}, fx.Env());
  INFO(retry.out << retry.err);
  CHECK(retry.exit_code == 0);
  CHECK(fx.Types() == std::vector<std::string>{"session_start", "stop", "session_end"});
  CHECK(agent::QueuedLifecycleEvents(fx.state, fx.id) == 0);
  CHECK_FALSE(agent::AnyPending(fx.state));
  for (const StoredEvent& e : fx.Events()) CHECK_FALSE(Has(e.payload, kSecret));
}

TEST_CASE("lifecycle events — a configuration without a backend queues none", "[lifecycle][live]") {
  EventsFixture fx({"--lifecycle-events"});
  std::vector<std::string> env = {"HOME=" + fx.home.path(), "PATH=/usr/bin:/bin", "CLAUDE_CONFIG_DIR=" + fx.claude};
  for (const char* event : {"session-start", "stop", "pre-compact"}) {
    ProcessResult r = RunProcess({TSYNC_BINARY, "hook", event}, env, fx.Payload("X", R"(,"source":"startup")"));
    CHECK(r.exit_code == 0);
  }
  CHECK_FALSE(std::filesystem::exists(agent::LifecycleDir(fx.state, fx.id)));
  REQUIRE(WaitFor([&] {
    std::optional<agent::WatcherEntry> e = agent::ReadWatcherEntry(fx.state, fx.id);
    return e && e->state == agent::WatcherState::kRunning && e->lines_synced == 1;
  }));
  ProcessResult end = RunProcess({TSYNC_BINARY, "hook", "session-end"}, env, fx.Payload("SessionEnd"));
  CHECK(end.exit_code == 0);
  REQUIRE(WaitFor([&] { return fx.WatcherGone(); }));
  CHECK(fx.Events().empty());  // the archive got the session, the server nothing
}

}  // namespace tsync::testing
