#include "uploader/sync_client.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

#include "base/json.h"
#include "base/memory.h"
#include "tracker/chunk_reader.h"

namespace tsync::uploader {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

constexpr size_t kMaxMessage = 300;
constexpr std::string_view kContiguityPrefix = "first_line must be ";

bool IsJson(const HttpResponse& r) {
  return r.content_type.find("json") != std::string::npos || (!r.body.empty() && r.body.front() == '{');
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// The server's human message: {"error": "..."} for handler errors, the
// text/plain body for auth, 415 and 429 (PROTOCOL.md "Transport").
std::string ServerMessage(const HttpResponse& r) {
  std::string message;
  if (IsJson(r)) {
    simdjson::dom::parser parser;
    std::string_view error;
    object obj;
    if (!parser.parse(r.body).get(obj) && !obj["error"].get_string().get(error)) message = std::string(error);
  }
  if (message.empty()) message = Trim(r.body.substr(0, std::min(r.body.size(), size_t{4096})));
  if (const size_t nl = message.find_first_of("\r\n"); nl != std::string::npos) message.resize(nl);
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  if (message.empty()) message = "HTTP " + std::to_string(r.status);
  return message;
}

// "first_line must be <N> (got <M>) - chunks must be contiguous" -> N.
std::optional<uint64_t> ExpectedFirstLine(std::string_view message) {
  const size_t at = message.find(kContiguityPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = message.substr(at + kContiguityPrefix.size());
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (ec != std::errc() || ptr == rest.data()) return std::nullopt;
  return n;
}

bool ParseObject(simdjson::dom::parser& parser, const std::string& body, object* out) {
  return !parser.parse(body).get(*out);
}

std::string Str(object obj, const char* key) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return std::string();
  return std::string(v);
}

}  // namespace

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "ok";
    case Outcome::kUnauthorized: return "unauthorized";
    case Outcome::kForbidden: return "forbidden";
    case Outcome::kNotFound: return "not found";
    case Outcome::kContiguity: return "contiguity conflict";
    case Outcome::kRateLimited: return "rate limited";
    case Outcome::kTransient: return "transient";
    case Outcome::kPermanent: return "rejected";
    case Outcome::kRefused: return "refused";
  }
  return "unknown";
}

Status ApiError::ToStatus() const {
  std::string text = std::string(OutcomeName(outcome)) + (route.empty() ? "" : " on " + route) + ": " + message;
  if (http_status != 0) text += " (HTTP " + std::to_string(http_status) + ")";
  switch (outcome) {
    case Outcome::kOk: return Status::Internal("ApiError with outcome ok");
    case Outcome::kUnauthorized:
    case Outcome::kForbidden: return Status::Auth(text + "; run `tsync login` or check the account");
    case Outcome::kNotFound: return Status::NotFound(text);
    case Outcome::kContiguity: return Status::Conflict(text);
    case Outcome::kRateLimited:
    case Outcome::kTransient: return Status::Transient(text).WithRetryAfter(retry_after);
    case Outcome::kPermanent: return Status::InvalidInput(text);
    case Outcome::kRefused: return Status::Config(text);
  }
  return Status::Internal(text);
}

std::string EncodeInitBody(const SessionInfo& info) {
  JsonWriter w;
  w.BeginObject();
  if (!info.provider.empty()) w.Key("provider").String(info.provider);
  w.Key("external_id").String(info.external_id);
  w.Key("transcript_path").String(info.transcript_path);
  w.Key("metadata").Raw(info.metadata_json.empty() ? std::string_view("{}") : std::string_view(info.metadata_json));
  w.EndObject();
  return w.Take();
}

