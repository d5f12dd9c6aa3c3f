#include "testdata/session_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include "base/fs.h"
#include "base/json.h"
#include "testdata/conversation_writer.h"
#include "testdata/fake_text.h"
#include "testdata/jsonl_sink.h"
#include "testdata/rng.h"
#include "tracker/session_tracker.h"

namespace tsync::testdata {
namespace {

constexpr uint64_t kJan2026Ms = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr const char* kNewVersion = "2.1.328";
constexpr const char* kOldVersion = "2.0.77";
constexpr size_t kImageChars = 1u << 20;
constexpr int kWorkflowAgents = 2;
constexpr uint64_t kCompactionEvery = 16u << 20;

constexpr std::array<std::string_view, 4> kAgentTypes = {"general-purpose", "Explore", "Plan", "code-reviewer"};
constexpr std::array<std::string_view, 6> kDescriptions = {
    "inspect the chunk reader", "find flaky tests",         "review the \"upload\" diff",
    "map the config loader",    "audit error messages 🔍", "translate docs to 日本語"};
constexpr std::array<std::string_view, 4> kBranches = {"main", "master", "feature/chunk-reader", "fix/ünïcode-paths"};

enum class AgentKind { kTopLevel, kNested, kWorkflow };

struct AgentPlan {
  AgentKind kind = AgentKind::kTopLevel;
  AgentSpawn spawn;
  GeneratedAgent out;
  int nested_child = -1;  // index in Plan::agents of the agent this one spawns
  uint64_t meta_bytes = 0;
};

/// Everything decided before the first byte is written.
struct Plan {
  std::string session_id;
  std::string git_branch;
  std::string project_dir;
  std::string session_dir;  // <project>/<session>
  uint64_t start_ms = 0;
  uint64_t image_threshold = 0;
  uint64_t agent_bytes = 0;
  std::vector<AgentPlan> agents;  // top-level, nested, workflow
  WorkflowSpawn workflow;         // run_id empty when there is none
};

Status ValidateOptions(const GeneratorOptions& o) {
  if (o.target_bytes == 0) return Status::InvalidInput("target size must be positive");
  if (o.agents < 0 || o.agents > 1000) return Status::InvalidInput("agents must be within 0..1000");
  if (o.nested_agent && o.agents < 1) return Status::InvalidInput("a nested agent needs at least one agent");
  if (!(o.image_rate >= 0 && o.image_rate <= 1)) return Status::InvalidInput("image rate must be within 0..1");
  if (o.cwd.empty() || o.cwd[0] != '/') return Status::InvalidInput("cwd must be an absolute path");
  return Status::Ok();
}

AgentSpawn MakeSpawn(Rng& rng) {
  AgentSpawn s;
  s.agent_id = "a" + RandomHex(rng, 16);
  s.tool_use_id = RandomToolUseId(rng);
  s.agent_type = std::string(kAgentTypes[rng.Below(kAgentTypes.size())]);
  s.description = std::string(kDescriptions[rng.Below(kDescriptions.size())]);
  s.prompt = "Please " + s.description + ".\n\n" + Prose(rng, rng.Between(100, 800));
  return s;
}

void AddAgent(Plan* plan, Rng& rng, AgentKind kind, bool old_layout) {
  AgentPlan a;
  a.kind = kind;
  a.spawn = MakeSpawn(rng);
  a.spawn.async = !old_layout;
  a.out.id = a.spawn.agent_id;
  a.out.old_layout = old_layout;
  plan->agents.push_back(std::move(a));
}

Plan MakePlan(Rng rng, const GeneratorOptions& o, std::string project_dir) {
  Plan p;
  p.session_id = RandomUuid(rng);
  p.git_branch = std::string(kBranches[rng.Below(kBranches.size())]);
  p.project_dir = std::move(project_dir);
  p.session_dir = p.project_dir + "/" + p.session_id;
  p.start_ms = kJan2026Ms + rng.Below(300ull * 86400000);
  p.image_threshold = o.image_rate >= 1 ? UINT64_MAX
                                        : static_cast<uint64_t>(std::ldexp(o.image_rate, 64));
  p.agent_bytes = o.agent_bytes ? o.agent_bytes : std::clamp<uint64_t>(o.target_bytes / 8, 16u << 10, 8u << 20);
  const int old_count = o.layout == AgentLayout::kOld ? o.agents : o.layout == AgentLayout::kBoth ? o.agents / 2 : 0;
  for (int i = 0; i < o.agents; ++i) {
    AddAgent(&p, rng, AgentKind::kTopLevel, i < old_count);
    // Vary how the parent points at each agent: both ways, tool result only, progress only.
    p.agents.back().spawn.by_tool_result = i % 3 != 2;
    p.agents.back().spawn.by_progress = i % 3 != 1;
  }
  if (o.nested_agent) {
    AddAgent(&p, rng, AgentKind::kNested, p.agents[0].out.old_layout);
    p.agents[0].nested_child = static_cast<int>(p.agents.size()) - 1;
    p.agents.back().out.parent_agent_id = p.agents[0].out.id;
  }
  if (o.workflow) {
    p.workflow.run_id = RandomHex(rng, 9) + "-" + RandomHex(rng, 8);
    p.workflow.tool_use_id = RandomToolUseId(rng);
    p.workflow.workflow = "review-and-fix";
    for (int i = 0; i < kWorkflowAgents; ++i) {
      AddAgent(&p, rng, AgentKind::kWorkflow, false);
      p.agents.back().out.workflow_run_id = p.workflow.run_id;
    }
  }
  for (AgentPlan& a : p.agents) {
    a.out.referenced_by_tool_result = a.kind != AgentKind::kWorkflow && a.spawn.by_tool_result;
    a.out.referenced_by_progress = a.kind != AgentKind::kWorkflow && a.spawn.by_progress;
  }
  return p;
}

Envelope MakeEnvelope(const Plan& p, const GeneratorOptions& o, std::string agent_id, bool old_layout,
                      uint64_t clock_ms) {
  Envelope env;
  env.session_id = p.session_id;
  env.agent_id = std::move(agent_id);
  env.cwd = o.cwd;
  env.git_branch = p.git_branch;
  env.version = old_layout ? kOldVersion : kNewVersion;
  env.clock_ms = clock_ms;
  env.sidechain = !env.agent_id.empty();
  return env;
}

void SetVersion(ConversationWriter& w, bool old_layout) {
  w.envelope().version = old_layout ? kOldVersion : kNewVersion;
  w.options().agent_tool_name = old_layout ? "Task" : "Agent";
}

// One spawn in the main transcript: a top-level agent (index) or the workflow (-1).
struct MainEvent {
  int agent = -1;
  uint64_t at_bytes = 0;
};

std::vector<MainEvent> MainEvents(const GeneratorOptions& o) {
  std::vector<MainEvent> events;
  for (int i = 0; i < o.agents; ++i) events.push_back({i, 0});
  if (o.workflow) events.push_back({-1, 0});
  // Spread the spawns evenly through the file.
  for (size_t i = 0; i < events.size(); ++i) events[i].at_bytes = o.target_bytes * (i + 1) / (events.size() + 1);
  return events;
}

Status WriteMain(Plan* p, const GeneratorOptions& o, Rng rng, GeneratedSession* out) {
  JsonlSink sink;
  if (Status s = sink.Open(p->project_dir + "/" + p->session_id + ".jsonl"); !s.ok()) return s;
  const bool starts_old = o.layout == AgentLayout::kOld || (o.layout == AgentLayout::kBoth && o.agents / 2 > 0);
  ConversationOptions copt{false, "Agent", p->image_threshold, kImageChars, o.plant_secrets};
  ConversationWriter w(&sink, MakeEnvelope(*p, o, "", starts_old, p->start_ms), rng, copt, &out->secrets);
  SetVersion(w, starts_old);
  w.WriteOpening("");
  const std::vector<MainEvent> events = MainEvents(o);
  size_t next = 0;
  uint64_t compact_at = o.target_bytes >= (256u << 10) ? o.target_bytes * 3 / 5 : UINT64_MAX;
  while (sink.ok() && (sink.bytes() < o.target_bytes || next < events.size())) {
    if (next < events.size() && sink.bytes() >= events[next].at_bytes) {
      const MainEvent& e = events[next++];
      if (e.agent < 0) {
        w.WriteWorkflowSpawn(&p->workflow);
        continue;
      }
      AgentPlan& a = p->agents[static_cast<size_t>(e.agent)];
      if (o.layout == AgentLayout::kBoth) SetVersion(w, a.out.old_layout);
      w.WriteAgentSpawn(&a.spawn);
    } else if (sink.bytes() >= compact_at) {
      w.WriteCompaction();
      compact_at += kCompactionEvery;
    } else {
      w.WriteTurn(next < events.size() ? std::min(o.target_bytes, events[next].at_bytes) : o.target_bytes);
    }
  }
  w.WriteClosing();
  if (Status s = sink.Close(); !s.ok()) return s;
  out->transcript = {sink.path(), sink.lines(), sink.bytes()};
  return Status::Ok();
}

std::string AgentDir(const Plan& p, const AgentPlan& a) {
  if (a.kind == AgentKind::kWorkflow) return p.session_dir + "/subagents/workflows/" + p.workflow.run_id;
  return a.out.old_layout ? p.project_dir : p.session_dir + "/subagents";
}

Status WriteMeta(const Plan& p, AgentPlan* a, int depth) {
  JsonWriter m;
  m.BeginObject().Key("agentType").String(a->spawn.agent_type).Key("isBuiltIn").Bool(true);
  m.Key("launchedWithDefaults").Bool(true).Key("description").String(a->spawn.description);
  m.Key("toolUseId").String(a->spawn.tool_use_id).Key("spawnDepth").Int(depth);
  if (!a->out.parent_agent_id.empty()) m.Key("parentAgentId").String(a->out.parent_agent_id);
  m.Key("requestShape").String("background").Key("requestNonInteractive").Bool(true);
  m.Key("model").String("claude-opus-4-5-20251101").Key("finished").Bool(true).EndObject();
  a->out.meta_path = AgentDir(p, *a) + "/agent-" + a->out.id + ".meta.json";
  a->meta_bytes = m.str().size();
  return WriteFileAtomic(a->out.meta_path, m.str(), 0600);
}

Status WriteAgent(Plan* p, size_t index, const GeneratorOptions& o, Rng rng, GeneratedSession* out) {
  AgentPlan& a = p->agents[index];
  const std::string dir = AgentDir(*p, a);
  if (Status s = MakeDirs(dir, 0700); !s.ok()) return s;
  JsonlSink sink;
  if (Status s = sink.Open(dir + "/agent-" + a.out.id + ".jsonl"); !s.ok()) return s;
  const uint64_t spawned = a.kind == AgentKind::kWorkflow ? p->workflow.spawned_at_ms : a.spawn.spawned_at_ms;
  ConversationOptions copt{true, "Agent", p->image_threshold, kImageChars, o.plant_secrets};
  ConversationWriter w(&sink, MakeEnvelope(*p, o, a.out.id, a.out.old_layout, spawned + rng.Between(20, 500)),
                       rng, copt, &out->secrets);
  SetVersion(w, a.out.old_layout);
  w.WriteOpening(a.spawn.prompt);
  bool child_pending = a.nested_child >= 0;
  while (sink.ok() && (sink.bytes() < p->agent_bytes || child_pending)) {
    if (child_pending && sink.bytes() >= p->agent_bytes / 2) {
      w.WriteAgentSpawn(&p->agents[static_cast<size_t>(a.nested_child)].spawn);
      child_pending = false;
    } else {
      w.WriteTurn(p->agent_bytes);
    }
  }
  w.WriteClosing();
  if (Status s = sink.Close(); !s.ok()) return s;
  a.out.transcript = {sink.path(), sink.lines(), sink.bytes()};
  if (!a.out.old_layout && a.kind != AgentKind::kWorkflow) {
    return WriteMeta(*p, &a, a.kind == AgentKind::kNested ? 2 : 1);
  }
  return Status::Ok();
}

std::string JournalLine(const Plan& p, std::string_view type, uint64_t ms, const std::string& agent_id) {
  JsonWriter j;
  j.BeginObject().Key("type").String(type).Key("runId").String(p.workflow.run_id);
  j.Key("workflow").String(p.workflow.workflow).Key("sessionId").String(p.session_id);
  if (!agent_id.empty()) j.Key("agentId").String(agent_id).Key("status").String("completed");
  return j.Key("timestamp").String(FormatTimestamp(ms)).EndObject().Take();
}

Status WriteJournal(const Plan& p, GeneratedSession* out) {
  JsonlSink sink;
  const std::string path = p.session_dir + "/subagents/workflows/" + p.workflow.run_id + "/journal.jsonl";
  if (Status s = sink.Open(path); !s.ok()) return s;
  uint64_t ms = p.workflow.spawned_at_ms;
  sink.Append(JournalLine(p, "run_started", ms, ""));
  for (const AgentPlan& a : p.agents) {
    if (a.kind != AgentKind::kWorkflow) continue;
    sink.Append(JournalLine(p, "agent_finished", ms += 60000, a.out.id));
  }
  sink.Append(JournalLine(p, "run_finished", ms + 1000, ""));
  if (Status s = sink.Close(); !s.ok()) return s;
  out->workflow_journal_path = path;
  out->files.push_back({path, sink.lines(), sink.bytes()});
  return Status::Ok();
}

}  // namespace

std::string_view AgentLayoutName(AgentLayout layout) {
  switch (layout) {
    case AgentLayout::kNew: return "new";
    case AgentLayout::kOld: return "old";
    case AgentLayout::kBoth: return "both";
  }
  return "?";
}

Result<AgentLayout> ParseAgentLayout(std::string_view name) {
  if (name == "new") return AgentLayout::kNew;
  if (name == "old") return AgentLayout::kOld;
  if (name == "both") return AgentLayout::kBoth;
  return Status::InvalidInput("layout must be new, old or both, not \"" + std::string(name) + "\"");
}

Result<GeneratedSession> GenerateSession(const std::string& out, const GeneratorOptions& options) {
  if (Status s = ValidateOptions(options); !s.ok()) return s;
  const size_t slash = out.find_last_of('/');
  const std::string last = slash == std::string::npos ? out : out.substr(slash + 1);
  const std::string project_dir =
      !last.empty() && last[0] == '-' ? out : out + "/" + tracker::ProjectDirName(options.cwd);
  if (Status s = MakeDirs(project_dir, 0700); !s.ok()) return s;

  const Rng root(options.seed);
  Plan plan = MakePlan(root.Fork(0), options, project_dir);
  GeneratedSession result;
  result.session_id = plan.session_id;
  result.project_dir = plan.project_dir;
  result.workflow_run_id = plan.workflow.run_id;
  if (Status s = WriteMain(&plan, options, root.Fork(1), &result); !s.ok()) return s;
  result.files.push_back(result.transcript);
  for (size_t i = 0; i < plan.agents.size(); ++i) {
    if (Status s = WriteAgent(&plan, i, options, root.Fork(100 + i), &result); !s.ok()) return s;
    const GeneratedAgent& a = plan.agents[i].out;
    result.files.push_back(a.transcript);
    if (!a.meta_path.empty()) result.files.push_back({a.meta_path, 0, plan.agents[i].meta_bytes});
    result.agents.push_back(a);
  }
  if (!plan.workflow.run_id.empty()) {
    if (Status s = WriteJournal(plan, &result); !s.ok()) return s;
  }
  return result;
}

}  // namespace tsync::testdata
