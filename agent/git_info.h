// Git metadata for a session's working directory, sent as `metadata.git_info`
// in /sync/init and transcript chunks (PROTOCOL.md "/sync/init": ≤ 50
// remotes, each with a non-empty name and a fetch_url or push_url of
// ≤ 2048 bytes).
//
// ReadGitInfo runs the git binary twice, with no shell (argv only), stdin
// from /dev/null, stderr discarded, in its own process group, under one hard
// deadline for both runs:
//  1) `git -C DIR status --porcelain=v2 --branch --untracked-files=no
//     --ignore-submodules=dirty --no-renames` → branch, commit, dirty. Untracked
//     files do not make a tree dirty (as with `git describe --dirty`) and are
//     not scanned, which is the slow part of status in big trees;
//  2) `git -C DIR remote -v` → remotes, after insteadOf rewriting, as git
//     would use them.
// The environment is inherited except: GIT_TERMINAL_PROMPT=0 (never ask),
// GIT_OPTIONAL_LOCKS=0 (status must not write index.lock next to the user's
// own git), LC_ALL=C (stable output); the repository-location variables
// (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE, …) are removed so DIR alone decides
// the repository, and TSYNC_API_KEY so the key never reaches git or a program
// a repository's config has it run. `-c core.fsmonitor=false` keeps a
// read-only probe from starting an fsmonitor daemon.
//
// Credentials never leave this file: remote URLs are passed through
// StripUrlCredentials when read. The engine still runs the redactor over the
// encoded JSON (PROTOCOL.md: all metadata text must pass the redactor), which
// catches tokens elsewhere in a URL (`?access_token=`).
// Thread-safety: pure functions; ReadGitInfo forks (only async-signal-safe
// calls before exec), so it is safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tsync::agent {

/// One remote as `git remote -v` reports it, credentials stripped.
struct GitRemote {
  std::string name;
  std::string fetch_url;  // first (fetch) URL; empty when none
  std::string push_url;   // first (push) URL; empty when none
};

/// What metadata.git_info carries. No repository root: it would cost a third
/// git run and metadata.cwd already says where the session ran.
struct GitInfo {
  std::string branch;  // empty when HEAD is detached
  std::string commit;  // full hex object id; empty before the first commit
  bool dirty = false;  // tracked files differ from HEAD (staged or not)
  std::vector<GitRemote> remotes;  // in git's order, at most kMaxGitRemotes
};

inline constexpr size_t kMaxGitRemotes = 50;        // PROTOCOL.md /sync/init
inline constexpr size_t kMaxGitUrlBytes = 2048;     // PROTOCOL.md /sync/init
inline constexpr size_t kMaxGitInfoJsonBytes = 64 * 1024;  // ours: init bodies cap at 128 KiB

/// Reads git metadata for `dir`. `git` is a name looked up on PATH or a path
/// (tests pass a fake). Errors:
///   kNotFound   git is not installed, or DIR is not in a git repository (or
///               does not exist, or git refuses it): no git_info, not a failure;
///   kTransient  "git timed out after N ms" (both runs together; the process
///               group is killed and reaped);
///   kIo         fork/pipe failures, git exiting otherwise non-zero, or output
///               over 1 MiB from `remote -v`.
Result<GitInfo> ReadGitInfo(const std::string& dir, std::chrono::milliseconds timeout,
                            const std::string& git = "git");

/// ReadGitInfo(dir, timeout) run at most once per `dir` per process: the
/// sessions of one `tsync save --all` mostly share a few working
/// directories, and each answer (an error included) is reused by the rest of
/// the run. Concurrent callers for one `dir` wait for the first.
Result<GitInfo> ReadGitInfoShared(const std::string& dir, std::chrono::milliseconds timeout);

/// Runs one read-only query `git -C DIR <args>` (rev-parse, remote get-url)
/// the way ReadGitInfo runs git: no shell, the same environment, one hard
/// deadline. Returns its stdout (at most 64 KiB). kNotFound when git is not
/// installed or exits non-zero (not a repository, no such remote or commit),
/// kTransient on timeout, kIo for fork/pipe failures or longer output.
Result<std::string> RunGitQuery(const std::string& dir, const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout, const std::string& git = "git");

/// `https://user:token@host/x.git` → `https://host/x.git`, `https://token@host/x`
/// → `https://host/x`; scp-like `git@host:o/r.git` unchanged (a login name,
/// not a credential). For `scheme://` URLs this is redact::StripUrlUserinfo
/// (the one definition of a safe remote URL), which drops the whole userinfo,
/// so `ssh://git@host/r` becomes `ssh://host/r` — the host and path, all a
/// backend needs to identify the repository, are kept. Beyond it: an
/// scp-like `user:password@host:path` loses `user:password@`.
std::string StripUrlCredentials(std::string_view url);

/// The JSON object for metadata.git_info:
/// {"branch":…,"commit":…,"dirty":…,"remotes":[{"name":…,"fetch_url":…,"push_url":…}]}.
/// Empty strings and an empty remote list are omitted; "dirty" is always
/// present. Strings are UTF-8-repaired; URLs are credential-stripped again
/// (GitInfo may come from elsewhere); a URL over 2048 bytes is dropped, a remote
/// left with no URL or no name is dropped, at most 50 remotes are kept, and
/// remotes stop once the object would pass kMaxGitInfoJsonBytes. A branch over
/// 2048 bytes is dropped rather than cut (a cut name would be wrong).
std::string EncodeGitInfo(const GitInfo& info);

}  // namespace tsync::agent