namespace {

// Pieces of a streamed chunk body: big enough that a piece costs nothing per
// call, small enough to stay in the cache between the encoder and zstd.
constexpr size_t kBodyPiece = 256 * 1024;

/// A chunk body up to its lines: {"session_id":…,"first_line":N,"lines":
std::string ChunkHead(const ChunkRequest& request) {
  JsonWriter w;
  w.BeginObject();
  w.Key("session_id").String(request.session_id);
  w.Key("file_name").String(request.file_name);
  w.Key("file_type").String(tracker::FileTypeName(request.file_type));
  w.Key("first_line").UInt(request.first_line);
  w.Key("lines");
  return w.Take();
}

/// What follows the lines: the metadata, if any, and the closing brace.
std::string ChunkTail(const ChunkRequest& request) {
  std::string tail;
  if (request.summary || request.first_user_message) {
    JsonWriter w;
    w.BeginObject();
    if (request.summary) w.Key("summary").String(*request.summary);
    if (request.first_user_message) w.Key("first_user_message").String(*request.first_user_message);
    w.EndObject();
    tail = ",\"metadata\":" + w.Take();
  }
  tail.push_back('}');
  return tail;
}

size_t LinesSize(const ChunkRequest& request) {
  return request.lines_encoded_size ? request.lines_encoded_size : tracker::EncodedLinesSize(request.lines);
}

}  // namespace

size_t ChunkBodySize(const ChunkRequest& request) {
  return ChunkHead(request).size() + LinesSize(request) + ChunkTail(request).size();
}

namespace {

/// Gathers a body into pieces of about kBodyPiece bytes for a BodyPiece.
class PieceWriter {
 public:
  explicit PieceWriter(const BodyPiece& piece) : piece_(piece), buffer_(kCapacity) {}
  PieceWriter(const PieceWriter&) = delete;
  PieceWriter& operator=(const PieceWriter&) = delete;

  void Append(std::string_view bytes) {
    if (used_ + bytes.size() > kCapacity) Flush();
    if (bytes.size() > kCapacity) return piece_(bytes);
    std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
  }
  void Append(char c) { Append(std::string_view(&c, 1)); }
  /// `s` JSON-escaped, a segment at a time (escaping is byte by byte, so a
  /// cut anywhere is fine).
  void AppendEscaped(std::string_view s) {
    while (!s.empty()) {
      const std::string_view segment = s.substr(0, kSegment);
      if (used_ + JsonEscapeRoom(segment.size()) > kCapacity) Flush();
      used_ += WriteJsonEscaped(buffer_.data() + used_, segment);
      s.remove_prefix(segment.size());
    }
  }
  /// Hands over the gathered bytes once they make a piece.
  void FlushIfFull() {
    if (used_ >= kBodyPiece) Flush();
  }
  void Flush() {
    if (used_ > 0) piece_(std::string_view(buffer_.data(), used_));
    used_ = 0;
  }

 private:
  static constexpr size_t kSegment = 16 * 1024;
  static constexpr size_t kCapacity = kBodyPiece + JsonEscapeRoom(kSegment);

  const BodyPiece& piece_;
  PooledBuffer buffer_;  // uninitialised; only used_ bytes are written
  size_t used_ = 0;
};

}  // namespace

void WriteChunkBody(const ChunkRequest& request, const BodyPiece& piece) {
  PieceWriter out(piece);
  out.Append(ChunkHead(request));
  out.Append('[');
  for (size_t i = 0; i < request.lines.size(); ++i) {
    if (i > 0) out.Append(',');
    out.Append('"');
    out.AppendEscaped(request.lines[i]);
    out.Append('"');
    out.FlushIfFull();
  }
  out.Append(']');
  out.Append(ChunkTail(request));
  out.Flush();
}

std::string EncodeChunkBody(const ChunkRequest& request) {
  std::string body;
  body.reserve(ChunkBodySize(request));
  WriteChunkBody(request, [&body](std::string_view bytes) { body.append(bytes); });
  return body;
}

Result<std::unique_ptr<SyncClient>> SyncClient::Create(const config::Config& config, SyncClientOptions options) {
  TransportOptions t;
  t.backend_url = config.backend_url;
  t.api_key = config.api_key;
  t.ca_file = config.ca_file;
  t.allow_insecure_http = config.allow_insecure_http;
  t.compress = options.compress;
  t.user_agent = DefaultUserAgent(options.version);
  t.connect_timeout = options.connect_timeout;
  t.request_timeout = options.request_timeout;
  t.low_speed_time = options.low_speed_time;
  auto transport = HttpTransport::Create(std::move(t));
  if (!transport.ok()) return transport.status();
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options.random_unit) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    options.random_unit = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  }
  if (!options.now) options.now = [] { return std::chrono::system_clock::now(); };
  return std::unique_ptr<SyncClient>(new SyncClient(std::move(transport.value()), std::move(options)));
}

