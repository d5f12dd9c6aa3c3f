// SyncClient against an in-process HTTP server that records every
// request (zstd bodies decoded) and answers from a script.
#include "uploader/sync_client.h"

#include <arpa/inet.h>
#include <simdjson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <deque>
#include <map>
#include <sstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "base/json.h"
#include "tracker/chunk_reader.h"

namespace {

using namespace tsync::uploader;
using std::chrono::milliseconds;

constexpr const char* kKey = "cfb_s3cr3tKEY0123456789abcdef";

// Header names are stored lower-case.
struct Recorded {
  std::string method;
  std::string path;   // as sent, still percent-encoded
  std::string query;  // after '?', still percent-encoded
  std::multimap<std::string, std::string> headers;
  std::string raw_body;
  std::string body;  // decoded when Content-Encoding: zstd
  int remote_port = 0;

  bool Has(const std::string& name) const { return headers.count(Lower(name)) > 0; }
  std::string Header(const std::string& name) const {
    auto it = headers.find(Lower(name));
    return it == headers.end() ? std::string() : it->second;
  }
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
};

struct Reply {
  int status = 200;
  std::string body = "{}";
  std::string content_type = "application/json";
  std::string retry_after;  // empty: none
  bool echo_auth = false;   // append the Authorization header to the body
  int delay_ms = 0;         // wait before answering
};

std::string ZstdDecode(const std::string& in) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) return "<bad zstd frame>";
  std::string out(size, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return "<zstd error>";
  out.resize(n);
  return out;
}

// A minimal HTTP/1.1 server on 127.0.0.1 (Content-Length bodies, keep-alive,
// one thread per connection). Debian's cpp-httplib is a compiled library the
// test binary does not link, so the test carries its own.
class FakeServer {
 public:
  FakeServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~FakeServer() {
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    accept_thread_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : conn_fds_) shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : conn_threads_) t.join();
    for (int fd : conn_fds_) close(fd);
    close(listen_fd_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Push(Reply reply) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(reply));
  }
  std::vector<Recorded> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      const int fd = accept(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;
      }
      std::lock_guard lock(mu_);
      conn_fds_.push_back(fd);
      conn_threads_.emplace_back([this, fd, port = ntohs(peer.sin_port)] { Serve(fd, port); });
    }
  }

  static bool ReadMore(int fd, std::string* buf) {
    char tmp[65536];
    const ssize_t n = recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
    return true;
  }

  void Serve(int fd, int port) {
    std::string buf;
    for (;;) {
      size_t header_end;
      while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (!ReadMore(fd, &buf)) return;
      }
      Recorded r;
      r.remote_port = port;
      std::istringstream head(buf.substr(0, header_end));
      std::string line;
      std::getline(head, line);
      std::istringstream request_line(line);
      std::string target;
      request_line >> r.method >> target;
      const size_t q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query = target.substr(q + 1);
      while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers.emplace(Recorded::Lower(line.substr(0, colon)), value);
      }
      const size_t length = r.Has("content-length") ? std::stoul(r.Header("content-length")) : 0;
      while (buf.size() < header_end + 4 + length) {
        if (!ReadMore(fd, &buf)) return;
      }
      r.raw_body = buf.substr(header_end + 4, length);
      buf.erase(0, header_end + 4 + length);
      r.body = r.Header("content-encoding") == "zstd" ? ZstdDecode(r.raw_body) : r.raw_body;

      Reply reply;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(r);
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        }
      }
      if (reply.delay_ms > 0) std::this_thread::sleep_for(milliseconds(reply.delay_ms));
      std::string body = reply.body;
      if (reply.echo_auth) body += " " + r.Header("authorization");
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " Scripted\r\nContent-Type: " +
                        reply.content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
      if (!reply.retry_after.empty()) out += "Retry-After: " + reply.retry_after + "\r\n";
      out += "\r\n" + body;
      for (size_t sent = 0; sent < out.size();) {
        const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
      }
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<int> conn_fds_;
  std::vector<std::thread> conn_threads_;
  std::deque<Reply> script_;
  std::vector<Recorded> requests_;
};

