// `tsync hook <event>`: what Claude Code runs at SessionStart, SessionEnd,
// Stop, PreCompact, SubagentStop and UserPromptSubmit (TRANSCRIPTS.md
// "Hooks").
//
// It never slows Claude Code down and never fails it: it prints nothing,
// exits 0 whatever happens (problems go to the log file and `tsync status`),
// and does only cheap local work — read and check the input
// (agent/hook_input.h), reap dead watchers, then:
//  - session-start, stop, user-prompt-submit, pre-compact, subagent-stop:
//    make sure the session has a live watcher (start one detached if not; the
//    watcher's lock makes a racing second one leave at once). Stop fires
//    every turn and is never taken as the end of the session;
//  - session-end: leave the end request (the hook payload) and signal the
//    watcher to flush, send session_end and exit — or, without a live
//    watcher, start a detached one-shot final flush.
// session-start, stop and pre-compact also queue a lifecycle event
// (session_start, resume, compact, stop) for the watcher to send when the
// backend advertises them (agent/lifecycle_events.h); the hook itself never
// touches the network.
// post-tool-use queues the GitHub links in a tool's output for the session's
// watcher (agent/link_command.h), after a few substring checks that let the
// common payload leave at once.
// Any hook also starts `tsync sync --pending` in the background while the
// pending queue is not empty.
// The API key is never put on a child's command line or in its environment:
// a key from the environment or a flag reaches the watcher through a pipe.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "agent/hook_input.h"
#include "config/config.h"

namespace tsync::agent {

/// `global_flags`: the --config/--state-dir/--claude-dir/--log-level flags
/// this process got, passed on to the children as they are.
int RunHook(HookEvent event, const config::LoadedConfig& loaded, const std::vector<std::string>& global_flags,
            std::istream& in);

}  // namespace tsync::agent
