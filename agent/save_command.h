// `tsync save`: sync chosen sessions to the configured sink (the backend, or
// the local archive by default), print a per-session report, and exit with a
// code a CI job can act on (agent/exit_codes.h).
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine.h"
#include "agent/session_scan.h"
#include "config/config.h"
#include "uploader/sink.h"
#include "uploader/sync_client.h"

namespace tsync::agent {

struct SaveArgs {
  std::vector<std::string> prefixes;
  bool all = false;
  std::string since;    // "5d", "12h", "30m"; empty: no limit
  std::string project;  // a project directory; empty: every project
  std::string to;       // a backend URL or an archive directory for this run
  int jobs = 1;
  bool json = false;
  bool dry_run = false;
};

/// "30m", "12h", "5d", "2w" -> a duration; kInvalidInput otherwise.
Result<std::chrono::seconds> ParseAge(std::string_view text);

/// The sessions `args` selects, most recently active last.
Result<std::vector<SessionRef>> SelectForSave(const config::Config& config, const SaveArgs& args);

/// Where a run sends to: the sink, its display name, and the checkpoint
/// directory that belongs to it (checkpoints are per destination).
struct Destination {
  std::unique_ptr<uploader::Sink> sink;
  std::string display;         // the URL or the archive directory
  std::string checkpoint_dir;  // <state_dir>/dest-<hash>
  bool backend = false;
  bool workflow_files = true;  // the backend's capabilities allow workflow files
  bool lifecycle_events = false;  // the backend takes session_start, resume, compact, stop (agent/lifecycle_events.h)
};
/// Which destination a run uses: `to` (a URL or a directory), else the
/// configured backend, else the configured archive directory.
struct DestinationName {
  bool backend = false;
  std::string location;  // the validated URL or the absolute archive directory
};
Result<DestinationName> ResolveDestination(const config::Config& config, const std::string& to);

/// <state_dir>/dest-<hash of the destination's location>.
std::string CheckpointDirFor(const config::Config& config, const std::string& display);
/// `client` tunes the backend client (retries, sleeps); its version is set here.
Result<Destination> OpenDestination(const config::Config& config, const std::string& to,
                                    uploader::SyncClientOptions client = {});

/// The exit code for a set of session reports.
int ExitCodeForReports(const std::vector<SessionReport>& reports);

std::string SaveReportText(const std::vector<SessionReport>& reports, const Destination& dest);
std::string SaveReportJson(const std::vector<SessionReport>& reports, const Destination& dest);

int RunSave(const config::Config& config, const SaveArgs& args, std::ostream& out);

}  // namespace tsync::agent
