// SessionSyncLock (agent/session_lock.h): one process at a time syncs a
// session. Without it a user's `tsync save` beside the session's watcher sent
// chunks for the same file at once — the reference backend refused one with
// 422 and the file was quarantined for good (a real server, which has no
// lock, could have stored the lines twice); the crash matrix found it.
#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "agent/session_lock.h"
#include "tests/refserver_process.h"
#include "tests/sync_proof.h"

namespace tsync::testing {
namespace {

using namespace proof;
using agent::SessionSyncLock;

}  // namespace

TEST_CASE("session lock — one holder at a time, waits are bounded, a dead holder frees it", "[lock]") {
  TempDir state;
  Result<SessionSyncLock> first = SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(0));
  REQUIRE(first.ok());
  // flock belongs to the open file, so a second open in this process conflicts too.
  Result<SessionSyncLock> second = SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(0));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().kind() == Status::Kind::kConflict);
  const auto before = Clock::now();
  CHECK(SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(150)).status().kind() ==
        Status::Kind::kConflict);
  CHECK(Clock::now() - before >= milliseconds(150));
  CHECK(SessionSyncLock::Acquire(state.path(), "sess-2", milliseconds(0)).ok());  // per session
  CHECK(SessionSyncLock::Acquire(state.path(), "../x", milliseconds(0)).status().kind() ==
        Status::Kind::kInvalidInput);

  // Released when its holder goes, however it goes (here: SIGKILL).
  std::optional<SessionSyncLock> held = std::move(first).value();
  held.reset();
  const pid_t child = ::fork();
  if (child == 0) {
    Result<SessionSyncLock> mine = SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(0));
    if (!mine.ok()) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  REQUIRE(WaitUntil([&] { return !SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(0)).ok(); },
                    milliseconds(5000)));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(SessionSyncLock::Acquire(state.path(), "sess-1", milliseconds(2000)).ok());
}

TEST_CASE("session lock — tsync save waits for another sync of the session, then sends everything once",
          "[lock][live]") {
  ProofHome fx;
  RefServer server;
  fx.backend_url = server.url();
  testdata::GeneratorOptions gen;
  gen.seed = 5;
  gen.target_bytes = 128 * 1024;
  gen.agents = 2;
  SessionReplay session(fx.projects, gen);
  session.Finish();

  Result<SessionSyncLock> lock = SessionSyncLock::Acquire(fx.state, session.id(), milliseconds(0));
  REQUIRE(lock.ok());
  std::optional<SessionSyncLock> held = std::move(lock).value();
  const pid_t save = fx.Spawn({"save", session.id()});
  std::this_thread::sleep_for(milliseconds(1500));
  int status = 0;
  CHECK(::waitpid(save, &status, WNOHANG) == 0);  // still waiting for the lock
  CHECK_FALSE(ReadBack(server.url(), session.id()).has_value());  // and nothing sent
  held.reset();
  REQUIRE(::waitpid(save, &status, 0) == save);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  Proof p = Compare(*ReadBack(server.url(), session.id()), session.Expected(), /*prefix=*/false);
  INFO(p.Text());
  CHECK(p.ok());
}

TEST_CASE("session lock — saves beside a busy watcher never send a chunk at the same time", "[lock][live]") {
  ProofHome fx;
  // Slow chunks: each stays in flight long enough for the other process to try.
  RefServer server({"--delay-ms", "120"});
  fx.backend_url = server.url();
  testdata::GeneratorOptions gen;
  gen.seed = 6;
  gen.target_bytes = 512 * 1024;
  gen.agents = 3;
  SessionReplay session(fx.projects, gen);
  std::mt19937_64 rng(6);
  REQUIRE(fx.Hook("session-start", ProofHome::Payload(session.id(), session.transcript(), "SessionStart")).exit_code ==
          0);
  REQUIRE(WaitUntil([&] { return fx.LiveWatcher(session.id()).has_value(); }, milliseconds(10'000)));
  for (int round = 1; round <= 6; ++round) {
    session.WriteUpTo(session.total() * round / 6, rng, 4096);
    std::this_thread::sleep_for(milliseconds(300));  // the watcher's pass is under way
    ProcessResult save = fx.Run({"save", session.id()});
    INFO("round " << round << ": " << save.out << save.err);
    CHECK(save.exit_code == 0);
    CHECK(save.out.find("quarantined") == std::string::npos);
  }
  REQUIRE(fx.Hook("session-end", ProofHome::Payload(session.id(), session.transcript(), "SessionEnd")).exit_code ==
          0);
  REQUIRE(WaitUntil([&] { return fx.Processes().empty(); }, milliseconds(60'000)));
  CHECK(ViolationCount(server.port(), "concurrent_chunk") == 0);
  CHECK(TotalViolations(server.port()) == 0);
  Proof p = Compare(*ReadBack(server.url(), session.id()), session.Expected(), /*prefix=*/false);
  INFO(p.Text());
  CHECK(p.ok());
}

}  // namespace tsync::testing
