// Fault soak (issue 7): the real tsync against a refserver that misbehaves —
// 20 % 503s, 10 % of chunks stored with their reply lost, 5 % connections
// reset, 429 bursts from a tight per-user limit, latency spikes and failing
// reads — on generated sessions with agents, saved whole and synced live
// while they grow; then a backend that is down for a whole session and comes
// back at the same address, and a backend restarted (killed) in the middle
// of a sync. Each ends with the proof by read-back of tests/sync_proof.h:
// every complete line stored once, byte-identical up to redaction markers,
// and one session_end per ended session. The time the faults cost against a
// fault-free run is printed, never asserted.
//
// TSYNC_SOAK_SEED replays a run (sessions, fault schedule, restarts);
// TSYNC_SOAK_SCALE (default 1) multiplies the sessions and the live time.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
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

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

int SessionEnds(const RefServer& server, const std::string& id) {
  int n = 0;
  for (const StoredEvent& e : StoredEvents(server, id)) n += e.type == "session_end" ? 1 : 0;
  return n;
}

/// The full proof for one finished session: every file, every line, once.
void ProveComplete(const std::string& url, const SessionReplay& replay) {
  std::optional<std::map<std::string, std::vector<std::string>>> stored = ReadBack(url, replay.id());
  REQUIRE(stored);
  Proof p = Compare(*stored, replay.Expected(), /*prefix=*/false);
  INFO("session " << replay.id() << ": " << p.Text());
  CHECK(p.ok());
  CHECK(stored->size() == replay.file_count());
  uint64_t lines = 0;
  for (const auto& [name, l] : *stored) lines += l.size();
  CHECK(lines == replay.TotalLines());
  CHECK(Leaks(*stored, replay.SecretValues()) == 0);
}

testdata::GeneratorOptions SessionOptions(uint64_t seed, uint64_t bytes, int agents) {
  testdata::GeneratorOptions gen;
  gen.seed = seed;
  gen.target_bytes = bytes;
  gen.agents = agents;
  gen.layout = testdata::AgentLayout::kBoth;
  gen.nested_agent = agents > 0;
  gen.workflow = true;
  gen.plant_secrets = true;
  return gen;
}

