// Mirroring the end of a session: the SessionEnd hook leaves a request (its
// payload and the time) in the watcher registry directory; whoever completes
// the session's final sync — its watcher, a detached final flush, or
// `tsync sync --pending` later — sends one `session_end` event with it and
// then removes the request.
//
// Once per end: the request is removed right after the backend acknowledged
// the event; only a crash in that instant can send it twice (the protocol
// has no way to ask whether an event arrived). Events are never sent before
// every line of the session is stored.
// Thread-safety: free functions over files; the Sink is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "uploader/sink.h"

namespace tsync::agent {

/// UTC now as RFC 3339 with milliseconds ("2026-11-21T10:00:00.123Z").
std::string NowRfc3339Utc();

/// Records the end request (payload: the hook input, minified JSON).
Status WriteEndRequest(const std::string& state_dir, const std::string& session_id, std::string_view payload_json);
bool HasEndRequest(const std::string& state_dir, const std::string& session_id);

/// Sends the pending end request of `session_id` (no-op when there is none)
/// to the session `backend_session_id` and removes it once acknowledged.
Status SendEndRequest(const std::string& state_dir, uploader::Sink& sink, const std::string& session_id,
                      const std::string& backend_session_id);

}  // namespace tsync::agent
