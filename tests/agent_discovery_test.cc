#include "tracker/agent_discovery.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/test_util.h"

using tsync::testing::AppendFile;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;
using namespace tsync::tracker;

namespace {

constexpr const char* kSession = "11111111-2222-3333-4444-555555555555";
constexpr const char* kOtherSession = "99999999-8888-7777-6666-555555555555";

// The three reference shapes of TRANSCRIPTS.md "Subagent references".
std::string UserRef(const std::string& id) {
  return R"({"type":"user","message":{"role":"user","content":"done"},"toolUseResult":)"
         R"({"status":"async_launched","agentId":")" + id + R"("}})";
}
std::string NestedRef(const std::string& id) {
  return R"({"type":"user","message":{"role":"user","content":[{"type":"text","text":"x"},)"
         R"({"type":"tool_result","content":{"toolUseResult":{"agentId":")" + id + R"("}}}]}})";
}
std::string ProgressRef(const std::string& id) {
  return R"({"type":"progress","data":{"type":"agent_progress","agentId":")" + id + R"("}})";
}
// A line of an agent file: its own agentId on the envelope, plus optional text.
std::string AgentLine(const std::string& own_id, const std::string& session = kSession) {
  std::string s = R"({"type":"assistant","agentId":")" + own_id + "\"";
  if (!session.empty()) s += R"(,"sessionId":")" + session + "\"";
  return s + R"(,"message":{"role":"assistant","content":"hi"}})";
}

std::string Subagents(const TempDir& dir) { return dir / (std::string(kSession) + "/subagents"); }

std::vector<std::string> Names(const std::vector<DiscoveredFile>& files) {
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.file_name);
  return names;
}

void ObserveFile(AgentDiscovery* d, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  for (std::string line; std::getline(in, line);) d->ObserveLine(line);
}