SyncClient::SyncClient(std::unique_ptr<HttpTransport> transport, SyncClientOptions options)
    : transport_(std::move(transport)), options_(std::move(options)) {}

ApiError SyncClient::Classify(const HttpResponse& response) const {
  ApiError e;
  e.http_status = response.status;
  e.message = ScrubSecret(ServerMessage(response), transport_->options().api_key);
  if (response.retry_after) e.retry_after = ParseRetryAfter(*response.retry_after, options_.now());
  const int s = response.status;
  if (s == 401) {
    e.outcome = Outcome::kUnauthorized;
  } else if (s == 403) {
    e.outcome = Outcome::kForbidden;
  } else if (s == 404) {
    e.outcome = Outcome::kNotFound;
  } else if (s == 429) {
    e.outcome = Outcome::kRateLimited;
  } else if (s >= 500 || s == 408) {
    e.outcome = Outcome::kTransient;
  } else if (auto expected = s == 400 ? ExpectedFirstLine(e.message) : std::nullopt) {
    e.outcome = Outcome::kContiguity;
    e.expected_first_line = *expected;
  } else if (s >= 400) {
    e.outcome = Outcome::kPermanent;
  } else {
    // 1xx/3xx: redirects are never followed (the key must not move hosts).
    e.outcome = Outcome::kRefused;
    e.message = "unexpected HTTP " + std::to_string(s) + " (redirects are not followed)";
  }
  return e;
}

ApiError SyncClient::BadReply(const HttpRequest& request, std::string_view what) const {
  ApiError e;
  e.outcome = Outcome::kRefused;
  e.http_status = 200;
  e.route = std::string(request.method) + " " + request.path.substr(0, request.path.find('?'));
  e.message = "unusable reply: " + std::string(what);
  return e;
}

ApiResult<HttpResponse> SyncClient::Call(HttpRequest request, bool retry) {
  const RetryPolicy& policy = options_.retry;
  if (request.single_use) retry = false;  // its body is gone after the first attempt
  for (int attempt = 1;; ++attempt) {
    auto sent = transport_->Send(request);
    ApiError error;
    if (sent.ok()) {
      if (sent->status >= 200 && sent->status < 300) return std::move(sent.value());
      error = Classify(*sent);
    } else {
      error.outcome = sent.status().kind() == Status::Kind::kTransient ? Outcome::kTransient : Outcome::kRefused;
      error.message = sent.status().message();
    }
    error.attempts = attempt;
    error.route = std::string(request.method) + " " + request.path.substr(0, request.path.find('?'));
    const bool retryable = error.outcome == Outcome::kTransient || error.outcome == Outcome::kRateLimited;
    if (!retry || !retryable || attempt >= policy.max_attempts) return error;
    // A Retry-After longer than the cap is not waited out inside one call:
    // the caller gets it and schedules the retry.
    if (error.retry_after && *error.retry_after > policy.cap) return error;
    const auto delay = error.retry_after ? *error.retry_after : BackoffDelay(policy, attempt - 1, options_.random_unit());
    options_.sleep(delay);
  }
}

ApiResult<Capabilities> SyncClient::GetCapabilities() {
  HttpRequest req{"GET", "/api/v1/capabilities", std::nullopt, false};
  auto r = Call(req, true);
  Capabilities caps;
  if (!r.ok()) {
    if (r.outcome() == Outcome::kNotFound) return caps;  // an older server: all false
    return r.error();
  }
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  for (auto field : obj) {
    bool value = false;
    if (!field.value.get_bool().get(value)) caps.flags[std::string(field.key)] = value;
  }
  return caps;
}

ApiResult<AuthInfo> SyncClient::ValidateAuth() {
  HttpRequest req{"GET", "/api/v1/auth/validate", std::nullopt, false};
  auto r = Call(req, true);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  bool valid = false;
  if (obj["valid"].get_bool().get(valid) || !valid) return BadReply(req, "\"valid\" is not true");
  AuthInfo info;
  if (obj["user_id"].get_int64().get(info.user_id)) return BadReply(req, "no integer user_id");
  info.email = Str(obj, "email");
  std::string_view name;
  if (!obj["name"].get_string().get(name)) info.name = std::string(name);
  return info;
}

