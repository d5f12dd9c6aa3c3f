#include "tests/backend/routes.h"

#include <algorithm>
#include <cstdio>

#include "base/json.h"

namespace tsync::refserver {
namespace {

using httplib::Request;
using httplib::Response;
using HandlerResponse = httplib::Server::HandlerResponse;

constexpr std::string_view kApiPrefix = "/api/v1/";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

/// PROTOCOL.md "Request compression": only these accept Content-Encoding: zstd.
bool AcceptsZstd(const std::string& path) {
  return path == "/api/v1/sync/init" || path == "/api/v1/sync/chunk" || path == "/api/v1/sync/event";
}

bool IsSummaryRoute(const std::string& path) {
  return StartsWith(path, "/api/v1/sessions/") && EndsWith(path, "/summary");
}

/// Scratch memory kept for /sync/chunk: enough for `tsync save --jobs 4`.
constexpr size_t kKeptScratches = 4;

}  // namespace

void CloseAfterReply(Response& res) { res.set_header("Connection", "close"); }

void JsonError(Response& res, int status, const std::string& message) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, message);
  body += '}';
  res.status = status;
  res.set_content(body, "application/json");
}

void TextError(Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(message, "text/plain");
}

Api::Api(Store* store, ApiOptions options)
    : store_(store),
      options_(options),
      faults_(options.faults, options.seed),
      limiter_(options.rate, options.burst),
      ip_limiter_(options.ip_rate, options.ip_burst),
      scratch_(kKeptScratches, kChunkBodyCap),
      id_rng_(std::random_device{}()) {}

void Api::Register(httplib::Server* s) {
  auto bind = [this](void (Api::*fn)(const Request&, Response&)) {
    return [this, fn](const Request& req, Response& res) { (this->*fn)(req, res); };
  };
  s->set_pre_routing_handler([this](const Request& req, Response& res) { return PreRoute(req, res); });
  s->Get("/api/v1/capabilities", bind(&Api::HandleCapabilities));
  s->Get("/api/v1/auth/validate", bind(&Api::HandleValidate));
  s->Post("/api/v1/sync/init", bind(&Api::HandleInit));
  s->Post("/api/v1/sync/chunk", [this](const Request& req, Response& res, const httplib::ContentReader& reader) {
    HandleChunk(req, res, reader);
  });
  s->Post("/api/v1/sync/event", bind(&Api::HandleEvent));
  s->Get(R"(/api/v1/sessions/by-external-id/(.+))", bind(&Api::HandleByExternalId));
  s->Patch(R"(/api/v1/sessions/(.+)/summary)", bind(&Api::HandleSummary));
  s->Post(R"(/api/v1/sessions/([^/]+)/github-links)", bind(&Api::HandleGithubLink));
  s->Get(R"(/api/v1/sessions/([^/]+)/files)", bind(&Api::HandleListFiles));
  s->Get(R"(/api/v1/sessions/([^/]+)/sync/file)", bind(&Api::HandleReadFile));
  s->Post("/auth/device/code", bind(&Api::HandleDeviceCode));
  s->Post("/auth/device/token", bind(&Api::HandleDeviceToken));
  s->Get("/debug/violations", [this](const Request&, Response& res) {
    res.set_content(violations_.ToJson(), "application/json");
  });
  s->Get("/debug/faults", [this](const Request&, Response& res) {
    res.set_content(faults_.ToJson(), "application/json");
  });
  s->Get("/debug/load", [this](const Request&, Response& res) {
    std::lock_guard lock(mu_);
    res.set_content("{\"peak_chunks_in_flight\":" + std::to_string(peak_chunks_in_flight_) + "}", "application/json");
  });
}