struct Harness {
  FakeServer server;
  std::vector<milliseconds> sleeps;
  double unit = 0.999;
  std::unique_ptr<SyncClient> client;

  explicit Harness(std::string key = kKey, int max_attempts = 5, milliseconds request_timeout = milliseconds(25'000),
                   bool compress = true) {
    tsync::config::Config config;
    config.backend_url = server.url();
    config.api_key = std::move(key);
    SyncClientOptions options;
    options.version = "1.2.3";
    options.compress = compress;
    options.retry.max_attempts = max_attempts;
    options.request_timeout = request_timeout;
    options.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    options.random_unit = [this] { return unit; };
    auto created = SyncClient::Create(config, options);
    REQUIRE(created.ok());
    client = std::move(created.value());
  }
};

Reply Json(int status, std::string body) { return Reply{status, std::move(body), "application/json", "", false, 0}; }
Reply Text(int status, std::string body) { return Reply{status, std::move(body), "text/plain", "", false, 0}; }

ChunkRequest SmallChunk(const std::vector<std::string_view>& lines) {
  ChunkRequest c;
  c.session_id = "0b7c6f1e-1111-4222-8333-944445555666";
  c.file_name = "s1.jsonl";
  c.first_line = 1;
  c.lines = lines;
  return c;
}

const char* kInitReply =
    R"({"session_id":"0b7c6f1e-1111-4222-8333-944445555666","provider":"claude-code",)"
    R"("files":{"s1.jsonl":{"last_synced_line":12},"agent-a.jsonl":{"last_synced_line":0}}})";

}  // namespace

TEST_CASE("GET sends exactly the protocol headers and parses capabilities", "[client]") {
  Harness h;
  h.server.Push(Json(200, R"({"workflow_files":true,"workflow_journal":false,"future":"x"})"));
  auto caps = h.client->GetCapabilities();
  REQUIRE(caps.ok());
  CHECK(caps->Has("workflow_files"));
  CHECK_FALSE(caps->Has("workflow_journal"));
  CHECK_FALSE(caps->Has("lifecycle_events"));
  CHECK(caps->flags.count("future") == 0);

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 1);
  const Recorded& r = reqs[0];
  CHECK(r.method == "GET");
  CHECK(r.path == "/api/v1/capabilities");
  CHECK(r.Header("Authorization") == std::string("Bearer ") + kKey);
  CHECK(r.headers.count("authorization") == 1);
  CHECK(std::regex_match(r.Header("User-Agent"), std::regex(R"(tsync/1\.2\.3 \([a-z0-9_]+; [A-Za-z0-9_]+\))")));
  CHECK_FALSE(r.Has("Accept-Encoding"));
  CHECK_FALSE(r.Has("Content-Type"));
  CHECK_FALSE(r.Has("Content-Encoding"));
}

TEST_CASE("capabilities 404 means an older server with everything off", "[client]") {
  Harness h;
  h.server.Push(Text(404, "404 page not found"));
  auto caps = h.client->GetCapabilities();
  REQUIRE(caps.ok());
  CHECK(caps->flags.empty());
  CHECK(h.sleeps.empty());
}

