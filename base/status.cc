#include "base/status.h"

#include <cstring>

namespace tsync {

Status Status::Errno(const std::string& what, int err) {
  return Status(Kind::kIo, what + ": " + std::strerror(err));
}

const char* Status::KindName(Kind kind) {
  switch (kind) {
    case Kind::kOk: return "ok";
    case Kind::kInvalidInput: return "invalid input";
    case Kind::kConfig: return "config error";
    case Kind::kNotFound: return "not found";
    case Kind::kIo: return "I/O error";
    case Kind::kCorrupt: return "corrupt state";
    case Kind::kConflict: return "conflict";
    case Kind::kTransient: return "temporary failure";
    case Kind::kAuth: return "authentication failed";
    case Kind::kInternal: return "internal error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(KindName(kind_)) + ": " + message_;
}

}  // namespace tsync
