// Hook input checks found by fuzz/hook_input_fuzz.cc. The payload cases the
// hook relies on day to day are in watcher_test.cc.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/hook_input.h"
#include "tests/test_util.h"

namespace tsync::testing {

TEST_CASE("hook input — a dangling or looping symlink in the projects dir is refused, not left unresolved",
          "[hook-input]") {
  TempDir dir;
  const std::string projects = dir / "projects";
  std::filesystem::create_directories(projects + "/-p");
  std::filesystem::create_directories(dir / "outside");
  // The target does not exist yet: whoever creates it later would have tsync
  // read a file outside the projects dir.
  std::filesystem::create_symlink(dir / "outside/later.jsonl", projects + "/-p/dangling.jsonl");
  std::filesystem::create_symlink(projects + "/-p/loop.jsonl", projects + "/-p/loop.jsonl");
  std::filesystem::create_symlink(dir / "outside/gone", projects + "/-gone");
  auto parse = [&](const std::string& id, const std::string& path) {
    return agent::ParseHookInput(agent::HookEvent::kSessionStart,
                                 R"({"session_id":")" + id + R"(","transcript_path":")" + path + "\"}", projects);
  };

  for (const auto& [id, path] : {std::pair{"dangling", projects + "/-p/dangling.jsonl"},
                                 std::pair{"loop", projects + "/-p/loop.jsonl"},
                                 std::pair{"abc", projects + "/-gone/abc.jsonl"}}) {
    INFO(path);
    Result<agent::HookInput> r = parse(id, path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("cannot resolve transcript_path") != std::string::npos);
  }
  // A transcript that does not exist yet under a real project dir is still fine.
  Result<agent::HookInput> fresh = parse("new-session", projects + "/-p/new-session.jsonl");
  REQUIRE(fresh.ok());
  CHECK(fresh->session.transcript_path == projects + "/-p/new-session.jsonl");
}

TEST_CASE("hook input — a NUL byte in the transcript path is refused", "[hook-input]") {
  TempDir dir;
  const std::string projects = dir / "projects";
  std::filesystem::create_directories(projects + "/-p");
  // The path the checks saw would not be the one opened: the system calls
  // stop at the NUL, here at <projects>/other.jsonl.
  const std::string json =
      R"({"session_id":"abc","transcript_path":")" + projects + R"(/other.jsonl\u0000x/abc.jsonl"})";
  Result<agent::HookInput> r = agent::ParseHookInput(agent::HookEvent::kSessionEnd, json, projects);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("NUL") != std::string::npos);
}

}  // namespace tsync::testing
