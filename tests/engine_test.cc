// The engine (agent/engine.h) in-process, for what the CLI tests cannot
// reach cheaply: a chunk that redaction makes outgrow the 16 MiB cap.
#include "agent/engine.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/test_util.h"
#include "uploader/archive_sink.h"

namespace tsync::agent {
namespace {

using testing::TempDir;

}  // namespace

TEST_CASE("engine — a chunk redaction pushes over the cap is re-read smaller and nothing is lost", "[engine]") {
  TempDir dir;
  const std::string project = dir / "projects/-p";
  const std::string id = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
  const std::string transcript = project + "/" + id + ".jsonl";
  // 24 lines of ~100 KiB, each "qqq " repeated: with a 2.5 MiB budget they
  // fit one chunk raw, but every 4-byte "qqq " becomes a ~80-byte marker,
  // so redacted they would be ~40 MiB, far over the 16 MiB cap.
  std::string text;
  while (text.size() < 100 * 1024) text += "qqq ";
  std::string body;
  for (int i = 0; i < 24; ++i) body += "{\"n\":" + std::to_string(i) + ",\"t\":\"" + text + "\"}\n";
  testing::WriteFile(transcript, body);

  const std::string rule_id = "expanding-test-rule-with-a-deliberately-long-identifier-0123456789";
  redact::RuleSpec rule{rule_id, "custom", "test", "qqq", {"qqq"}, 0, 0, false};
  auto redactor = redact::Redactor::Create({rule});
  REQUIRE(redactor.ok());
  uploader::ArchiveSink sink(dir / "archive");
  SyncOptions options;
  options.git_timeout = std::chrono::milliseconds(0);
  options.chunk.budget = 2560 * 1024;
  SyncSession sync(SessionRef{id, project, transcript}, sink, **redactor, dir / "state", options);
  SessionReport report = sync.Run();
  INFO(report.status.ToString());
  REQUIRE(report.complete());
  REQUIRE(report.files.size() == 1);
  CHECK(report.files[0].lines_sent == 24);
  CHECK(report.files[0].chunks_sent > 1);  // more chunks than the raw budget needs
  CHECK(report.files[0].redactions.at(rule_id) > 0);

  Result<std::string> sid = sink.FindSession(id);
  REQUIRE(sid.ok());
  Result<std::vector<std::string>> stored = sink.ReadLines(*sid, id + ".jsonl", 0);
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 24);
  for (const std::string& line : *stored) CHECK(line.find("qqq") == std::string::npos);
  CHECK((*stored)[23].starts_with("{\"n\":23,\"t\":\"[REDACTED:" + rule_id + "]"));
}

}  // namespace tsync::agent
