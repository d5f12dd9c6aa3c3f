#define CATCH_CONFIG_RUNNER
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <cstdlib>

// Library code logs warnings for the bad input tests feed it on purpose; keep
// test output readable unless TSYNC_TEST_LOG=1 asks for the logs.
int main(int argc, char* argv[]) {
  const char* show = std::getenv("TSYNC_TEST_LOG");
  spdlog::set_level(show && *show == '1' ? spdlog::level::trace : spdlog::level::off);
  return Catch::Session().run(argc, argv);
}
