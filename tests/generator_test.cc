// Tests for testdata/session_generator.h: determinism, valid JSONL, sizes,
// layouts, subagent references and planted secrets.
#include <simdjson.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/utf8.h"
#include "testdata/byte_size.h"
#include "testdata/rng.h"
#include "testdata/session_generator.h"
#include "tests/test_util.h"
#include "tracker/session_tracker.h"

namespace tsync::testdata {
namespace {

namespace fs = std::filesystem;
using tsync::testing::ReadWholeFile;
using tsync::testing::TempDir;

GeneratedSession Generate(const std::string& out, const GeneratorOptions& options) {
  Result<GeneratedSession> s = GenerateSession(out, options);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

GeneratorOptions Everything(uint64_t seed) {
  GeneratorOptions o;
  o.seed = seed;
  o.target_bytes = 384u << 10;
  o.agent_bytes = 48u << 10;
  o.agents = 4;
  o.layout = AgentLayout::kBoth;
  o.nested_agent = true;
  o.workflow = true;
  o.image_rate = 0.1;
  o.plant_secrets = true;
  return o;
}

std::vector<std::string> SplitLines(const std::string& data) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(data.substr(start, nl - start));
  }
  REQUIRE(start == data.size());  // newline-terminated, nothing after the last '\n'
  return lines;
}

/// Calls `fn(line_number, raw, object)` for each line of a JSONL file,
/// requiring every line to be valid UTF-8 and one JSON object.
void ForEachLine(const std::string& path,
                 const std::function<void(uint64_t, const std::string&, simdjson::dom::element)>& fn) {
  simdjson::dom::parser parser;
  const std::vector<std::string> lines = SplitLines(ReadWholeFile(path));
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO(path << " line " << i + 1);
    REQUIRE(IsValidUtf8(lines[i]));
    simdjson::dom::element doc;
    REQUIRE(parser.parse(lines[i]).get(doc) == simdjson::SUCCESS);
    REQUIRE(doc.is_object());
    fn(i + 1, lines[i], doc);
  }
}

std::string_view Str(simdjson::dom::element e, const char* pointer) {
  std::string_view s;
  if (e.at_pointer(pointer).get(s) != simdjson::SUCCESS) return {};
  return s;
}

std::map<std::string, std::string> TreeContents(const std::string& root) {
  std::map<std::string, std::string> tree;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) tree[fs::relative(e.path(), root).string()] = ReadWholeFile(e.path().string());
  }
  return tree;
}

bool IsLowerHex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

TEST_CASE("Rng streams are fixed, so generated data is the same everywhere", "[generator]") {
  Rng a(1), b(1), c(2);
  std::vector<uint64_t> first;
  for (int i = 0; i < 4; ++i) {
    const uint64_t x = a.Next();
    first.push_back(x);
    CHECK(x == b.Next());
  }
  CHECK(first != std::vector<uint64_t>{c.Next(), c.Next(), c.Next(), c.Next()});
  // Pinned values: a change here changes every generated file.
  CHECK(first[0] == 0xb3f2af6d0fc710c5ull);
  CHECK(first[1] == 0x853b559647364ceaull);
  for (int i = 0; i < 1000; ++i) {
    CHECK(a.Below(7) < 7);
    const uint64_t v = a.Between(3, 5);
    CHECK((v >= 3 && v <= 5));
  }
  CHECK(Rng(5).Fork(1).Next() == Rng(5).Fork(1).Next());
  CHECK(Rng(5).Fork(1).Next() != Rng(5).Fork(2).Next());
}

TEST_CASE("same seed gives byte-identical sessions, another seed does not", "[generator]") {
  TempDir one, two, three;
  const GeneratedSession a = Generate(one.path(), Everything(11));
  const GeneratedSession b = Generate(two.path(), Everything(11));
  const GeneratedSession c = Generate(three.path(), Everything(12));
  const auto tree_a = TreeContents(one.path());
  CHECK(tree_a.size() == a.files.size());
  CHECK(tree_a == TreeContents(two.path()));
  CHECK(a.session_id == b.session_id);
  CHECK(a.secrets.size() == b.secrets.size());
  CHECK(c.session_id != a.session_id);
  CHECK(ReadWholeFile(a.transcript.path) != ReadWholeFile(c.transcript.path));
}