HandlerResponse Api::PreRoute(const Request& req, Response& res) {
  if (StartsWith(req.path, "/debug/")) return HandlerResponse::Unhandled;  // test introspection, never limited
  // Confab's global limiter runs before everything else, per client IP.
  if (!ip_limiter_.Allow(req.remote_addr)) {
    faults_.Count("ip_429");
    CloseAfterReply(res);
    TextError(res, 429, "Too Many Requests");
    return HandlerResponse::Handled;
  }
  if (!StartsWith(req.path, kApiPrefix) || req.path == "/api/v1/capabilities") return HandlerResponse::Unhandled;
  bool writes = req.method == "POST" || req.method == "PATCH";
  if (writes) {
    // PROTOCOL.md "Transport": the Content-Type check runs before auth.
    if (req.get_header_value("Content-Type") != "application/json") {
      CloseAfterReply(res);
      TextError(res, 415, "Content-Type must be application/json");
      return HandlerResponse::Handled;
    }
    if (req.has_header("Content-Encoding")) {
      std::string enc = req.get_header_value("Content-Encoding");
      if (enc == "zstd" && IsSummaryRoute(req.path)) violations_.Count("zstd_on_summary");
      if (enc != "zstd" || !AcceptsZstd(req.path)) {
        CloseAfterReply(res);
        TextError(res, 415, "Unsupported Content-Encoding");
        return HandlerResponse::Handled;
      }
    }
  }
  std::optional<User> user = Authenticate(req, res);
  if (!user) {
    CloseAfterReply(res);
    return HandlerResponse::Handled;
  }
  if (AcceptsZstd(req.path) && !limiter_.Allow("user:" + std::to_string(user->id))) {
    faults_.Count("user_429");
    CloseAfterReply(res);
    TextError(res, 429, "Too Many Requests");
    return HandlerResponse::Handled;
  }
  if (!writes) {
    if (req.method == "GET" && faults_.ShouldFailRead()) {
      TextError(res, 503, "Service Unavailable (injected fault)");
      return HandlerResponse::Handled;
    }
    return HandlerResponse::Unhandled;
  }
  if (faults_.ShouldFail()) {
    CloseAfterReply(res);
    TextError(res, 503, "Service Unavailable (injected fault)");
    return HandlerResponse::Handled;
  }
  if (faults_.ShouldReset() && AbortConnection(req)) {
    res.status = 500;  // never reaches the client
    return HandlerResponse::Handled;
  }
  if (req.path != "/api/v1/sync/chunk") faults_.Delay();  // chunk delays while marked in flight
  return HandlerResponse::Unhandled;
}

std::optional<User> Api::Authenticate(const Request& req, Response& res) {
  if (!req.has_header("Authorization")) {
    TextError(res, 401, "Missing Authorization header");
    return std::nullopt;
  }
  std::string auth = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view token = std::string_view(auth).substr(std::min(auth.size(), kScheme.size()));
  if (!StartsWith(auth, kScheme) || token.empty() || token.find(' ') != std::string_view::npos) {
    TextError(res, 401, "Invalid Authorization header format");
    return std::nullopt;
  }
  std::optional<User> user = store_->UserForKey(std::string(token));
  if (!user) TextError(res, 401, "Invalid API key");
  return user;
}

bool Api::ParseBody(const Request& req, Response& res, size_t cap, simdjson::dom::parser* parser,
                    simdjson::dom::element* root) {
  PaddedBuffer decoded;
  BodyDecoder decoder(req.get_header_value("Content-Encoding") == "zstd", cap, req.body.size(), &decoded);
  decoder.Feed(req.body.data(), req.body.size());
  return ParseDecoded(decoder.Finish(), decoded, res, parser, root);
}

bool ParseDecoded(bool decoded_ok, const PaddedBuffer& decoded, Response& res, simdjson::dom::parser* parser,
                  simdjson::dom::element* root) {
  // PROTOCOL.md "Size caps": over the cap is 400 (not 413) and the
  // connection is closed; so is a body that is not a JSON object.
  if (!decoded_ok || parser->parse(decoded.data(), decoded.size(), false).get(*root) != simdjson::SUCCESS ||
      !root->is_object()) {
    CloseAfterReply(res);
    JsonError(res, 400, "Invalid request body");
    return false;
  }
  return true;
}

std::optional<SessionRef> Api::OwnedSession(const std::string& id, const User& user, Response& res,
                                            bool not_found_for_others) {
  std::optional<SessionRef> session;
  if (IsUuid(id)) session = store_->FindSession(id);
  if (!session || (not_found_for_others && session->user_id != user.id)) {
    JsonError(res, 404, "Session not found");
    return std::nullopt;
  }
  if (session->user_id != user.id) {
    JsonError(res, 403, "Access denied");
    return std::nullopt;
  }
  return session;
}

std::string Api::NewUuid() {
  uint64_t hi, lo;
  {
    std::lock_guard lock(mu_);
    hi = id_rng_();
    lo = id_rng_();
  }
  hi = (hi & ~0xF000ull) | 0x4000ull;                  // version 4
  lo = (lo & ~(0xC0ull << 56)) | (0x80ull << 56);       // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

void Api::Violation(Response& res, const std::string& kind, const std::string& message) {
  violations_.Count(kind);
  JsonError(res, 422, message);
}

}  // namespace tsync::refserver
