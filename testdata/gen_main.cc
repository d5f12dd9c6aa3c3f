// tsync-gen: writes a deterministic fake Claude Code session for manual
// testing and benchmarks. See testdata/session_generator.h for what it
// produces and which guarantees hold.
//
//   tsync-gen --out ~/.claude/projects --seed 7 --size 64M --agents 3 --layout both
//             [--nested] [--workflow] [--secrets] [--images 0.01]
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "testdata/byte_size.h"
#include "testdata/session_generator.h"

namespace {

using tsync::testdata::GeneratedSession;

void PrintSession(const GeneratedSession& s) {
  std::printf("session %s in %s\n", s.session_id.c_str(), s.project_dir.c_str());
  for (const auto& f : s.files) {
    std::printf("  %10llu lines  %10s  %s\n", static_cast<unsigned long long>(f.lines),
                tsync::testdata::FormatByteSize(f.bytes).c_str(), f.path.c_str());
  }
  for (const auto& a : s.agents) {
    std::printf("  agent %s%s%s%s%s%s\n", a.id.c_str(), a.old_layout ? " (old layout)" : "",
                a.parent_agent_id.empty() ? "" : (" nested under " + a.parent_agent_id).c_str(),
                a.workflow_run_id.empty() ? "" : (" workflow " + a.workflow_run_id).c_str(),
                a.referenced_by_tool_result ? " [toolUseResult]" : "",
                a.referenced_by_progress ? " [progress]" : "");
  }
  for (const auto& p : s.secrets) {
    std::printf("  secret %-18s line %-8llu %s\n", std::string(SecretKindName(p.kind)).c_str(),
                static_cast<unsigned long long>(p.line), p.path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Generate a deterministic fake Claude Code session (transcript, subagents, secrets)."};
  std::string out, size = "1M", agent_size = "0", layout = "new";
  tsync::testdata::GeneratorOptions options;
  app.add_option("--out", out, "projects directory, or a project directory whose name starts with '-'")
      ->required();
  app.add_option("--seed", options.seed, "PRNG seed; same seed, same bytes");
  app.add_option("--size", size, "main transcript size, e.g. 64K, 64M, 1G");
  app.add_option("--agent-size", agent_size, "size of each subagent transcript (0 = size/8, 16K..8M)");
  app.add_option("--agents", options.agents, "subagents spawned by the main session");
  app.add_option("--layout", layout, "subagent layout: new (2.1.x), old (2.0.x) or both");
  app.add_flag("--nested", options.nested_agent, "first agent spawns a nested agent");
  app.add_flag("--workflow", options.workflow, "add a Workflow run with two agents and a journal");
  app.add_flag("--secrets", options.plant_secrets, "plant fake secrets and list where");
  app.add_option("--images", options.image_rate, "fraction of turns with a ~1 MiB image line (0..1)");
  app.add_option("--cwd", options.cwd, "launch directory recorded in the session");
  CLI11_PARSE(app, argc, argv);

  auto target = tsync::testdata::ParseByteSize(size);
  auto agent_bytes = tsync::testdata::ParseByteSize(agent_size);
  auto parsed_layout = tsync::testdata::ParseAgentLayout(layout);
  for (const tsync::Status* s : {&target.status(), &agent_bytes.status(), &parsed_layout.status()}) {
    if (!s->ok()) {
      std::fprintf(stderr, "tsync-gen: %s\n", s->ToString().c_str());
      return 2;
    }
  }
  options.target_bytes = *target;
  options.agent_bytes = *agent_bytes;
  options.layout = *parsed_layout;
  auto session = tsync::testdata::GenerateSession(out, options);
  if (!session.ok()) {
    std::fprintf(stderr, "tsync-gen: %s\n", session.status().ToString().c_str());
    return 1;
  }
  PrintSession(*session);
  return 0;
}
