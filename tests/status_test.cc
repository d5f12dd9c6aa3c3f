// `tsync status`, end to end: the real binary over the sample sessions,
// against the local archive and the real refserver, for each health state
// and its exit code (0 healthy, 1 quarantined files, 2 config, 3 key, 4 down).
#include <simdjson.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/refserver_process.h"
#include "tests/samples_home.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> BackendEnv(const std::string& url, const std::string& key) {
  return {"TSYNC_BACKEND_URL=" + url, "TSYNC_API_KEY=" + key};
}

}  // namespace

TEST_CASE("status — archive destination with new, then saved, then pending sessions", "[status]") {
  SamplesHome fx;
  ProcessResult fresh = fx.Run({"status"});
  INFO(fresh.out << fresh.err);
  CHECK(fresh.exit_code == 0);
  CHECK(Contains(fresh.out, "archive:     " + fx.home.path() + "/.local/share/tsync/archive — writable"));
  CHECK(Contains(fresh.out, "sessions:    2 under " + fx.claude + "/projects: 0 saved, 0 partial, 2 new"));
  CHECK(Contains(fresh.out, "redaction:   on, "));
  CHECK(Contains(fresh.out, "log file:    " + fx.home.path() + "/.local/state/tsync/logs/tsync.log"));

  REQUIRE(fx.Run({"save", "--all"}).exit_code == 0);
  ProcessResult saved = fx.Run({"status", "--json"});
  CHECK(saved.exit_code == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE(parser.parse(saved.out).get(doc) == simdjson::SUCCESS);
  CHECK(std::string_view(doc["destination"]["kind"]) == "archive");
  CHECK(bool(doc["destination"]["usable"]));
  CHECK(uint64_t(doc["sessions"]["saved"]) == 2);
  CHECK(uint64_t(doc["sessions"]["unsent_bytes"]) == 0);
  CHECK(int64_t(doc["exit_code"]) == 0);

  // One more line in one transcript: that file is pending, the rest saved.
  const std::string line = R"({"type":"user","message":{"content":"more"}})" "\n";
  AppendFile(fx.project + "/" + kSamplePlain + ".jsonl", line);
  ProcessResult pending = fx.Run({"status"});
  INFO(pending.out);
  CHECK(pending.exit_code == 0);  // pending is normal work, not a fault
  CHECK(Contains(pending.out, "1 saved, 1 partial, 0 new"));
  CHECK(Contains(pending.out, std::string(kSamplePlain).substr(0, 8) + "  " + kSamplePlain + ".jsonl: pending, " +
                                  std::to_string(line.size()) + " B not sent"));
}

TEST_CASE("status — backend reachable with a valid key, a refused key never shown, no key", "[status]") {
  SamplesHome fx;
  RefServer server;
  ProcessResult ok = fx.Run({"status"}, BackendEnv(server.url(), "k1"));
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(Contains(ok.out, "backend:     " + server.url() + " — reachable"));
  CHECK(Contains(ok.out, "key:       valid (one@example.com)"));
  CHECK(Contains(ok.out, "api key:     **** (from env)"));

  const std::string secret = "cfb_statusTestSecret0123456789";
  ProcessResult refused = fx.Run({"status", "--json"}, BackendEnv(server.url(), secret));
  CHECK(refused.exit_code == 3);
  CHECK(Contains(refused.out, "\"auth\":\"refused\""));
  CHECK_FALSE(Contains(refused.out + refused.err, "statusTestSecret"));
  CHECK(Contains(refused.out, "\"api_key\":\"cfb_…6789\""));

  ProcessResult none = fx.Run({"status"}, {"TSYNC_BACKEND_URL=" + server.url()});
  CHECK(none.exit_code == 3);
  CHECK(Contains(none.out, "key:       not set — run `tsync login`"));
}

TEST_CASE("status — an unreachable backend is exit 4 and says why", "[status]") {
  SamplesHome fx;
  ProcessResult down = fx.Run({"status"}, BackendEnv("http://127.0.0.1:1", "k1"));
  INFO(down.out << down.err);
  CHECK(down.exit_code == 4);
  CHECK(Contains(down.out, "backend:     http://127.0.0.1:1 — UNREACHABLE: "));
  CHECK(Contains(down.out, "sessions:    2 under"));  // the local part is still reported
}

TEST_CASE("status — a quarantined file is named with its reason and makes the exit code 1", "[status]") {
  SamplesHome fx;
  RefServer server;
  const std::string agent = fx.project + "/" + kSampleWithAgent + "/subagents/agent-a9a14960adfa44d68.jsonl";
  AppendFile(agent, "this line is not json\n");  // the refserver refuses it every time
  REQUIRE(fx.Run({"save", "--all"}, BackendEnv(server.url(), "k1")).exit_code == 1);
  ProcessResult r = fx.Run({"status"}, BackendEnv(server.url(), "k1"));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(Contains(r.out, "agent-a9a14960adfa44d68.jsonl: QUARANTINED — "));
  CHECK(Contains(r.out, "1 saved, 1 partial, 0 new"));
}

TEST_CASE("status — redaction off is shown loudly and a broken custom rule is exit 2", "[status]") {
  SamplesHome fx;
  const std::string config = fx.home / ".config/tsync/config.json";
  WriteFile(config, R"({"redaction": {"enabled": false}})", 0600);
  ProcessResult off = fx.Run({"status"});
  CHECK(off.exit_code == 0);
  CHECK(Contains(off.out, "redaction:   OFF — secrets are uploaded as written"));

  WriteFile(config, R"({"redaction": {"rules": [{"id": "bad", "regex": "(unclosed", "keywords": ["unclosed"]}]}})",
            0600);
  ProcessResult bad = fx.Run({"status"});
  INFO(bad.out << bad.err);
  CHECK(bad.exit_code == 2);
  CHECK(Contains(bad.out, "redaction:   ERROR: "));
  CHECK(Contains(bad.out, "bad"));
}

}  // namespace tsync::testing
