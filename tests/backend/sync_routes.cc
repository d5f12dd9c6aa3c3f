// POST /api/v1/sync/init, /sync/chunk, /sync/event (PROTOCOL.md "Endpoints").
#include <algorithm>
#include <cstring>
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

/// Confab says "File has too many chunks (limit: 30000). Consider starting a
/// new session."; this one also names the file, cut to a readable length at
/// a UTF-8 boundary (clients show at most a few hundred bytes of a message).
std::string TooManyChunksMessage(std::string_view file_name, int64_t limit) {
  constexpr size_t kMaxName = 120;
  std::string name(file_name.substr(0, kMaxName));
  if (file_name.size() > kMaxName) {
    while (!name.empty() && (static_cast<unsigned char>(name.back()) & 0xC0) == 0x80) name.pop_back();
    if (!name.empty() && (static_cast<unsigned char>(name.back()) & 0x80) != 0) name.pop_back();  // cut lead byte
    name += "...";
  }
  return "File " + name + " has too many chunks (limit: " + std::to_string(limit) +
         "). Consider starting a new session.";
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

bool Api::ParseChunkLines(element root, ChunkScratch* scratch, ChunkRequest* chunk, Response& res) {
  simdjson::dom::array lines;
  if (root["lines"].get(lines) != simdjson::SUCCESS || lines.size() == 0) {
    JsonError(res, 400, "lines must be a non-empty array");
    return false;
  }
  // Every line is at least 3 bytes shorter unescaped than in the body
  // (quotes, comma), so joined with '\n' they fit in the body's size.
  PaddedBuffer& joined = scratch->lines;
  joined.Clear();
  joined.Reserve(scratch->body.size());
  int64_t count = 0;
  for (element v : lines) {
    std::string_view line;
    if (v.get(line) != simdjson::SUCCESS) {
      JsonError(res, 400, "lines must be strings");
      return false;
    }
    const int64_t line_no = chunk->first_line + count;
    // Stricter than Confab, which would silently split such lines.
    if (std::memchr(line.data(), '\n', line.size()) != nullptr ||
        std::memchr(line.data(), '\r', line.size()) != nullptr) {
      Violation(res, "line_newline", "line " + std::to_string(line_no) + " contains a newline or carriage return");
      return false;
    }
    if (count > 0) joined.Append('\n');
    const size_t start = joined.size();
    joined.Append(line.data(), line.size());
    // Validated where it now lies: the joined buffer keeps simdjson's padding.
    if (!line.empty() && !IsJsonDocumentPadded(scratch->line_parser, joined.data() + start, line.size())) {
      Violation(res, "line_not_json", "line " + std::to_string(line_no) + " is not valid JSON");
      return false;
    }
    ++count;
  }
  chunk->lines = joined.view();
  chunk->line_count = count;
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

bool Api::ParseChunk(element root, ChunkScratch* scratch, ChunkRequest* chunk, Response& res) {
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
  return ParseChunkLines(root, scratch, chunk, res) && ParseChunkMetadata(root, chunk, res);
}

void Api::HandleChunk(const Request& req, Response& res, const httplib::ContentReader& reader) {
  ScratchPool::Lease scratch = scratch_.Take();
  // The whole body is read before anything is answered, so a kept-alive
  // connection never sees the rest of it as the next request.
  BodyDecoder decoder(req.get_header_value("Content-Encoding") == "zstd", kChunkBodyCap,
                      static_cast<size_t>(req.get_header_value<uint64_t>("Content-Length")), &scratch->body);
  const bool received = reader([&](const char* data, size_t n) {
    decoder.Feed(data, n);
    return true;
  });
  const bool decoded = decoder.Finish() && received;
  std::optional<User> user = Authenticate(req, res);
  element root;
  if (!user || !ParseDecoded(decoded, scratch->body, res, &scratch->body_parser, &root)) return;
  ChunkRequest chunk;
  OptionalString(root, "session_id", &chunk.session_id);  // not a string: stays "", so 404
  if (!OwnedSession(chunk.session_id, *user, res, false) || !ParseChunk(root, scratch.get(), &chunk, res)) return;
  // PROTOCOL.md: "keep at most one chunk in flight per file"; the real
  // server has no lock, so an overlap here is a client bug.
  std::string key = chunk.session_id + '\0' + chunk.file_name;
  {
    std::lock_guard lock(mu_);
    if (!chunks_in_flight_.insert(key).second) {
      return Violation(res, "concurrent_chunk", "another chunk for " + chunk.file_name + " is in flight");
    }
    peak_chunks_in_flight_ = std::max(peak_chunks_in_flight_, chunks_in_flight_.size());
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
  Result<ChunkOutcome> outcome = store_->AppendChunk(chunk, options_.max_chunks_per_file);
  if (!outcome.ok()) {
    JsonError(res, 500, "Internal server error");
    return false;
  }
  if (outcome->kind == ChunkOutcome::Kind::kNotContiguous) {
    JsonError(res, 400, FirstLineMessage(outcome->expected_first_line, chunk.first_line));
    return false;
  }
  if (outcome->kind == ChunkOutcome::Kind::kTooManyChunks) {
    JsonError(res, 400, TooManyChunksMessage(chunk.file_name, options_.max_chunks_per_file));
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
