// SyncClient: tsync's client for a Confab-compatible sync backend, one
// method per endpoint of PROTOCOL.md, over one kept-alive HTTP connection
// (uploader/http_transport.h has the transport and security guarantees).
//
// Every call returns an ApiResult<T>: the decoded reply, or an ApiError whose
// Outcome says what the caller must do:
//   kUnauthorized   401: the key is missing/invalid        -> log in again
//   kForbidden      403: deactivated account, another user's session
//   kNotFound       404: unknown session (or route)
//   kContiguity     400 "first_line must be N (got M) ..."; expected_first_line = N
//   kRateLimited    429; retry_after when the server sent Retry-After
//   kTransient      5xx, connection errors, timeouts       -> try again later
//   kPermanent      any other 4xx; message = the server's message
//   kRefused        the client would not send (insecure URL, TLS verification
//                   failure, an unusable reply to a 2xx)  -> fix config / report
// ApiError::ToStatus() maps these onto base/status.h kinds (kAuth, kNotFound,
// kConflict, kTransient, kInvalidInput, kConfig).
//
// Retries happen inside the client only where repeating is harmless: the
// GETs, /sync/init (an upsert that returns the server's line counts), the
// summary PATCH (last write wins) and the github-links POST (upsert). They
// retry kTransient and kRateLimited with full-jitter backoff, honouring
// Retry-After, at most RetryPolicy::max_attempts times per call; a
// Retry-After longer than RetryPolicy::cap is not waited out but returned
// (ApiError::retry_after) for the caller to schedule.
// /sync/chunk, /sync/event and device login are sent exactly once: a chunk
// whose reply was lost may have been stored, and the server rejects a resend
// as a contiguity error (PROTOCOL.md /sync/chunk). After any failed chunk the
// *engine* calls Init() again and resumes at files[name] + 1. (libcurl itself
// re-sends a request once when a *reused* connection turns out dead before
// any reply; for a chunk whose reply was lost that resend meets the same
// contiguity answer, so it is harmless.)
//
// Messages never contain the API key (it is scrubbed even if a server echoes
// it) nor request bodies; server messages are truncated to 300 bytes.
// Thread-safety: not thread-safe; use one SyncClient per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "uploader/http_transport.h"
#include "uploader/retry.h"
#include "uploader/sink.h"

namespace tsync::uploader {

enum class Outcome {
  kOk,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kContiguity,
  kRateLimited,
  kTransient,
  kPermanent,
  kRefused,
};
const char* OutcomeName(Outcome outcome);

/// Why a call did not succeed.
struct ApiError {
  Outcome outcome = Outcome::kTransient;
  int http_status = 0;          // 0 when no reply arrived
  std::string message;          // server message or transport error; no secrets
  uint64_t expected_first_line = 0;                     // kContiguity only
  std::optional<std::chrono::milliseconds> retry_after;  // when the server sent one
  int attempts = 1;             // requests made for this call
  std::string route;            // "POST /api/v1/sync/chunk" (no query), for messages

