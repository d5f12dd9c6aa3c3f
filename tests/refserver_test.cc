// Integration tests for tests/backend (tsync-refserver): the real binary is
// started as a child process and spoken to over raw HTTP/1.1, so the tests
// can also observe "no reply at all" (PROTOCOL.md faults).
//
// The client is a small socket helper rather than httplib::Client: Debian's
// cpp-httplib is a compiled library built with CPPHTTPLIB_OPENSSL_SUPPORT,
// and httplib::Client's layout depends on that macro.
#include <zstd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "base/json.h"
#include "tests/refserver_process.h"
#include "tests/test_util.h"

namespace tsync::testing {
namespace {

Headers Json(const std::string& key = "k1") {
  return {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + key}};
}
Headers Auth(const std::string& key = "k1") { return {{"Authorization", "Bearer " + key}}; }

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 1);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

/// A string member of a JSON object body ("" when absent).
std::string Field(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  std::string_view s;
  if (parser.parse(json).at_key(key).get(s) != simdjson::SUCCESS) return "";
  return std::string(s);
}

int64_t IntField(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  int64_t v = -1;
  if (parser.parse(json).at_key(key).get(v) != simdjson::SUCCESS) return -1;
  return v;
}

std::string InitBody(const std::string& external_id, const std::string& cwd = "/work") {
  return R"({"provider":"claude-code","external_id":")" + external_id +
         R"(","transcript_path":"/home/u/t.jsonl","metadata":{"cwd":")" + cwd + R"(","hostname":"h"}})";
}

std::string Init(int port, const std::string& external_id, const std::string& key = "k1") {
  Reply r = Send(port, "POST", "/api/v1/sync/init", Json(key), InitBody(external_id));
  REQUIRE(r.status == 200);
  return Field(r.body, "session_id");
}

/// A chunk body; `lines` are the raw line texts (escaped here).
std::string ChunkBody(const std::string& sid, int first_line, const std::vector<std::string>& lines,
                      const std::string& file_name = "s.jsonl", const std::string& file_type = "transcript") {
  std::string body = R"({"session_id":")" + sid + R"(","file_name":)";
  AppendJsonString(&body, file_name);
  body += R"(,"file_type":")" + file_type + R"(","first_line":)" + std::to_string(first_line) + R"(,"lines":[)";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) body += ',';
    AppendJsonString(&body, lines[i]);
  }
  return body + "]}";
}

Reply Chunk(int port, const std::string& sid, int first_line, const std::vector<std::string>& lines,
            const std::string& file_name = "s.jsonl") {
  return Send(port, "POST", "/api/v1/sync/chunk", Json(), ChunkBody(sid, first_line, lines, file_name));
}

std::string ReadBack(int port, const std::string& sid, const std::string& file_name, int offset = 0) {
  Reply r = Send(port, "GET",
                 "/api/v1/sessions/" + sid + "/sync/file?file_name=" + file_name +
                     "&line_offset=" + std::to_string(offset),
                 Auth());
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "text/plain");
  return r.body;
}


}  // namespace

TEST_CASE("refserver: capabilities then 415 before auth then 401 variants", "[refserver]") {
  RefServer server;
  int port = server.port();
  Reply caps = Send(port, "GET", "/api/v1/capabilities", {});
  CHECK(caps.status == 200);
  CHECK(caps.body == R"({"workflow_files":true,"workflow_journal":true})");

  // No auth at all, but the wrong Content-Type wins: 415 runs before auth.
  Reply r = Send(port, "POST", "/api/v1/sync/init", {{"Content-Type", "text/plain"}}, InitBody("e"));
  CHECK(r.status == 415);
  CHECK(r.headers["content-type"] == "text/plain");
  r = Send(port, "POST", "/api/v1/sync/init", {{"Content-Type", "application/json; charset=utf-8"}}, "{}");
  CHECK(r.status == 415);

  r = Send(port, "POST", "/api/v1/sync/init", {{"Content-Type", "application/json"}}, InitBody("e"));
  CHECK(r.status == 401);
  CHECK(r.body == "Missing Authorization header");
  CHECK(r.headers["content-type"] == "text/plain");
  r = Send(port, "GET", "/api/v1/auth/validate", {{"Authorization", "Basic k1"}});
  CHECK(r.status == 401);
  CHECK(r.body == "Invalid Authorization header format");
  r = Send(port, "GET", "/api/v1/auth/validate", Auth("nope"));
  CHECK(r.status == 401);
  CHECK(r.body == "Invalid API key");

  r = Send(port, "GET", "/api/v1/auth/validate", Auth("k1"));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"valid":true,"user_id":1,"email":"one@example.com","name":null})");
  CHECK(IntField(Send(port, "GET", "/api/v1/auth/validate", Auth("k2")).body, "user_id") == 2);

  RefServer lifecycle({"--lifecycle-events"});
  CHECK(Send(lifecycle.port(), "GET", "/api/v1/capabilities", {}).body ==
        R"({"workflow_files":true,"workflow_journal":true,"lifecycle_events":true})");
}