TEST_CASE("every line of every generated file is one valid JSON object", "[generator]") {
  TempDir dir;
  const GeneratedSession s = Generate(dir.path(), Everything(3));
  std::set<std::string> listed;
  for (const GeneratedFile& f : s.files) {
    listed.insert(f.path);
    const std::string data = ReadWholeFile(f.path);
    CHECK(data.size() == f.bytes);
    if (f.path.ends_with(".meta.json")) {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      REQUIRE(parser.parse(data).get(doc) == simdjson::SUCCESS);
      CHECK(doc.is_object());
      continue;
    }
    uint64_t lines = 0;
    ForEachLine(f.path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
      ++lines;
      CHECK(!Str(e, "/type").empty());
    });
    CHECK(lines == f.lines);
    CHECK(lines > 0);
  }
  // The result lists exactly the files on disk.
  std::set<std::string> on_disk;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    if (e.is_regular_file()) on_disk.insert(e.path().string());
  }
  CHECK(on_disk == listed);
}

TEST_CASE("the main transcript reaches its target size and overshoots little", "[generator]") {
  for (uint64_t target : {64ull << 10, 1ull << 20, 8ull << 20}) {
    TempDir dir;
    GeneratorOptions o;
    o.seed = target;
    o.target_bytes = target;
    const GeneratedSession s = Generate(dir.path(), o);
    INFO("target " << target << " got " << s.transcript.bytes);
    CHECK(s.transcript.bytes >= target);
    // At most one tool step (outputs reach ~200 KiB with toolUseResult) plus a turn's tail.
    CHECK(s.transcript.bytes <= target + (256u << 10));
    CHECK(fs::file_size(s.transcript.path) == s.transcript.bytes);
  }
}

TEST_CASE("the main transcript has the line mix and envelopes of real sessions", "[generator]") {
  TempDir dir;
  GeneratorOptions o;
  o.seed = 5;
  o.target_bytes = 1u << 20;
  o.agents = 1;
  const GeneratedSession s = Generate(dir.path(), o);
  std::map<std::string, int> kinds;
  std::set<std::string> uuids;
  const std::set<std::string> known = {"user",    "assistant", "attachment",      "system",
                                       "progress", "summary",   "file-history-snapshot", "queue-operation",
                                       "last-prompt"};
  ForEachLine(s.transcript.path, [&](uint64_t n, const std::string&, simdjson::dom::element e) {
    const std::string type(Str(e, "/type"));
    ++kinds[type];
    if (!known.count(type)) ++kinds["<unknown>"];
    if (type == "assistant") ++kinds["assistant/" + std::string(Str(e, "/message/content/0/type"))];
    if (type == "user" && !Str(e, "/message/content/0/type").empty()) {
      ++kinds["user/" + std::string(Str(e, "/message/content/0/type"))];
    }
    if (type == "system") ++kinds["system/" + std::string(Str(e, "/subtype"))];
    if (type == "progress") ++kinds["progress/" + std::string(Str(e, "/data/type"))];
    if (type == "assistant" && Str(e, "/message/content/0/type") == "thinking") {
      CHECK(Str(e, "/message/content/0/signature").size() >= 300);
    }
    if (type == "summary") CHECK(!Str(e, "/leafUuid").empty());
    const std::string_view parent = Str(e, "/parentUuid");
    if (!parent.empty()) CHECK(uuids.count(std::string(parent)) == 1);  // chains to an earlier line
    if (!Str(e, "/uuid").empty()) uuids.insert(std::string(Str(e, "/uuid")));
    if (type != "user" && type != "assistant") return;
    INFO("line " << n);
    CHECK(Str(e, "/sessionId") == s.session_id);
    CHECK(Str(e, "/cwd") == "/home/dev/demo-project");
    CHECK(!Str(e, "/gitBranch").empty());
    CHECK(Str(e, "/version") == "2.1.328");
    CHECK(Str(e, "/timestamp").size() == 24);
    bool sidechain = true;
    CHECK(e["isSidechain"].get(sidechain) == simdjson::SUCCESS);
    CHECK(!sidechain);
    CHECK(Str(e, "/uuid").size() == 36);
  });
  for (const char* k : {"user", "assistant", "attachment", "system", "progress", "summary", "file-history-snapshot",
                        "queue-operation", "last-prompt", "<unknown>", "assistant/text", "assistant/thinking",
                        "assistant/tool_use", "user/tool_result", "system/stop_hook_summary",
                        "system/compact_boundary", "progress/agent_progress", "progress/bash_progress"}) {
    INFO(k);
    CHECK(kinds[k] > 0);
  }
  // Escaping matters: quotes, backslashes, newlines, tabs and multi-byte UTF-8.
  const std::string raw = ReadWholeFile(s.transcript.path);
  for (const char* needle : {R"(\")", R"(\\)", R"(\n)", R"(\t)", "é", "日本語", "🚀"}) {
    INFO(needle);
    CHECK(raw.find(needle) != std::string::npos);
  }
}

