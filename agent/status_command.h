// `tsync status`: is tsync set up and healthy, and what is left to do?
//
// Shows the config in use (its file, where the backend URL and key came
// from, the key masked), whether the destination is usable (a backend:
// reachable, and the key valid; an archive: a writable directory), redaction
// on or off with its rule count, the sessions on disk by local sync state with
// every pending and quarantined file, and the log file. It never sends
// session data. Watchers are added with live sync (hooks). With --session
// it shows one session's files instead (agent/session_status.h).
//
// Exit codes (agent/exit_codes.h): 0 healthy; 1 some file is quarantined
// (it needs a person); 2 config or usage error (including custom redaction
// rules that do not compile); 3 the backend refused the key or none is set;
// 4 the backend is unreachable.
#pragma once

#include <iosfwd>
#include <string>

#include "config/config.h"

namespace tsync::agent {

struct StatusArgs {
  std::string to;  // the destination to check; default: the configured one
  bool json = false;
  /// A session id prefix: per-file stats of that session instead
  /// (agent/session_status.h).
  std::string session;
};

int RunStatus(const config::LoadedConfig& loaded, const StatusArgs& args, std::ostream& out);

}  // namespace tsync::agent