TEST_CASE("refserver: init creates and re-init returns the same session with its files", "[refserver]") {
  RefServer server;
  int port = server.port();
  Reply r = Send(port, "POST", "/api/v1/sync/init", Json(), InitBody("ext-1"));
  REQUIRE(r.status == 200);
  std::string sid = Field(r.body, "session_id");
  CHECK(sid.size() == 36);
  CHECK(r.body == R"({"session_id":")" + sid + R"(","provider":"claude-code","files":{}})");

  REQUIRE(Chunk(port, sid, 1, {"{}", "{\"a\":1}"}).status == 200);
  r = Send(port, "POST", "/api/v1/sync/init", Json(), InitBody("ext-1", ""));
  CHECK(r.body == R"({"session_id":")" + sid + R"(","provider":"claude-code","files":{"s.jsonl":{"last_synced_line":2}}})");
  // Another user with the same external id gets a different session.
  CHECK(Init(port, "ext-1", "k2") != sid);

  CHECK(Send(port, "POST", "/api/v1/sync/init", Json(), R"({"external_id":"x"})").status == 400);
  CHECK(Send(port, "POST", "/api/v1/sync/init", Json(), R"({"provider":"","external_id":"x","transcript_path":"/t"})")
            .status == 400);
  std::string long_id(513, 'x');
  Reply too_long = Send(port, "POST", "/api/v1/sync/init", Json(), InitBody(long_id));
  CHECK(too_long.status == 400);
  CHECK(Field(too_long.body, "error") == "external_id exceeds 512 bytes");
  CHECK(Send(port, "POST", "/api/v1/sync/init", Json(), "not json").body == R"({"error":"Invalid request body"})");
}

TEST_CASE("refserver: chunks must be contiguous and read back verbatim", "[refserver]") {
  RefServer server;
  int port = server.port();
  std::string sid = Init(port, "ext");
  Reply r = Chunk(port, sid, 1, {"{\"n\":1}", "{\"n\":2,\"s\":\"caf\xc3\xa9 \\\\ \\\"q\\\"\"}", ""});
  REQUIRE(r.status == 200);
  CHECK(r.body == R"({"last_synced_line":3})");

  auto expect_400 = [&](int first, const std::string& message) {
    Reply bad = Chunk(port, sid, first, {"{}"});
    CHECK(bad.status == 400);
    CHECK(Field(bad.body, "error") == message);
  };
  expect_400(1, "first_line must be 4 (got 1) - chunks must be contiguous");  // exact resend / overlap
  expect_400(3, "first_line must be 4 (got 3) - chunks must be contiguous");  // overlap
  expect_400(6, "first_line must be 4 (got 6) - chunks must be contiguous");  // gap
  Reply fresh_file = Chunk(port, sid, 2, {"{}"}, "agent-1.jsonl");
  CHECK(Field(fresh_file.body, "error") == "first_line must be 1 (got 2) - chunks must be contiguous");
  CHECK(Field(Chunk(port, sid, 4, {}).body, "error") == "lines must be a non-empty array");

  REQUIRE(Chunk(port, sid, 4, {"[1,2]"}).status == 200);
  CHECK(ReadBack(port, sid, "s.jsonl") ==
        "{\"n\":1}\n{\"n\":2,\"s\":\"caf\xc3\xa9 \\\\ \\\"q\\\"\"}\n\n[1,2]\n");
  CHECK(ReadBack(port, sid, "s.jsonl", 3) == "[1,2]\n");
  CHECK(ReadBack(port, sid, "s.jsonl", 4).empty());

  REQUIRE(Send(port, "POST", "/api/v1/sync/chunk", Json(),
               ChunkBody(sid, 1, {"{}"}, "subagents/workflows/r1/journal.jsonl", "workflow_journal"))
              .status == 200);
  Reply files = Send(port, "GET", "/api/v1/sessions/" + sid + "/files", Auth());
  CHECK(files.status == 200);
  CHECK(files.body.find(R"({"file_name":"s.jsonl","file_type":"transcript","last_synced_line":4,)") !=
        std::string::npos);
  CHECK(files.body.find(R"("file_name":"subagents/workflows/r1/journal.jsonl","file_type":"workflow_journal")") !=
        std::string::npos);
  Reply by_ext = Send(port, "GET", "/api/v1/sessions/by-external-id/ext", Auth());
  CHECK(by_ext.body == R"({"session_id":")" + sid + "\"}");
  CHECK(Send(port, "GET", "/api/v1/sessions/by-external-id/none", Auth()).status == 404);
}

