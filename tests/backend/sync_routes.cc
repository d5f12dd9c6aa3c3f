// POST /api/v1/sync/init, /sync/chunk, /sync/event (PROTOCOL.md "Endpoints").
#include <string>

#include "base/json.h"
#include "tests/backend/routes.h"

namespace tsync::refserver {
namespace {

using httplib::Request;
using httplib::Response;
using simdjson::dom::element;

/// Optional string member: absent or null -> *out untouched, true.
/// Present but not a string -> false.
bool OptionalString(element obj, const char* key, std::string* out, bool* present = nullptr) {
  if (present) *present = false;
  element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return false;
  out->assign(s);
  if (present) *present = true;
  return true;
}

std::string FirstLineMessage(int64_t expected, int64_t actual) {
  return "first_line must be " + std::to_string(expected) + " (got " + std::to_string(actual) +
         ") - chunks must be contiguous";
}

bool KnownProvider(const std::string& p) {
  return p == "claude-code" || p == "codex" || p == "opencode" || p == "cursor";
}

/// Validates init's metadata object; returns the problem or "".
std::string MetadataProblem(element meta, std::string* cwd) {
  if (meta.is_null()) return "";
  if (!meta.is_object()) return "metadata must be an object";
  std::string hostname, username;
  if (!OptionalString(meta, "cwd", cwd) || cwd->size() > 8192) return "metadata.cwd exceeds 8192 bytes";
  if (!OptionalString(meta, "hostname", &hostname) || hostname.size() > 255) {
    return "metadata.hostname exceeds 255 bytes";
  }
  if (!OptionalString(meta, "username", &username) || username.size() > 255) {
    return "metadata.username exceeds 255 bytes";
  }
  element git;
  if (meta["git_info"].get(git) == simdjson::SUCCESS) return GitInfoProblem(git);
  return "";
}

/// Checks init's required fields; returns the problem or "".
std::string InitProblem(element root, InitRequest* init, bool* provider_present) {
  if (!OptionalString(root, "provider", &init->provider, provider_present) ||
      (*provider_present && !KnownProvider(init->provider))) {
    return "invalid provider";
  }
  if (!*provider_present) init->provider = "claude-code";
  if (!OptionalString(root, "external_id", &init->external_id) || init->external_id.empty()) {
    return "external_id is required";
  }
  if (init->external_id.size() > 512) return "external_id exceeds 512 bytes";
  if (!OptionalString(root, "transcript_path", &init->transcript_path) || init->transcript_path.empty()) {
    return "transcript_path is required";
  }
  if (init->transcript_path.size() > 8192) return "transcript_path exceeds 8192 bytes";
  element meta;
  if (root["metadata"].get(meta) != simdjson::SUCCESS) return "";
  std::string problem = MetadataProblem(meta, &init->cwd);
  if (problem.empty() && !meta.is_null()) init->metadata_json = simdjson::minify(meta);
  return problem;
}

}  // namespace

void Api::HandleInit(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  simdjson::dom::parser parser;
  element root;
  if (!user || !ParseBody(req, res, kSmallBodyCap, &parser, &root)) return;
  InitRequest init;
  init.user_id = user->id;
  init.metadata_json = "{}";
  bool provider_present = false;
  if (std::string problem = InitProblem(root, &init, &provider_present); !problem.empty()) {
    return JsonError(res, 400, problem);
  }
  Result<std::string> id = store_->InitSession(init, NewUuid());
  if (!id.ok()) return JsonError(res, 500, "Internal server error");
  JsonWriter w;
  w.BeginObject().Key("session_id").String(*id).Key("provider").String(init.provider).Key("files").BeginObject();
  for (const FileState& f : store_->ListFiles(*id)) {
    w.Key(f.file_name).BeginObject().Key("last_synced_line").Int(f.last_synced_line).EndObject();
  }
  w.EndObject().EndObject();
  res.set_content(w.Take(), "application/json");
}

bool Api::ParseChunkLines(element root, ChunkRequest* chunk, Response& res) {
  simdjson::dom::array lines;
  if (root["lines"].get(lines) != simdjson::SUCCESS || lines.size() == 0) {
    JsonError(res, 400, "lines must be a non-empty array");
    return false;
  }
  for (element v : lines) {
    std::string_view line;
    if (v.get(line) != simdjson::SUCCESS) {
      JsonError(res, 400, "lines must be strings");
      return false;
    }
    // Stricter than Confab, which would silently split such lines.
    if (line.find_first_of("\r\n") != std::string_view::npos) {
      Violation(res, "line_newline", "line " + std::to_string(chunk->first_line + chunk->lines.size()) +
                                         " contains a newline or carriage return");
      return false;
    }
    if (!line.empty() && !IsJsonDocument(line)) {
      Violation(res, "line_not_json",
                "line " + std::to_string(chunk->first_line + chunk->lines.size()) + " is not valid JSON");
      return false;
    }
    chunk->lines.emplace_back(line);
  }
  return true;
}

bool Api::ParseChunkMetadata(element root, ChunkRequest* chunk, Response& res) {
  element meta;
  if (root["metadata"].get(meta) != simdjson::SUCCESS || meta.is_null()) return true;
  if (!meta.is_object()) {
    JsonError(res, 400, "metadata must be an object");
    return false;
  }
  if (chunk->file_type != "transcript") return true;  // PROTOCOL.md: only honoured on transcript chunks
  std::string summary, first;
  bool has_summary = false, has_first = false;
  element git;
  std::string problem;
  if (!OptionalString(meta, "summary", &summary, &has_summary) || summary.size() > 2048) {
    problem = "metadata.summary exceeds 2048 bytes";
  } else if (!OptionalString(meta, "first_user_message", &first, &has_first) || first.size() > 8192) {
    problem = "metadata.first_user_message exceeds 8192 bytes";
  } else if (meta["git_info"].get(git) == simdjson::SUCCESS) {
    problem = GitInfoProblem(git);
  }
  if (!problem.empty()) {
    JsonError(res, 400, problem);
    return false;
  }
  if (has_summary) chunk->summary = summary;
  if (has_first && !first.empty()) chunk->first_user_message = first;
  return true;
}

bool Api::ParseChunk(element root, ChunkRequest* chunk, Response& res) {
  if (!OptionalString(root, "file_name", &chunk->file_name) || chunk->file_name.empty()) {
    JsonError(res, 400, "file_name is required");
    return false;
  }
  if (std::string problem = FileNameProblem(chunk->file_name); !problem.empty()) {
    Violation(res, "bad_file_name", problem);
    return false;
  }
  if (!OptionalString(root, "file_type", &chunk->file_type) || chunk->file_type.empty()) {
    JsonError(res, 400, "file_type is required");
    return false;
  }
  const std::string& t = chunk->file_type;
  if (t != "transcript" && t != "agent" && t != "workflow_journal") {
    Violation(res, "unknown_file_type", "unknown file_type: " + t.substr(0, 50));
    return false;
  }
  int64_t first_line = 0;
  if (root["first_line"].get(first_line) != simdjson::SUCCESS || first_line < 1 || first_line > 99'999'999) {
    JsonError(res, 400, "first_line must be a positive integer");
    return false;
  }
  chunk->first_line = first_line;
  return ParseChunkLines(root, chunk, res) && ParseChunkMetadata(root, chunk, res);
}

void Api::HandleChunk(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  simdjson::dom::parser parser;
  element root;
  if (!user || !ParseBody(req, res, kChunkBodyCap, &parser, &root)) return;
  ChunkRequest chunk;
  OptionalString(root, "session_id", &chunk.session_id);  // not a string: stays "", so 404
  if (!OwnedSession(chunk.session_id, *user, res, false) || !ParseChunk(root, &chunk, res)) return;
  // PROTOCOL.md: "keep at most one chunk in flight per file"; the real
  // server has no lock, so an overlap here is a client bug.
  std::string key = chunk.session_id + '\0' + chunk.file_name;
  {
    std::lock_guard lock(mu_);
    if (!chunks_in_flight_.insert(key).second) {
      return Violation(res, "concurrent_chunk", "another chunk for " + chunk.file_name + " is in flight");
    }
  }
  faults_.Delay();
  const bool lose_reply = StoreChunk(res, chunk);
  {
    std::lock_guard lock(mu_);
    chunks_in_flight_.erase(key);
  }
  // "Stored, reply lost": the chunk has committed and is no longer in
  // flight, so a client that re-inits at once and goes on is not a violation.
  if (lose_reply && AbortConnection(req)) res.status = 500;  // never reaches the client
}

bool Api::StoreChunk(Response& res, const ChunkRequest& chunk) {
  Result<ChunkOutcome> outcome = store_->AppendChunk(chunk);
  if (!outcome.ok()) {
    JsonError(res, 500, "Internal server error");
    return false;
  }
  if (!outcome->contiguous) {
    JsonError(res, 400, FirstLineMessage(outcome->expected_first_line, chunk.first_line));
    return false;
  }
  JsonWriter w;
  w.BeginObject().Key("last_synced_line").Int(outcome->last_synced_line).EndObject();
  res.set_content(w.Take(), "application/json");
  return faults_.ShouldDropAfterCommit();
}

void Api::HandleEvent(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  simdjson::dom::parser parser;
  element root;
  if (!user || !ParseBody(req, res, kSmallBodyCap, &parser, &root)) return;
  std::string session_id, type, timestamp;
  OptionalString(root, "session_id", &session_id);  // not a string: stays "", so 404
  if (!OwnedSession(session_id, *user, res, false)) return;
  OptionalString(root, "event_type", &type);
  bool type_ok = type == "session_end" || (options_.lifecycle_events && !type.empty() && type.size() <= 50);
  if (!type_ok) {
    return JsonError(res, 400, options_.lifecycle_events ? "invalid event_type"
                                                         : "invalid event_type: must be 'session_end'");
  }
  if (!OptionalString(root, "timestamp", &timestamp) || !IsRfc3339(timestamp)) {
    return JsonError(res, 400, "invalid timestamp: must be RFC 3339 with a time zone");
  }
  element payload;
  std::string payload_json = "null";
  if (root["payload"].get(payload) == simdjson::SUCCESS) payload_json = simdjson::minify(payload);
  if (!store_->AddEvent(session_id, type, timestamp, payload_json).ok()) {
    return JsonError(res, 500, "Internal server error");
  }
  res.set_content("{\"success\":true}", "application/json");
}

}  // namespace tsync::refserver
