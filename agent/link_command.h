// GitHub links from the command line and from the PostToolUse hook
// (agent/github_links.h finds links, agent/github_link_queue.h queues and
// sends them).
//
// `tsync link <session-prefix> <url> [--title T]` links a pull request or
// commit to a session by hand (source "manual"): the URL is checked first
// (exit 2 when it is not a GitHub PR or commit URL), then the session prefix
// (exit 2 when it matches no session or several), then the destination (exit
// 2 without a backend: the local archive keeps no links). A session the
// backend does not know yet gets the link queued, sent with its first sync
// (exit 1, and the message says so); 3 when the key is refused, 4 when the
// backend is unreachable.
//
// `tsync hook post-tool-use` (QueueToolUseLinks): runs after every Bash call
// and GitHub MCP pull-request tool, so the hook first rejects payloads that
// cannot hold a link with a few substring checks (MayHoldGithubLink), and
// never touches the network: found links are queued for the session's
// watcher, which sends them after its next pass.
// Thread-safety: free functions.
#pragma once

#include <iosfwd>
#include <string>

#include "agent/github_link_queue.h"
#include "agent/hook_input.h"
#include "config/config.h"

namespace tsync::agent {

struct LinkArgs {
  std::string prefix;  // session id prefix
  std::string url;
  std::string title;
};

int RunLink(const config::Config& config, const LinkArgs& args, std::ostream& out);

/// Queues the GitHub links a PostToolUse payload holds for its session, for
/// the configured backend; returns how many (0 without a backend).
size_t QueueToolUseLinks(const config::Config& config, const HookInput& input);

}  // namespace tsync::agent
