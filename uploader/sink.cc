#include "uploader/sink.h"

namespace tsync::uploader {

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
  if (line.find_first_of("\n\r") != std::string_view::npos) {
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