TEST_CASE("init: small body plain JSON, large body zstd, reply parsed", "[client]") {
  Harness h;
  SessionInfo init;
  init.external_id = "sess-1";
  init.transcript_path = "/home/u/.claude/projects/p/sess-1.jsonl";
  init.metadata_json = R"({"cwd":"/home/u/p","git_info":{"branch":"main"},"hostname":"box"})";
  h.server.Push(Json(200, kInitReply));
  auto reply = h.client->Init(init);
  REQUIRE(reply.ok());
  CHECK(reply->session_id == "0b7c6f1e-1111-4222-8333-944445555666");
  CHECK(reply->last_synced_line == std::map<std::string, uint64_t>{{"s1.jsonl", 12}, {"agent-a.jsonl", 0}});

  init.transcript_path = "/" + std::string(2000, 'p');
  h.server.Push(Json(200, kInitReply));
  REQUIRE(h.client->Init(init).ok());

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].Header("Content-Type") == "application/json");
  CHECK_FALSE(reqs[0].Has("Content-Encoding"));
  CHECK(reqs[0].body ==
        R"({"provider":"claude-code","external_id":"sess-1","transcript_path":"/home/u/.claude/projects/p/sess-1.jsonl",)"
        R"("metadata":{"cwd":"/home/u/p","git_info":{"branch":"main"},"hostname":"box"}})");
  CHECK(reqs[1].Header("Content-Type") == "application/json");
  CHECK(reqs[1].Header("Content-Encoding") == "zstd");
  CHECK(reqs[1].raw_body.size() < reqs[1].body.size());
  CHECK(reqs[1].body == EncodeInitBody(init));
  CHECK_FALSE(reqs[1].Has("Accept-Encoding"));
}

TEST_CASE("chunk body is byte-exact with the chunk reader's budget", "[client]") {
  Harness h;
  std::vector<std::string> storage;
  for (int i = 0; i < 40; ++i) {
    storage.push_back(R"({"type":"user","n":)" + std::to_string(i) + R"(,"text":"quote \" tab)" + "\t" +
                      std::string(1, '\x01') + "ü\\"
                      "\"}");
  }
  std::vector<std::string_view> lines(storage.begin(), storage.end());
  ChunkRequest chunk = SmallChunk(lines);
  chunk.first_line = 13;
  chunk.summary = "fixing the \"parser\"";
  h.server.Push(Json(200, R"({"last_synced_line":52})"));
  auto reply = h.client->SendChunk(chunk);
  REQUIRE(reply.ok());
  CHECK(reply->last_synced_line == 52);

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 1);
  const Recorded& r = reqs[0];
  CHECK(r.path == "/api/v1/sync/chunk");
  CHECK(r.Header("Content-Encoding") == "zstd");
  CHECK(r.Header("Content-Type") == "application/json");
  const std::string envelope_head =
      R"({"session_id":"0b7c6f1e-1111-4222-8333-944445555666","file_name":"s1.jsonl","file_type":"transcript",)"
      R"("first_line":13,"lines":)";
  std::string metadata = R"(,"metadata":{"summary":)";
  tsync::AppendJsonString(&metadata, *chunk.summary);
  metadata += "}}";
  const size_t lines_size = tsync::tracker::EncodedLinesSize(lines);
  CHECK(r.body.size() == envelope_head.size() + lines_size + metadata.size());
  REQUIRE(r.body.size() > envelope_head.size() + lines_size);
  CHECK(r.body.compare(0, envelope_head.size(), envelope_head) == 0);
  CHECK(r.body.substr(envelope_head.size() + lines_size) == metadata);
  CHECK(r.body == EncodeChunkBody(chunk));

  // The lines come back verbatim through a JSON parser.
  simdjson::dom::parser parser;
  simdjson::dom::array arr;
  REQUIRE_FALSE(parser.parse(r.body)["lines"].get_array().get(arr));
  size_t i = 0;
  for (auto e : arr) {
    REQUIRE(i < storage.size());
    CHECK(std::string(e.get_string().value()) == storage[i++]);
  }
  CHECK(i == storage.size());
}