// The engine's loop: read every reported file, feed its lines back, until nothing new.
std::map<std::string, int> DriveToFixpoint(AgentDiscovery* d) {
  std::map<std::string, int> seen;
  for (int round = 0; round < 20; ++round) {
    std::vector<DiscoveredFile> files = d->Poll();
    if (files.empty()) break;
    for (const auto& f : files) {
      ++seen[f.file_name];
      ObserveFile(d, f.path);
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("agent ids are validated as path-safe names", "[discovery]") {
  CHECK(IsValidAgentId("a9a14960adfa44d68"));
  CHECK(IsValidAgentId("acompact-0123ab"));
  CHECK(IsValidAgentId("aprompt_suggestion-0f0f0f"));
  CHECK(IsValidAgentId("abcdef"));
  CHECK(IsValidAgentId(std::string(64, 'x')));
  CHECK_FALSE(IsValidAgentId("abcde"));
  CHECK_FALSE(IsValidAgentId(std::string(65, 'x')));
  CHECK_FALSE(IsValidAgentId(""));
  CHECK_FALSE(IsValidAgentId("../../etc/passwd"));
  CHECK_FALSE(IsValidAgentId("abcdef/g"));
  CHECK_FALSE(IsValidAgentId("abc.def"));
  CHECK_FALSE(IsValidAgentId(std::string("abc\0def", 7)));
  CHECK(IsValidRunId("r"));
  CHECK(IsValidRunId(std::string(128, 'r')));
  CHECK_FALSE(IsValidRunId(std::string(129, 'r')));
  CHECK_FALSE(IsValidRunId(".."));
}

TEST_CASE("real 2.1.328 sample: the referenced subagent is found", "[discovery]") {
  const std::string project = TSYNC_SAMPLES_DIR "/claude-code-2.1.328/-home-dev-demo-project";
  const std::string session = "29a570ad-a0aa-4b9d-bb21-a8fcb685d10e";
  AgentDiscovery d(project, session);
  ObserveFile(&d, project + "/" + session + ".jsonl");
  REQUIRE(d.pending_ids() == 1);  // from toolUseResult.agentId

  std::vector<DiscoveredFile> files = d.Poll();
  REQUIRE(files.size() == 1);
  CHECK(files[0].file_name == "agent-a9a14960adfa44d68.jsonl");
  CHECK(files[0].type == FileType::kAgent);
  CHECK_FALSE(files[0].workflow);
  char* real = ::realpath((project + "/" + session + "/subagents/agent-a9a14960adfa44d68.jsonl").c_str(),
                          nullptr);
  REQUIRE(real != nullptr);
  CHECK(files[0].path == real);
  std::free(real);
  CHECK(d.pending_ids() == 0);

  // The agent's own lines carry its agentId on every envelope: not a new reference.
  ObserveFile(&d, files[0].path);
  CHECK(d.Poll().empty());
  CHECK(d.rejected_ids() == 0);

  AgentDiscovery other(project, "f77208d6-3db0-4287-a546-37ae05a6bf08");
  ObserveFile(&other, project + "/f77208d6-3db0-4287-a546-37ae05a6bf08.jsonl");
  CHECK(other.Poll().empty());
  CHECK(other.pending_ids() == 0);
}

TEST_CASE("each reference shape is recognised", "[discovery]") {
  TempDir dir;
  auto [line, id] = GENERATE(table<std::string, std::string>({
      {UserRef("a1111111"), "a1111111"},
      {NestedRef("a2222222"), "a2222222"},
      {ProgressRef("a3333333"), "a3333333"},
  }));
  AgentDiscovery d(dir.path(), kSession);
  d.ObserveLine(line);
  CHECK(d.pending_ids() == 1);
  CHECK(d.Poll().empty());
  WriteFile(Subagents(dir) + "/agent-" + id + ".jsonl", AgentLine(id) + "\n");
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-" + id + ".jsonl"});
  CHECK(d.pending_ids() == 0);
}

TEST_CASE("lines that only look like references are ignored", "[discovery]") {
  TempDir dir;
  AgentDiscovery d(dir.path(), kSession);
  d.ObserveLine(R"({"type":"user","toolUseResult":"Error: agent failed","agentId":"a4444444"})");
  d.ObserveLine(R"({"type":"user","toolUseResult":{"agentId":12345678}})");
  d.ObserveLine(R"({"type":"progress","data":{"type":"bash_progress","agentId":"a5555555"}})");
  d.ObserveLine(R"({"type":"assistant","agentId":"a6666666","message":{"content":"hi"}})");
  // Malformed JSON that passes the byte prefilter.
  d.ObserveLine(R"({"type":"user","toolUseResult":{"agentId":"a7777777")");
  d.ObserveLine(R"({"toolUseResult":{"agentId":"a7777777"}} trailing)");
  d.ObserveLine(R"("agentId" "toolUseResult")");
  const char raw_nul[] = "{\"toolUseResult\":{\"agentId\":\"a777\0\"}}";
  d.ObserveLine(std::string(raw_nul, sizeof raw_nul - 1));
  d.ObserveLine("");
  CHECK(d.pending_ids() == 0);
  CHECK(d.Poll().empty());
}

TEST_CASE("a 9 MiB line is parsed and a reference inside it found", "[discovery]") {
  TempDir dir;
  AgentDiscovery d(dir.path(), kSession);
  std::string big(9 << 20, 'A');
  d.ObserveLine(R"({"type":"user","message":{"content":[{"type":"image","data":")" + big +
                R"("}]},"toolUseResult":{"agentId":"abig0001"}})");
  CHECK(d.pending_ids() == 1);
  d.ObserveLine(UserRef("abig0002"));  // the parser still works after shrinking
  CHECK(d.pending_ids() == 2);
}

