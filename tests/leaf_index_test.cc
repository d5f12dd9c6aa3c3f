#include "tracker/leaf_index.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/test_util.h"

using tsync::testing::AppendFile;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;
using tsync::tracker::LeafIndex;
using tsync::tracker::MessageUuids;

namespace {

std::string Message(const std::string& uuid, size_t pad = 0) {
  return R"({"parentUuid":null,"type":"assistant","message":{"role":"assistant","content":")" + std::string(pad, 'x') +
         R"("},"uuid":")" + uuid + R"(","sessionId":"s"})" + "\n";
}

struct Project {
  TempDir root;
  std::string dir = root / "projects/-home-dev-app";
  std::string cache = root / "state/leaf-index";
  Project() { std::filesystem::create_directories(dir); }
  std::string File(const std::string& name) const { return dir + "/" + name; }
};

}  // namespace

TEST_CASE("leaf index: only top-level uuids of complete lines", "[leaf_index]") {
  const std::string text =
      Message("aaaa-1") +
      R"({"type":"user","message":{"content":[{"type":"tool_result","content":{"uuid":"nested-1"}}]},"uuid":"bbbb-2"})" +
      "\n" + R"({"type":"summary","summary":"s","leafUuid":"aaaa-1"})" + "\n" +
      R"({"type":"user","message":{"content":"the text says \"uuid\":\"fake\" here"}})" + "\n" +
      Message("cccc-3").substr(0, 40);  // unterminated: not a line yet
  CHECK(MessageUuids(text) == std::vector<std::string>{"aaaa-1", "bbbb-2"});
  CHECK(MessageUuids("not json but \"uuid\"\n").empty());
}

TEST_CASE("leaf index: finds the transcript whose tail holds a uuid — agent files never", "[leaf_index]") {
  Project p;
  WriteFile(p.File("aaaaaaaa-0001.jsonl"), Message("a-1") + Message("a-2") + Message("a-3"));
  WriteFile(p.File("bbbbbbbb-0002.jsonl"), Message("b-1"));
  WriteFile(p.File("agent-a1b2c3d4.jsonl"), Message("agent-uuid"));
  WriteFile(p.File("not a session.jsonl"), Message("odd-uuid"));
  LeafIndex index(p.cache);
  REQUIRE(index.Refresh(p.dir).ok());
  CHECK(index.Find(p.dir, "a-3") == std::vector<std::string>{"aaaaaaaa-0001"});
  CHECK(index.Find(p.dir, "b-1") == std::vector<std::string>{"bbbbbbbb-0002"});
  CHECK(index.Find(p.dir, "agent-uuid").empty());
  CHECK(index.Find(p.dir, "odd-uuid").empty());
  CHECK(index.Find(p.dir, "nowhere").empty());
  CHECK(index.Find(p.root / "other", "a-3").empty());
  CHECK(index.files_read() == 2);
  CHECK_FALSE(index.Refresh(p.root / "missing").ok());
}

TEST_CASE("leaf index: the cache means unchanged files are not read again — grown files only from where they stopped",
          "[leaf_index]") {
  Project p;
  const std::string a = p.File("aaaaaaaa-0001.jsonl"), b = p.File("bbbbbbbb-0002.jsonl");
  WriteFile(a, Message("a-1"));
  WriteFile(b, Message("b-1"));
  {
    LeafIndex first(p.cache);
    REQUIRE(first.Refresh(p.dir).ok());
    CHECK(first.files_read() == 2);
    REQUIRE(first.Refresh(p.dir).ok());
    CHECK(first.files_read() == 2);  // same object, nothing changed
  }
  LeafIndex second(p.cache);  // another process: the cache file answers
  REQUIRE(second.Refresh(p.dir).ok());
  CHECK(second.files_read() == 0);
  CHECK(second.Find(p.dir, "a-1") == std::vector<std::string>{"aaaaaaaa-0001"});

  AppendFile(a, Message("a-2") + Message("a-3").substr(0, 20));  // one line and a partial one
  REQUIRE(second.Refresh(p.dir).ok());
  CHECK(second.files_read() == 1);
  CHECK(second.Find(p.dir, "a-1").size() == 1);  // still known: grown, not re-read from the tail
  CHECK(second.Find(p.dir, "a-2").size() == 1);
  AppendFile(a, Message("a-3").substr(20));  // the partial line completes
  REQUIRE(second.Refresh(p.dir).ok());
  CHECK(second.Find(p.dir, "a-3") == std::vector<std::string>{"aaaaaaaa-0001"});

  // Replaced (a new inode) and removed files.
  const std::string tmp = p.File("tmp.json");
  WriteFile(tmp, Message("b-new"));
  std::filesystem::rename(tmp, b);
  std::filesystem::remove(a);
  REQUIRE(second.Refresh(p.dir).ok());
  CHECK(second.Find(p.dir, "b-1").empty());
  CHECK(second.Find(p.dir, "b-new") == std::vector<std::string>{"bbbbbbbb-0002"});
  CHECK(second.Find(p.dir, "a-2").empty());

  // A corrupt cache is ignored and rebuilt.
  for (const auto& e : std::filesystem::directory_iterator(p.cache)) WriteFile(e.path().string(), "garbage\n");
  LeafIndex third(p.cache);
  REQUIRE(third.Refresh(p.dir).ok());
  CHECK(third.files_read() == 1);
  CHECK(third.Find(p.dir, "b-new").size() == 1);
}

TEST_CASE("leaf index: reads tails only — and grows the tail past a huge last line", "[leaf_index]") {
  Project p;
  std::string body = Message("head-uuid");
  for (int i = 0; i < 400; ++i) body += Message("mid-" + std::to_string(i), 300);  // ~160 KiB
  body += Message("last-uuid");
  WriteFile(p.File("aaaaaaaa-0001.jsonl"), body);
  // A 300 KiB last line: the first 64 KiB tail holds no complete line.
  WriteFile(p.File("bbbbbbbb-0002.jsonl"), Message("b-head") + Message("b-huge", 300 * 1024));
  LeafIndex index(p.cache);
  REQUIRE(index.Refresh(p.dir).ok());
  CHECK(index.Find(p.dir, "last-uuid").size() == 1);
  CHECK(index.Find(p.dir, "head-uuid").empty());  // far from the end: never read
  CHECK(index.Find(p.dir, "b-huge") == std::vector<std::string>{"bbbbbbbb-0002"});
}

TEST_CASE("leaf index: a project with thousands of sessions — a second lookup reads nothing", "[leaf_index]") {
  Project p;
  constexpr int kSessions = 3000;
  for (int i = 0; i < kSessions; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "s%07d-0000", i);
    WriteFile(p.File(std::string(id) + ".jsonl"), Message(std::string("u-") + id + "-1") + Message(std::string("u-") + id + "-2"));
  }
  LeafIndex first(p.cache);
  REQUIRE(first.Refresh(p.dir).ok());
  CHECK(first.files_read() == kSessions);
  LeafIndex second(p.cache);
  REQUIRE(second.Refresh(p.dir).ok());
  CHECK(second.files_read() == 0);
  CHECK(second.Find(p.dir, "u-s0002999-0000-2") == std::vector<std::string>{"s0002999-0000"});
}
