#include "uploader/sink.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace tsync::uploader {

Status Sink::AddGithubLink(const std::string& session_id, const GithubLink&) {
  return Status::InvalidInput("this destination keeps no GitHub links (session " + session_id +
                              "); they need a backend");
}

Status ValidateFileName(std::string_view name) {
  if (name.empty()) return Status::InvalidInput("file_name is empty");
  if (name.size() > kMaxFileNameBytes) {
    return Status::InvalidInput("file_name is " + std::to_string(name.size()) + " bytes, more than " +
                                std::to_string(kMaxFileNameBytes));
  }
  if (name.find("..") != std::string_view::npos) return Status::InvalidInput("file_name contains \"..\"");
  if (name.front() == '/') return Status::InvalidInput("file_name starts with '/'");
  if (name.find("//") != std::string_view::npos) return Status::InvalidInput("file_name contains \"//\"");
  if (name.find('\\') != std::string_view::npos) return Status::InvalidInput("file_name contains a backslash");
  if (name.find('\0') != std::string_view::npos) return Status::InvalidInput("file_name contains a NUL byte");
  if (name.back() == '/') return Status::InvalidInput("file_name ends with '/'");
  // "." components: "a/./b" and "./a" would name the same file as "a/b", "a".
  if (name == "." || name.starts_with("./") || name.ends_with("/.") ||
      name.find("/./") != std::string_view::npos) {
    return Status::InvalidInput("file_name contains a \".\" component");
  }
  return Status::Ok();
}

Status ValidateLine(std::string_view line) {
  // memchr is vectorised; find_first_of("\n\r") goes byte by byte.
  if (std::memchr(line.data(), '\n', line.size()) != nullptr ||
      std::memchr(line.data(), '\r', line.size()) != nullptr) {
    return Status::InvalidInput("a line contains a newline or carriage return");
  }
  return Status::Ok();
}

Status ValidateChunkRequest(const ChunkRequest& req) {
  if (Status st = ValidateFileName(req.file_name); !st.ok()) return st;
  if (req.lines.empty()) return Status::InvalidInput("lines must not be empty");
  if (req.first_line < 1 || req.first_line > kMaxLineNumber) {
    return Status::InvalidInput("first_line " + std::to_string(req.first_line) + " is outside 1.." +
                                std::to_string(kMaxLineNumber));
  }
  if (req.lines.size() > kMaxLineNumber - req.first_line + 1) {
    return Status::InvalidInput("the chunk would pass line " + std::to_string(kMaxLineNumber));
  }
  for (size_t i = 0; i < req.lines.size(); ++i) {
    if (Status st = ValidateLine(req.lines[i]); !st.ok()) {
      return Status::InvalidInput("line " + std::to_string(req.first_line + i) + " of " + req.file_name +
                                  " contains a newline or carriage return");
    }
  }
  if (req.summary && req.summary->size() > kMaxSummaryBytes) {
    return Status::InvalidInput("summary is longer than " + std::to_string(kMaxSummaryBytes) + " bytes");
  }
  if (req.first_user_message) {
    if (req.first_user_message->empty()) return Status::InvalidInput("first_user_message must not be empty");
    if (req.first_user_message->size() > kMaxFirstUserMessageBytes) {
      return Status::InvalidInput("first_user_message is longer than " + std::to_string(kMaxFirstUserMessageBytes) +
                                  " bytes");
    }
  }
  return Status::Ok();
}

Status ValidateProvider(std::string_view provider) {
  if (provider == "claude-code" || provider == "codex" || provider == "opencode" || provider == "cursor") {
    return Status::Ok();
  }
  return Status::InvalidInput("provider must be claude-code, codex, opencode or cursor");
}

Status ValidateSessionInfo(const SessionInfo& info) {
  if (Status st = ValidateProvider(info.provider); !st.ok()) return st;
  if (info.external_id.empty() || info.external_id.size() > kMaxExternalIdBytes) {
    return Status::InvalidInput("external_id must be 1-" + std::to_string(kMaxExternalIdBytes) + " bytes");
  }
  if (info.transcript_path.empty() || info.transcript_path.size() > kMaxTranscriptPathBytes) {
    return Status::InvalidInput("transcript_path must be 1-" + std::to_string(kMaxTranscriptPathBytes) + " bytes");
  }
  if (info.metadata_json.size() > kMaxSmallBodyBytes) return Status::InvalidInput("metadata is larger than 128 KiB");
  return MinifyJson(info.metadata_json, "metadata", /*must_be_object=*/true).status();
}

Status ValidateEvent(std::string_view event_type, std::string_view timestamp, std::string_view payload_json) {
  if (event_type.empty() || event_type.size() > 64 ||
      !std::all_of(event_type.begin(), event_type.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; })) {
    return Status::InvalidInput("event_type must be 1-64 characters of [a-z_]");
  }
  if (timestamp.empty() || timestamp.size() > 64 ||
      !std::all_of(timestamp.begin(), timestamp.end(), [](char c) { return c > ' ' && c < 0x7f; })) {
    return Status::InvalidInput("timestamp must be an RFC 3339 time");
  }
  if (payload_json.size() > kMaxSmallBodyBytes) return Status::InvalidInput("event payload is larger than 128 KiB");
  return MinifyJson(payload_json, "event payload", /*must_be_object=*/false).status();
}

Status ValidateSummary(std::string_view summary) {
  if (summary.size() > kMaxSummaryBytes) {
    return Status::InvalidInput("summary is longer than " + std::to_string(kMaxSummaryBytes) + " bytes");
  }
  return Status::Ok();
}

Result<std::string> MinifyJson(std::string_view json, std::string_view what, bool must_be_object) {
  simdjson::dom::parser parser;
  simdjson::dom::element el;
  if (auto err = parser.parse(json.data(), json.size()).get(el)) {
    return Status::InvalidInput(std::string(what) + " is not valid JSON: " + simdjson::error_message(err));
  }
  if (must_be_object && !el.is_object()) return Status::InvalidInput(std::string(what) + " must be a JSON object");
  return simdjson::minify(el);
}

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace tsync::uploader
