// SummaryLinks: summary lines that describe ANOTHER session.
//
// Claude Code writes `{"type":"summary","summary":…,"leafUuid":…}` lines
// (TRANSCRIPTS.md "Lines"). When `leafUuid` is a message near the end of a
// different main transcript of the same project (tracker/leaf_index.h; agent
// files never count), the summary is that session's — a continued or resumed
// conversation — and is sent with `PATCH /api/v1/sessions/{external_id}/summary`
// (PROTOCOL.md: at most 2048 bytes, redacted like all metadata, control
// characters removed, never zstd — uploader::Sink::SetSummary) instead of
// becoming this session's chunk metadata. A leaf found in this session's own
// tail, or nowhere, leaves the summary this session's, as before.
//
// Each (target session, summary text) is sent once, also across restarts and
// across processes running at once. State, per destination, under
// <dest_dir>/summary-links/ (advisory, written atomically under
// <dest_dir>/summary-links/lock, which is never held over the network):
//   sent/<target>          hashes of the texts the backend acknowledged;
//   waiting/<target>.json  texts not acknowledged yet (already redacted),
//     one item per line so a damaged file still gives up its whole lines:
//     {"items":[{"text","from","not_synced","refused"?,"tries","next_attempt"}]};
//     a damaged one is reported, kept as <target>.json.corrupt-<unix time>,
//     and replaced by what it still held;
//   send-locks/<hex digit> held by whoever sends to a target (one of 16 by
//     the target's hash) from reading what waits to recording what was
//     acknowledged: the source's passes and the target's own run under
//     different session locks, and would otherwise both send.
// A 404 (the target is not on the backend yet) waits for the target: its own
// engine sends what waits for it after each pass that reached the backend. A
// transient failure is retried by the source's later passes with backoff
// (30 s doubling, at most 1 h); so is a 401/403, which also ends the pass's
// sending. A 400 (the backend will not take that text) is logged and kept,
// marked refused, and never sent again.
// Thread-safety: one SummaryLinks per SyncSession; processes share the state
// through the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/session_facts.h"
#include "agent/session_scan.h"
#include "redact/redactor.h"
#include "tracker/leaf_index.h"
#include "uploader/sink.h"

namespace tsync::agent {

struct SummaryLinksOptions {
  tracker::LeafIndexOptions index;
  /// Unix seconds; injectable so backoff is testable without sleeping.
  std::function<int64_t()> now;
};

class SummaryLinks {
 public:
  SummaryLinks(SessionRef session, std::string dest_dir, const redact::Redactor& redactor,
               SummaryLinksOptions options = {});

  /// The SessionFacts summary filter: true when the summary is this
  /// session's; false when it describes other sessions, for which it is then
  /// recorded as waiting (SendableMetadata: redacted, at most 2048 bytes).
  /// The project is re-indexed at most once per pass.
  bool Claim(std::string_view leaf_uuid, const MetadataText& summary);

  /// After a pass that reached the sink (this session exists there): sends
  /// what waits for this session, and what it recorded for others. Never
  /// fails the pass; problems are logged.
  void Send(uploader::Sink& sink);

  /// Ends a pass, sent or not: the next Claim re-indexes the project.
  void EndPass() { indexed_this_pass_ = false; }

  /// PATCHes the sink acknowledged (tests).
  uint64_t sent() const { return sent_; }

 private:
  std::string Dir() const { return dest_dir_ + "/summary-links"; }
  void Record(const std::string& target, const std::string& text);
  /// False when the sink refused the credentials: send nothing more now.
  bool SendWaiting(uploader::Sink& sink, const std::string& target, bool for_us);
  int64_t Now() const;

  SessionRef session_;
  std::string dest_dir_;
  const redact::Redactor& redactor_;
  SummaryLinksOptions options_;
  tracker::LeafIndex index_;
  bool indexed_this_pass_ = false;
  bool listed_waiting_ = false;  // the first Send looks for our items left by an earlier process
  std::map<std::string, std::vector<std::string>, std::less<>> decided_;  // leaf -> other sessions ({}: ours)
  std::set<std::string> targets_;  // sessions this one recorded summaries for
  uint64_t sent_ = 0;
};

/// Summaries waiting to be sent to `session_id` (for `tsync status --session`;
/// refused ones are never sent, so they do not count).
size_t WaitingSummaryCount(const std::string& dest_dir, const std::string& session_id);

}  // namespace tsync::agent
