// The pending queue: sessions whose data could not be sent (the backend was
// down, the final flush ran out of time), so nothing is lost when a watcher
// gives up. One file per session under <state_dir>/pending/, written
// atomically (0600):
//   {"session_id","project_dir","transcript_path","attempts","next_attempt"}
// `tsync sync --pending` (which every hook starts in the background while the
// queue is not empty) and `tsync save` retry them, with exponential backoff
// per session (30 s doubling, at most 1 h between attempts); an entry leaves
// the queue when its session synced completely.
// Thread-safety: free functions over files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/session_scan.h"
#include "base/status.h"

namespace tsync::agent {

struct PendingEntry {
  SessionRef session;
  uint32_t attempts = 0;     // failed retries so far
  int64_t next_attempt = 0;  // unix seconds
};

std::string PendingDir(const std::string& state_dir);

/// Records (or keeps) the session as pending; a new entry is due at once.
Status AddPending(const std::string& state_dir, const SessionRef& session);
/// Records a failed retry: attempts + 1, next attempt after the backoff.
Status DeferPending(const std::string& state_dir, PendingEntry entry, int64_t now);
/// Forgets the session (it synced). Missing is fine.
void RemovePending(const std::string& state_dir, const std::string& session_id);
/// Every parseable entry, oldest session id order.
std::vector<PendingEntry> ListPending(const std::string& state_dir);
/// True when the queue has at least one entry (cheap: one readdir).
bool AnyPending(const std::string& state_dir);

/// Seconds to wait after `attempts` failed retries.
int64_t PendingBackoffSeconds(uint32_t attempts);

}  // namespace tsync::agent
