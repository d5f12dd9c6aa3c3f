// Lifecycle events beyond session_end: session_start, resume, compact and
// stop, mirrored only to a backend whose capabilities advertise
// `lifecycle_events` (PROTOCOL.md "POST /api/v1/sync/event": the Confab
// server answers 400 to any event_type but session_end).
//
// The hook records, the watcher sends. A hook must return in milliseconds
// (the user is waiting) and knows nothing of the backend's capabilities, so
// it only writes the event — its type, the time, the hook input as payload —
// as one small file
//   <state_dir>/lifecycle/<session id>/<unix ns, 20 digits>-<pid>.json
// (atomic rename, so a reader never sees half of one) and makes sure the
// session has a watcher. The watcher watches that directory with inotify and,
// once its session is initialised on the backend, sends the queued events in
// the order they happened and removes each file once the backend
// acknowledged it; events wait there while the backend is down (the watcher,
// or `tsync sync --pending`, sends them later, always before the session's
// session_end). A backend without the capability gets none: the watcher
// deletes them unsent. A configuration without a backend (the local
// archive) records none at all.
//
// Which hook makes which event (TRANSCRIPTS.md "Hooks"):
//   SessionStart source startup, clear, fork -> session_start (a new session
//                                                id; `source` is in the payload)
//   SessionStart source resume               -> resume
//   PreCompact (trigger manual | auto)       -> compact
//   Stop (after every turn)                  -> stop
// SessionStart with source compact fires after the compaction that
// PreCompact already reported, so it makes no second compact event.
//
// Payloads are redacted like transcript lines before they are sent: Stop's
// `last_assistant_message` is model output and may quote a secret. A payload
// over the event size cap keeps its small fields and names the others under
// "omitted" (PROTOCOL.md: event bodies <= 128 KiB).
// Thread-safety: free functions over files; the Sink and Redactor are shared.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/hook_input.h"
#include "base/status.h"
#include "redact/redactor.h"
#include "uploader/sink.h"

namespace tsync::agent {

/// The capability a backend advertises to receive the events below.
inline constexpr std::string_view kLifecycleCapability = "lifecycle_events";

/// The lifecycle event `in` maps to ("session_start", "resume", "compact",
/// "stop"), or "" for none.
std::string_view LifecycleEventFor(const HookInput& in);

/// <state_dir>/lifecycle/<session_id>
std::string LifecycleDir(const std::string& state_dir, const std::string& session_id);

/// Queues one event (timestamp: now, RFC 3339 UTC). Cheap: one small file,
/// no fsync (a lost lifecycle event after a power cut is acceptable).
Status RecordLifecycleEvent(const std::string& state_dir, const std::string& session_id,
                            std::string_view event_type, std::string_view payload_json);

/// How many events wait for `session_id`.
size_t QueuedLifecycleEvents(const std::string& state_dir, const std::string& session_id);

/// What a send did.
struct LifecycleSendResult {
  size_t sent = 0;
  size_t dropped = 0;  // refused for good by the backend, or unreadable
  Status status;       // not OK: a transient or auth failure; the rest wait
};

/// Sends the queued events of `session_id`, oldest first, to the backend
/// session `backend_session_id`, each payload redacted by `redactor`; an
/// acknowledged event is removed. A permanent refusal (kInvalidInput)
/// drops that event with a warning; any other failure stops, leaving it and
/// the later ones queued.
LifecycleSendResult SendLifecycleEvents(const std::string& state_dir, uploader::Sink& sink,
                                        const redact::Redactor& redactor, const std::string& session_id,
                                        const std::string& backend_session_id);

/// Deletes the queued events of `session_id` unsent (the backend does not
/// take them); returns how many.
size_t DropLifecycleEvents(const std::string& state_dir, const std::string& session_id);

/// Removes the session's event directory when it is empty (best effort).
void RemoveLifecycleDirIfEmpty(const std::string& state_dir, const std::string& session_id);

/// `payload_json` (any JSON) shrunk to fit an event body: itself when it is
/// at most `max_bytes`; else an object keeping each top-level field of at
/// most 4 KiB and listing the others under "omitted" (a non-object becomes
/// {"omitted":["payload"]}).
std::string FitEventPayload(std::string_view payload_json, size_t max_bytes);

}  // namespace tsync::agent
