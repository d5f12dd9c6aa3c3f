// config/backend_url.h cases found by fuzz/config_fuzz.cc; the validation
// table itself is in config_test.cc.
#include "config/backend_url.h"

#include <catch2/catch.hpp>
#include <string>

#include "config/config.h"

namespace tsync::config {

TEST_CASE("backend URL — every trailing slash goes, so a saved URL loads back the same", "[config]") {
  // One '/' was dropped per load: "http://[::1]//p//" became "…//p/", and
  // saving and loading that gave "…//p".
  for (const char* url : {"https://sync.example.com//", "http://[::1]//p//", "https://h.example/a/b///"}) {
    INFO(url);
    Result<std::string> once = ValidateBackendUrl(url, false);
    REQUIRE(once.ok());
    CHECK(once->back() != '/');
    Result<std::string> again = ValidateBackendUrl(*once, false);
    REQUIRE(again.ok());
    CHECK(*again == *once);
  }
  CHECK(*ValidateBackendUrl("http://[::1]//p//", false) == "http://[::1]//p");
}

}  // namespace tsync::config
