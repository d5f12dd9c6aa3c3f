// Crash matrix (issue 7): the real `tsync save` and the live watcher, on a
// generated session with agents (both layouts, a nested agent, a workflow
// run, planted secrets) whose files keep growing — cut at random bytes, so
// they mostly end mid-line — are killed with SIGKILL at random points and
// restarted the way a user (`tsync save`) or a hook (`tsync hook …`, which
// starts a new watcher) would. After every kill the backend must hold a
// prefix of every file's complete lines (no fragment of an unterminated
// line, no duplicate, no gap, byte-identical except inside redaction
// markers); at the end, after one more save and the session end, exactly
// every complete line, once, and one session_end.
//
// TSYNC_CRASH_POINTS (default 50) sets the number of kills that interrupt a
// running tsync process (a kill that comes after the process has finished
// does not count); TSYNC_CRASH_SEED replays a run: the seed fixes the session and the kill schedule; the exact
// interleaving with the processes is timing, so the outcome — not the byte
// at which each kill lands — is what must be the same on every run.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/pending_queue.h"
#include "tests/refserver_process.h"
#include "tests/sync_proof.h"

namespace tsync::testing {
namespace {

using namespace proof;

enum class Victim { kSave, kWatcher, kSaveBesideWatcher };

const char* VictimName(Victim v) {
  switch (v) {
    case Victim::kSave: return "save";
    case Victim::kWatcher: return "watcher";
    case Victim::kSaveBesideWatcher: return "save beside a watcher";
  }
  return "?";
}

/// The counts the run prints, so a reader sees where the kills landed.
struct CrashStats {
  int by_victim[3] = {0, 0, 0};
  int interrupted = 0;       // the victim was still running when killed
  int finished_before = 0;   // it had already exited (the kill came after it)
  int behind_at_kill = 0;    // the backend held fewer lines than were complete locally
  uint64_t checks = 0;       // read-back prefix checks
};

uint64_t Count(const std::map<std::string, std::vector<std::string>>& files) {
  uint64_t n = 0;
  for (const auto& [name, lines] : files) n += lines.size();
  return n;
}

}  // namespace

TEST_CASE("crash matrix — save and the watcher SIGKILLed at random points lose, double and split no line",
          "[crash]") {
  const uint64_t seed = EnvSeed("TSYNC_CRASH_SEED");
  const int points = static_cast<int>(std::max<uint64_t>(1, EnvCount("TSYNC_CRASH_POINTS", 50)));
  std::printf("crash matrix: seed %llu, %d kill points (replay: TSYNC_CRASH_SEED=%llu TSYNC_CRASH_POINTS=%d)\n",
              static_cast<unsigned long long>(seed), points, static_cast<unsigned long long>(seed), points);
  std::fflush(stdout);
  INFO("replay with TSYNC_CRASH_SEED=" << seed << " TSYNC_CRASH_POINTS=" << points);
  const auto started = Clock::now();

  ProofHome fx;
  // A little latency on every write widens the window in which a kill
  // leaves a chunk committed with nobody left to read its reply.
  RefServer server({"--delay-ms", "3"});
  fx.backend_url = server.url();

  testdata::GeneratorOptions gen;
  gen.seed = seed;
  gen.target_bytes = std::clamp<uint64_t>(static_cast<uint64_t>(points) * 24 * 1024, 512 * 1024, 24u << 20);
  gen.agents = 3;
  gen.layout = testdata::AgentLayout::kBoth;
  gen.nested_agent = true;
  gen.workflow = true;
  gen.plant_secrets = true;
  SessionReplay replay(fx.projects, gen);
  const std::string id = replay.id();
  const std::string transcript = replay.transcript();

  // The writer: grows the files while tsync runs, a random slice every few
  // ms, up to the share of the session the main loop allows so far.
  std::atomic<uint64_t> allowed{0}, written{replay.written()};
  std::atomic<bool> stop{false};
  std::thread writer([&, rng = std::mt19937_64(seed ^ 0x5eed)]() mutable {
    const uint64_t max_slice = std::max<uint64_t>(512, replay.total() / (static_cast<uint64_t>(points) * 6));
    while (!stop.load()) {
      if (replay.written() < allowed.load()) {
        replay.Step(rng, max_slice);
        written.store(replay.written());
      }
      std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(1, 12)(rng)));
    }
  });
  struct JoinWriter {
    std::atomic<bool>& stop;
    std::thread& t;
    ~JoinWriter() {
      stop.store(true);
      if (t.joinable()) t.join();
    }
  } join_writer{stop, writer};

  std::mt19937_64 rng(seed);
  CrashStats stats;
  const std::string hook_payload = ProofHome::Payload(id, transcript, "UserPromptSubmit");
  auto start_watcher = [&]() -> pid_t {
    if (std::optional<agent::WatcherEntry> w = fx.LiveWatcher(id)) return w->process.pid;
    ProcessResult hook = fx.Hook("user-prompt-submit", hook_payload);
    REQUIRE(hook.exit_code == 0);
    std::optional<agent::WatcherEntry> w;
    REQUIRE(WaitUntil([&] { return (w = fx.LiveWatcher(id)).has_value(); }, milliseconds(10'000)));
    return w->process.pid;
  };
  auto kill_watcher = [&](pid_t pid) {
    const bool alive = ::kill(pid, 0) == 0;
    ::kill(pid, SIGKILL);
    REQUIRE(WaitUntil([&] { return !fx.LiveWatcher(id).has_value(); }, milliseconds(10'000)));
    return alive;
  };

  // A point counts when its kill interrupted a running process; a kill that
  // came after the process had finished is tried again (bounded). How long a
  // save runs depends on the machine, so the window its kill delay is drawn
  // from (a seeded fraction of it) shrinks after a kill that came too late
  // and grows after one that interrupted — most kills then land inside it.
  double save_window_ms = 300;
  int point = 0;
  for (; stats.interrupted < points && point < 4 * points; ++point) {
    allowed.store(replay.total() * static_cast<uint64_t>(stats.interrupted + 1) / static_cast<uint64_t>(points));
    const auto victim = static_cast<Victim>(std::uniform_int_distribution<int>(0, 2)(rng));
    // A quarter of the kills land in the first 60 ms (startup, init, the
    // first chunk); the rest anywhere in a save or in a watcher's passes and
    // the waits between them.
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const int delay_ms = std::uniform_int_distribution<int>(0, 3)(rng) == 0 ? static_cast<int>(u * 60)
                         : victim == Victim::kWatcher                      ? static_cast<int>(u * 900)
                                                                           : static_cast<int>(u * save_window_ms);
    ++stats.by_victim[static_cast<int>(victim)];
    bool interrupted = false;
    switch (victim) {
      case Victim::kSave: {
        const pid_t save = fx.Spawn({"save", id});
        std::this_thread::sleep_for(milliseconds(delay_ms));
        interrupted = KillChild(save);
        break;
      }
      case Victim::kWatcher: {
        const pid_t watcher = start_watcher();
        std::this_thread::sleep_for(milliseconds(delay_ms));
        interrupted = kill_watcher(watcher);
        break;
      }
      case Victim::kSaveBesideWatcher: {
        const pid_t watcher = start_watcher();
        const pid_t save = fx.Spawn({"save", id});
        std::this_thread::sleep_for(milliseconds(delay_ms));
        interrupted = KillChild(save);
        kill_watcher(watcher);
        break;
      }
    }
    (interrupted ? stats.interrupted : stats.finished_before) += 1;
    if (victim != Victim::kWatcher) {
      save_window_ms = std::clamp(save_window_ms * (interrupted ? 1.05 : 0.85), 60.0, 2000.0);
    }

    // Read back at once: whatever the kill left must be a clean prefix.
    std::optional<std::map<std::string, std::vector<std::string>>> stored = ReadBack(server.url(), id);
    if (!stored) continue;  // killed before the first init
    const std::map<std::string, std::vector<std::string>> local = replay.Expected();
    Proof p = Compare(*stored, local, /*prefix=*/true);
    ++stats.checks;
    if (Count(*stored) < Count(local)) ++stats.behind_at_kill;
    INFO("after kill point " << point << " (" << VictimName(victim) << ", " << delay_ms << " ms): " << p.Text()
                                << "\nlog tail:\n" << Tail(fx.LogPath(), 30));
    REQUIRE(p.ok());
  }

  // The session ends: the rest is written, stragglers (a hook's
  // `sync --pending`) are killed too, and the user saves once more.
  CHECK(stats.interrupted >= points);
  allowed.store(replay.total());
  REQUIRE(WaitUntil([&] { return written.load() == replay.total(); }, milliseconds(60'000)));
  stop.store(true);
  writer.join();
  const size_t stragglers = fx.KillAll();

  ProcessResult save = fx.Run({"save", id});
  INFO("final save: " << save.out << save.err << "\nlog tail:\n" << Tail(fx.LogPath(), 30));
  CHECK(save.exit_code == 0);
  REQUIRE(fx.Hook("session-end", ProofHome::Payload(id, transcript, "SessionEnd", R"(,"reason":"other")")).exit_code ==
          0);
  REQUIRE(WaitUntil([&] { return fx.Processes().empty(); }, milliseconds(60'000)));

  std::optional<std::map<std::string, std::vector<std::string>>> stored = ReadBack(server.url(), id);
  REQUIRE(stored);
  const std::map<std::string, std::vector<std::string>> local = replay.Expected();
  Proof final_proof = Compare(*stored, local, /*prefix=*/false);
  INFO(final_proof.Text());
  CHECK(final_proof.ok());
  CHECK(stored->size() == replay.file_count());
  CHECK(Count(*stored) == replay.TotalLines());
  CHECK(Leaks(*stored, replay.SecretValues()) == 0);
  CHECK(final_proof.redacted_lines > 0);  // the planted secrets were redacted, not lost
  CHECK(TotalViolations(server.port()) == 0);
  int ends = 0;
  for (const StoredEvent& e : StoredEvents(server, id)) ends += e.type == "session_end" ? 1 : 0;
  CHECK(ends == 1);
  CHECK_FALSE(agent::AnyPending(fx.state));
  ProcessResult verify = fx.Run({"verify", id});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf(
      "crash matrix: seed %llu: %d kills (save %d, watcher %d, save beside a watcher %d), %d interrupted a "
      "running process, %d came after it had finished, %d left the backend behind the files; %llu prefix checks; "
      "%zu straggler(s) killed at the end; %llu lines in %zu files proven (%llu equal up to redaction) in %.1f s\n",
      static_cast<unsigned long long>(seed), point, stats.by_victim[0], stats.by_victim[1], stats.by_victim[2],
      stats.interrupted, stats.finished_before, stats.behind_at_kill, static_cast<unsigned long long>(stats.checks),
      stragglers, static_cast<unsigned long long>(final_proof.lines), stored->size(),
      static_cast<unsigned long long>(final_proof.redacted_lines), seconds);
}

}  // namespace tsync::testing
