// Process exit codes of the tsync CLI. Each means one thing a script or a
// person can act on; sysexits.h values where one fits.
#pragma once

#include "base/status.h"

namespace tsync::agent {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,      // something failed; the message says what
  kExitUsage = 64,       // bad command line (EX_USAGE)
  kExitDataError = 65,   // bad input data (EX_DATAERR)
  kExitNotFound = 66,    // a named session or file does not exist (EX_NOINPUT)
  kExitTempFail = 75,    // try again later: network, server, busy (EX_TEMPFAIL)
  kExitAuth = 77,        // log in again (EX_NOPERM)
  kExitConfig = 78,      // fix the configuration (EX_CONFIG)
};

/// The exit code a failed Status maps to.
int ExitCodeFor(const Status& status);

}  // namespace tsync::agent
