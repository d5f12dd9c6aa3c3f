// Api: the HTTP surface of the reference backend (PROTOCOL.md), wired onto
// a cpp-httplib Server.
//
// Request flow: the pre-routing hook runs before the body is read and
// applies, in the real server's order, the per-IP rate limit (429; a global
// limiter in front of every route but /debug/*), then for /api/v1/* but
// capabilities the Content-Type check (415), the Content-Encoding check
// (415), Bearer auth (401), the per-user rate limit on init/chunk/event
// (429), then injected faults (503 on writes and reads, reset, delay).
// Handlers then decode the body (zstd, size caps -> 400), validate, store,
// and answer. /sync/chunk reads its body itself, straight into pooled
// buffers simdjson parses in place (request_body.h): it is the hot path.
//
// Limits (PROTOCOL.md "Rate limits", "Limits"): per user --rate/--burst and
// per IP --ip-rate/--ip-burst (both off by default, so tests run at full
// speed; Confab: 2.78/s burst 2000, and 100/s burst 200); chunks per file
// --max-chunks-per-file (default 30,000, as Confab).
// Handlers live in sync_routes.cc (init/chunk/event), session_routes.cc
// (summary, GitHub links, read-back) and account_routes.cc (capabilities,
// auth, device login, debug).
// Thread-safety: handlers run on httplib's thread pool; shared state locks.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>

#include <simdjson.h>

#include "tests/backend/faults.h"
#include "tests/backend/request_body.h"
#include "tests/backend/request_checks.h"
#include "tests/backend/store.h"

namespace tsync::refserver {

struct ApiOptions {
  bool lifecycle_events = false;
  FaultRates faults;
  uint64_t seed = 1;
  double rate = 0;     // init/chunk/event requests/s per user; 0 = unlimited
  double burst = 2000;
  double ip_rate = 0;  // requests/s per remote address; 0 = unlimited
  double ip_burst = 200;
  int64_t max_chunks_per_file = 30'000;
};

class Api {
 public:
  Api(Store* store, ApiOptions options);
  void Register(httplib::Server* server);

 private:
  // routes.cc: shared plumbing
  httplib::Server::HandlerResponse PreRoute(const httplib::Request& req, httplib::Response& res);
  std::optional<User> Authenticate(const httplib::Request& req, httplib::Response& res);
  /// Decodes and parses the body; answers 400 itself and returns false.
  bool ParseBody(const httplib::Request& req, httplib::Response& res, size_t cap, simdjson::dom::parser* parser,
                 simdjson::dom::element* root);
  /// Session `id` owned by `user`; answers 404/403 itself otherwise.
  std::optional<SessionRef> OwnedSession(const std::string& id, const User& user, httplib::Response& res,
                                         bool not_found_for_others);
  std::string NewUuid();
  /// Answers 422 and counts the violation.
  void Violation(httplib::Response& res, const std::string& kind, const std::string& message);

  // sync_routes.cc
  void HandleInit(const httplib::Request& req, httplib::Response& res);
  void HandleChunk(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void HandleEvent(const httplib::Request& req, httplib::Response& res);
  bool ParseChunk(simdjson::dom::element root, ChunkScratch* scratch, ChunkRequest* chunk, httplib::Response& res);
  /// Joins the lines into scratch->lines, validating each in place.
  bool ParseChunkLines(simdjson::dom::element root, ChunkScratch* scratch, ChunkRequest* chunk,
                       httplib::Response& res);
  bool ParseChunkMetadata(simdjson::dom::element root, ChunkRequest* chunk, httplib::Response& res);
  /// Stores the chunk and writes the reply; true when the fault injector
  /// says this reply is to be lost.
  bool StoreChunk(httplib::Response& res, const ChunkRequest& chunk);

  // session_routes.cc
  void HandleSummary(const httplib::Request& req, httplib::Response& res);
  void HandleGithubLink(const httplib::Request& req, httplib::Response& res);
  void HandleByExternalId(const httplib::Request& req, httplib::Response& res);
  void HandleListFiles(const httplib::Request& req, httplib::Response& res);
  void HandleReadFile(const httplib::Request& req, httplib::Response& res);

  // account_routes.cc
  void HandleCapabilities(const httplib::Request& req, httplib::Response& res);
  void HandleValidate(const httplib::Request& req, httplib::Response& res);
  void HandleDeviceCode(const httplib::Request& req, httplib::Response& res);
  void HandleDeviceToken(const httplib::Request& req, httplib::Response& res);

  Store* store_;
  const ApiOptions options_;
  FaultInjector faults_;
  RateLimiter limiter_;     // per user
  RateLimiter ip_limiter_;  // per remote address
  Violations violations_;
  ScratchPool scratch_;

  std::mutex mu_;  // guards everything below
  std::mt19937_64 id_rng_;
  std::set<std::string> chunks_in_flight_;  // session_id + '\0' + file_name
  size_t peak_chunks_in_flight_ = 0;        // the most at once, any files (/debug/load)
  struct DeviceGrant {
    int polls = 0;
    bool issued = false;
  };
  std::map<std::string, DeviceGrant> device_grants_;
};

/// The unread body of a rejected request would be parsed as the next
/// request on a kept-alive connection, so rejections close it.
void CloseAfterReply(httplib::Response& res);
/// Parses a decoded body as a JSON object; answers 400 itself (and closes
/// the connection) when decoding failed or it is not one.
bool ParseDecoded(bool decoded_ok, const PaddedBuffer& decoded, httplib::Response& res,
                  simdjson::dom::parser* parser, simdjson::dom::element* root);
/// Writes `{"error": message}` with `status`.
void JsonError(httplib::Response& res, int status, const std::string& message);
/// Writes a text/plain body with `status`.
void TextError(httplib::Response& res, int status, const std::string& message);

}  // namespace tsync::refserver
