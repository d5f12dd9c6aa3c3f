#include "agent/session_lock.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>

#include <cerrno>
#include <thread>

#include "tracker/checkpoint.h"

namespace tsync::agent {
namespace {

constexpr std::chrono::milliseconds kPollEvery{20};
// A wait longer than this is worth a line in the log (a user's save behind a
// watcher's pass that is backing off).
constexpr std::chrono::milliseconds kSayWaitingAfter{2000};

}  // namespace

std::string SessionLockPath(const std::string& state_dir, const std::string& session_id) {
  return state_dir + "/locks/" + session_id + ".lock";
}

Result<SessionSyncLock> SessionSyncLock::Acquire(const std::string& state_dir, const std::string& session_id,
                                                 std::chrono::milliseconds wait) {
  if (!tracker::IsValidSessionId(session_id)) return Status::InvalidInput("bad session id " + session_id);
  if (Status st = MakeDirs(state_dir + "/locks", 0700); !st.ok()) return st;
  const std::string path = SessionLockPath(state_dir, session_id);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Status::Errno("open " + path, errno);
  const auto start = std::chrono::steady_clock::now();
  bool said = false;
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return SessionSyncLock(std::move(fd));
    if (errno != EWOULDBLOCK && errno != EINTR) return Status::Errno("flock " + path, errno);
    // In milliseconds: max() as `wait` must not overflow a conversion to ns.
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (waited >= wait) {
      return Status::Conflict("another tsync process is syncing session " + session_id);
    }
    if (!said && waited >= kSayWaitingAfter) {
      said = true;
      spdlog::info("session {}: another tsync process is syncing it; waiting for it to finish", session_id);
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

}  // namespace tsync::agent
