// PassFollowUp: what a sync pass does besides sending the session's own
// lines — the engine's one entry point (agent/engine.cc) for:
//  1) summaries the transcript carries for other sessions
//     (agent/summary_links.h): SummaryFilter() keeps them out of this
//     session's chunk metadata and records them; AfterPass sends them, and
//     what other sessions left waiting for this one;
//  2) GitHub links the hook or `tsync link` queued for this session
//     (agent/github_links.h), sent once the session exists on the backend.
// Thread-safety: one PassFollowUp per SyncSession.
#pragma once

#include <string>

#include "agent/engine.h"
#include "agent/session_facts.h"
#include "agent/summary_links.h"

namespace tsync::agent {

class PassFollowUp {
 public:
  PassFollowUp(const SessionRef& session, const std::string& dest_dir, const redact::Redactor& redactor);

  /// For SessionFacts::set_summary_filter (this object must outlive it).
  SessionFacts::SummaryFilter SummaryFilter();

  /// After every pass. `reached_sink`: the pass did not stop, so the session
  /// is initialised on the sink as `backend_session_id`; summaries and links
  /// are sent only then. Never fails the pass.
  void AfterPass(uploader::Sink& sink, const std::string& backend_session_id, bool reached_sink);

 private:
  SessionRef session_;
  std::string dest_dir_;
  const redact::Redactor& redactor_;
  SummaryLinks summaries_;
};

}  // namespace tsync::agent
