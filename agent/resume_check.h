// The check behind a rescan: is the file still the one the backend holds?
//
// A file is resumed by rescanning — counting the backend's last_synced_line
// lines into the local file — when there is no checkpoint for it, or one
// that disagrees with the backend's count (tracker/session_tracker.h). Change
// detection needs the checkpoint's identity and fingerprints, so without
// them a file that was replaced meanwhile (rewritten, recreated, truncated
// and grown back) looked like a file that had grown: its first lines were
// never sent and the rest were appended after the old file's lines. That
// happens whenever the checkpoint could not be written (a full disk, found by
// the file-event matrix, tests/file_events_test.cc) or was lost, and after a
// crash between a new generation's first acknowledgement and its checkpoint.
//
// So a rescan to line N > 0 is trusted only when the backend's line N is the
// local line N (as a sync would send it: read by the chunk reader, equal up
// to redaction markers). One read-back request, and only on this rare path.
// Thread-safety: a free function; the Sink and Redactor are thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "redact/redactor.h"
#include "tracker/chunk_reader.h"
#include "tracker/tracked_file.h"
#include "uploader/sink.h"

namespace tsync::agent {

enum class ResumePoint {
  kAgrees,   // the backend's last line is the local line of that number
  kDiffers,  // another file: the backend's lines are not this file's
  kUnknown,  // could not tell (read-back failed, file unreadable): trust the count
};

/// Compares the backend's line `count` of `file` (its current file_name, in
/// backend session `session_id`) with the local line `count`.
ResumePoint CheckResumePoint(uploader::Sink& sink, const std::string& session_id, const tracker::TrackedFile& file,
                             uint64_t count, const redact::Redactor& redactor, const tracker::ChunkOptions& options);

}  // namespace tsync::agent
