// tsync-refserver: the reference sync backend tests run against.
//
//   tsync-refserver --db FILE --keys FILE [--port N] [--lifecycle-events]
//                   [--seed N] [--fail-rate P] [--read-fail-rate P]
//                   [--drop-after-commit-rate P] [--reset-rate P] [--delay-ms N]
//                   [--spike-rate P --spike-ms N]
//                   [--rate R] [--burst B] [--ip-rate R] [--ip-burst B]
//                   [--max-chunks-per-file N] [--tls-cert FILE --tls-key FILE]
//
// With --port 0 a free port is chosen; the first stdout line is always
// "listening on 127.0.0.1:<port>" so the test harness can connect.
// Faults (seeded by --seed): --fail-rate P answers 503 to that share of
// POST/PATCH under /api/v1, --read-fail-rate P to that share of GETs there
// (capabilities excepted), --drop-after-commit-rate stores a chunk and loses
// its reply, --reset-rate cuts write connections before the body is read,
// --delay-ms slows every write, --spike-rate P delays that share of writes
// by a further --spike-ms (latency spikes). Counts of what was injected
// (429s from the limiters included): GET /debug/faults. The most chunks
// stored at once (any files, so tests can see uploads run side by side):
// GET /debug/load.
// Limits (PROTOCOL.md): --rate/--burst per user on init, chunk and event;
// --ip-rate/--ip-burst per client address on every request but /debug/*
// (both off by default: Confab's are 2.78/s burst 2000 and 100/s burst 200);
// --max-chunks-per-file N refuses a file's chunk N+1 with 400 (default
// 30000, as Confab; the count is stored, so it survives restarts).
// --tls-cert and --tls-key (PEM, given together) serve HTTPS instead of HTTP,
// same routes and limits, so tests can check the client's TLS verification.
//
// CPPHTTPLIB_OPENSSL_SUPPORT comes from tests/backend/CMakeLists.txt for
// every file of this target: Debian's libcpp-httplib.so is built with it,
// and it changes the layout of httplib's classes.
#include <httplib.h>
#include <malloc.h>
#include <openssl/err.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/backend/routes.h"
#include "tests/backend/store.h"

namespace tsync::refserver {
namespace {

struct Flags {
  int port = 0;
  std::string db;
  std::string keys;
  std::string tls_cert;  // both set: HTTPS
  std::string tls_key;
  ApiOptions api;
};

bool ParseFlags(int argc, char** argv, Flags* f, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (name == "--lifecycle-events") {
      f->api.lifecycle_events = true;
      continue;
    }
    if (i + 1 >= argc) {
      *err = "missing value for " + name;
      return false;
    }
    std::string v = argv[++i];
    try {
      if (name == "--port") f->port = std::stoi(v);
      else if (name == "--db") f->db = v;
      else if (name == "--keys") f->keys = v;
      else if (name == "--tls-cert") f->tls_cert = v;
      else if (name == "--tls-key") f->tls_key = v;
      else if (name == "--seed") f->api.seed = std::stoull(v);
      else if (name == "--fail-rate") f->api.faults.fail = std::stod(v);
      else if (name == "--read-fail-rate") f->api.faults.read_fail = std::stod(v);
      else if (name == "--drop-after-commit-rate") f->api.faults.drop_after_commit = std::stod(v);
      else if (name == "--reset-rate") f->api.faults.reset = std::stod(v);
      else if (name == "--delay-ms") f->api.faults.delay_ms = std::stoi(v);
      else if (name == "--spike-rate") f->api.faults.spike = std::stod(v);
      else if (name == "--spike-ms") f->api.faults.spike_ms = std::stoi(v);
      else if (name == "--rate") f->api.rate = std::stod(v);
      else if (name == "--burst") f->api.burst = std::stod(v);
      else if (name == "--ip-rate") f->api.ip_rate = std::stod(v);
      else if (name == "--ip-burst") f->api.ip_burst = std::stod(v);
      else if (name == "--max-chunks-per-file") f->api.max_chunks_per_file = std::stoll(v);
      else {
        *err = "unknown flag " + name;
        return false;
      }
    } catch (const std::exception&) {
      *err = "bad value for " + name + ": " + v;
      return false;
    }
  }
  if (f->db.empty() || f->keys.empty()) {
    *err = "--db and --keys are required";
  } else if (f->api.max_chunks_per_file < 1) {
    *err = "--max-chunks-per-file must be at least 1";
  } else if (f->tls_cert.empty() != f->tls_key.empty()) {
    *err = "--tls-cert and --tls-key must be given together";
  }
  return err->empty();
}

/// One API key per line, optionally followed by an email; user ids 1..N.
Status LoadKeys(const std::string& path, Store* store) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read keys file " + path);
  std::string line;
  int64_t user_id = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, email;
    if (!(fields >> key) || key[0] == '#') continue;
    ++user_id;
    if (!(fields >> email)) email = "user" + std::to_string(user_id) + "@example.com";
    if (Status s = store->RegisterKey(key, user_id, email); !s.ok()) return s;
  }
  return Status::Ok();
}

/// The oldest queued OpenSSL error, or "" when there is none.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

/// A plain Server, or an SSLServer when the flags name a certificate and key;
/// nullptr with `err` set when those cannot be loaded.
std::unique_ptr<httplib::Server> MakeServer(const Flags& flags, std::string* err) {
  if (flags.tls_cert.empty()) return std::make_unique<httplib::Server>();
  auto server = std::make_unique<httplib::SSLServer>(flags.tls_cert.c_str(), flags.tls_key.c_str());
  if (server->is_valid()) return server;
  *err = "cannot use TLS certificate " + flags.tls_cert + " with key " + flags.tls_key +
         " (unreadable, not PEM, or not a matching pair)";
  if (std::string why = OpenSslError(); !why.empty()) *err += ": " + why;
  return nullptr;
}

int Run(int argc, char** argv) {
  Flags flags;
  std::string err;
  if (!ParseFlags(argc, argv, &flags, &err)) {
    std::fprintf(stderr, "tsync-refserver: %s\n", err.c_str());
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // aborted connections must not kill us
  // Buffers up to 32 MiB (SQLite builds a chunk's 14 MiB record in one) stay
  // in the heap and are reused, instead of being mapped, faulted in page by
  // page and unmapped again for every chunk: ~10% of the server's CPU.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  Store store;
  Status s = store.Open(flags.db);
  if (s.ok()) s = LoadKeys(flags.keys, &store);
  if (!s.ok()) {
    std::fprintf(stderr, "tsync-refserver: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<httplib::Server> owned = MakeServer(flags, &err);
  if (owned == nullptr) {
    std::fprintf(stderr, "tsync-refserver: %s\n", err.c_str());
    return 1;
  }
  httplib::Server& server = *owned;
  server.set_payload_max_length(64u * 1024 * 1024);  // caps are checked on the decoded body
  server.set_read_timeout(30, 0);                     // PROTOCOL.md "Server timeouts"
  // httplib writes headers and body separately; without TCP_NODELAY the body
  // waits for the client's delayed ACK (~40 ms per reply on a reused connection).
  server.set_tcp_nodelay(true);
  Api api(&store, flags.api);
  api.Register(&server);
  int port = flags.port == 0 ? server.bind_to_any_port("127.0.0.1")
                             : (server.bind_to_port("127.0.0.1", flags.port) ? flags.port : -1);
  if (port <= 0) {
    std::fprintf(stderr, "tsync-refserver: cannot bind 127.0.0.1:%d\n", flags.port);
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}

}  // namespace
}  // namespace tsync::refserver

int main(int argc, char** argv) { return tsync::refserver::Run(argc, argv); }
