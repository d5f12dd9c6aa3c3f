// `tsync status --session <id-prefix>`: one session's sync state per file,
// from the numbers the engine keeps for a destination — no connection is
// made:
//  - lines synced: the checkpoint's acknowledged line count (the backend's
//    last_synced_line as of the last acknowledgement);
//  - last upload: when the file last had lines acknowledged
//    (agent/pass_follow_up.h upload times), else the checkpoint's write time;
//  - pending lines: complete lines on disk past the checkpoint (a file that
//    shrank or was replaced counts whole: it syncs as a new generation), and
//    the bytes of an unterminated last line, which waits for its newline;
//  - the live watcher, if any; GitHub links queued; summaries waiting for it.
// Exit codes: 0 every file synced, 1 something pending or quarantined (or the
// session never synced to this destination), 2 a bad prefix or destination.
// Thread-safety: a free function.
#pragma once

#include <iosfwd>
#include <string>

#include "config/config.h"

namespace tsync::agent {

struct SessionStatusArgs {
  std::string prefix;
  std::string to;  // the destination; default: the configured one
  bool json = false;
};

int RunSessionStatus(const config::Config& config, const SessionStatusArgs& args, std::ostream& out);

}  // namespace tsync::agent