/// Grows `replay` to the end over about `duration` while a hook-started
/// watcher syncs it (a Stop hook every second, as each turn would send),
/// then ends the session and waits for every tsync process to finish.
void LiveSession(const ProofHome& fx, SessionReplay& replay, std::mt19937_64& rng, std::chrono::milliseconds duration,
                 const std::function<void(double)>& at_fraction = {}) {
  const std::string id = replay.id();
  REQUIRE(fx.Hook("session-start", ProofHome::Payload(id, replay.transcript(), "SessionStart",
                                                     R"(,"source":"startup")"))
              .exit_code == 0);
  const auto start = Clock::now();
  const uint64_t max_slice = std::max<uint64_t>(512, replay.total() / 400);
  auto next_stop = start + std::chrono::seconds(1);
  while (!replay.done()) {
    const double f = std::min(1.0, std::chrono::duration<double>(Clock::now() - start) / duration);
    replay.WriteUpTo(static_cast<uint64_t>(f * static_cast<double>(replay.total())), rng, max_slice);
    if (at_fraction) at_fraction(f);
    if (Clock::now() >= next_stop) {
      REQUIRE(fx.Hook("stop", ProofHome::Payload(id, replay.transcript(), "Stop")).exit_code == 0);
      next_stop += std::chrono::seconds(1);
    }
    if (f >= 1.0) replay.Finish();
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(2, 25)(rng)));
  }
  REQUIRE(fx.Hook("session-end", ProofHome::Payload(id, replay.transcript(), "SessionEnd", R"(,"reason":"other")"))
              .exit_code == 0);
  // The final flush is bounded (30 s); a hook's `sync --pending` may follow.
  REQUIRE(WaitUntil([&] { return fx.Processes().empty(); }, milliseconds(90'000)));
}

/// What a user does when a session is left pending: `tsync sync --pending`
/// until nothing is (bounded). Returns the attempts it took.
int DrainPending(const ProofHome& fx, int max_attempts) {
  int attempts = 0;
  while (agent::AnyPending(fx.state) && attempts < max_attempts) {
    ++attempts;
    ProcessResult r = fx.Run({"sync", "--pending"});
    INFO(r.out << r.err);
    CHECK((r.exit_code == 0 || r.exit_code == 1 || r.exit_code == 4));
  }
  return attempts;
}

std::string FaultCounts(int port) {
  std::string out;
  for (const char* kind : {"write_503", "read_503", "drop_after_commit", "reset", "user_429", "latency_spike"}) {
    out += std::string(out.empty() ? "" : ", ") + kind + " " + std::to_string(InjectedFaults(port, kind));
  }
  return out;
}

}  // namespace

TEST_CASE("fault soak — 503s, lost replies, resets, 429 bursts and latency spikes lose and double nothing",
          "[faults]") {
  const uint64_t seed = EnvSeed("TSYNC_SOAK_SEED");
  const int scale = static_cast<int>(std::max<uint64_t>(1, EnvCount("TSYNC_SOAK_SCALE", 1)));
  std::printf("fault soak: seed %llu, scale %d (replay: TSYNC_SOAK_SEED=%llu TSYNC_SOAK_SCALE=%d)\n",
              static_cast<unsigned long long>(seed), scale, static_cast<unsigned long long>(seed), scale);
  std::fflush(stdout);
  INFO("replay with TSYNC_SOAK_SEED=" << seed << " TSYNC_SOAK_SCALE=" << scale);
  std::mt19937_64 rng(seed);

  ProofHome fx;
  std::vector<std::unique_ptr<SessionReplay>> saved;
  for (int i = 0; i < 5 * scale; ++i) {
    testdata::GeneratorOptions gen = SessionOptions(seed + 1 + i, 384 * 1024, 1 + i % 3);
    gen.cwd = "/home/dev/soak-" + std::to_string(i);
    saved.push_back(std::make_unique<SessionReplay>(fx.projects, gen));
    saved.back()->Finish();
  }

  // The same saves against a fault-free backend: the reference time.
  RefServer clean;
  fx.backend_url = clean.url();
  auto t0 = Clock::now();
  ProcessResult clean_save = fx.Run({"save", "--all"});
  const double clean_s = SecondsSince(t0);
  INFO(clean_save.out << clean_save.err);
  REQUIRE(clean_save.exit_code == 0);

  RefServer faulty({"--seed", std::to_string(seed), "--fail-rate", "0.2", "--drop-after-commit-rate", "0.1",
                    "--reset-rate", "0.05", "--rate", "4", "--burst", "6", "--spike-rate", "0.05", "--spike-ms", "1500",
                    "--read-fail-rate", "0.1"});
  fx.backend_url = faulty.url();
  // A user retries a save that reports the backend unreachable (exit 4) or
  // files pending (exit 1); each run resumes where the backend is.
  t0 = Clock::now();
  int runs = 0;
  ProcessResult faulty_save;
  do {
    ++runs;
    faulty_save = fx.Run({"save", "--all"});
  } while (faulty_save.exit_code != 0 && runs < 15);
  const double faulty_s = SecondsSince(t0);
  INFO("last save: " << faulty_save.out << faulty_save.err << "\nlog tail:\n" << Tail(fx.LogPath(), 30));
  CHECK(faulty_save.exit_code == 0);
  for (const auto& s : saved) {
    ProveComplete(clean.url(), *s);
    ProveComplete(faulty.url(), *s);
  }

  // Live: a session synced by its watcher while it grows, under the same faults.
  testdata::GeneratorOptions gen = SessionOptions(seed, 1024 * 1024, 3);
  gen.cwd = "/home/dev/soak-live";
  SessionReplay live(fx.projects, gen);
  t0 = Clock::now();
  LiveSession(fx, live, rng, std::chrono::seconds(12) * scale);
  const int drains = DrainPending(fx, 15);
  const double live_s = SecondsSince(t0);
  CHECK_FALSE(agent::AnyPending(fx.state));
  ProveComplete(faulty.url(), live);
  CHECK(SessionEnds(faulty, live.id()) == 1);
  ProcessResult verify = fx.Run({"verify", live.id()});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  CHECK(TotalViolations(faulty.port()) == 0);
  CHECK(TotalViolations(clean.port()) == 0);

  // The faults really happened. Each kind is counted and printed; the
  // assertions stop at what ~100 writes make all but certain (the chance
  // that neither a lost reply nor a reset came up is about 1e-5).
  const std::string faults = FaultCounts(faulty.port());
  INFO("injected: " << faults);
  CHECK(InjectedFaults(faulty.port(), "write_503") > 0);
  CHECK(InjectedFaults(faulty.port(), "drop_after_commit") + InjectedFaults(faulty.port(), "reset") > 0);
  CHECK(InjectedFaults(faulty.port(), "user_429") > 0);
  std::printf(
      "fault soak: seed %llu: save --all of %zu sessions: %.2f s fault-free, %.2f s with faults in %d run(s) "
      "(overhead x%.1f, printed only); live session under faults: %.1f s, %d sync --pending run(s) after it; "
      "injected: %s\n",
      static_cast<unsigned long long>(seed), saved.size(), clean_s, faulty_s, runs, faulty_s / std::max(clean_s, 1e-3),
      live_s, drains, faults.c_str());
}

TEST_CASE("fault soak — the backend down for a whole session and back afterwards at the same address",
          "[faults]") {
  const uint64_t seed = EnvSeed("TSYNC_SOAK_SEED");
  std::printf("fault soak (backend down): seed %llu (replay: TSYNC_SOAK_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  INFO("replay with TSYNC_SOAK_SEED=" << seed);
  std::mt19937_64 rng(seed);
  ProofHome fx;
  const int port = FreePort();
  fx.backend_url = "http://127.0.0.1:" + std::to_string(port);  // nothing listens there yet

  SessionReplay replay(fx.projects, SessionOptions(seed, 512 * 1024, 2));
  LiveSession(fx, replay, rng, std::chrono::seconds(4));
  CHECK(agent::AnyPending(fx.state));
  CHECK(agent::ListPending(fx.state).size() == 1);
  // While it is down, a user's save says so (exit 4) and stores nothing.
  CHECK(fx.Run({"save", replay.id()}).exit_code == 4);

  RefServer server({"--port", std::to_string(port)});  // back, same address
  REQUIRE(server.url() == fx.backend_url);
  ProcessResult retry = fx.Run({"sync", "--pending"});
  INFO(retry.out << retry.err << "\nlog tail:\n" << Tail(fx.LogPath(), 30));
  CHECK(retry.exit_code == 0);
  CHECK_FALSE(agent::AnyPending(fx.state));
  ProveComplete(server.url(), replay);
  CHECK(SessionEnds(server, replay.id()) == 1);
  // Nothing is left to send, and nothing is sent twice.
  ProcessResult again = fx.Run({"save", replay.id()});
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("nothing new to send") != std::string::npos);
  CHECK(fx.Run({"sync", "--pending"}).out.find("nothing pending") != std::string::npos);
  CHECK(SessionEnds(server, replay.id()) == 1);
  CHECK(TotalViolations(server.port()) == 0);
}

TEST_CASE("fault soak — the backend killed and restarted in the middle of a live sync", "[faults]") {
  const uint64_t seed = EnvSeed("TSYNC_SOAK_SEED");
  const int scale = static_cast<int>(std::max<uint64_t>(1, EnvCount("TSYNC_SOAK_SCALE", 1)));
  std::printf("fault soak (server restarts): seed %llu (replay: TSYNC_SOAK_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  INFO("replay with TSYNC_SOAK_SEED=" << seed);
  std::mt19937_64 rng(seed);
  ProofHome fx;
  const int port = FreePort();
  // Slow writes, so a restart usually finds a chunk in flight.
  RefServer server({"--port", std::to_string(port), "--delay-ms", "40"});
  fx.backend_url = server.url();

  SessionReplay replay(fx.projects, SessionOptions(seed ^ 0xabc, 1024 * 1024, 3));
  // Three restarts at seeded moments of the session; the server is killed
  // (SIGTERM ends it at once: no handler), so in-flight requests die with it.
  std::vector<double> at;
  for (int i = 0; i < 3 * scale; ++i) at.push_back(std::uniform_real_distribution<double>(0.1, 0.9)(rng));
  std::sort(at.begin(), at.end());
  size_t restarts = 0;
  const auto t0 = Clock::now();
  LiveSession(fx, replay, rng, std::chrono::seconds(8) * scale, [&](double f) {
    if (restarts < at.size() && f >= at[restarts]) {
      server.Restart();
      REQUIRE(server.url() == fx.backend_url);
      ++restarts;
    }
  });
  const int drains = DrainPending(fx, 5);
  CHECK(restarts == at.size());
  CHECK_FALSE(agent::AnyPending(fx.state));
  ProveComplete(server.url(), replay);
  CHECK(SessionEnds(server, replay.id()) == 1);
  CHECK(TotalViolations(server.port()) == 0);
  std::printf("fault soak (server restarts): %zu restarts, %d sync --pending run(s) after the session, %.1f s\n",
              restarts, drains, SecondsSince(t0));
}

}  // namespace tsync::testing
