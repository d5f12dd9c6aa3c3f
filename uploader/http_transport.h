// HttpTransport: the one place tsync talks HTTP, a thin layer over a single
// reused libcurl easy handle (so connections are kept alive between calls).
//
// What it guarantees, whoever calls it:
//  1) TLS verification is always on (peer and host); `ca_file` adds a CA
//     bundle. Plain http:// is refused unless the host is loopback or the
//     config sets allow_insecure_http (config/ validates this too; checking
//     again here is defence in depth, and happens before any connection).
//  2) Only http and https are spoken, redirects are never followed (the key
//     must not travel to another host), proxies come from the usual
//     environment variables (libcurl's default).
//  3) Headers: `Authorization: Bearer <key>` (omitted when there is no key),
//     `User-Agent: tsync/<version> (<os>; <arch>)`, `Content-Type:
//     application/json` on requests with a body, `Content-Encoding: zstd`
//     when the request asks for compression and the body is >= 1 KiB. No
//     Accept-Encoding is sent (PROTOCOL.md "Transport").
//  4) Timeouts: connect, stalled transfer (low-speed), and an overall limit
//     kept below the server's 30 s whole-request read timeout.
//  5) Neither the key nor a body ever reaches a log line or an error message;
//     logs carry method, path, status and byte counts.
// Thread-safety: one transport per thread; calls on one instance must not
// overlap.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/memory.h"
#include "base/status.h"

namespace tsync::uploader {

/// Bodies at least this large are zstd-compressed where the route allows it.
inline constexpr size_t kZstdMinBody = 1024;

struct TransportOptions {
  std::string backend_url;  // scheme://host[:port][/prefix], no trailing '/'
  std::string api_key;      // empty: no Authorization header
  std::string ca_file;      // extra CA bundle; empty: system store
  bool allow_insecure_http = false;
  /// zstd-compress bodies >= kZstdMinBody on routes that allow it.
  bool compress = true;
  std::string user_agent;   // full User-Agent value; see DefaultUserAgent()
  std::chrono::milliseconds connect_timeout{10'000};
  /// Whole request, upload and reply; below the server's 30 s read timeout.
  std::chrono::milliseconds request_timeout{25'000};
  /// A transfer slower than low_speed_bytes/s for this long is aborted.
  std::chrono::seconds low_speed_time{15};
  long low_speed_bytes = 1;
};

/// Receives one piece of a body written in pieces.
using BodyPiece = std::function<void(std::string_view)>;

struct HttpRequest {
  const char* method = "GET";  // GET, POST or PATCH
  std::string path;            // absolute path with query, already escaped
  std::optional<std::string> body;  // JSON; set for POST/PATCH
  bool allow_zstd = false;     // route accepts Content-Encoding: zstd
  /// Sent once, never retried from this request: Send() frees `body` as soon
  /// as it is compressed, so a 14 MiB chunk body and its zstd frame are not
  /// both held while the request is on the wire.
  bool single_use = false;
  /// Instead of `body`: a POST body of exactly `body_size` bytes, written in
  /// pieces. Compressed as it is written (a 14 MiB chunk is never held
  /// whole); gathered into `body` when it goes uncompressed.
  std::function<void(const BodyPiece&)> write_body{};
  size_t body_size = 0;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::optional<std::string> retry_after;  // raw header value
  size_t sent_bytes = 0;                    // request body bytes on the wire
  bool compressed = false;                  // the body went out as zstd
};

/// "tsync/<version> (<os>; <arch>)", os and arch from uname(2), lower-case os.
std::string DefaultUserAgent(std::string_view version);

/// kConfig when `url` is plain http:// to a non-loopback host and insecure
/// HTTP is not allowed, or is neither http nor https.
Status CheckBackendUrl(std::string_view url, bool allow_insecure_http);

/// Replaces every occurrence of `secret` in `text` (no-op for an empty secret).
std::string ScrubSecret(std::string text, std::string_view secret);

/// Versions of the transport's libraries for `tsync version`: libcurl, its
/// TLS library ("none" without one) and zstd.
struct TransportVersions {
  std::string curl, tls, zstd;
};
TransportVersions GetTransportVersions();

class HttpTransport {
 public:
  /// Validates the options (URL policy, key characters) and creates the handle.
  static Result<std::unique_ptr<HttpTransport>> Create(TransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Sends one request. OK with the response for any HTTP status; a
  /// kTransient Status when no reply arrived (connection refused, reset,
  /// timeout), kConfig for TLS verification or URL problems. Messages say
  /// what failed (libcurl's text), not the route, and never contain the key
  /// or the body.
  Result<HttpResponse> Send(HttpRequest& request);

  /// Percent-encodes one path segment or query value.
  std::string Escape(std::string_view text);

  const TransportOptions& options() const { return options_; }

 private:
  HttpTransport(TransportOptions options, void* curl);
  /// `request`'s body (or its streamed pieces) as one zstd frame in `frame`.
  Result<std::string_view> Compress(const HttpRequest& request, PooledBuffer* frame);

  TransportOptions options_;
  void* curl_;  // CURL*; kept opaque so curl.h stays inside uploader/*.cc
  void* zstd_ = nullptr;  // ZSTD_CCtx*, made on first use and reused
};

}  // namespace tsync::uploader