  Status ToStatus() const;
};

/// A decoded reply or an ApiError.
template <typename T>
class ApiResult {
 public:
  ApiResult(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  ApiResult(ApiError error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  Outcome outcome() const { return ok() ? Outcome::kOk : error_.outcome; }
  /// Meaningful only when !ok().
  const ApiError& error() const { return error_; }
  Status status() const { return ok() ? Status::Ok() : error_.ToStatus(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

/// Reply of calls that return nothing of interest.
struct Done {};

/// GET /api/v1/capabilities. A 404 (older server) is all-false, not an error.
struct Capabilities {
  std::map<std::string, bool> flags;  // every boolean the server sent
  bool Has(const std::string& name) const {
    auto it = flags.find(name);
    return it != flags.end() && it->second;
  }
};

/// GET /api/v1/auth/validate.
struct AuthInfo {
  int64_t user_id = 0;
  std::string email;
  std::optional<std::string> name;
};

/// POST /auth/device/code.
struct DeviceCode {
  std::string device_code;
  std::string user_code;
  std::string verification_uri;
  int64_t expires_in = 0;
  int64_t interval = 5;
};

/// POST /auth/device/token: the states the server reports as 200/400/403/409.
struct DeviceToken {
  enum class State { kGranted, kPending, kSlowDown, kDenied, kExpired, kInvalid, kKeyLimit };
  State state = State::kPending;
  std::string access_token;  // kGranted only; never log it
};

struct ChunkReply {
  uint64_t last_synced_line = 0;
};

struct EventRequest {
  std::string session_id;
  std::string event_type = "session_end";
  std::string timestamp;     // RFC 3339 with zone
  std::string payload_json;  // encoded JSON; empty sends {}
};

struct GithubLinkReply {
  std::string link_type;
  std::string url;
  std::string owner;
  std::string repo;
  std::string ref;
};

struct RemoteFile {
  std::string file_name;
  std::string file_type;
  uint64_t last_synced_line = 0;
  std::string updated_at;
};

/// The exact /sync/chunk body. Its size is the envelope plus
/// tracker::EncodedLinesSize(lines) (lines written with base/json.h).
std::string EncodeChunkBody(const ChunkRequest& request);
/// The size of EncodeChunkBody(request), without writing it.
size_t ChunkBodySize(const ChunkRequest& request);
/// Writes the same bytes as EncodeChunkBody in pieces of about 256 KiB, so a
/// chunk can be compressed as it is encoded and never held whole.
void WriteChunkBody(const ChunkRequest& request, const BodyPiece& piece);
/// The /sync/init body; `info.metadata_json` is written as it is (empty: {}).
std::string EncodeInitBody(const SessionInfo& info);

struct SyncClientOptions {
  std::string version = "0.0.0";   // for the User-Agent
  /// zstd for /sync/* bodies >= 1 KiB (PROTOCOL.md); off only for servers
  /// that answer 415 to it, and in tests.
  bool compress = true;
  RetryPolicy retry;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{25'000};
  std::chrono::seconds low_speed_time{15};
  /// Sleeps between retries; tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Uniform in [0, 1) for the jitter; default: a seeded std::mt19937_64.
  std::function<double()> random_unit;
  /// Wall clock for HTTP-date Retry-After values.
  std::function<std::chrono::system_clock::time_point()> now;
};

class SyncClient {
 public:
  /// kConfig when the config has no backend, an insecure URL or a bad key.
  static Result<std::unique_ptr<SyncClient>> Create(const config::Config& config, SyncClientOptions options = {});

  ApiResult<Capabilities> GetCapabilities();
  ApiResult<AuthInfo> ValidateAuth();
  ApiResult<DeviceCode> RequestDeviceCode(std::string_view key_name);
  ApiResult<DeviceToken> PollDeviceToken(std::string_view device_code);
  ApiResult<InitResult> Init(const SessionInfo& info);
  /// Sent once, never retried here (see the header comment). The request is
  /// sent as it is; uploader/sync_sink.h validates before sending.
  ApiResult<ChunkReply> SendChunk(const ChunkRequest& request);
  /// Sent once: events are not idempotent.
  ApiResult<Done> SendEvent(const EventRequest& request);
  ApiResult<Done> UpdateSummary(std::string_view external_id, std::string_view summary);
  ApiResult<GithubLinkReply> AddGithubLink(std::string_view session_id, const GithubLink& link);
  /// Server session UUID for an external id.
  ApiResult<std::string> FindSession(std::string_view external_id);
  ApiResult<std::vector<RemoteFile>> ListFiles(std::string_view session_id);
  /// The stored lines after `line_offset`, each followed by '\n'.
  ApiResult<std::string> ReadFile(std::string_view session_id, std::string_view file_name, uint64_t line_offset);

 private:
  SyncClient(std::unique_ptr<HttpTransport> transport, SyncClientOptions options);

  /// One request, classified; `retry` enables the backoff loop.
  ApiResult<HttpResponse> Call(HttpRequest request, bool retry);
  ApiError Classify(const HttpResponse& response) const;
  ApiError BadReply(const HttpRequest& request, std::string_view what) const;

  std::unique_ptr<HttpTransport> transport_;
  SyncClientOptions options_;
};

}  // namespace tsync::uploader