ApiResult<DeviceCode> SyncClient::RequestDeviceCode(std::string_view key_name) {
  JsonWriter w;
  w.BeginObject().Key("key_name").String(key_name).EndObject();
  HttpRequest req{"POST", "/auth/device/code", w.Take(), false};
  auto r = Call(req, false);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  DeviceCode code;
  code.device_code = Str(obj, "device_code");
  code.user_code = Str(obj, "user_code");
  code.verification_uri = Str(obj, "verification_uri");
  if (obj["expires_in"].get_int64().get(code.expires_in)) code.expires_in = 300;
  if (obj["interval"].get_int64().get(code.interval) || code.interval <= 0) code.interval = 5;
  if (code.device_code.empty() || code.user_code.empty() || code.verification_uri.empty()) {
    return BadReply(req, "missing device_code, user_code or verification_uri");
  }
  return code;
}

ApiResult<DeviceToken> SyncClient::PollDeviceToken(std::string_view device_code) {
  JsonWriter w;
  w.BeginObject().Key("device_code").String(device_code).EndObject();
  HttpRequest req{"POST", "/auth/device/token", w.Take(), false};
  auto r = Call(req, false);
  DeviceToken token;
  if (!r.ok()) {
    const ApiError& e = r.error();
    using S = DeviceToken::State;
    const std::string& m = e.message;
    if (e.http_status == 400 && m == "authorization_pending") token.state = S::kPending;
    else if (e.http_status == 400 && m == "slow_down") token.state = S::kSlowDown;
    else if (e.http_status == 400 && m == "expired_token") token.state = S::kExpired;
    else if (e.http_status == 400 && (m == "invalid_grant" || m == "invalid_request")) token.state = S::kInvalid;
    else if (e.http_status == 403 && m == "access_denied") token.state = S::kDenied;
    else if (e.http_status == 409) token.state = S::kKeyLimit;
    else return e;
    return token;
  }
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  token.access_token = Str(obj, "access_token");
  if (token.access_token.empty()) return BadReply(req, "no access_token");
  token.state = DeviceToken::State::kGranted;
  return token;
}

ApiResult<InitResult> SyncClient::Init(const SessionInfo& info) {
  HttpRequest req{"POST", "/api/v1/sync/init", EncodeInitBody(info), true};
  auto r = Call(std::move(req), true);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  HttpRequest what{"POST", "/api/v1/sync/init", std::nullopt, true};
  if (!ParseObject(parser, r->body, &obj)) return BadReply(what, "not a JSON object");
  InitResult reply;
  reply.session_id = Str(obj, "session_id");
  if (reply.session_id.empty()) return BadReply(what, "no session_id");
  object files;
  if (!obj["files"].get_object().get(files)) {
    for (auto field : files) {
      uint64_t n = 0;
      object file;
      if (field.value.get_object().get(file) || file["last_synced_line"].get_uint64().get(n)) {
        return BadReply(what, "files entry without last_synced_line");
      }
      reply.last_synced_line[std::string(field.key)] = n;
    }
  }
  return reply;
}

ApiResult<ChunkReply> SyncClient::SendChunk(const ChunkRequest& request) {
  const size_t size = ChunkBodySize(request);
  if (size > kMaxChunkBodyBytes) {
    // The server would read all of it and answer 400; say so without sending.
    ApiError e;
    e.outcome = Outcome::kPermanent;
    e.attempts = 0;
    e.route = "POST /api/v1/sync/chunk";
    e.message = "the chunk body is " + std::to_string(size) + " bytes, over the " +
                std::to_string(kMaxChunkBodyBytes) + "-byte cap; send fewer lines per chunk";
    return e;
  }
  // Encoded while it is compressed (the transport asks for the pieces).
  HttpRequest req{"POST", "/api/v1/sync/chunk", std::nullopt, true, /*single_use=*/true};
  req.write_body = [&request](const BodyPiece& piece) { WriteChunkBody(request, piece); };
  req.body_size = size;
  auto r = Call(std::move(req), false);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  ChunkReply reply;
  HttpRequest what{"POST", "/api/v1/sync/chunk", std::nullopt, true};
  if (!ParseObject(parser, r->body, &obj) || obj["last_synced_line"].get_uint64().get(reply.last_synced_line)) {
    return BadReply(what, "no last_synced_line");
  }
  return reply;
}

