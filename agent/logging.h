// Where tsync's diagnostics go: stderr, for the person at the terminal, and a
// rotating log file in the state dir (<state_dir>/logs/tsync.log, 5 MiB × 3,
// mode 0600), so what a detached watcher or a hook did can be read later and
// `tsync status` can point at it. Lines never carry payloads or secrets (byte
// counts only) — that is the callers' rule; this file only routes them.
// Colour on stderr only on a terminal, and never when NO_COLOR is set.
// The CLI gives stderr warnings and errors unless the user chose a level, and
// the file the configured level (info by default): a run's summary and
// recoveries are on record without cluttering the terminal.
// Thread-safety: call StartLogging/AddLogFile from main before other threads;
// spdlog's loggers are thread-safe afterwards.
#pragma once

#include <string>

#include "base/status.h"
#include "config/config.h"

namespace tsync::agent {

/// <state_dir>/logs/tsync.log
std::string LogFilePath(const std::string& state_dir);

/// Installs the default "tsync" logger writing to stderr at `level`.
void StartLogging(config::LogLevel level);

/// Changes what reaches stderr (the log file keeps its own level).
void SetStderrLevel(config::LogLevel level);

/// Adds the rotating log file under `state_dir` to the default logger,
/// recording `level` and above. kIo when the directory or file cannot be made
/// (the caller warns and goes on: a missing log file must not stop a sync).
Status AddLogFile(const std::string& state_dir, config::LogLevel level);

}  // namespace tsync::agent