TEST_CASE("a chunk body written in many pieces arrives byte-exact, compressed or not", "[client]") {
  // About 2.6 MiB encoded: many of the encoder's pieces, and one line bigger
  // than a piece on its own.
  std::vector<std::string> storage;
  for (int i = 0; i < 3000; ++i) {
    storage.push_back(R"({"type":"assistant","n":)" + std::to_string(i) + R"(,"text":"a \"quoted\" word)" +
                      std::string(600, static_cast<char>('a' + i % 26)) + "\t\x02\"}");
  }
  storage.push_back(R"({"big":")" + std::string(600 * 1024, 'z') + R"("})");
  std::vector<std::string_view> lines(storage.begin(), storage.end());
  ChunkRequest chunk = SmallChunk(lines);
  chunk.first_user_message = "the first \"message\"";
  const std::string expected = EncodeChunkBody(chunk);
  CHECK(expected.size() == ChunkBodySize(chunk));
  REQUIRE(expected.size() > 2 * 1024 * 1024);
  for (bool compress : {true, false}) {
    DYNAMIC_SECTION("compress " << compress) {
      Harness h(kKey, 5, milliseconds(25'000), compress);
      h.server.Push(Json(200, R"({"last_synced_line":3001})"));
      auto reply = h.client->SendChunk(chunk);
      REQUIRE(reply.ok());
      auto reqs = h.server.requests();
      REQUIRE(reqs.size() == 1);
      CHECK(reqs[0].Has("Content-Encoding") == compress);
      if (compress) CHECK(reqs[0].raw_body.size() < expected.size() / 4);
      CHECK(reqs[0].body.size() == expected.size());
      CHECK(reqs[0].body == expected);
    }
  }
}

TEST_CASE("a chunk whose encoded size was given wrong is refused before sending, compressed or not", "[client]") {
  // lines_encoded_size comes from the caller (the engine's chunk budget); a
  // wrong one must never put a truncated or overlong body on the wire.
  std::vector<std::string> storage{std::string(2000, 'a'), std::string(10, 'b')};
  for (size_t lines : {size_t{1}, size_t{2}}) {  // 2 KiB: zstd; a few bytes: plain
    DYNAMIC_SECTION("lines " << lines) {
      std::vector<std::string_view> views(storage.begin() + (lines == 1 ? 1 : 0), storage.end());
      for (long skew : {-3L, 5L}) {
        Harness h;
        ChunkRequest chunk = SmallChunk(views);
        chunk.lines_encoded_size = static_cast<size_t>(static_cast<long>(tsync::tracker::EncodedLinesSize(views)) + skew);
        auto reply = h.client->SendChunk(chunk);
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().message.find("were announced; nothing was sent") != std::string::npos);
        CHECK(h.server.requests().empty());
      }
    }
  }
}

TEST_CASE("small chunk and event bodies go uncompressed, large event zstd", "[client]") {
  Harness h;
  std::vector<std::string_view> lines{R"({"a":1})"};
  h.server.Push(Json(200, R"({"last_synced_line":1})"));
  REQUIRE(h.client->SendChunk(SmallChunk(lines)).ok());

  EventRequest small{"0b7c6f1e-1111-4222-8333-944445555666", "session_end", "2026-01-01T00:00:00Z", R"({"r":1})"};
  EventRequest big = small;
  big.payload_json = R"({"reason":")" + std::string(1500, 'x') + R"("})";
  h.server.Push(Json(200, R"({"success":true})"));
  REQUIRE(h.client->SendEvent(small).ok());
  h.server.Push(Json(200, R"({"success":true})"));
  REQUIRE(h.client->SendEvent(big).ok());

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK_FALSE(reqs[0].Has("Content-Encoding"));
  CHECK(reqs[0].body == EncodeChunkBody(SmallChunk(lines)));
  CHECK_FALSE(reqs[1].Has("Content-Encoding"));
  CHECK(reqs[1].body ==
        R"({"session_id":"0b7c6f1e-1111-4222-8333-944445555666","event_type":"session_end",)"
        R"("timestamp":"2026-01-01T00:00:00Z","payload":{"r":1}})");
  CHECK(reqs[2].path == "/api/v1/sync/event");
  CHECK(reqs[2].Header("Content-Encoding") == "zstd");
  CHECK(reqs[2].body.size() > 1500);
}

TEST_CASE("summary PATCH and github-links are never compressed", "[client]") {
  Harness h;
  const std::string summary(2000, 's');
  h.server.Push(Json(200, R"({"status":"ok"})"));
  REQUIRE(h.client->UpdateSummary("ext id/1", summary).ok());
  GithubLink link;
  link.url = "https://github.com/o/r/pull/12";
  link.title = std::string(480, 't');
  link.link_type = "pull_request";
  h.server.Push(Json(201, R"({"id":7,"session_id":"u","link_type":"pull_request","url":"https://github.com/o/r/pull/12",)"
                          R"("owner":"o","repo":"r","ref":"12","source":"cli_hook","created_at":"2026-01-01T00:00:00Z"})"));
  auto added = h.client->AddGithubLink("0b7c6f1e-1111-4222-8333-944445555666", link);
  REQUIRE(added.ok());
  CHECK(added->owner == "o");
  CHECK(added->repo == "r");
  CHECK(added->ref == "12");
  CHECK(added->link_type == "pull_request");

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "PATCH");
  CHECK(reqs[0].path == "/api/v1/sessions/ext%20id%2F1/summary");
  CHECK(reqs[0].Header("Content-Type") == "application/json");
  CHECK_FALSE(reqs[0].Has("Content-Encoding"));
  CHECK(reqs[0].body == R"({"summary":")" + summary + R"("})");
  CHECK(reqs[1].path == "/api/v1/sessions/0b7c6f1e-1111-4222-8333-944445555666/github-links");
  CHECK_FALSE(reqs[1].Has("Content-Encoding"));
  CHECK(reqs[1].body.size() > 500);
  CHECK(reqs[1].body.find(R"("source":"cli_hook")") != std::string::npos);
}