TEST_CASE("refserver: unknown sessions are 404 and other users' sessions are 403", "[refserver]") {
  RefServer server;
  int port = server.port();
  std::string sid = Init(port, "mine");
  for (const std::string& bad : {std::string("not-a-uuid"), std::string("00000000-0000-4000-8000-000000000000")}) {
    Reply r = Chunk(port, bad, 1, {"{}"});
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"Session not found"})");
  }
  Reply other = Send(port, "POST", "/api/v1/sync/chunk", Json("k2"), ChunkBody(sid, 1, {"{}"}));
  CHECK(other.status == 403);
  CHECK(other.body == R"({"error":"Access denied"})");
  CHECK(Send(port, "GET", "/api/v1/sessions/" + sid + "/files", Auth("k2")).status == 403);
  CHECK(Send(port, "GET", "/api/v1/sessions/by-external-id/mine", Auth("k2")).status == 404);
}

TEST_CASE("refserver: decoded size caps and Content-Encoding rules", "[refserver]") {
  RefServer server;
  int port = server.port();
  std::string sid = Init(port, "caps");
  const size_t cap = 16u * 1024 * 1024;
  auto body_of_size = [&](size_t total, int first_line) {
    std::string base = ChunkBody(sid, first_line, {"{\"x\":\"\"}"});
    std::string line = "{\"x\":\"" + std::string(total - base.size(), 'a') + "\"}";
    std::string body = ChunkBody(sid, first_line, {line});
    REQUIRE(body.size() == total);
    return body;
  };
  Reply over = Send(port, "POST", "/api/v1/sync/chunk", Json(), body_of_size(cap + 1, 1));
  CHECK(over.status == 400);
  CHECK(over.body == R"({"error":"Invalid request body"})");
  CHECK(over.headers["connection"] == "close");
  CHECK(Send(port, "POST", "/api/v1/sync/chunk", Json(), body_of_size(cap, 1)).status == 200);

  Headers zstd = Json();
  zstd.emplace_back("Content-Encoding", "zstd");
  Reply packed = Send(port, "POST", "/api/v1/sync/chunk", zstd, Zstd(ChunkBody(sid, 2, {"{\"z\":true}"})));
  CHECK(packed.status == 200);
  CHECK(packed.body == R"({"last_synced_line":2})");
  CHECK(ReadBack(port, sid, "s.jsonl", 1) == "{\"z\":true}\n");
  CHECK(Send(port, "POST", "/api/v1/sync/init", zstd, Zstd(InitBody("caps"))).status == 200);
  Reply bomb = Send(port, "POST", "/api/v1/sync/chunk", zstd, Zstd(body_of_size(cap + 1, 3)));
  CHECK(bomb.status == 400);
  CHECK(Send(port, "POST", "/api/v1/sync/chunk", zstd, "not zstd").status == 400);
  std::string big_init = R"({"external_id":"e","transcript_path":"/t","metadata":{"x":")" +
                         std::string(128 * 1024, 'a') + "\"}}";
  CHECK(Send(port, "POST", "/api/v1/sync/init", Json(), big_init).status == 400);

  for (const char* encoding : {"gzip", "identity"}) {
    Headers h = Json();
    h.emplace_back("Content-Encoding", encoding);
    Reply r = Send(port, "POST", "/api/v1/sync/chunk", h, ChunkBody(sid, 3, {"{}"}));
    CHECK(r.status == 415);
    CHECK(r.headers["content-type"] == "text/plain");
  }
  CHECK(Send(port, "PATCH", "/api/v1/sessions/caps/summary", zstd, Zstd(R"({"summary":"s"})")).status == 415);
  CHECK(ViolationCount(port, "zstd_on_summary") == 1);
  CHECK(Send(port, "POST", "/api/v1/sessions/" + sid + "/github-links", zstd,
             Zstd(R"({"url":"https://github.com/o/r/pull/1","source":"cli_hook"})"))
            .status == 415);
  CHECK(ReadBack(port, sid, "s.jsonl", 2).empty());  // nothing rejected was stored
}

TEST_CASE("refserver: event and summary and GitHub links", "[refserver]") {
  RefServer server;
  int port = server.port();
  std::string sid = Init(port, "ext-ev");
  std::string event = R"({"session_id":")" + sid +
                      R"(","event_type":"session_end","timestamp":"2026-01-02T03:04:05.123+01:00","payload":{"a":[1]}})";
  Reply r = Send(port, "POST", "/api/v1/sync/event", Json(), event);
  CHECK(r.status == 200);
  CHECK(r.body == R"({"success":true})");
  std::string start = R"({"session_id":")" + sid + R"(","event_type":"session_start","timestamp":"2026-01-02T03:04:05Z"})";
  r = Send(port, "POST", "/api/v1/sync/event", Json(), start);
  CHECK(r.status == 400);
  CHECK(Field(r.body, "error") == "invalid event_type: must be 'session_end'");
  std::string no_zone = R"({"session_id":")" + sid + R"(","event_type":"session_end","timestamp":"2026-01-02T03:04:05"})";
  CHECK(Send(port, "POST", "/api/v1/sync/event", Json(), no_zone).status == 400);

  r = Send(port, "PATCH", "/api/v1/sessions/ext-ev/summary", Json(), R"({"summary":"Fixed the bug"})");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ok"})");
  CHECK(Send(port, "PATCH", "/api/v1/sessions/nope/summary", Json(), R"({"summary":"x"})").status == 404);
  CHECK(Send(port, "PATCH", "/api/v1/sessions/ext-ev/summary", Json("k2"), R"({"summary":"x"})").status == 403);
  std::string long_summary = R"({"summary":")" + std::string(2049, 's') + "\"}";
  CHECK(Send(port, "PATCH", "/api/v1/sessions/ext-ev/summary", Json(), long_summary).status == 400);

  std::string links = "/api/v1/sessions/" + sid + "/github-links";
  r = Send(port, "POST", links, Json(), R"({"url":"https://github.com/acme/app/pull/42","title":"T","source":"cli_hook"})");
  CHECK(r.status == 201);
  CHECK(Field(r.body, "link_type") == "pull_request");
  CHECK(Field(r.body, "owner") == "acme");
  CHECK(Field(r.body, "repo") == "app");
  CHECK(Field(r.body, "ref") == "42");
  CHECK(Field(r.body, "session_id") == sid);
  int64_t id = IntField(r.body, "id");
  r = Send(port, "POST", links, Json(), R"({"url":"https://github.com/acme/app/pull/42","title":"T2","source":"manual"})");
  CHECK(r.status == 201);
  CHECK(IntField(r.body, "id") == id);  // upserted
  CHECK(Field(r.body, "title") == "T2");
  r = Send(port, "POST", links, Json(), R"({"url":"https://github.com/acme/app/commit/0a1b2c","source":"cli_hook"})");
  CHECK(r.status == 201);
  CHECK(Field(r.body, "link_type") == "commit");
  for (const char* bad_url : {"https://github.com/acme/app/commit/0A1B", "https://github.com/acme/app/issues/1",
                              "http://github.com/acme/app/pull/1", "https://github.com/acme/pull/1"}) {
    r = Send(port, "POST", links, Json(), std::string(R"({"url":")") + bad_url + R"(","source":"cli_hook"})");
    CHECK(r.status == 400);
    CHECK(Field(r.body, "error") == "invalid GitHub URL: must be a PR or commit URL");
  }
  CHECK(Send(port, "POST", links, Json(), R"({"url":"https://github.com/a/b/pull/1","source":"bot"})").status == 400);
  CHECK(Send(port, "POST", links, Json("k2"), R"({"url":"https://github.com/a/b/pull/1","source":"manual"})").status ==
        404);
}

TEST_CASE("refserver: client-bug violations are 422 and counted", "[refserver]") {
  RefServer server({"--delay-ms", "300"});
  int port = server.port();
  std::string sid = Init(port, "strict");
  auto expect_422 = [&](const std::string& body, const char* kind) {
    Reply r = Send(port, "POST", "/api/v1/sync/chunk", Json(), body);
    CHECK(r.status == 422);
    CHECK(r.headers["content-type"] == "application/json");
    CHECK_FALSE(Field(r.body, "error").empty());
    CHECK(ViolationCount(port, kind) >= 1);
  };
  expect_422(ChunkBody(sid, 1, {"{\"a\":\n1}"}), "line_newline");
  expect_422(ChunkBody(sid, 1, {"{}\r"}), "line_newline");
  expect_422(ChunkBody(sid, 1, {"{}", "not json"}), "line_not_json");
  for (const char* name : {"../x.jsonl", "a/../b.jsonl", "/abs.jsonl", "a//b.jsonl", "a\\b.jsonl"}) {
    expect_422(ChunkBody(sid, 1, {"{}"}, name), "bad_file_name");
  }
  expect_422(ChunkBody(sid, 1, {"{}"}, std::string(513, 'f')), "bad_file_name");
  expect_422(ChunkBody(sid, 1, {"{}"}, "t.jsonl", "todo"), "unknown_file_type");
  CHECK(ViolationCount(port, "bad_file_name") == 6);
  CHECK(ReadBack(port, sid, "s.jsonl").empty());

  // A second chunk for the same file while the first is held by --delay-ms.
  auto first = std::async(std::launch::async, [&] { return Chunk(port, sid, 1, {"{}"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Reply second = Chunk(port, sid, 2, {"{}"});
  CHECK(second.status == 422);
  CHECK(first.get().status == 200);
  CHECK(ViolationCount(port, "concurrent_chunk") == 1);
  CHECK(Chunk(port, sid, 1, {"{}"}, "other.jsonl").status == 200);  // other files are independent
  CHECK(ReadBack(port, sid, "s.jsonl") == "{}\n");
}

TEST_CASE("refserver: device login approves on the second poll", "[refserver]") {
  RefServer server;
  int port = server.port();
  Reply code = Send(port, "POST", "/auth/device/code", {{"Content-Type", "application/json"}},
                    R"x({"key_name":"host (tsync)"})x");
  REQUIRE(code.status == 200);
  std::string device_code = Field(code.body, "device_code");
  CHECK(Field(code.body, "user_code").size() == 9);
  CHECK(IntField(code.body, "expires_in") == 300);
  CHECK(IntField(code.body, "interval") == 5);
  std::string poll = R"({"device_code":")" + device_code + "\"}";
  Headers json = {{"Content-Type", "application/json"}};
  Reply r = Send(port, "POST", "/auth/device/token", json, poll);
  CHECK(r.status == 400);
  CHECK(r.body == R"({"error":"authorization_pending"})");
  r = Send(port, "POST", "/auth/device/token", json, poll);
  REQUIRE(r.status == 200);
  std::string key = Field(r.body, "access_token");
  CHECK(key.rfind("cfb_", 0) == 0);
  CHECK(Field(r.body, "token_type") == "Bearer");
  CHECK(IntField(Send(port, "GET", "/api/v1/auth/validate", Auth(key)).body, "user_id") == 1);
  CHECK(Send(port, "POST", "/auth/device/token", json, poll).body == R"({"error":"invalid_grant"})");
  CHECK(Send(port, "POST", "/auth/device/token", json, R"({"device_code":"x"})").body == R"({"error":"invalid_grant"})");
  CHECK(Send(port, "POST", "/auth/device/token", json, "{}").body == R"({"error":"invalid_request"})");
}

TEST_CASE("refserver: data survives a restart", "[refserver]") {
  RefServer server;
  std::string sid = Init(server.port(), "durable");
  REQUIRE(Chunk(server.port(), sid, 1, {"{\"a\":1}", "{\"b\":2}"}).status == 200);
  server.Restart();
  int port = server.port();
  Reply r = Send(port, "POST", "/api/v1/sync/init", Json(), InitBody("durable"));
  CHECK(r.body == R"({"session_id":")" + sid + R"(","provider":"claude-code","files":{"s.jsonl":{"last_synced_line":2}}})");
  CHECK(ReadBack(port, sid, "s.jsonl") == "{\"a\":1}\n{\"b\":2}\n");
  CHECK(Chunk(port, sid, 3, {"{}"}).status == 200);
}

TEST_CASE("refserver: injected faults", "[refserver]") {
  SECTION("drop after commit: no reply, but the chunk is stored") {
    RefServer server({"--drop-after-commit-rate", "1", "--seed", "7"});
    int port = server.port();
    std::string sid = Init(port, "drop");
    Reply r = Chunk(port, sid, 1, {"{\"kept\":1}"});
    CHECK_FALSE(r.received);
    CHECK(ReadBack(port, sid, "s.jsonl") == "{\"kept\":1}\n");
    CHECK(Send(port, "POST", "/api/v1/sync/init", Json(), InitBody("drop")).body.find(R"("last_synced_line":1)") !=
          std::string::npos);
  }
  SECTION("fail rate 1: every write is 503") {
    RefServer server({"--fail-rate", "1"});
    Reply r = Send(server.port(), "POST", "/api/v1/sync/init", Json(), InitBody("f"));
    CHECK(r.status == 503);
    CHECK(r.headers["content-type"] == "text/plain");
    CHECK(Send(server.port(), "GET", "/api/v1/sessions/by-external-id/f", Auth()).status == 404);
  }
  SECTION("reset rate 1: the connection closes before the body is read") {
    RefServer server({"--reset-rate", "1"});
    CHECK_FALSE(Send(server.port(), "POST", "/api/v1/sync/init", Json(), InitBody("r")).received);
    CHECK(Send(server.port(), "GET", "/api/v1/sessions/by-external-id/r", Auth()).status == 404);
  }
  SECTION("delay") {
    RefServer server({"--delay-ms", "200"});
    auto start = std::chrono::steady_clock::now();
    Init(server.port(), "slow");
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));
  }
  SECTION("rate limit: 429 text/plain without Retry-After, per user") {
    RefServer server({"--rate", "0.001", "--burst", "2"});
    int port = server.port();
    std::string sid = Init(port, "rl");
    CHECK(Chunk(port, sid, 1, {"{}"}).status == 200);
    Reply r = Send(port, "POST", "/api/v1/sync/init", Json(), InitBody("rl"));
    CHECK(r.status == 429);
    CHECK(r.headers["content-type"] == "text/plain");
    CHECK(r.headers.count("retry-after") == 0);
    CHECK(Send(port, "GET", "/api/v1/sessions/" + sid + "/files", Auth()).status == 200);
    CHECK(Init(port, "rl", "k2").size() == 36);
  }
}

TEST_CASE("refserver: chunk N+1 of a file is refused with nothing stored — and the count survives a restart",
          "[refserver]") {
  RefServer server({"--max-chunks-per-file", "2"});
  int port = server.port();
  std::string sid = Init(port, "limit");
  REQUIRE(Chunk(port, sid, 1, {"{}"}).status == 200);
  REQUIRE(Chunk(port, sid, 2, {"[1]", ""}).status == 200);
  const std::string refusal = "File s.jsonl has too many chunks (limit: 2). Consider starting a new session.";
  Reply over = Chunk(port, sid, 4, {"{\"late\":1}"});
  CHECK(over.status == 400);
  CHECK(over.headers["content-type"] == "application/json");
  CHECK(Field(over.body, "error") == refusal);
  // Contiguity is checked first, as Confab does.
  CHECK(Field(Chunk(port, sid, 9, {"{}"}).body, "error") ==
        "first_line must be 4 (got 9) - chunks must be contiguous");
  CHECK(ReadBack(port, sid, "s.jsonl") == "{}\n[1]\n\n");
  CHECK(Send(port, "GET", "/api/v1/sessions/" + sid + "/files", Auth()).body.find(R"("last_synced_line":3)") !=
        std::string::npos);
  // The limit is per file: another file of the session still takes chunks.
  CHECK(Chunk(port, sid, 1, {"{}"}, "agent-a.jsonl").status == 200);

  server.Restart();
  port = server.port();
  CHECK(Field(Chunk(port, sid, 4, {"{\"late\":1}"}).body, "error") == refusal);
  CHECK(ReadBack(port, sid, "s.jsonl") == "{}\n[1]\n\n");
  CHECK(Chunk(port, sid, 2, {"{}"}, "agent-a.jsonl").status == 200);
  CHECK(Chunk(port, sid, 3, {"{}"}, "agent-a.jsonl").status == 400);

  // A long name is cut in the message (at a character boundary), which
  // still names the limit.
  std::string long_name;
  while (long_name.size() < 300) long_name += "d\xc3\xa9";  // "dé": a cut could split the é
  long_name += ".jsonl";
  REQUIRE(Chunk(port, sid, 1, {"{}"}, long_name).status == 200);
  REQUIRE(Chunk(port, sid, 2, {"{}"}, long_name).status == 200);
  std::string message = Field(Chunk(port, sid, 3, {"{}"}, long_name).body, "error");
  CHECK(message.size() < 200);
  CHECK(message.find("... has too many chunks (limit: 2)") != std::string::npos);
  CHECK(message.rfind("File d\xc3\xa9", 0) == 0);
  CHECK(message.find("\xc3...") == std::string::npos);
}

TEST_CASE("refserver: the per-IP limit answers 429 text/plain without Retry-After — and recovers", "[refserver]") {
  // A token every two seconds, three in the burst: the fourth request in a
  // row is refused unless the test stalls for two seconds between requests.
  RefServer server({"--ip-rate", "0.5", "--ip-burst", "3"});
  int port = server.port();
  CHECK(Send(port, "GET", "/api/v1/capabilities", {}).status == 200);
  CHECK(Send(port, "GET", "/api/v1/auth/validate", Auth()).status == 200);
  CHECK(Send(port, "GET", "/api/v1/auth/validate", Auth()).status == 200);
  // Before auth and before the Content-Type check, on every route.
  const std::vector<std::tuple<std::string, std::string, Headers>> refused = {
      {"GET", "/api/v1/auth/validate", Auth("nope")},
      {"POST", "/api/v1/sync/init", {{"Content-Type", "text/plain"}}},
      {"GET", "/api/v1/capabilities", {}}};
  for (const auto& [method, target, headers] : refused) {
    Reply r = Send(port, method, target, headers, method == "POST" ? InitBody("ip") : "");
    CHECK(r.status == 429);
    CHECK(r.body == "Too Many Requests");
    CHECK(r.headers["content-type"] == "text/plain");
    CHECK(r.headers.count("retry-after") == 0);
    CHECK(r.headers["connection"] == "close");
  }
  // Per address: another loopback address has its own bucket.
  CHECK(SendFrom("127.0.0.2", port, "GET", "/api/v1/auth/validate", Auth()).status == 200);
  CHECK(Send(port, "GET", "/debug/violations", {}).status == 200);  // /debug/* is never limited

  // A refused request takes no token, so polling finds the refill.
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = Send(port, "GET", "/api/v1/auth/validate", Auth()).status;
    REQUIRE((status == 200 || status == 429));
  }
  CHECK(status == 200);
}

TEST_CASE("refserver: read faults answer 503 to GETs but never to capabilities", "[refserver]") {
  RefServer server({"--read-fail-rate", "1"});
  int port = server.port();
  std::string sid = Init(port, "reads");  // writes are untouched
  REQUIRE(Chunk(port, sid, 1, {"{}"}).status == 200);
  for (const std::string& target : {std::string("/api/v1/auth/validate"),
                                    std::string("/api/v1/sessions/by-external-id/reads"),
                                    "/api/v1/sessions/" + sid + "/files",
                                    "/api/v1/sessions/" + sid + "/sync/file?file_name=s.jsonl"}) {
    Reply r = Send(port, "GET", target, Auth());
    CHECK(r.status == 503);
    CHECK(r.headers["content-type"] == "text/plain");
  }
  CHECK(Send(port, "GET", "/api/v1/capabilities", {}).status == 200);
  // Auth still comes first: a bad key is 401, not an injected fault.
  CHECK(Send(port, "GET", "/api/v1/auth/validate", Auth("nope")).status == 401);
  CHECK(InjectedFaults(port, "read_503") == 4);
  CHECK(InjectedFaults(port, "write_503") == 0);

  // At a partial rate some reads fail and some do not, replayably by seed.
  RefServer half({"--read-fail-rate", "0.5", "--seed", "3"});
  std::map<int, int> statuses;
  for (int i = 0; i < 40; ++i) ++statuses[Send(half.port(), "GET", "/api/v1/auth/validate", Auth()).status];
  CHECK(statuses[200] > 0);
  CHECK(statuses[503] > 0);
  CHECK(statuses[200] + statuses[503] == 40);
  CHECK(InjectedFaults(half.port(), "read_503") == statuses[503]);
}

TEST_CASE("refserver: big chunks, zstd or plain, read back byte-exact from any offset", "[refserver]") {
  RefServer server;
  int port = server.port();
  std::string sid = Init(port, "big");
  // ~12 MiB of lines with escapes, non-ASCII, empty lines and one 1 MiB line.
  std::vector<std::string> lines;
  size_t bytes = 0;
  for (int i = 0; bytes < 12u * 1024 * 1024; ++i) {
    std::string line = i % 97 == 0 ? "" : R"({"i":)" + std::to_string(i) + R"(,"t":"caf\u00e9 \"q\" \\ \/ é)" +
                                              std::string(static_cast<size_t>(i % 5000), 'x') + "\"}";
    if (i == 1000) line = R"({"img":")" + std::string(1 << 20, 'A') + "\"}";
    bytes += line.size();
    lines.push_back(line);
  }
  std::string expected;
  for (const std::string& l : lines) expected += l + "\n";
  const std::vector<std::string> first(lines.begin(), lines.begin() + 2000);
  const std::vector<std::string> rest(lines.begin() + 2000, lines.end());
  Headers zstd = Json();
  zstd.emplace_back("Content-Encoding", "zstd");
  REQUIRE(Send(port, "POST", "/api/v1/sync/chunk", zstd, Zstd(ChunkBody(sid, 1, first))).status == 200);
  Reply r = Chunk(port, sid, 2001, rest);
  REQUIRE(r.status == 200);
  CHECK(IntField(r.body, "last_synced_line") == static_cast<int64_t>(lines.size()));
  CHECK(ReadBack(port, sid, "s.jsonl") == expected);
  for (size_t offset : {size_t{1}, size_t{96}, size_t{97}, size_t{1999}, size_t{2000}, size_t{2001},
                        lines.size() - 1, lines.size()}) {
    INFO("line_offset " << offset);
    size_t at = 0;
    for (size_t i = 0; i < offset; ++i) at = expected.find('\n', at) + 1;
    CHECK(ReadBack(port, sid, "s.jsonl", static_cast<int>(offset)) == expected.substr(at));
  }
  // A bad line anywhere refuses the whole chunk, stores nothing.
  std::vector<std::string> spoiled(rest.begin(), rest.begin() + 500);
  spoiled.back() = "{\"unterminated\":";
  CHECK(Chunk(port, sid, static_cast<int>(lines.size()) + 1, spoiled).status == 422);
  CHECK(ReadBack(port, sid, "s.jsonl", static_cast<int>(lines.size())).empty());
}

}  // namespace tsync::testing