TEST_CASE("directory scan finds unreferenced agents and workflow files", "[discovery]") {
  TempDir dir;
  const std::string sub = Subagents(dir);
  WriteFile(sub + "/agent-acompact-0abc12.jsonl", AgentLine("acompact-0abc12") + "\n");
  WriteFile(sub + "/agent-acompact-0abc12.meta.json", R"({"agentType":"compact"})");
  WriteFile(sub + "/agent-aprompt_suggestion-0f0f.jsonl", AgentLine("x") + "\n");
  WriteFile(sub + "/nested/agent-deadbeef.jsonl", AgentLine("deadbeef") + "\n");
  WriteFile(sub + "/workflows/run_1/agent-wf000001.jsonl", AgentLine("wf000001") + "\n");
  WriteFile(sub + "/workflows/run_1/journal.jsonl", "{\"event\":\"start\"}\n");
  WriteFile(sub + "/workflows/run_1/agent-wf000001.meta.json", "{}");
  WriteFile(sub + "/workflows/run_1/deeper/agent-wf000002.jsonl", "{}\n");  // not a layout
  WriteFile(sub + "/workflows/journal.jsonl", "{}\n");                    // no run id
  WriteFile(sub + "/tool-results/agent-toolres1.jsonl", "{}\n");
  WriteFile(dir / (std::string(kSession) + "/tool-results/agent-toolres2.jsonl"), "{}\n");
  WriteFile(sub + "/notes.txt", "x");

  AgentDiscovery d(dir.path(), kSession);
  std::vector<DiscoveredFile> files = d.Poll();
  REQUIRE(Names(files) == std::vector<std::string>{
                              "agent-acompact-0abc12.jsonl",
                              "agent-aprompt_suggestion-0f0f.jsonl",
                              "agent-deadbeef.jsonl",
                              "subagents/workflows/run_1/agent-wf000001.jsonl",
                              "subagents/workflows/run_1/journal.jsonl",
                          });
  CHECK(files[0].path == sub + "/agent-acompact-0abc12.jsonl");
  CHECK_FALSE(files[2].workflow);
  CHECK(files[3].type == FileType::kAgent);
  CHECK(files[3].workflow);
  CHECK(files[4].type == FileType::kWorkflowJournal);
  CHECK(files[4].workflow);
  CHECK(d.Poll().empty());

  // A workflow agent that the parent referenced is not left pending.
  d.ObserveLine(ProgressRef("wf000001"));
  CHECK(d.pending_ids() == 0);
}

TEST_CASE("two files never share a file_name — first in path order wins", "[discovery]") {
  TempDir dir;
  WriteFile(Subagents(dir) + "/agent-dup00001.jsonl", "{}\n");
  WriteFile(Subagents(dir) + "/z/agent-dup00001.jsonl", "{}\n");
  AgentDiscovery d(dir.path(), kSession);
  std::vector<DiscoveredFile> files = d.Poll();
  REQUIRE(files.size() == 1);
  CHECK(files[0].path == Subagents(dir) + "/agent-dup00001.jsonl");
  CHECK(d.Poll().empty());
}

TEST_CASE("old layout: agent files beside the session, matched by sessionId", "[discovery]") {
  TempDir dir;
  WriteFile(dir / (std::string(kSession) + ".jsonl"), UserRef("aref0001") + "\n");
  WriteFile(dir / "agent-mine0001.jsonl", AgentLine("mine0001") + "\n");
  WriteFile(dir / "agent-other001.jsonl", AgentLine("other001", kOtherSession) + "\n");
  WriteFile(dir / "agent-late0001.jsonl", "");
  // First line has no sessionId (e.g. a summary); the first line that has one decides.
  WriteFile(dir / "agent-summ0001.jsonl", "{\"type\":\"summary\"}\n" + AgentLine("summ0001") + "\n");

  AgentDiscovery d(dir.path(), kSession);
  CHECK(Names(d.Poll()) ==
        std::vector<std::string>{"agent-mine0001.jsonl", "agent-summ0001.jsonl"});

  std::string partial = AgentLine("late0001");
  AppendFile(dir / "agent-late0001.jsonl", partial.substr(0, 20));  // no complete line yet
  CHECK(d.Poll().empty());
  AppendFile(dir / "agent-late0001.jsonl", partial.substr(20) + "\n");
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-late0001.jsonl"});

  // The "other session" verdict is cached per inode; a replaced file is looked at again.
  CHECK(d.Poll().empty());
  WriteFile(dir / "tmp", AgentLine("other001") + "\n");
  REQUIRE(std::rename((dir / "tmp").c_str(), (dir / "agent-other001.jsonl").c_str()) == 0);
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-other001.jsonl"});

  // A referenced id resolves to the old layout when there is no subagents/ file.
  d.ObserveLine(UserRef("aref0001"));
  WriteFile(dir / "agent-aref0001.jsonl", AgentLine("aref0001", "") + "\n");
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-aref0001.jsonl"});
}

