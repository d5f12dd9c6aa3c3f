#include "agent/pass_follow_up.h"

#include "agent/github_link_queue.h"

namespace tsync::agent {

PassFollowUp::PassFollowUp(const SessionRef& session, const std::string& dest_dir, const redact::Redactor& redactor)
    : session_(session), dest_dir_(dest_dir), redactor_(redactor), summaries_(session, dest_dir, redactor) {}

SessionFacts::SummaryFilter PassFollowUp::SummaryFilter() {
  return [this](std::string_view leaf_uuid, const MetadataText& summary) { return summaries_.Claim(leaf_uuid, summary); };
}

void PassFollowUp::AfterPass(uploader::Sink& sink, const std::string& backend_session_id, bool reached_sink) {
  summaries_.EndPass();
  if (!reached_sink || backend_session_id.empty()) return;
  summaries_.Send(sink);
  SendQueuedGithubLinks(dest_dir_, session_.session_id, backend_session_id, sink, redactor_);
}

}  // namespace tsync::agent
