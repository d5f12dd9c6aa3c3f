#include "uploader/http_transport.h"

#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "uploader/curl_library.h"

namespace tsync::uploader {
namespace {

// zstd level 1: transcripts still shrink several-fold, and level 3 cost about
// twice the CPU per byte, which made compressing chunks the client's largest
// cost on fast links (bench/upload_bench: 0.55-0.8 s per 256 MiB at level 3).
constexpr int kZstdLevel = 1;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(std::string(s.substr(0, prefix.size()))) == prefix;
}

// Host part of an http(s) URL: after "scheme://" and any userinfo, before
// the port, path, query or fragment; IPv6 literals keep their brackets.
std::string HostOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (!rest.empty() && rest.front() == '[') return Lower(std::string(rest.substr(0, rest.find(']') + 1)));
  return Lower(std::string(rest.substr(0, rest.find(':'))));
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "[::1]") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return dots == 3;
}

/// The loaded library. Only for code that runs after HttpTransport::Create
/// succeeded, which loaded it.
const CurlLibrary& Curl() { return **LoadCurl(); }

struct Capture {
  std::string* body;
  HttpResponse* response;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* capture = static_cast<Capture*>(user);
  capture->body->append(data, size * count);
  return size * count;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Capture*>(user)->response;
  std::string_view line(data, size * count);
  // A new status line (after a 1xx) starts a fresh header block.
  if (line.rfind("HTTP/", 0) == 0) {
    response->retry_after.reset();
    response->content_type.clear();
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  const std::string name = Lower(std::string(line.substr(0, colon)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  if (name == "retry-after") response->retry_after = std::string(value);
  if (name == "content-type") response->content_type = Lower(std::string(value));
  return size * count;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { Curl().slist_free_all(list); }
  void Add(const std::string& header) { list = Curl().slist_append(list, header.c_str()); }
};

bool IsTlsFailure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
         code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_ISSUER_ERROR || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

// What the user must do about a TLS failure; libcurl's text only says what
// failed ("self-signed certificate", "no alternative certificate subject
// name matches ..."). Since curl 7.62 an unknown CA and a host-name mismatch
// are the same code, so the advice covers both.
std::string TlsAdvice(CURLcode code, const std::string& ca_file) {
  if (code == CURLE_SSL_CACERT_BADFILE) {
    return "TLS: cannot load ca_file '" + ca_file +
           "'; set ca_file to a readable PEM file with the backend's CA certificate";
  }
  const std::string failed = "TLS verification of the backend's certificate failed: it must name the host in "
                             "backend_url and be signed by a CA in ";
  if (ca_file.empty()) {
    return failed + "the system store; if the backend uses a private or self-signed CA, set ca_file to that CA's "
                    "PEM certificate";
  }
  return failed + "ca_file '" + ca_file + "' (or the system store); check that ca_file holds the PEM certificate "
                                          "of the CA that signed the backend's";
}

}  // namespace

std::string DefaultUserAgent(std::string_view version) {
  std::string os = "unknown";
  std::string arch = "unknown";
  utsname info{};
  if (uname(&info) == 0) {
    os = Lower(info.sysname);
    arch = info.machine;
  }
  return "tsync/" + std::string(version) + " (" + os + "; " + arch + ")";
}

Status CheckBackendUrl(std::string_view url, bool allow_insecure_http) {
  if (StartsWithNoCase(url, "https://")) return Status::Ok();
  if (!StartsWithNoCase(url, "http://")) {
    return Status::Config("backend URL must start with https:// (or http:// for a loopback host)");
  }
  const std::string host = HostOf(url);
  if (IsLoopbackHost(host) || allow_insecure_http) return Status::Ok();
  return Status::Config("refusing plain http:// to non-loopback host '" + host +
                        "': use https://, or set allow_insecure_http if you really mean it");
}

std::string ScrubSecret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "[redacted]");
    pos += 10;
  }
  return text;
}