TEST_CASE("old layout: sessions sharing a project each get exactly their own agent files", "[discovery]") {
  // What one session learnt about a file's owner serves the others (one
  // read per file per process), and a replaced file is asked again.
  TempDir dir;
  const std::vector<std::string> sessions = {kSession, kOtherSession, "77777777-6666-4555-8444-333333333333"};
  for (size_t s = 0; s < sessions.size(); ++s) {
    WriteFile(dir / (sessions[s] + ".jsonl"), "{\"type\":\"user\"}\n");
    for (int a = 0; a < 2; ++a) {
      const std::string id = "own" + std::to_string(s) + "ag" + std::to_string(a);
      WriteFile(dir / ("agent-" + id + ".jsonl"), AgentLine(id, sessions[s]) + "\n");
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (size_t s = 0; s < sessions.size(); ++s) {
      AgentDiscovery d(dir.path(), sessions[s]);
      const std::string own = "agent-own" + std::to_string(s);
      CHECK(Names(d.Poll()) == std::vector<std::string>{own + "ag0.jsonl", own + "ag1.jsonl"});
    }
  }
  // own0ag1 now belongs to the third session: a new inode, so every
  // discovery reads it again.
  WriteFile(dir / "tmp", AgentLine("own0ag1", sessions[2]) + "\n");
  REQUIRE(std::rename((dir / "tmp").c_str(), (dir / "agent-own0ag1.jsonl").c_str()) == 0);
  AgentDiscovery first(dir.path(), sessions[0]);
  CHECK(Names(first.Poll()) == std::vector<std::string>{"agent-own0ag0.jsonl"});
  AgentDiscovery third(dir.path(), sessions[2]);
  CHECK(Names(third.Poll()) ==
        std::vector<std::string>{"agent-own0ag1.jsonl", "agent-own2ag0.jsonl", "agent-own2ag1.jsonl"});
}

TEST_CASE("hostile ids are rejected, counted and never become paths", "[discovery]") {
  TempDir dir;
  WriteFile(dir / "etc/passwd", "root:x:0:0\n");
  AgentDiscovery d(dir.path(), kSession);
  const std::vector<std::string> hostile = {
      "../../etc/passwd", "../etc/passwd", "a/b", "", "abc", std::string(65, 'a'),
      "abc defg", "abc\\u0000defg", "abcdef\\n", "abcd.jsonl", "%2e%2e%2fpasswd",
  };
  for (const std::string& id : hostile) d.ObserveLine(UserRef(id));
  d.ObserveLine(ProgressRef("../../../../etc/passwd"));
  CHECK(d.rejected_ids() == hostile.size() + 1);
  CHECK(d.pending_ids() == 0);
  CHECK(d.Poll().empty());

  // Unsafe names on disk are counted once, not on every Poll().
  WriteFile(Subagents(dir) + "/agent-ab.jsonl", "{}\n");
  WriteFile(dir / "agent-a b c d.jsonl", AgentLine("x") + "\n");
  CHECK(d.Poll().empty());
  CHECK(d.Poll().empty());
  CHECK(d.rejected_ids() == hostile.size() + 3);
}

TEST_CASE("symlinks: outward ones are refused, inward ones resolved", "[discovery]") {
  TempDir outside, dir;
  WriteFile(outside / "secret.jsonl", "{\"secret\":1}\n");
  const std::string sub = Subagents(dir);
  WriteFile(sub + "/.keep", "");

  SECTION("a file symlink pointing outside the project is refused") {
    REQUIRE(::symlink((outside / "secret.jsonl").c_str(), (sub + "/agent-aaaaaaaaaaaa.jsonl").c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", (dir / "agent-bbbbbbbbbbbb.jsonl").c_str()) == 0);
    AgentDiscovery d(dir.path(), kSession);
    d.ObserveLine(UserRef("aaaaaaaaaaaa"));
    d.ObserveLine(UserRef("bbbbbbbbbbbb"));
    CHECK(d.Poll().empty());
    CHECK(d.pending_ids() == 0);  // exists but unsafe: dropped, not retried forever
    CHECK(d.Poll().empty());
  }
  SECTION("a session directory that is a symlink to outside: the files in it are refused") {
    WriteFile(outside / "elsewhere/subagents/agent-abababab.jsonl", AgentLine("abababab") + "\n");
    TempDir project;
    REQUIRE(::symlink((outside / "elsewhere").c_str(), (project / kSession).c_str()) == 0);
    AgentDiscovery d(project.path(), kSession);
    d.ObserveLine(UserRef("abababab"));
    CHECK(d.Poll().empty());  // by reference
    CHECK(d.Poll().empty());  // and by the directory scan
  }
  SECTION("a session directory swapped for a symlink to outside after a first find: later files are refused") {
    WriteFile(sub + "/agent-12121212.jsonl", AgentLine("12121212") + "\n");
    AgentDiscovery d(dir.path(), kSession);
    d.ObserveLine(UserRef("12121212"));
    REQUIRE(d.Poll().size() == 1);  // the subagents directory is resolved (and remembered)
    WriteFile(outside / "swapped/subagents/agent-34343434.jsonl", AgentLine("34343434") + "\n");
    REQUIRE(::rename((dir / kSession).c_str(), (dir / "moved-away").c_str()) == 0);
    REQUIRE(::symlink((outside / "swapped").c_str(), (dir / kSession).c_str()) == 0);
    d.ObserveLine(UserRef("34343434"));
    CHECK(d.Poll().empty());
    CHECK(d.pending_ids() == 0);  // found, resolved outside, refused
  }
  SECTION("a directory symlink is not followed") {
    WriteFile(outside / "d/agent-cccccccc.jsonl", "{}\n");
    REQUIRE(::symlink((outside / "d").c_str(), (sub + "/linked").c_str()) == 0);
    AgentDiscovery d(dir.path(), kSession);
    CHECK(d.Poll().empty());
  }
  SECTION("a symlink to a regular file inside the project is reported canonically") {
    WriteFile(dir / "stash/real.jsonl", AgentLine("dddddddd") + "\n");
    REQUIRE(::symlink("../../stash/real.jsonl", (sub + "/agent-dddddddd.jsonl").c_str()) == 0);
    AgentDiscovery d(dir.path(), kSession);
    std::vector<DiscoveredFile> files = d.Poll();
    REQUIRE(files.size() == 1);
    CHECK(files[0].file_name == "agent-dddddddd.jsonl");
    CHECK(files[0].path == dir / "stash/real.jsonl");
  }
  SECTION("an alias of the session transcript or a directory is refused") {
    WriteFile(dir / (std::string(kSession) + ".jsonl"), "{}\n");
    REQUIRE(::symlink(("../../" + std::string(kSession) + ".jsonl").c_str(),
                      (sub + "/agent-eeeeeeee.jsonl").c_str()) == 0);
    REQUIRE(::symlink("..", (sub + "/agent-ffffffff.jsonl").c_str()) == 0);
    AgentDiscovery d(dir.path(), kSession);
    d.ObserveLine(UserRef("ffffffff"));
    CHECK(d.Poll().empty());
    CHECK(d.pending_ids() == 0);
  }
}

TEST_CASE("an agent file that appears after its reference is reported later", "[discovery]") {
  TempDir dir;
  AgentDiscovery d(dir.path(), kSession);
  d.ObserveLine(UserRef("alate000001"));
  d.ObserveLine(UserRef("alate000001"));  // repeated reference: still one
  CHECK(d.Poll().empty());
  CHECK(d.pending_ids() == 1);
  CHECK(d.Poll().empty());
  WriteFile(Subagents(dir) + "/agent-alate000001.jsonl", AgentLine("alate000001") + "\n");
  std::vector<DiscoveredFile> files = d.Poll();
  CHECK(Names(files) == std::vector<std::string>{"agent-alate000001.jsonl"});
  CHECK(d.pending_ids() == 0);
  d.ObserveLine(UserRef("alate000001"));
  CHECK(d.pending_ids() == 0);
  CHECK(d.Poll().empty());
}

TEST_CASE("referenced files come first, in reference order, then scan finds", "[discovery]") {
  TempDir dir;
  for (const char* id : {"a0000001", "a0000002", "a0000003", "zscan001"}) {
    WriteFile(Subagents(dir) + "/agent-" + id + ".jsonl", "{}\n");
  }
  AgentDiscovery d(dir.path(), kSession);
  d.ObserveLine(UserRef("a0000003"));
  d.ObserveLine(NestedRef("a0000001"));
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-a0000003.jsonl", "agent-a0000001.jsonl",
                                                   "agent-a0000002.jsonl", "agent-zscan001.jsonl"});
}

TEST_CASE("discovery is transitive and cycles are harmless", "[discovery]") {
  TempDir dir;
  const std::string a = "aaaa0001", b = "bbbb0002", c = "cccc0003";
  const std::string main = dir / (std::string(kSession) + ".jsonl");
  WriteFile(main, UserRef(a) + "\n");

  SECTION("old layout without sessionId lines: found only through references") {
    WriteFile(dir / ("agent-" + a + ".jsonl"), AgentLine(a, "") + "\n" + ProgressRef(b) + "\n");
    WriteFile(dir / ("agent-" + b + ".jsonl"), NestedRef(a) + "\n" + UserRef(c) + "\n");
    WriteFile(dir / ("agent-" + c + ".jsonl"), AgentLine(c, "") + "\n" + UserRef(b) + "\n");
    AgentDiscovery d(dir.path(), kSession);
    CHECK(d.Poll().empty());  // nothing referenced yet and no sessionId to match
    ObserveFile(&d, main);
    std::vector<DiscoveredFile> first = d.Poll();
    CHECK(Names(first) == std::vector<std::string>{"agent-" + a + ".jsonl"});
    for (const auto& f : first) ObserveFile(&d, f.path);
    std::map<std::string, int> seen = DriveToFixpoint(&d);
    seen["agent-" + a + ".jsonl"] += 1;
    CHECK(seen == std::map<std::string, int>{{"agent-" + a + ".jsonl", 1},
                                             {"agent-" + b + ".jsonl", 1},
                                             {"agent-" + c + ".jsonl", 1}});
  }
  SECTION("2.1.x layout") {
    WriteFile(Subagents(dir) + "/agent-" + a + ".jsonl", ProgressRef(b) + "\n");
    WriteFile(Subagents(dir) + "/agent-" + b + ".jsonl", NestedRef(a) + "\n" + UserRef(c) + "\n");
    WriteFile(Subagents(dir) + "/agent-" + c + ".jsonl", UserRef(b) + "\n");
    AgentDiscovery d(dir.path(), kSession);
    ObserveFile(&d, main);
    CHECK(DriveToFixpoint(&d) == std::map<std::string, int>{{"agent-" + a + ".jsonl", 1},
                                                          {"agent-" + b + ".jsonl", 1},
                                                          {"agent-" + c + ".jsonl", 1}});
    CHECK(d.pending_ids() == 0);
  }
}

TEST_CASE("a missing project directory yields nothing until it exists", "[discovery]") {
  TempDir dir;
  AgentDiscovery d(dir / "later", kSession);
  d.ObserveLine(UserRef("anew00001"));
  CHECK(d.Poll().empty());
  WriteFile(dir / ("later/" + std::string(kSession) + "/subagents/agent-anew00001.jsonl"), "{}\n");
  CHECK(Names(d.Poll()) == std::vector<std::string>{"agent-anew00001.jsonl"});
}
