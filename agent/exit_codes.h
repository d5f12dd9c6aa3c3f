// Process exit codes of the tsync CLI, documented in README.md. Each means
// one thing a script (a CI job) can act on:
//   0  everything asked for was done (every file synced)
//   1  done in part: some files pending or quarantined, or a local failure
//      (disk, unreadable file); the report says which
//   2  usage or configuration error: bad flags, bad config, a session prefix
//      that matches nothing or too much, bad input — fix the command
//   3  authentication: the backend refused the key — run `tsync login`
//   4  the backend is unreachable (network, TLS-free transport errors, 5xx,
//      rate limits outlasting the retries) — try again later
#pragma once

#include "base/status.h"

namespace tsync::agent {

enum ExitCode : int {
  kExitOk = 0,
  kExitIncomplete = 1,
  kExitUsage = 2,
  kExitAuth = 3,
  kExitUnreachable = 4,
};

/// The exit code a failed Status maps to.
int ExitCodeFor(const Status& status);

}  // namespace tsync::agent