TEST_CASE("new layout: agents and sidecars under <session>/subagents", "[generator]") {
  TempDir dir;
  GeneratorOptions o;
  o.seed = 21;
  o.target_bytes = 256u << 10;
  o.agent_bytes = 32u << 10;
  o.agents = 3;
  o.nested_agent = true;
  const GeneratedSession s = Generate(dir.path(), o);
  CHECK(s.project_dir == dir.path() + "/-home-dev-demo-project");
  CHECK(s.transcript.path == s.project_dir + "/" + s.session_id + ".jsonl");
  REQUIRE(s.agents.size() == 4);
  const std::string main_raw = ReadWholeFile(s.transcript.path);
  for (const GeneratedAgent& a : s.agents) {
    INFO(a.id);
    CHECK(a.id.size() == 17);
    CHECK(a.id[0] == 'a');
    CHECK(IsLowerHex(a.id.substr(1)));
    CHECK(!a.old_layout);
    CHECK(a.transcript.path == s.project_dir + "/" + s.session_id + "/subagents/agent-" + a.id + ".jsonl");
    CHECK(a.meta_path == s.project_dir + "/" + s.session_id + "/subagents/agent-" + a.id + ".meta.json");
    ForEachLine(a.transcript.path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
      CHECK(Str(e, "/agentId") == a.id);
      CHECK(Str(e, "/sessionId") == s.session_id);
    });
    simdjson::dom::parser parser;
    simdjson::dom::element meta;
    REQUIRE(parser.parse(ReadWholeFile(a.meta_path)).get(meta) == simdjson::SUCCESS);
    int64_t depth = 0;
    CHECK(meta["spawnDepth"].get(depth) == simdjson::SUCCESS);
    CHECK(depth == (a.parent_agent_id.empty() ? 1 : 2));
    CHECK(Str(meta, "/parentAgentId") == a.parent_agent_id);
    // The sidecar's toolUseId is the id of the tool_use that spawned the agent.
    const std::string parent_raw =
        a.parent_agent_id.empty() ? main_raw : ReadWholeFile(s.agents[0].transcript.path);
    CHECK(parent_raw.find("\"id\":\"" + std::string(Str(meta, "/toolUseId")) + "\"") != std::string::npos);
  }
  CHECK(s.agents[3].parent_agent_id == s.agents[0].id);
  CHECK(!fs::exists(s.project_dir + "/agent-" + s.agents[0].id + ".jsonl"));
}

TEST_CASE("old layout: agents beside the session, 2.0.x style", "[generator]") {
  TempDir dir;
  GeneratorOptions o;
  o.seed = 22;
  o.target_bytes = 128u << 10;
  o.agent_bytes = 32u << 10;
  o.agents = 2;
  o.layout = AgentLayout::kOld;
  o.nested_agent = true;
  const GeneratedSession s = Generate(dir.path() + "/-custom-project", o);
  CHECK(s.project_dir == dir.path() + "/-custom-project");
  REQUIRE(s.agents.size() == 3);
  for (const GeneratedAgent& a : s.agents) {
    INFO(a.id);
    CHECK(a.old_layout);
    CHECK(a.transcript.path == s.project_dir + "/agent-" + a.id + ".jsonl");
    CHECK(a.meta_path.empty());
    ForEachLine(a.transcript.path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
      CHECK(Str(e, "/agentId") == a.id);
      CHECK(Str(e, "/sessionId") == s.session_id);
      const std::string_view v = Str(e, "/version");
      if (!v.empty()) CHECK(v == "2.0.77");
    });
  }
  CHECK(!fs::exists(s.project_dir + "/" + s.session_id));
  int task_calls = 0;
  ForEachLine(s.transcript.path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
    task_calls += Str(e, "/message/content/0/name") == "Task";
    CHECK(Str(e, "/message/content/0/name") != "Agent");
  });
  CHECK(task_calls == 2);
}

TEST_CASE("both layouts: early agents old, later agents new, version switches", "[generator]") {
  TempDir dir;
  GeneratorOptions o;
  o.seed = 23;
  o.target_bytes = 256u << 10;
  o.agent_bytes = 24u << 10;
  o.agents = 4;
  o.layout = AgentLayout::kBoth;
  const GeneratedSession s = Generate(dir.path(), o);
  REQUIRE(s.agents.size() == 4);
  CHECK(s.agents[0].old_layout);
  CHECK(s.agents[1].old_layout);
  CHECK(!s.agents[2].old_layout);
  CHECK(!s.agents[3].old_layout);
  for (const GeneratedAgent& a : s.agents) CHECK(fs::exists(a.transcript.path));
  std::set<std::string> versions;
  ForEachLine(s.transcript.path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
    if (!Str(e, "/version").empty()) versions.insert(std::string(Str(e, "/version")));
  });
  CHECK(versions == std::set<std::string>{"2.0.77", "2.1.328"});
}

