#include "agent/list_command.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <ostream>

#include "agent/exit_codes.h"
#include "agent/save_command.h"
#include "agent/scan_report.h"
#include "agent/session_facts.h"
#include "agent/sync_state.h"
#include "base/json.h"
#include "base/utf8.h"

namespace tsync::agent {
namespace {

constexpr size_t kTitleHeadBytes = 1 << 20;
constexpr size_t kTitleWidth = 60;

struct Row {
  SessionRef session;
  std::string project;
  uint64_t bytes = 0;     // every tracked file known to the checkpoint, else the transcript
  int64_t mtime = 0;
  std::string title;
  std::string state;      // "saved", "partial", "new"
};

std::string Title(const std::string& transcript) {
  const SessionFacts facts = FactsFromHead(transcript, kTitleHeadBytes);
  // Shown on this machine only, so not redacted (the transcript is here).
  if (facts.summary()) return facts.summary()->Cleaned(SessionFacts::kMaxSummaryBytes);
  if (facts.first_user_message()) return facts.first_user_message()->Cleaned(SessionFacts::kMaxFirstUserMessageBytes);
  return "";
}

std::string Ago(int64_t mtime) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const int64_t d = std::max<int64_t>(0, now - mtime);
  if (d < 3600) return std::to_string(d / 60) + "m ago";
  if (d < 86400) return std::to_string(d / 3600) + "h ago";
  return std::to_string(d / 86400) + "d ago";
}

}  // namespace

int RunList(const config::Config& config, const ListArgs& args, std::ostream& out) {
  SaveArgs select;
  select.all = true;
  select.since = args.since;
  Result<std::vector<SessionRef>> sessions = SelectForSave(config, select);
  if (!sessions.ok()) {
    spdlog::error("{}", sessions.status().ToString());
    return ExitCodeFor(sessions.status());
  }
  // The state shown is for the destination `save` would use; no connection
  // is made for it (checkpoints are per destination).
  Result<DestinationName> dest = ResolveDestination(config, args.to);
  if (!dest.ok()) {
    spdlog::error("{}", dest.status().ToString());
    return ExitCodeFor(dest.status());
  }
  const std::string& display = dest->location;
  const std::string checkpoint_dir = CheckpointDirFor(config, display);

  std::vector<Row> rows;
  for (const SessionRef& s : *sessions) {
    Row r;
    r.session = s;
    r.project = std::filesystem::path(s.project_dir).filename().string();
    struct stat st;
    if (::stat(s.transcript_path.c_str(), &st) == 0) r.mtime = static_cast<int64_t>(st.st_mtime);
    const SessionSyncState state = LocalSyncState(checkpoint_dir, s);
    r.state = LocalStateName(state.state);
    r.bytes = state.bytes;
    r.title = Title(s.transcript_path);
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.mtime < b.mtime; });

  if (args.json) {
    JsonWriter w;
    w.BeginObject().Key("destination").String(display).Key("sessions").BeginArray();
    for (const Row& r : rows) {
      w.BeginObject();
      w.Key("session_id").String(r.session.session_id);
      w.Key("project").String(r.project);
      w.Key("transcript_path").String(r.session.transcript_path);
      w.Key("bytes").UInt(r.bytes);
      w.Key("last_activity").Int(r.mtime);
      w.Key("title").String(r.title);
      w.Key("state").String(r.state);
      w.EndObject();
    }
    w.EndArray().EndObject();
    out << w.Take() << "\n";
    return kExitOk;
  }
  for (const Row& r : rows) {
    std::string title(TruncateUtf8(r.title, kTitleWidth));
    if (title.size() < r.title.size()) title += "…";
    out << r.session.session_id.substr(0, 8) << "  " << r.state << "  " << HumanBytes(r.bytes) << "  "
        << Ago(r.mtime) << "  " << r.project << "  " << title << "\n";
  }
  out << rows.size() << " session(s); state is for " << display << "\n";
  return kExitOk;
}

}  // namespace tsync::agent
