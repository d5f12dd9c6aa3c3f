// `tsync sync --pending`: retries the sessions of the pending queue
// (agent/pending_queue.h) and sends their pending session ends
// (agent/session_end.h). One run at a time; sessions with a live watcher are
// left to it. Run by a person it retries every session now, waiting for a
// run in progress. In the background (how hooks start it) it leaves at once
// when another run is in progress and retries only sessions whose backoff
// has passed.
#pragma once

#include <iosfwd>

#include "config/config.h"

namespace tsync::agent {

/// Exit 0 when the queue is empty afterwards, 1 when sessions remain
/// (waiting for their backoff or failed again), 3/4 for auth/unreachable.
int RunSyncPending(const config::Config& config, bool background, std::ostream& out);

}  // namespace tsync::agent