Result<std::unique_ptr<HttpTransport>> HttpTransport::Create(TransportOptions options) {
  while (!options.backend_url.empty() && options.backend_url.back() == '/') options.backend_url.pop_back();
  if (options.backend_url.empty()) return Status::Config("no backend URL configured");
  if (Status s = CheckBackendUrl(options.backend_url, options.allow_insecure_http); !s.ok()) return s;
  // allow_insecure_http switches TLS off for the whole exchange: never silently.
  if (StartsWithNoCase(options.backend_url, "http://") && !IsLoopbackHost(HostOf(options.backend_url))) {
    spdlog::warn("sending to {} over plain http:// (allow_insecure_http is set): the API key and the transcripts "
                 "cross the network unencrypted and unauthenticated; use https:// unless this network is trusted",
                 HostOf(options.backend_url));
  }
  // The key goes into a header line: a CR, LF or other control byte would let
  // it inject headers, a space would break the Bearer syntax.
  for (char c : options.api_key) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return Status::Config("API key contains a space, control or non-ASCII character; set it again");
    }
  }
  if (options.user_agent.empty()) options.user_agent = DefaultUserAgent("0.0.0");
  Result<const CurlLibrary*> lib = LoadCurl();
  if (!lib.ok()) return lib.status();
  CURL* curl = (*lib)->easy_init();
  if (curl == nullptr) return Status::Internal("curl_easy_init failed");
  return std::unique_ptr<HttpTransport>(new HttpTransport(std::move(options), curl));
}

HttpTransport::HttpTransport(TransportOptions options, void* curl) : options_(std::move(options)), curl_(curl) {}

HttpTransport::~HttpTransport() {
  Curl().easy_cleanup(static_cast<CURL*>(curl_));
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_));
}

std::string HttpTransport::Escape(std::string_view text) {
  char* escaped = Curl().easy_escape(static_cast<CURL*>(curl_), text.data(), static_cast<int>(text.size()));
  if (escaped == nullptr) return std::string();
  std::string out(escaped);
  Curl().free(escaped);
  return out;
}

namespace {

// A streamed body that came to another size than announced: a bug in its
// writer (the size is computed apart from the bytes); nothing is sent.
Status StreamedSizeMismatch(size_t written, size_t announced) {
  return Status::Internal("the request body came to " + std::to_string(written) + " bytes where " +
                          std::to_string(announced) + " were announced; nothing was sent (a tsync bug: please report it)");
}

}  // namespace

Result<std::string_view> HttpTransport::Compress(const HttpRequest& request, PooledBuffer* frame) {
  if (zstd_ == nullptr) zstd_ = ZSTD_createCCtx();
  if (zstd_ == nullptr) return Status::Internal("zstd: out of memory creating a compression context");
  auto* z = static_cast<ZSTD_CCtx*>(zstd_);
  const bool streamed = !request.body;
  const size_t size = streamed ? request.body_size : request.body->size();
  // Room for the worst case, left uninitialised: only the pages the frame
  // fills are ever touched.
  const size_t bound = ZSTD_compressBound(size);
  *frame = PooledBuffer(bound);
  if (!streamed) {
    const size_t n = ZSTD_compressCCtx(z, frame->data(), bound, request.body->data(), size, kZstdLevel);
    if (ZSTD_isError(n)) return Status::Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    return std::string_view(frame->data(), n);
  }
  // A streamed body is compressed piece by piece as it is written. The size
  // is pledged and counted: a writer that strays from body_size fails here,
  // not on the server.
  ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
  ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, kZstdLevel);
  ZSTD_CCtx_setPledgedSrcSize(z, size);
  ZSTD_outBuffer out{frame->data(), bound, 0};
  const char* failed = nullptr;  // the first zstd error
  auto feed = [&](std::string_view piece, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{piece.data(), piece.size(), 0};
    for (;;) {
      const size_t left = ZSTD_compressStream2(z, &out, &in, mode);
      if (ZSTD_isError(left)) {
        failed = ZSTD_getErrorName(left);
        return;
      }
      const bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
      if (done) return;
      if (out.pos == out.size) {  // cannot happen with compressBound's room
        failed = "no room left in the frame";
        return;
      }
    }
  };
  size_t written = 0;
  request.write_body([&](std::string_view piece) {
    written += piece.size();
    if (failed == nullptr) feed(piece, ZSTD_e_continue);
  });
  if (written != size) {
    ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
    return StreamedSizeMismatch(written, size);
  }
  if (failed == nullptr) feed({}, ZSTD_e_end);
  if (failed != nullptr) {
    ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
    return Status::Internal(std::string("zstd compression failed: ") + failed);
  }
  return std::string_view(frame->data(), out.pos);
}

