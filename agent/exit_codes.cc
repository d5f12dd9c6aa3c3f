#include "agent/exit_codes.h"

namespace tsync::agent {

int ExitCodeFor(const Status& status) {
  switch (status.kind()) {
    case Status::Kind::kOk: return kExitOk;
    case Status::Kind::kInvalidInput: return kExitDataError;
    case Status::Kind::kConfig: return kExitConfig;
    case Status::Kind::kNotFound: return kExitNotFound;
    case Status::Kind::kTransient:
    case Status::Kind::kConflict: return kExitTempFail;
    case Status::Kind::kAuth: return kExitAuth;
    case Status::Kind::kIo:
    case Status::Kind::kCorrupt:
    case Status::Kind::kInternal: return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace tsync::agent
