// Session generator: writes a realistic, deterministic Claude Code session
// to disk — the main transcript, its subagents in the requested layout, an
// optional workflow run — for tests, fuzzing and benchmarks.
//
// 1) Determinism: the same options give byte-identical files on every
//    machine (own PRNG, testdata/rng.h). Different seeds give different files.
// 2) Realism: line kinds, envelopes, sizes and subagent references follow
//    TRANSCRIPTS.md and the 2.1.328 samples; strings are salted with quotes,
//    backslashes, control characters and non-ASCII so escaping matters.
// 3) Scale: files are streamed through a 1 MiB buffer, so a GiB transcript
//    costs megabytes of memory. The main transcript reaches at least
//    target_bytes and overshoots by at most one tool step and a turn's tail
//    (or an image line, or the forced subagent spawns of a tiny target).
// 4) Ground truth: the result lists every file with its line count, every
//    agent with how the parent references it, and every planted secret with
//    its file and 1-based line.
// Layouts (TRANSCRIPTS.md "Layout on disk"):
//   kNew  <project>/<session>/subagents/agent-<id>.jsonl + agent-<id>.meta.json
//   kOld  <project>/agent-<id>.jsonl (2.0.x: "Task" tool, version 2.0.77, no sidecar)
//   kBoth the first agents/2 old, the rest new; the main transcript switches
//         from 2.0.77 to 2.1.328 at the first new-layout spawn, like a
//         session resumed after an upgrade.
// Thread-safety: GenerateSession is reentrant; give each call its own output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "testdata/fake_secrets.h"

namespace tsync::testdata {

enum class AgentLayout { kNew, kOld, kBoth };

/// "new", "old", "both".
std::string_view AgentLayoutName(AgentLayout layout);
Result<AgentLayout> ParseAgentLayout(std::string_view name);

struct GeneratorOptions {
  uint64_t seed = 1;
  uint64_t target_bytes = 1u << 20;  // main transcript size to reach
  uint64_t agent_bytes = 0;          // per subagent file; 0 = target/8 within [16 KiB, 8 MiB]
  int agents = 0;                    // subagents spawned from the main transcript
  AgentLayout layout = AgentLayout::kNew;
  bool nested_agent = false;         // agent 0 spawns one more (spawnDepth 2); needs agents >= 1
  bool workflow = false;             // a Workflow run with two agents and a journal
  double image_rate = 0;             // fraction of turns with a ~1 MiB base64 image line
  bool plant_secrets = false;
  std::string cwd = "/home/dev/demo-project";  // launch directory; names the project dir
};

struct GeneratedFile {
  std::string path;
  uint64_t lines = 0;  // complete lines (0 for .meta.json sidecars)
  uint64_t bytes = 0;
};

struct GeneratedAgent {
  std::string id;                      // "a" + 16 hex
  std::string parent_agent_id;         // set for the nested agent
  std::string workflow_run_id;         // set for workflow agents
  bool old_layout = false;
  bool referenced_by_tool_result = false;  // toolUseResult.agentId in the parent file
  bool referenced_by_progress = false;     // progress data.agentId in the parent file
  GeneratedFile transcript;
  std::string meta_path;               // "" when there is no sidecar
};

struct GeneratedSession {
  std::string session_id;
  std::string project_dir;
  GeneratedFile transcript;            // the main <session>.jsonl
  std::vector<GeneratedAgent> agents;  // top-level, then nested, then workflow agents
  std::string workflow_run_id;
  std::string workflow_journal_path;
  std::vector<GeneratedFile> files;    // every file written, the transcript first
  std::vector<PlantedSecret> secrets;
};

/// Writes a session under `out`: a projects directory (the project dir is
/// created inside it, named after options.cwd) or, when the last path
/// component starts with '-', the project directory itself.
Result<GeneratedSession> GenerateSession(const std::string& out, const GeneratorOptions& options);

}  // namespace tsync::testdata