ApiResult<Done> SyncClient::SendEvent(const EventRequest& request) {
  JsonWriter w;
  w.BeginObject();
  w.Key("session_id").String(request.session_id);
  w.Key("event_type").String(request.event_type);
  w.Key("timestamp").String(request.timestamp);
  w.Key("payload").Raw(request.payload_json.empty() ? std::string_view("{}") : request.payload_json);
  w.EndObject();
  auto r = Call(HttpRequest{"POST", "/api/v1/sync/event", w.Take(), true}, false);
  if (!r.ok()) return r.error();
  return Done{};
}

ApiResult<Done> SyncClient::UpdateSummary(std::string_view external_id, std::string_view summary) {
  JsonWriter w;
  w.BeginObject().Key("summary").String(summary).EndObject();
  // Never zstd: PROTOCOL.md "The summary PATCH must never be compressed".
  auto r = Call(HttpRequest{"PATCH", "/api/v1/sessions/" + transport_->Escape(external_id) + "/summary", w.Take(),
                            false},
                true);
  if (!r.ok()) return r.error();
  return Done{};
}

ApiResult<GithubLinkReply> SyncClient::AddGithubLink(std::string_view session_id, const GithubLink& link) {
  JsonWriter w;
  w.BeginObject();
  w.Key("url").String(link.url);
  if (!link.title.empty()) w.Key("title").String(link.title);
  w.Key("source").String(link.source);
  if (!link.link_type.empty()) w.Key("link_type").String(link.link_type);
  w.EndObject();
  HttpRequest req{"POST", "/api/v1/sessions/" + transport_->Escape(session_id) + "/github-links", w.Take(), false};
  auto r = Call(req, true);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  return GithubLinkReply{Str(obj, "link_type"), Str(obj, "url"), Str(obj, "owner"), Str(obj, "repo"), Str(obj, "ref")};
}

ApiResult<std::string> SyncClient::FindSession(std::string_view external_id) {
  HttpRequest req{"GET", "/api/v1/sessions/by-external-id/" + transport_->Escape(external_id), std::nullopt, false};
  auto r = Call(req, true);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  if (!ParseObject(parser, r->body, &obj)) return BadReply(req, "not a JSON object");
  std::string id = Str(obj, "session_id");
  if (id.empty()) return BadReply(req, "no session_id");
  return id;
}

ApiResult<std::vector<RemoteFile>> SyncClient::ListFiles(std::string_view session_id) {
  HttpRequest req{"GET", "/api/v1/sessions/" + transport_->Escape(session_id) + "/files", std::nullopt, false};
  auto r = Call(req, true);
  if (!r.ok()) return r.error();
  simdjson::dom::parser parser;
  object obj;
  simdjson::dom::array files;
  if (!ParseObject(parser, r->body, &obj) || obj["files"].get_array().get(files)) {
    return BadReply(req, "no files array");
  }
  std::vector<RemoteFile> out;
  for (element e : files) {
    object f;
    RemoteFile file;
    if (e.get_object().get(f) || f["last_synced_line"].get_uint64().get(file.last_synced_line)) {
      return BadReply(req, "files entry without last_synced_line");
    }
    file.file_name = Str(f, "file_name");
    file.file_type = Str(f, "file_type");
    file.updated_at = Str(f, "updated_at");
    out.push_back(std::move(file));
  }
  return out;
}

ApiResult<std::string> SyncClient::ReadFile(std::string_view session_id, std::string_view file_name,
                                            uint64_t line_offset) {
  HttpRequest req{"GET",
                  "/api/v1/sessions/" + transport_->Escape(session_id) + "/sync/file?file_name=" +
                      transport_->Escape(file_name) + "&line_offset=" + std::to_string(line_offset),
                  std::nullopt, false};
  auto r = Call(std::move(req), true);
  if (!r.ok()) return r.error();
  return std::move(r.value().body);
}

}  // namespace tsync::uploader
