// A private HOME whose Claude Code directory holds the real 2.1.x sample
// project from ../shared/samples, and a way to run the real `tsync` binary in
// it. Everything tsync reads or writes by default (config, state, archive)
// then lives inside the TempDir.
#pragma once

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace tsync::testing {

/// Sessions of the sample project: one without agents, one with a subagent.
inline constexpr const char* kSamplePlain = "f77208d6-3db0-4287-a546-37ae05a6bf08";
inline constexpr const char* kSampleWithAgent = "29a570ad-a0aa-4b9d-bb21-a8fcb685d10e";

struct SamplesHome {
  TempDir home;
  std::string claude = home / ".claude";
  std::string project = claude + "/projects/-home-dev-demo-project";

  SamplesHome();
  /// Runs `tsync args…` with HOME, PATH and CLAUDE_CONFIG_DIR set for this
  /// home, plus `env` ("NAME=value").
  ProcessResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) const;
};

}  // namespace tsync::testing
