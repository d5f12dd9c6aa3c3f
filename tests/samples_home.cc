#include "tests/samples_home.h"

#include <filesystem>

namespace tsync::testing {

SamplesHome::SamplesHome() {
  std::filesystem::create_directories(claude + "/projects");
  std::filesystem::copy(std::string(TSYNC_SAMPLES_DIR) + "/claude-code-2.1.328/-home-dev-demo-project", project,
                        std::filesystem::copy_options::recursive);
}

ProcessResult SamplesHome::Run(std::vector<std::string> args, std::vector<std::string> env) const {
  args.insert(args.begin(), TSYNC_BINARY);
  env.push_back("HOME=" + home.path());
  env.push_back("PATH=/usr/bin:/bin");
  env.push_back("CLAUDE_CONFIG_DIR=" + claude);
  return RunProcess(args, env);
}

}  // namespace tsync::testing
