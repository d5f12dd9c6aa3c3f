#include "agent/exit_codes.h"

namespace tsync::agent {

int ExitCodeFor(const Status& status) {
  switch (status.kind()) {
    case Status::Kind::kOk: return kExitOk;
    case Status::Kind::kInvalidInput:
    case Status::Kind::kConfig:
    case Status::Kind::kNotFound: return kExitUsage;
    case Status::Kind::kTransient: return kExitUnreachable;
    case Status::Kind::kAuth: return kExitAuth;
    case Status::Kind::kConflict:
    case Status::Kind::kIo:
    case Status::Kind::kCorrupt:
    case Status::Kind::kInternal: return kExitIncomplete;
  }
  return kExitIncomplete;
}

}  // namespace tsync::agent