TEST_CASE("each server answer maps onto one typed outcome", "[client]") {
  struct Case {
    Reply reply;
    Outcome outcome;
    tsync::Status::Kind kind;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Text(401, "Invalid API key"), Outcome::kUnauthorized, tsync::Status::Kind::kAuth, "Invalid API key"},
      {Text(403, "Account deactivated"), Outcome::kForbidden, tsync::Status::Kind::kAuth, "Account deactivated"},
      {Json(404, R"({"error":"Session not found"})"), Outcome::kNotFound, tsync::Status::Kind::kNotFound,
       "Session not found"},
      {Json(400, R"({"error":"first_line must be 42 (got 40) - chunks must be contiguous"})"), Outcome::kContiguity,
       tsync::Status::Kind::kConflict, "first_line must be 42 (got 40) - chunks must be contiguous"},
      {Text(429, "Too Many Requests"), Outcome::kRateLimited, tsync::Status::Kind::kTransient, "Too Many Requests"},
      {Json(503, R"({"error":"database unavailable"})"), Outcome::kTransient, tsync::Status::Kind::kTransient,
       "database unavailable"},
      {Json(500, ""), Outcome::kTransient, tsync::Status::Kind::kTransient, "HTTP 500"},
      {Json(400, R"({"error":"lines must not be empty"})"), Outcome::kPermanent, tsync::Status::Kind::kInvalidInput,
       "lines must not be empty"},
      {Text(415, "Unsupported Media Type"), Outcome::kPermanent, tsync::Status::Kind::kInvalidInput,
       "Unsupported Media Type"},
  };
  for (const Case& c : cases) {
    DYNAMIC_SECTION("HTTP " << c.reply.status << " " << c.message) {
      Harness h;
      h.server.Push(c.reply);
      std::vector<std::string_view> lines{"{}"};
      auto r = h.client->SendChunk(SmallChunk(lines));
      REQUIRE_FALSE(r.ok());
      CHECK(r.outcome() == c.outcome);
      CHECK(r.error().http_status == c.reply.status);
      CHECK(r.error().message == c.message);
      CHECK(r.status().kind() == c.kind);
      CHECK(r.error().attempts == 1);
      CHECK(r.error().route == "POST /api/v1/sync/chunk");
      CHECK(r.status().message().find("POST /api/v1/sync/chunk") != std::string::npos);
      CHECK_FALSE(r.error().retry_after.has_value());
      if (c.outcome == Outcome::kContiguity) CHECK(r.error().expected_first_line == 42);
      // Chunks are never retried inside the client.
      CHECK(h.server.requests().size() == 1);
      CHECK(h.sleeps.empty());
    }
  }
}

