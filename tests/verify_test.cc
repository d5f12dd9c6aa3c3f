#include "agent/verify_command.h"

#include <catch2/catch.hpp>

using tsync::agent::MatchesWithRedactions;

TEST_CASE("MatchesWithRedactions lets each marker stand for some text and nothing else differ", "[verify]") {
  CHECK(MatchesWithRedactions(R"({"a":"x"})", R"({"a":"x"})"));
  CHECK_FALSE(MatchesWithRedactions(R"({"a":"x"})", R"({"a":"y"})"));
  CHECK(MatchesWithRedactions(R"({"k":"[REDACTED:github-pat]"})", R"({"k":"ghp_abc123"})"));
  CHECK(MatchesWithRedactions(R"({"k":"use [REDACTED:aws-key] and [REDACTED:jwt] now"})",
                              R"({"k":"use AKIAXYZ and eyJ.a.b now"})"));
  // Text outside the markers must match exactly.
  CHECK_FALSE(MatchesWithRedactions(R"({"k":"use [REDACTED:aws-key] then"})", R"({"k":"use AKIAXYZ and"})"));
  CHECK_FALSE(MatchesWithRedactions(R"({"j":"[REDACTED:x]"})", R"({"k":"secret"})"));
  // A marker stands for at least one byte.
  CHECK_FALSE(MatchesWithRedactions(R"({"k":"[REDACTED:x]"})", R"({"k":""})"));
  // Text that merely looks like a marker but is malformed is literal.
  CHECK_FALSE(MatchesWithRedactions(R"({"k":"[REDACTED:]"})", R"({"k":"s"})"));
}