TEST_CASE("the parent transcript references each agent as recorded", "[generator]") {
  TempDir dir;
  GeneratorOptions o = Everything(31);
  o.agents = 6;
  o.plant_secrets = false;
  o.image_rate = 0;
  const GeneratedSession s = Generate(dir.path(), o);
  auto collect = [](const std::string& path, std::set<std::string>* by_result, std::set<std::string>* by_progress,
                    int* string_results) {
    ForEachLine(path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
      simdjson::dom::element r;
      if (e["toolUseResult"].get(r) == simdjson::SUCCESS) {
        if (r.is_string()) ++*string_results;
        if (!Str(r, "/agentId").empty()) by_result->insert(std::string(Str(r, "/agentId")));
      }
      if (Str(e, "/type") == "progress" && Str(e, "/data/type") == "agent_progress") {
        by_progress->insert(std::string(Str(e, "/data/agentId")));
      }
    });
  };
  std::set<std::string> by_result, by_progress, nested_result, nested_progress;
  int string_results = 0, ignored = 0;
  collect(s.transcript.path, &by_result, &by_progress, &string_results);
  CHECK(string_results > 0);  // toolUseResult also appears as a plain string
  int top_level = 0, workflow = 0;
  for (const GeneratedAgent& a : s.agents) {
    INFO(a.id);
    if (!a.workflow_run_id.empty()) {
      ++workflow;
      CHECK(a.workflow_run_id == s.workflow_run_id);
      const std::string run_dir = s.project_dir + "/" + s.session_id + "/subagents/workflows/" + s.workflow_run_id;
      CHECK(a.transcript.path == run_dir + "/agent-" + a.id + ".jsonl");
      CHECK(!by_result.count(a.id));
      CHECK(!by_progress.count(a.id));
      continue;
    }
    if (!a.parent_agent_id.empty()) {
      // Nested: no reference in the main transcript, only in its parent's file.
      CHECK(!by_result.count(a.id));
      CHECK(!by_progress.count(a.id));
      collect(s.agents[0].transcript.path, &nested_result, &nested_progress, &ignored);
      CHECK((nested_result.count(a.id) + nested_progress.count(a.id)) > 0);
      continue;
    }
    ++top_level;
    CHECK((a.referenced_by_tool_result || a.referenced_by_progress));
    CHECK(by_result.count(a.id) == (a.referenced_by_tool_result ? 1u : 0u));
    CHECK(by_progress.count(a.id) == (a.referenced_by_progress ? 1u : 0u));
  }
  CHECK(top_level == 6);
  CHECK(workflow == 2);
  // Each reference form is used alone at least once.
  CHECK(std::any_of(s.agents.begin(), s.agents.end(),
                    [](const auto& a) { return a.referenced_by_tool_result && !a.referenced_by_progress; }));
  CHECK(std::any_of(s.agents.begin(), s.agents.end(),
                    [](const auto& a) { return !a.referenced_by_tool_result && a.referenced_by_progress; }));
  int journal_lines = 0;
  ForEachLine(s.workflow_journal_path, [&](uint64_t, const std::string&, simdjson::dom::element e) {
    ++journal_lines;
    CHECK(Str(e, "/runId") == s.workflow_run_id);
  });
  CHECK(journal_lines == 4);
}

