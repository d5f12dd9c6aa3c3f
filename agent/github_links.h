// GitHub links: the commits and pull requests a session created, linked to it
// on the backend (PROTOCOL.md "POST /api/v1/sessions/{session_id}/github-links").
//
// 1) Found by the PostToolUse hook (`tsync hook post-tool-use`, installed with
//    matchers for Bash and the GitHub MCP create_pull_request tool) in the
//    tool's input and response — LinksFromToolUse:
//    - Bash `gh pr create`: the pull request URL gh prints; the title from
//      --title / -t;
//    - an MCP `mcp__…github…__create_pull_request` tool: the pull request URL
//      in its result; the title from its input;
//    - Bash `git commit`: "[<branch> (root-commit)? <hash>] <subject>", the
//      commit titled by its subject, in the `origin` of the repository the
//      command's git ran in: the payload's cwd as a leading `cd DIR &&` and
//      git's own `-C DIR` / `--git-dir` change it. The hash must name a
//      commit there; when the directory is not known for sure (cd into a
//      variable, a subshell, GIT_DIR) or several repositories could hold the
//      commit, nothing is linked rather than another repository's URL;
//    - Bash `git push`: "<old>..<new> <src> -> <dst>" and "* [new branch] <src>
//      -> <dst>", the pushed tips, in the repository of git's "To <url>" line.
//    Commit URLs need that repository on github.com (https, ssh, git and
//    scp-like remote URLs); any other host gives nothing. Abbreviated hashes
//    are expanded with `git rev-parse` in that directory. Only
//    `https://github.com/<owner>/<repo>/pull/<n>` and `…/commit/<hex>` are
//    ever produced (ParseGithubLinkUrl).
// 2) Queued and sent once per (session, URL): agent/github_link_queue.h.
// Titles are cleaned (controls removed) and cut to 500 characters (the
// server's limit); the queue redacts them before they are sent.
// Thread-safety: pure functions (RealGitQueries runs git).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "uploader/sink.h"

namespace tsync::redact {
class Redactor;
}

namespace tsync::agent {

inline constexpr size_t kMaxGithubTitleChars = 500;  // PROTOCOL.md github-links

/// A link URL taken apart.
struct GithubRef {
  std::string url;        // canonical: https://github.com/<owner>/<repo>/<pull|commit>/<ref>
  std::string owner;
  std::string repo;
  std::string link_type;  // "pull_request" | "commit"
  std::string ref;        // the number or the hash
};

/// `https://github.com/<owner>/<repo>/pull/<digits>` or `…/commit/<lowercase
/// hex, 7-64>`, optionally followed by `/…`, `?…` or `#…` (dropped from the
/// canonical URL); nullopt for anything else.
std::optional<GithubRef> ParseGithubLinkUrl(std::string_view url);

/// {owner, repo} of a remote URL on github.com (https/http/ssh/git URLs,
/// `git@github.com:o/r.git`); nullopt for other hosts and forms.
std::optional<std::pair<std::string, std::string>> GithubRepoOfRemote(std::string_view remote_url);

/// What LinksFromToolUse asks git (a seam for tests). Each returns nullopt
/// when git cannot answer.
struct GitQueries {
  /// The `origin` remote's URL of the repository at `dir`.
  std::function<std::optional<std::string>(const std::string& dir)> origin_url;
  /// The full hash of the commit `rev` names in the repository at `dir`.
  std::function<std::optional<std::string>(const std::string& dir, const std::string& rev)> resolve_commit;
};
/// Both through `git` (agent/git_info.h RunGitQuery), each run under `timeout`.
GitQueries RealGitQueries(std::chrono::milliseconds timeout);

/// The hook's first check, on the raw payload: false when it cannot hold a
/// link (no "github.com", no "pull_request", no `git … commit|push`), so the
/// common case costs a few substring searches.
bool MayHoldGithubLink(std::string_view payload);

/// The links in one PostToolUse payload (the whole hook JSON object), with
/// source "cli_hook", deduplicated; none for a malformed payload.
std::vector<uploader::GithubLink> LinksFromToolUse(std::string_view payload_json, const GitQueries& git);

/// The title as queued: cleaned (controls removed), whole — not yet cut to
/// the backend's 500 characters, since a cut before redaction can leave part
/// of a secret that no rule recognises. "" for a title over
/// kMaxQueuedTitleBytes (no real commit subject or PR title is that long).
std::string QueuedLinkTitle(std::string_view title);
inline constexpr size_t kMaxQueuedTitleBytes = 64 * 1024;

/// What may be sent of a queued title: SendableMetadata() (redacted, cleaned),
/// cut to 500 characters, never inside a [REDACTED:…] marker.
std::string SendableLinkTitle(const redact::Redactor& redactor, std::string_view queued_title);

}  // namespace tsync::agent
