// The tsync command line: parses arguments with CLI11, loads the
// configuration (config/), sets up logging, and runs one command.
// Returns the process exit code (agent/exit_codes.h). Output for people goes
// to stdout, diagnostics to stderr; --json output is one JSON document.
#pragma once

namespace tsync::agent {

int RunCli(int argc, char** argv);

}  // namespace tsync::agent