TEST_CASE("planted secrets are in the files at the recorded lines, and only there", "[generator]") {
  TempDir dir;
  const GeneratedSession s = Generate(dir.path(), Everything(41));
  REQUIRE(!s.secrets.empty());
  std::set<SecretKind> kinds_in_main;
  std::map<std::string, std::vector<std::string>> files;
  std::set<std::pair<std::string, uint64_t>> recorded;
  for (const PlantedSecret& p : s.secrets) {
    if (!files.count(p.path)) files[p.path] = SplitLines(ReadWholeFile(p.path));
    const auto& lines = files[p.path];
    INFO(SecretKindName(p.kind) << " at " << p.path << ":" << p.line);
    REQUIRE(p.line >= 1);
    REQUIRE(p.line <= lines.size());
    std::string escaped;
    AppendJsonEscaped(&escaped, p.value);
    CHECK(lines[p.line - 1].find(escaped) != std::string::npos);
    if (p.path == s.transcript.path) kinds_in_main.insert(p.kind);
    recorded.insert({p.path, p.line});
  }
  CHECK(kinds_in_main.size() == static_cast<size_t>(kSecretKindCount));
  // Shapes: what a scanner would match.
  for (const PlantedSecret& p : s.secrets) {
    switch (p.kind) {
      case SecretKind::kAwsAccessKeyId: CHECK((p.value.size() == 20 && p.value.starts_with("AKIA"))); break;
      case SecretKind::kGithubToken: CHECK((p.value.size() == 40 && p.value.starts_with("ghp_"))); break;
      case SecretKind::kAnthropicApiKey:
        CHECK((p.value.size() == 108 && p.value.starts_with("sk-ant-api03-") && p.value.ends_with("AA")));
        break;
      case SecretKind::kPassword: CHECK(p.value.starts_with("password=")); break;
      case SecretKind::kPrivateKeyPem:
        CHECK(p.value.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        CHECK(p.value.ends_with("\n-----END RSA PRIVATE KEY-----"));
        break;
    }
  }
  // No unrecorded copies: every line holding a secret marker is a recorded one.
  for (const GeneratedFile& f : s.files) {
    if (f.path.ends_with(".meta.json")) continue;
    const std::vector<std::string> lines = SplitLines(ReadWholeFile(f.path));
    for (size_t i = 0; i < lines.size(); ++i) {
      for (const char* marker : {"EXAMPLE", "ghp_FAKE", "sk-ant-api03-", "password=fake-", "PRIVATE KEY-----"}) {
        if (lines[i].find(marker) == std::string::npos) continue;
        INFO(f.path << ":" << i + 1 << " has " << marker);
        CHECK(recorded.count({f.path, i + 1}) == 1);
      }
    }
  }
}

TEST_CASE("without plant_secrets no secret-shaped text is written", "[generator]") {
  TempDir dir;
  GeneratorOptions o = Everything(42);
  o.plant_secrets = false;
  const GeneratedSession s = Generate(dir.path(), o);
  CHECK(s.secrets.empty());
  for (const GeneratedFile& f : s.files) {
    const std::string raw = ReadWholeFile(f.path);
    for (const char* marker : {"ghp_", "sk-ant-", "password=", "PRIVATE KEY", "AWS_ACCESS_KEY_ID"}) {
      INFO(f.path << " " << marker);
      CHECK(raw.find(marker) == std::string::npos);
    }
  }
}

TEST_CASE("image lines carry ~1 MiB of base64 at the requested rate", "[generator]") {
  for (double rate : {0.0, 1.0}) {
    TempDir dir;
    GeneratorOptions o;
    o.seed = 51;
    o.target_bytes = 2u << 20;
    o.image_rate = rate;
    const GeneratedSession s = Generate(dir.path(), o);
    int images = 0;
    ForEachLine(s.transcript.path, [&](uint64_t, const std::string& raw, simdjson::dom::element e) {
      if (Str(e, "/message/content/0/type") != "image") return;
      ++images;
      CHECK(Str(e, "/message/content/0/source/media_type") == "image/png");
      CHECK(Str(e, "/message/content/0/source/data").size() >= (1u << 20));
      CHECK(raw.size() > (1u << 20));
    });
    if (rate == 0.0) CHECK(images == 0);
    if (rate == 1.0) CHECK(images >= 1);
  }
}

TEST_CASE("generator options and helpers", "[generator]") {
  CHECK(*ParseByteSize("4096") == 4096);
  CHECK(*ParseByteSize("64K") == 64u << 10);
  CHECK(*ParseByteSize("64M") == 64u << 20);
  CHECK(*ParseByteSize("1G") == 1ull << 30);
  CHECK(*ParseByteSize("1.5GiB") == 3ull << 29);
  CHECK(*ParseByteSize("2mb") == 2u << 20);
  CHECK(!ParseByteSize("").ok());
  CHECK(!ParseByteSize("M").ok());
  CHECK(!ParseByteSize("12Q").ok());
  CHECK(!ParseByteSize("-5").ok());
  CHECK(tsync::tracker::ProjectDirName("/home/dev/my.project_1") == "-home-dev-my-project-1");
  CHECK(*ParseAgentLayout("both") == AgentLayout::kBoth);
  CHECK(!ParseAgentLayout("sideways").ok());
  TempDir dir;
  GeneratorOptions o;
  o.nested_agent = true;  // needs an agent to nest under
  CHECK(GenerateSession(dir.path(), o).status().kind() == Status::Kind::kInvalidInput);
  o = {};
  o.target_bytes = 0;
  CHECK(GenerateSession(dir.path(), o).status().kind() == Status::Kind::kInvalidInput);
}

}  // namespace tsync::testdata
