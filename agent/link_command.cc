#include "agent/link_command.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <ostream>

#include "agent/exit_codes.h"
#include "agent/github_link_queue.h"
#include "agent/redaction_setup.h"
#include "agent/save_command.h"
#include "agent/session_scan.h"

namespace tsync::agent {
namespace {

// Two git runs at most (origin, rev-parse per pushed tip), only when the
// payload held a commit or a push.
constexpr std::chrono::milliseconds kGitTimeout{1500};

int Fail(const Status& st) {
  spdlog::error("{}", st.ToString());
  return ExitCodeFor(st);
}

size_t QueueLinks(const config::Config& config, const HookInput& input) {
  Result<DestinationName> dest = ResolveDestination(config, "");
  if (!dest.ok() || !dest->backend) return 0;  // the local archive keeps no links
  std::vector<uploader::GithubLink> links = LinksFromToolUse(input.payload_json, RealGitQueries(kGitTimeout));
  if (links.empty()) return 0;
  const std::string dest_dir = CheckpointDirFor(config, dest->location);
  if (Status st = QueueGithubLinks(dest_dir, input.session.session_id, links); !st.ok()) {
    spdlog::error("hook post-tool-use: cannot queue {} GitHub link(s) of session {} ({}); link them with `tsync link`",
                  links.size(), input.session.session_id, st.ToString());
    return 0;
  }
  spdlog::info("hook post-tool-use: {} GitHub link(s) queued for session {}", links.size(), input.session.session_id);
  return links.size();
}

}  // namespace

size_t QueueToolUseLinks(const config::Config& config, const HookInput& input) {
  // A hook must never fail the tool call, whatever the payload holds.
  try {
    return QueueLinks(config, input);
  } catch (const std::exception& e) {
    spdlog::error("hook post-tool-use: session {}: {}; no GitHub link queued", input.session.session_id, e.what());
    return 0;
  }
}

int RunLink(const config::Config& config, const LinkArgs& args, std::ostream& out) {
  std::optional<GithubRef> ref = ParseGithubLinkUrl(args.url);
  if (!ref) {
    return Fail(Status::InvalidInput(
        "not a GitHub pull request or commit URL (" + std::to_string(args.url.size()) +
        " bytes): expected https://github.com/<owner>/<repo>/pull/<number> or "
        "https://github.com/<owner>/<repo>/commit/<lowercase hex>"));
  }
  Result<SessionRef> chosen = FindSessionByPrefix(config.ProjectsDir(), args.prefix);
  if (!chosen.ok()) return Fail(chosen.status());
  const SessionRef& session = *chosen;
  Result<DestinationName> name = ResolveDestination(config, "");
  if (!name.ok()) return Fail(name.status());
  if (!name->backend) {
    return Fail(Status::Config("GitHub links need a backend; the local archive keeps none (tsync login, or set "
                               "backend_url)"));
  }
  Result<std::unique_ptr<redact::Redactor>> redactor = UploadRedactor(config.redaction);
  if (!redactor.ok()) return Fail(redactor.status());
  uploader::GithubLink link;
  link.url = ref->url;
  link.link_type = ref->link_type;
  link.title = SendableLinkTitle(**redactor, QueuedLinkTitle(args.title));
  link.source = "manual";
  const std::string what = ref->link_type == "commit" ? "commit " + ref->ref.substr(0, 12) : "pull request #" + ref->ref;
  const std::string target = ref->owner + "/" + ref->repo + " " + what;

  Result<Destination> dest = OpenDestination(config, "");
  if (!dest.ok()) return Fail(dest.status());
  Result<std::string> backend_id = dest->sink->FindSession(session.session_id);
  Status st = backend_id.ok() ? dest->sink->AddGithubLink(*backend_id, link) : backend_id.status();
  if (st.ok()) {
    RecordSentGithubLink(dest->checkpoint_dir, session.session_id, link.url);
    out << "linked " << target << " to session " << session.session_id << "\n";
    return kExitOk;
  }
  if (st.kind() != Status::Kind::kNotFound) return Fail(st);
  // Not on the backend yet: sent after the session's next sync.
  if (Status q = QueueGithubLinks(dest->checkpoint_dir, session.session_id, {link}); !q.ok()) return Fail(q);
  out << "session " << session.session_id << " is not on " << dest->display << " yet: " << target
      << " is queued and sent with its next sync (tsync save " << session.session_id.substr(0, 8) << ")\n";
  return kExitIncomplete;
}

}  // namespace tsync::agent
