#include "tests/refserver_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <simdjson.h>

namespace tsync::testing {
namespace {

/// First line of the child's stdout, waiting at most 10 s.
std::string ReadLine(int fd) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    if (read(fd, &c, 1) != 1 || c == '\n') break;
    line += c;
  }
  return line;
}

}  // namespace

RefServer::RefServer(std::vector<std::string> extra_args) : extra_(std::move(extra_args)) {
  WriteFile(dir_ / "keys", "k1 one@example.com\nk2\n");
  Start();
}

RefServer::~RefServer() { Stop(); }

std::string RefServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void RefServer::Restart() {
  Stop();
  Start();
}

void RefServer::Start() {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<std::string> args = {TSYNC_REFSERVER, "--port", "0", "--db", dir_ / "db", "--keys", dir_ / "keys"};
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string line = ReadLine(fds[0]);
  close(fds[0]);
  const std::string prefix = "listening on 127.0.0.1:";
  REQUIRE(line.rfind(prefix, 0) == 0);
  port_ = std::stoi(line.substr(prefix.size()));
}

void RefServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Reply ParseReply(const std::string& raw) {
  Reply r;
  r.received = !raw.empty();
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    size_t eol = raw.find("\r\n", pos);
    std::string line = raw.substr(pos, eol - pos);
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    pos = eol + 2;
  }
  r.body = raw.substr(end + 4);
  return r;
}

Reply Send(int port, const std::string& method, const std::string& target, const Headers& headers,
           const std::string& body) {
  return SendFrom("", port, method, target, headers, body);
}

Reply SendFrom(const std::string& source_ip, int port, const std::string& method, const std::string& target,
               const Headers& headers, const std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{15, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (!source_ip.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    REQUIRE(inet_pton(AF_INET, source_ip.c_str(), &local.sin_addr) == 1);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (method != "GET") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    ssize_t n = send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may cut us off; read what it said
    off += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  return ParseReply(raw);
}

namespace {

// The text columns of `sql`'s rows for one session (?1 = its external id),
// read straight from the refserver's database; none when it cannot be read.
std::vector<std::vector<std::string>> SessionRows(const RefServer& server, const std::string& external_id,
                                                  const char* sql) {
  std::vector<std::vector<std::string>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2((server.dir() / "db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &q, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, external_id.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(q) == SQLITE_ROW) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int col = 0; col < sqlite3_column_count(q); ++col) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(q, col));
        row.emplace_back(text != nullptr ? text : "");
      }
    }
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rows;
}

}  // namespace

std::vector<StoredEvent> StoredEvents(const RefServer& server, const std::string& external_id) {
  std::vector<StoredEvent> out;
  for (auto& r : SessionRows(server, external_id,
                             "SELECT e.event_type, e.timestamp, e.payload FROM events e JOIN sessions s ON s.id = "
                             "e.session_id WHERE s.external_id = ?1 ORDER BY e.id")) {
    out.push_back(StoredEvent{r[0], r[1], r[2]});
  }
  return out;
}

std::vector<StoredGithubLink> StoredGithubLinks(const RefServer& server, const std::string& external_id) {
  std::vector<StoredGithubLink> out;
  for (auto& r : SessionRows(server, external_id,
                             "SELECT g.link_type, g.url, COALESCE(g.title, ''), g.source FROM github_links g "
                             "JOIN sessions s ON s.id = g.session_id WHERE s.external_id = ?1 ORDER BY g.id")) {
    out.push_back(StoredGithubLink{r[0], r[1], r[2], r[3]});
  }
  return out;
}

StoredMetadata StoredSessionMetadata(const RefServer& server, const std::string& external_id) {
  const auto rows = SessionRows(server, external_id,
                                "SELECT COALESCE(first_user_message, ''), COALESCE(summary, '') FROM sessions "
                                "WHERE external_id = ?1");
  if (rows.empty()) return {};
  return StoredMetadata{rows[0][0], rows[0][1]};
}

int64_t ViolationCount(int port, const char* kind) {
  Reply r = Send(port, "GET", "/debug/violations", {});
  simdjson::dom::parser parser;
  int64_t v = 0;
  if (parser.parse(r.body)["counts"][kind].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

int64_t InjectedFaults(int port, const char* kind) {
  Reply r = Send(port, "GET", "/debug/faults", {});
  simdjson::dom::parser parser;
  int64_t v = 0;
  if (parser.parse(r.body)["injected"][kind].get(v) != simdjson::SUCCESS) return 0;
  return v;
}

int64_t PeakChunksInFlight(int port) {
  Reply r = Send(port, "GET", "/debug/load", {});
  simdjson::dom::parser parser;
  int64_t v = 0;
  if (parser.parse(r.body)["peak_chunks_in_flight"].get(v) != simdjson::SUCCESS) return -1;
  return v;
}

int64_t TotalViolations(int port) {
  Reply r = Send(port, "GET", "/debug/violations", {});
  simdjson::dom::parser parser;
  simdjson::dom::object counts;
  if (parser.parse(r.body)["counts"].get(counts) != simdjson::SUCCESS) return 0;
  int64_t total = 0;
  for (auto field : counts) {
    int64_t v = 0;
    if (field.value.get(v) == simdjson::SUCCESS) total += v;
  }
  return total;
}

}  // namespace tsync::testing