TEST_CASE("429 with Retry-After on a chunk reports the delay and is not retried", "[client]") {
  Harness h;
  Reply reply = Text(429, "Too Many Requests");
  reply.retry_after = "7";
  h.server.Push(reply);
  std::vector<std::string_view> lines{"{}"};
  auto r = h.client->SendChunk(SmallChunk(lines));
  REQUIRE(r.outcome() == Outcome::kRateLimited);
  REQUIRE(r.error().retry_after.has_value());
  CHECK(*r.error().retry_after == milliseconds(7000));
  CHECK(h.server.requests().size() == 1);
  CHECK(h.sleeps.empty());
}

TEST_CASE("init retries transient failures with growing jittered backoff", "[client]") {
  Harness h;
  h.server.Push(Json(503, R"({"error":"busy"})"));
  h.server.Push(Text(429, "Too Many Requests"));
  h.server.Push(Json(502, ""));
  h.server.Push(Json(200, kInitReply));
  SessionInfo init{"claude-code", "sess-1", "/t/sess-1.jsonl", "{}"};
  auto r = h.client->Init(init);
  REQUIRE(r.ok());
  CHECK(h.server.requests().size() == 4);
  REQUIRE(h.sleeps.size() == 3);
  // unit = 0.999 of 500 ms, 1 s, 2 s.
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(499), milliseconds(999), milliseconds(1998)});
  for (size_t i = 1; i < h.sleeps.size(); ++i) CHECK(h.sleeps[i] > h.sleeps[i - 1]);
}