Result<HttpResponse> HttpTransport::Send(HttpRequest& request) {
  // Defence in depth: the URL policy is checked on every request, before
  // libcurl can open a connection.
  if (Status s = CheckBackendUrl(options_.backend_url, options_.allow_insecure_http); !s.ok()) return s;
  const CurlLibrary& lib = Curl();
  CURL* curl = static_cast<CURL*>(curl_);
  // Reset clears the options but keeps the connection cache (keep-alive).
  lib.easy_reset(curl);

  HttpResponse response;
  // The bytes on the wire: the caller's body itself, or its zstd frame in
  // an uninitialised buffer (a 14 MiB body is never copied or zero-filled).
  std::string_view wire_body;
  PooledBuffer compressed;
  HeaderList headers;
  if (!options_.api_key.empty()) headers.Add("Authorization: Bearer " + options_.api_key);
  headers.Add("User-Agent: " + options_.user_agent);
  // libcurl would otherwise wait for "100 Continue" before sending large bodies.
  headers.Add("Expect:");
  const bool streamed = !request.body && request.write_body;
  const bool compress = options_.compress && request.allow_zstd &&
                        (streamed ? request.body_size : request.body ? request.body->size() : 0) >= kZstdMinBody;
  if (streamed && !compress) {
    request.body.emplace();
    request.body->reserve(request.body_size);
    request.write_body([&request](std::string_view piece) { request.body->append(piece); });
    if (request.body->size() != request.body_size) return StreamedSizeMismatch(request.body->size(), request.body_size);
  }
  if (request.body || streamed) {
    headers.Add("Content-Type: application/json");
    if (request.body) wire_body = *request.body;
    if (compress) {
      Result<std::string_view> frame = Compress(request, &compressed);
      if (!frame.ok()) return frame.status();
      wire_body = *frame;
      headers.Add("Content-Encoding: zstd");
      response.compressed = true;
      if (request.single_use && request.body) std::string().swap(*request.body);
    }
  }
  response.sent_bytes = wire_body.size();

  const std::string url = options_.backend_url + request.path;
  char error[CURL_ERROR_SIZE] = {0};
  std::string body;
  Capture capture{&body, &response};
  lib.easy_setopt(curl, CURLOPT_URL, url.c_str());
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) lib.easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  lib.easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  lib.easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &capture);
  lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  lib.easy_setopt(curl, CURLOPT_HEADERDATA, &capture);
  const std::string method = request.method;
  if (request.body || streamed) {
    lib.easy_setopt(curl, CURLOPT_POST, 1L);
    lib.easy_setopt(curl, CURLOPT_POSTFIELDS, wire_body.data());
    lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(wire_body.size()));
    if (method != "POST") lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
  } else if (method != "GET") {
    lib.easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method);
  }

  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = lib.easy_perform(curl);
  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (code != CURLE_OK) {
    std::string what = error[0] != '\0' ? std::string(error) : std::string(lib.easy_strerror(code));
    while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.pop_back();
    what = ScrubSecret(std::move(what), options_.api_key);
    spdlog::debug("{} {}: no reply after {} ms ({} bytes sent): {}", method, request.path, elapsed_ms,
                  response.sent_bytes, what);
    const std::string& message = what;
    if (IsTlsFailure(code)) return Status::Config(message + " (" + TlsAdvice(code, options_.ca_file) + ")");
    if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) return Status::Config(message);
    return Status::Transient(message);
  }
  long status = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  response.body = std::move(body);
  spdlog::debug("{} {} -> {} in {} ms ({} bytes sent{}, {} received)", method, request.path, response.status,
                elapsed_ms, response.sent_bytes, response.compressed ? " zstd" : "", response.body.size());
  return response;
}

TransportVersions GetTransportVersions() {
  TransportVersions v;
  Result<const CurlLibrary*> lib = LoadCurl();
  if (!lib.ok()) {
    v.curl = v.tls = "not loaded: " + lib.status().message();
  } else {
    const curl_version_info_data* info = (*lib)->version_info(CURLVERSION_NOW);
    v.curl = info && info->version ? info->version : "unknown";
    v.tls = info && info->ssl_version ? info->ssl_version : "none";
  }
  v.zstd = ZSTD_versionString();
  return v;
}

}  // namespace tsync::uploader
