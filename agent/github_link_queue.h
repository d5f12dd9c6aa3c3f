// The queue of GitHub links waiting to be sent for a session
// (agent/github_links.h finds them):
// 1) Queued, never sent by the hook, which must stay fast and never fail the
//    tool call: <dest_dir>/github-links/<session_id>.jsonl, one link a line,
//    appended under flock. The session's engine drains it after each pass that
//    reached the backend (agent/pass_follow_up.h) — after the session's init,
//    so links found before the session exists there wait for it.
// 2) Drained by one process at a time (<session_id>.drain, flocked for the
//    drain), without being emptied first: a link leaves the queue only once
//    it was sent, dropped for a logged reason or found sent before, when the
//    queue is rewritten atomically under its lock with what was kept and what
//    the hook appended meanwhile. A drain killed midway loses nothing.
// 3) Sent once per (session, URL): <session_id>.sent beside the queue lists
//    the URLs the backend acknowledged, and a hook's repeat is dropped (the
//    server would upsert it — and overwrite a manual link's source). Links
//    with source "manual" (`tsync link`) are always sent.
// Titles are redacted like all metadata before they are sent. Logs never
// carry URLs or titles.
// Thread-safety: free functions; the queue files are locked for each access.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/github_links.h"
#include "base/status.h"
#include "redact/redactor.h"
#include "uploader/sink.h"

namespace tsync::agent {

/// <dest_dir>/github-links
std::string GithubLinkDir(const std::string& dest_dir);

/// Appends `links` to the session's queue (0600).
Status QueueGithubLinks(const std::string& dest_dir, const std::string& session_id,
                        const std::vector<uploader::GithubLink>& links);

/// Links waiting in the session's queue (for `tsync status --session`).
size_t QueuedGithubLinkCount(const std::string& dest_dir, const std::string& session_id);

/// Remembers that the backend holds `url` for the session.
void RecordSentGithubLink(const std::string& dest_dir, const std::string& session_id, const std::string& url);

struct LinkSendResult {
  size_t sent = 0;
  size_t skipped = 0;  // already sent before
  size_t kept = 0;     // left queued for a later pass
  size_t dropped = 0;  // refused by the backend, or given up on
};

/// Drains the session's queue into `sink` (`backend_session_id` from Init):
/// sent links are remembered; a refused one (kInvalidInput) is dropped; on
/// kNotFound a link is kept for 5 tries, on other failures it is kept (for 50
/// tries) and the rest wait for the next pass; every drop is logged. Waits
/// for another drain of the session to end. Cheap when the queue is empty
/// (one stat).
LinkSendResult SendQueuedGithubLinks(const std::string& dest_dir, const std::string& session_id,
                                     const std::string& backend_session_id, uploader::Sink& sink,
                                     const redact::Redactor& redactor);

}  // namespace tsync::agent