TEST_CASE("retries are bounded per call and delays stay within the cap", "[client]") {
  Harness h(kKey, 4);
  for (int i = 0; i < 6; ++i) h.server.Push(Json(503, ""));
  auto r = h.client->ValidateAuth();
  REQUIRE(r.outcome() == Outcome::kTransient);
  CHECK(r.error().attempts == 4);
  CHECK(h.server.requests().size() == 4);
  REQUIRE(h.sleeps.size() == 3);
  for (auto d : h.sleeps) {
    CHECK(d >= milliseconds(0));
    CHECK(d <= milliseconds(60'000));
  }
}

TEST_CASE("Retry-After replaces the computed delay — one beyond the cap is returned", "[client]") {
  Harness h;
  Reply wait3 = Text(429, "slow down");
  wait3.retry_after = "3";
  h.server.Push(wait3);
  h.server.Push(Json(200, R"({"session_id":"abc"})"));
  auto found = h.client->FindSession("sess-1");
  REQUIRE(found.ok());
  CHECK(found.value() == "abc");
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(3000)});

  Reply wait_long = Json(503, "");
  wait_long.retry_after = "600";
  h.server.Push(wait_long);
  auto r = h.client->FindSession("sess-1");
  REQUIRE(r.outcome() == Outcome::kTransient);
  CHECK(r.error().retry_after == milliseconds(600'000));
  CHECK(h.sleeps.size() == 1);
  CHECK(h.server.requests().size() == 3);
}

TEST_CASE("BackoffDelay is full jitter, exponential and capped", "[client]") {
  RetryPolicy p;
  for (int retry = 0; retry < 64; ++retry) {
    for (double unit : {0.0, 0.25, 0.5, 0.999999}) {
      const auto d = BackoffDelay(p, retry, unit);
      CHECK(d >= milliseconds(0));
      CHECK(d <= p.cap);
    }
  }
  CHECK(BackoffDelay(p, 0, 0.0) == milliseconds(0));
  CHECK(BackoffDelay(p, 0, 0.5) == milliseconds(250));
  CHECK(BackoffDelay(p, 3, 0.5) == milliseconds(2000));
  CHECK(BackoffDelay(p, 40, 0.5) == milliseconds(30'000));
  CHECK(BackoffDelay(p, 1000, 1.0) == p.cap);
}

TEST_CASE("ParseRetryAfter accepts seconds and HTTP dates", "[client]") {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(ParseRetryAfter("120", now) == milliseconds(120'000));
  CHECK(ParseRetryAfter(" 0 ", now) == milliseconds(0));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now) == milliseconds(30'000));
  CHECK(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now) == milliseconds(0));
  CHECK_FALSE(ParseRetryAfter("soon", now).has_value());
  CHECK_FALSE(ParseRetryAfter("", now).has_value());
}

TEST_CASE("connection refused is transient with no HTTP status", "[client]") {
  // A port that was just free: bind, read it back, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);

  tsync::config::Config config;
  config.backend_url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  config.api_key = kKey;
  std::vector<milliseconds> sleeps;
  SyncClientOptions options;
  options.retry.max_attempts = 3;
  options.sleep = [&](milliseconds d) { sleeps.push_back(d); };
  options.random_unit = [] { return 0.5; };
  auto client = SyncClient::Create(config, options);
  REQUIRE(client.ok());
  auto r = client.value()->GetCapabilities();
  REQUIRE(r.outcome() == Outcome::kTransient);
  CHECK(r.error().http_status == 0);
  CHECK(r.error().attempts == 3);
  CHECK(sleeps.size() == 2);
  CHECK(r.status().kind() == tsync::Status::Kind::kTransient);
  CHECK(r.error().route == "GET /api/v1/capabilities");
  CHECK_FALSE(r.error().message.empty());
  CHECK(r.error().message.find(kKey) == std::string::npos);

  std::vector<std::string_view> lines{"{}"};
  auto chunk = client.value()->SendChunk(SmallChunk(lines));
  CHECK(chunk.outcome() == Outcome::kTransient);
  CHECK(chunk.error().attempts == 1);
}

TEST_CASE("plain http to a non-loopback host is refused before any connection", "[client]") {
  tsync::config::Config config;
  config.api_key = kKey;
  for (const char* url : {"http://sync.example.com", "http://127.0.0.1.evil.example", "http://localhost.evil.example",
                          "http://user@sync.example.com:8080/x", "ftp://sync.example.com"}) {
    INFO(url);
    config.backend_url = url;
    auto client = SyncClient::Create(config);
    REQUIRE_FALSE(client.ok());
    CHECK(client.status().kind() == tsync::Status::Kind::kConfig);
    CHECK(client.status().message().find(kKey) == std::string::npos);
  }
  for (const char* url : {"https://sync.example.com", "http://127.0.0.1:8080", "http://localhost", "http://[::1]:9"}) {
    INFO(url);
    CHECK(CheckBackendUrl(url, false).ok());
  }
  CHECK(CheckBackendUrl("http://sync.example.com", true).ok());
  config.backend_url = "http://sync.example.com";
  config.allow_insecure_http = true;
  CHECK(SyncClient::Create(config).ok());
}

TEST_CASE("a key that could inject headers is refused", "[client]") {
  tsync::config::Config config;
  config.backend_url = "https://sync.example.com";
  config.api_key = "cfb_abc\r\nX-Evil: 1";
  auto client = SyncClient::Create(config);
  REQUIRE_FALSE(client.ok());
  CHECK(client.status().kind() == tsync::Status::Kind::kConfig);
  CHECK(client.status().message().find("cfb_abc") == std::string::npos);
}

TEST_CASE("the API key never appears in an error message, even when echoed", "[client]") {
  Harness h;
  for (int status : {400, 401, 403, 500}) {
    Reply reply = Text(status, "you sent:");
    reply.echo_auth = true;
    h.server.Push(reply);
    std::vector<std::string_view> lines{"{}"};
    auto r = h.client->SendChunk(SmallChunk(lines));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("you sent:") != std::string::npos);
    CHECK(r.error().message.find(kKey) == std::string::npos);
    CHECK(r.status().ToString().find(kKey) == std::string::npos);
  }
}

TEST_CASE("device login: no key sent, token states decoded", "[client]") {
  Harness h("");
  h.server.Push(Json(200, R"({"device_code":"dc1","user_code":"ABCD-EFGH","verification_uri":"https://x/device",)"
                          R"("expires_in":300,"interval":5})"));
  auto code = h.client->RequestDeviceCode("box (tsync)");
  REQUIRE(code.ok());
  CHECK(code->device_code == "dc1");
  CHECK(code->user_code == "ABCD-EFGH");
  CHECK(code->interval == 5);

  h.server.Push(Json(400, R"({"error":"authorization_pending"})"));
  h.server.Push(Json(403, R"({"error":"access_denied"})"));
  h.server.Push(Json(409, R"({"error":"api_key_limit_exceeded"})"));
  h.server.Push(Json(400, R"({"error":"expired_token"})"));
  h.server.Push(Json(200, R"({"access_token":"cfb_new","token_type":"Bearer"})"));
  using S = DeviceToken::State;
  for (S expected : {S::kPending, S::kDenied, S::kKeyLimit, S::kExpired, S::kGranted}) {
    auto t = h.client->PollDeviceToken("dc1");
    REQUIRE(t.ok());
    CHECK(t->state == expected);
  }
  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 6);
  CHECK(reqs[0].path == "/auth/device/code");
  CHECK(reqs[0].body == R"x({"key_name":"box (tsync)"})x");
  CHECK(reqs[1].path == "/auth/device/token");
  CHECK(reqs[1].body == R"({"device_code":"dc1"})");
  for (const auto& r : reqs) CHECK_FALSE(r.Has("Authorization"));
}

TEST_CASE("read-back endpoints, escaped, over one kept-alive connection", "[client]") {
  Harness h;
  h.server.Push(Json(200, R"({"valid":true,"user_id":7,"email":"a@b.c","name":null})"));
  h.server.Push(Json(200, R"({"files":[{"file_name":"s1.jsonl","file_type":"transcript","last_synced_line":3,)"
                          R"("updated_at":"2026-01-01T00:00:00Z"}]})"));
  h.server.Push(Text(200, "l2\nl3\n"));
  auto auth = h.client->ValidateAuth();
  REQUIRE(auth.ok());
  CHECK(auth->user_id == 7);
  CHECK(auth->email == "a@b.c");
  CHECK_FALSE(auth->name.has_value());
  auto files = h.client->ListFiles("u-1");
  REQUIRE(files.ok());
  REQUIRE(files->size() == 1);
  CHECK(files.value()[0].file_name == "s1.jsonl");
  CHECK(files.value()[0].last_synced_line == 3);
  auto text = h.client->ReadFile("u-1", "subagents/workflows/r 1/journal.jsonl", 1);
  REQUIRE(text.ok());
  CHECK(text.value() == "l2\nl3\n");

  auto reqs = h.server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].path == "/api/v1/sessions/u-1/files");
  CHECK(reqs[2].path == "/api/v1/sessions/u-1/sync/file");
  CHECK(reqs[2].query == "file_name=subagents%2Fworkflows%2Fr%201%2Fjournal.jsonl&line_offset=1");
  CHECK(reqs[0].remote_port == reqs[1].remote_port);
  CHECK(reqs[1].remote_port == reqs[2].remote_port);
}

TEST_CASE("a reply slower than the request timeout is a transient failure", "[client]") {
  Harness h(kKey, 1, milliseconds(300));
  Reply slow = Json(200, R"({"last_synced_line":1})");
  slow.delay_ms = 1200;
  h.server.Push(slow);
  std::vector<std::string_view> lines{"{}"};
  const auto started = std::chrono::steady_clock::now();
  auto r = h.client->SendChunk(SmallChunk(lines));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  REQUIRE(r.outcome() == Outcome::kTransient);
  CHECK(r.error().http_status == 0);
  CHECK(elapsed < milliseconds(1100));
  // The server may have stored it: the client does not resend (PROTOCOL.md /sync/chunk).
  CHECK(h.server.requests().size() == 1);
}
