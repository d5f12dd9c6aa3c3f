#include "agent/engine.h"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "agent/git_info.h"
#include "agent/pass_follow_up.h"
#include "agent/resume_check.h"
#include "agent/session_facts.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "tracker/checkpoint.h"
#include "tracker/session_tracker.h"

namespace tsync::agent {
namespace {

using tracker::ResumeFrom;
using tracker::TrackedFile;

// Room left in a chunk body for the envelope and the transcript metadata
// (first_user_message <= 8 KiB and summary <= 2 KiB, escaped up to 6x).
constexpr size_t kEnvelopeRoom = 128 * 1024;
// The smallest budget the engine shrinks a chunk to after failures.
constexpr size_t kMinBudget = 64 * 1024;
// Bytes of the transcript read before Init to learn cwd and git branch.
constexpr size_t kHeadBytes = 1 << 20;
constexpr size_t kMaxHostField = 255;
constexpr size_t kMaxCwd = 8192;
// Contiguity answers in a row on one file without progress before it is
// left pending: the sink and the file disagree in a way re-init cannot fix.
constexpr int kMaxConflictsInRow = 3;
// How often a pass writes its checkpoint between chunks (and at its end).
constexpr std::chrono::seconds kCheckpointInterval{1};

// Memory for chunks is shared by the chunks held at once in a process: each
// in-flight chunk costs its raw lines and its zstd frame (the body is
// compressed as it is encoded, uploader/http_transport.h), about 1.3 times
// its budget at peak — 2.3 times when it goes uncompressed and its encoded
// body is held whole. One pass alone holds two (it reads the
// next chunk ahead), N passes at once (`save --jobs N`) hold N and never
// read ahead; each reads at most kChunkMemory / chunks held, which keeps a
// save within its memory bound (64 MiB) whatever N is.
constexpr size_t kChunkMemory = 20u << 20;
std::atomic<int> active_passes{0};

class ActivePass {
 public:
  ActivePass() { active_passes.fetch_add(1); }
  ~ActivePass() { active_passes.fetch_sub(1); }
  ActivePass(const ActivePass&) = delete;
  ActivePass& operator=(const ActivePass&) = delete;
  static int count() { return std::max(1, active_passes.load()); }
};

std::string DefaultHostname() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return std::string();
  return name;
}

std::string DefaultUsername() {
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  const char* user = std::getenv("USER");
  return user ? user : "";
}

std::string Cut(std::string_view text, size_t max) { return std::string(TruncateUtf8(text, max)); }

}  // namespace

const char* FileStateName(FileState state) {
  switch (state) {
    case FileState::kSynced: return "synced";
    case FileState::kPending: return "pending";
    case FileState::kQuarantined: return "quarantined";
  }
  return "unknown";
}

uint64_t SessionReport::lines_sent() const {
  uint64_t n = 0;
  for (const FileReport& f : files) n += f.lines_sent;
  return n;
}

uint64_t SessionReport::bytes_sent() const {
  uint64_t n = 0;
  for (const FileReport& f : files) n += f.bytes_sent;
  return n;
}

bool SessionReport::complete() const {
  return status.ok() && std::all_of(files.begin(), files.end(),
                                    [](const FileReport& f) { return f.state == FileState::kSynced; });
}

struct SyncSession::Impl {
  SyncSession& s;
  tracker::SessionTracker tracker;
  SessionFacts stream_facts;  // fed every transcript line read for sending, in order
  uploader::SessionInfo info;
  std::map<std::string, uint64_t> counts;  // the sink's last_synced_line per file_name
  std::vector<FileReport> reports;         // parallel to tracker.files()
  size_t budget;
  int transient_streak = 0;
  bool started = false;     // the checkpoint and metadata are loaded
  std::string saved_checkpoint;  // what this session last wrote
  std::chrono::steady_clock::time_point checkpoint_written_at{};
  bool needs_init = true;   // the next pass starts with Init
  bool first_message_acked = false;
  std::optional<MetadataText> summary_acked;  // the facts' summary the sink has
  MetadataText summary_attached;              // the one the chunk in flight carries
  PassFollowUp follow_up;  // summaries for other sessions, GitHub links, upload times

  explicit Impl(SyncSession& session)
      : s(session),
        tracker({session.session_.project_dir, session.session_.session_id, session.session_.transcript_path},
                session.options_.chunk),
        budget(session.options_.chunk.budget),
        follow_up(session.session_, session.checkpoint_dir_, session.redactor_) {
    stream_facts.set_summary_filter(follow_up.SummaryFilter());
  }

  FileReport& ReportFor(size_t index) {
    while (reports.size() <= index) reports.emplace_back();
    FileReport& r = reports[index];
    const TrackedFile& f = tracker.files()[index];
    r.file_name = f.file_name;
    r.type = f.type;
    return r;
  }

  void Sleep(std::chrono::milliseconds delay) {
    if (delay.count() > 0) s.options_.sleep(delay);
  }

  std::chrono::milliseconds Backoff(const Status& failure) {
    const int retry = std::min(transient_streak - 1, 16);
    return failure.retry_after().value_or(uploader::BackoffDelay(s.options_.backoff, std::max(retry, 0),
                                                                 s.options_.random_unit()));
  }

  /// After an acknowledged chunk: the checkpoint only spares a rescan (the
  /// sink's counts are authoritative: a checkpoint behind them resumes after
  /// a scan for the line offset, as after a crash between an ack and its
  /// write), so it is written at most once per kCheckpointInterval during a
  /// pass — each write is a rename over the old file, which ext4 makes pay
  /// for a flush — and always when the pass ends.
  void SaveCheckpointThrottled() {
    const auto now = std::chrono::steady_clock::now();
    if (now - checkpoint_written_at < kCheckpointInterval) return;
    SaveCheckpoint();
  }

  void SaveCheckpoint() {
    checkpoint_written_at = std::chrono::steady_clock::now();
    tracker::Checkpoint cp = tracker.Snapshot();
    // A watcher's idle passes change nothing: no write, no fsync.
    std::string text = tracker::SerializeCheckpoint(cp);
    if (text == saved_checkpoint) return;
    if (Status st = tracker::SaveCheckpoint(s.checkpoint_dir_, cp); !st.ok()) {
      // Not fatal: the sink's counts are authoritative; the next run rescans.
      spdlog::warn("session {}: cannot save the checkpoint ({}); the next sync rescans its files",
                   s.session_.session_id, st.ToString());
      return;
    }
    saved_checkpoint = std::move(text);
  }

  /// cwd and branch from the transcript's head, git_info from one git run.
  /// `settled`: git answered for good (info, or not a repository), so the
  /// metadata is kept in the checkpoint and git is not asked again for this
  /// session; after a timeout or with no cwd yet, the next process asks.
  std::string SessionMetadata(bool* settled) {
    const WorkingDir head = WorkingDirFromHead(s.session_.transcript_path, kHeadBytes);
    std::string git_json;
    *settled = false;
    if (!head.cwd.empty() && s.options_.git_timeout.count() > 0) {
      Result<GitInfo> git = ReadGitInfoShared(head.cwd, s.options_.git_timeout);
      *settled = git.ok() || git.status().kind() == Status::Kind::kNotFound;
      if (git.ok()) {
        git_json = EncodeGitInfo(*git);
      } else {
        spdlog::debug("session {}: no git info ({})", s.session_.session_id, git.status().ToString());
      }
    }
    if (git_json.empty() && !head.git_branch.empty()) {
      GitInfo branch_only;
      branch_only.branch = head.git_branch;
      git_json = EncodeGitInfo(branch_only);
    }
    JsonWriter w;
    w.BeginObject();
    if (!head.cwd.empty() && head.cwd.size() <= kMaxCwd) w.Key("cwd").String(head.cwd);
    if (!git_json.empty()) w.Key("git_info").Raw(git_json);
    const std::string host = Cut(s.options_.hostname, kMaxHostField);
    const std::string user = Cut(s.options_.username, kMaxHostField);
    if (!host.empty()) w.Key("hostname").String(host);
    if (!user.empty()) w.Key("username").String(user);
    w.EndObject();
    return w.Take();
  }

  /// Init, backing off on transient failures; adopts the sink's counts.
  Status Init() {
    for (;;) {
      Result<uploader::InitResult> init = s.sink_.Init(info);
      if (init.ok()) {
        if (!tracker.backend_session_id().empty() && tracker.backend_session_id() != init->session_id) {
          spdlog::warn("session {}: the backend now knows it as {} (was {}); resuming from its counts",
                       s.session_.session_id, init->session_id, tracker.backend_session_id());
        }
        tracker.set_backend_session_id(init->session_id);
        counts = std::move(init->last_synced_line);
        return Status::Ok();
      }
      if (init.status().kind() != Status::Kind::kTransient) return init.status();
      if (++transient_streak >= s.options_.max_transient_failures) return init.status();
      Sleep(Backoff(init.status()));
    }
  }

  uint64_t CountFor(const std::string& file_name) const {
    auto it = counts.find(file_name);
    return it == counts.end() ? 0 : it->second;
  }

  /// Aligns file `index` with the sink. False when it cannot be sent now
  /// (the report says why).
  bool Resume(size_t index) {
    for (int generations = 0; generations < 4; ++generations) {
      TrackedFile& f = tracker.files()[index];
      Result<ResumeFrom> from = tracker.Resume(f, CountFor(f.file_name));
      FileReport& r = ReportFor(index);
      if (!from.ok()) {
        r.state = FileState::kPending;
        r.error = from.status().message();
        if (from.status().kind() == Status::Kind::kConflict) {
          spdlog::warn("{}: {}; waiting — nothing is resent", f.file_name, r.error);
        } else {
          spdlog::warn("{}: cannot resume ({}); left pending", f.file_name, from.status().ToString());
        }
        return false;
      }
      if (*from == ResumeFrom::kMissing) return false;  // gone: its synced lines stay on the server
      if (*from == ResumeFrom::kRescan && !RescanAgrees(f)) continue;  // another file now: a new generation
      if (*from != ResumeFrom::kNewGeneration) return true;
    }
    return true;
  }

  /// A rescan (no checkpoint, or one behind the backend) cannot see that the
  /// file was replaced meanwhile; the backend's last line must be the local
  /// line of that number, else the file starts a new generation
  /// (agent/resume_check.h).
  bool RescanAgrees(TrackedFile& f) {
    const uint64_t count = CountFor(f.file_name);
    if (CheckResumePoint(s.sink_, tracker.backend_session_id(), f, count, s.redactor_, s.options_.chunk) !=
        ResumePoint::kDiffers) {
      return true;
    }
    Result<tracker::OpenedFile> opened = tracker::OpenTracked(f.path);
    if (!opened.ok()) return true;
    spdlog::warn("{}: the backend's line {} is not the local line {}: the file was replaced while tsync's "
                 "checkpoint of it was missing or behind",
                 f.file_name, count, count);
    tracker::StartNewGeneration(&f, tracker::Change::kReplaced, *opened);
    return false;
  }

  /// Re-init and resume file `index` after a failed, unanswered or
  /// conflicting chunk. Not OK when the session must stop.
  Status Recover(size_t index, bool* resumed) {
    Status st = Init();
    if (!st.ok()) return st;
    *resumed = Resume(index);
    return Status::Ok();
  }

  /// A chunk read and redacted, ready to send.
  struct Prepared {
    tracker::PendingChunk pending;
    std::vector<redact::RedactResult> redacted;
    std::vector<std::string_view> views;  // the lines to send: into the chunk, `redacted` or `placeholder`
    std::string placeholder;
    size_t encoded = 0;  // tracker::EncodedLinesSize(views)
    size_t budget = 0;   // the budget it was read with
  };

  /// Reads the next chunk of `f` from its position (tracker.Next) and
  /// redacts it; a transcript's lines are fed to stream_facts. Reads fewer
  /// lines when redaction markers make a chunk outgrow the cap.
  Result<std::unique_ptr<Prepared>> Prepare(TrackedFile& f, size_t read_budget) {
    const int passes = ActivePass::count();
    const size_t held = passes == 1 ? 2 : static_cast<size_t>(passes);
    read_budget = std::min(read_budget, std::max(kMinBudget, kChunkMemory / held));
    for (;;) {
      Result<tracker::PendingChunk> pending = tracker.Next(f, read_budget);
      if (!pending.ok()) return pending.status();
      auto p = std::make_unique<Prepared>();
      p->pending = std::move(*pending);
      p->budget = read_budget;
      const tracker::Chunk& chunk = p->pending.chunk;
      if (chunk.empty()) return p;

      p->redacted.reserve(chunk.lines.size());
      p->views.reserve(chunk.lines.size());
      // The reader measured the chunk's encoded size; only redacted lines
      // change it (a line's cost is its escaped size plus fixed framing).
      p->encoded = chunk.encoded_size;
      for (std::string_view line : chunk.lines) {
        p->redacted.push_back(s.redactor_.RedactLine(line));
        p->views.push_back(p->redacted.back().text());
        if (p->redacted.back().changed()) p->encoded = p->encoded - JsonEscapedSize(line) + JsonEscapedSize(p->views.back());
      }
      if (p->encoded + kEnvelopeRoom > uploader::kMaxChunkBodyBytes) {
        // Markers made the chunk outgrow the cap: read fewer lines.
        if (chunk.lines.size() > 1) {
          read_budget = std::max(kMinBudget, chunk.encoded_size / 2);
          continue;
        }
        // One line alone is too big once redacted: it goes as the reader's
        // oversize placeholder (size and hash, no content), so the file keeps
        // syncing instead of wedging on it.
        spdlog::warn("{}: line {} is {} bytes encoded once redacted, more than a chunk may carry; it is sent as a "
                     "tsync_oversize_line placeholder so the rest of the file keeps syncing",
                     f.file_name, chunk.first_line, p->encoded);
        p->placeholder = tracker::OversizePlaceholder(chunk.lines[0].size(), Sha256Hex(chunk.lines[0]));
        p->views[0] = p->placeholder;
        p->redacted.clear();  // nothing of the line is sent, so no redaction is either
        p->encoded = tracker::EncodedLinesSize(p->views);
      }
      if (f.type == tracker::FileType::kTranscript) {
        for (std::string_view line : chunk.lines) stream_facts.Observe(line);
      }
      return p;
    }
  }

  /// Sends file `index` to the end of its complete lines. Not OK only when
  /// the whole session must stop.
  Status SyncFile(size_t index) {
    {
      FileReport& r = ReportFor(index);
      r.state = FileState::kSynced;
      r.error.clear();
      const TrackedFile& f = tracker.files()[index];
      if (!f.quarantined.empty()) {
        r.state = FileState::kQuarantined;
        r.error = f.quarantined;
        return Status::Ok();
      }
    }
    if (!Resume(index)) return Status::Ok();
    int conflicts_in_row = 0;
    std::unique_ptr<Prepared> ahead;  // the next chunk, read while the last one was in flight
    for (;;) {
      TrackedFile& f = tracker.files()[index];
      std::unique_ptr<Prepared> cur = std::move(ahead);
      if (!cur) {
        Result<std::unique_ptr<Prepared>> p = Prepare(f, budget);
        if (!p.ok()) {
          FileReport& r = ReportFor(index);
          r.state = FileState::kPending;
          r.error = p.status().message();
          spdlog::warn("{}: cannot read ({}); left pending", f.file_name, p.status().ToString());
          return Status::Ok();
        }
        cur = std::move(*p);
      }
      budget = cur->budget;
      const tracker::Chunk& chunk = cur->pending.chunk;
      if (chunk.empty()) return Status::Ok();  // all complete lines are with the sink

      uploader::ChunkRequest req;
      req.session_id = tracker.backend_session_id();
      req.file_name = f.file_name;
      req.file_type = f.type;
      req.first_line = chunk.first_line;
      req.lines = cur->views;
      req.lines_encoded_size = cur->encoded;
      if (f.type == tracker::FileType::kTranscript) AttachMetadata(&req);

      // While this chunk is in flight (encoded, compressed, sent, stored),
      // the next one is read and redacted from a copy of the file's entry
      // positioned after it — still one chunk in flight per file. It is used
      // only if this one is acknowledged and the file merely grew meanwhile.
      std::future<Result<std::unique_ptr<Prepared>>> next;
      if (!chunk.reached_eof && ActivePass::count() == 1) {
        try {
          next = std::async(std::launch::async, [this, copy = f, from = cur->pending.next, b = budget]() mutable {
            copy.pos = std::move(from);
            return Prepare(copy, b);
          });
        } catch (const std::system_error& e) {  // no thread to be had: read after the ack instead
          spdlog::debug("{}: no read-ahead ({})", f.file_name, e.what());
        }
      }
      Result<uploader::ChunkOutcome> out = s.sink_.AppendChunk(req);
      std::unique_ptr<Prepared> read_ahead;
      if (next.valid()) {
        Result<std::unique_ptr<Prepared>> r = next.get();
        if (r.ok() && (*r)->pending.change == tracker::Change::kGrown) read_ahead = std::move(*r);
      }
      if (out.ok() && out->accepted()) {
        tracker.Acknowledge(f, cur->pending);
        if (s.options_.on_progress) s.options_.on_progress(chunk.end_offset - chunk.start_offset);
        counts[f.file_name] = out->last_synced_line;
        FileReport& done = ReportFor(index);
        done.lines_sent += chunk.lines.size();
        done.bytes_sent += cur->encoded;
        done.chunks_sent += 1;
        for (const redact::RedactResult& red : cur->redacted) {
          for (std::string_view rule : red.fired) done.redactions[std::string(rule)] += 1;
        }
        if (req.first_user_message) first_message_acked = true;
        if (req.summary) summary_acked = summary_attached;
        transient_streak = 0;
        conflicts_in_row = 0;
        budget = std::min(budget * 2, s.options_.chunk.budget);
        SaveCheckpointThrottled();
        ahead = std::move(read_ahead);
        continue;
      }
      // (Lines observed but not stored are observed again when resent; every
      // fact is first-wins or last-wins, so that changes nothing.)

      bool resumed = false;
      if (out.ok()) {  // contiguity: the sink holds another count than we thought
        ReportFor(index).retries += 1;
        if (++conflicts_in_row > kMaxConflictsInRow) {
          FileReport& rr = ReportFor(index);
          rr.state = FileState::kPending;
          rr.error = "the backend keeps expecting line " + std::to_string(*out->expected_first_line) +
                     " while the file resumes elsewhere";
          return Status::Ok();
        }
        if (Status st = Recover(index, &resumed); !st.ok()) return st;
        if (!resumed) return Status::Ok();
        continue;
      }
      const Status& failure = out.status();
      switch (failure.kind()) {
        case Status::Kind::kTransient: {
          ReportFor(index).retries += 1;
          if (++transient_streak >= s.options_.max_transient_failures) return failure;
          budget = std::max(kMinBudget, budget / 2);  // a slow link: smaller chunks finish in time
          Sleep(Backoff(failure));
          if (Status st = Recover(index, &resumed); !st.ok()) return st;
          if (!resumed) return Status::Ok();
          continue;
        }
        case Status::Kind::kInvalidInput:
          return Quarantine(index, failure.message());
        case Status::Kind::kNotFound: {
          // The backend lost the session (or never had it): init creates it again.
          ReportFor(index).retries += 1;
          if (++conflicts_in_row > kMaxConflictsInRow) return failure;
          if (Status st = Recover(index, &resumed); !st.ok()) return st;
          if (!resumed) return Status::Ok();
          continue;
        }
        default:
          return failure;  // kAuth, kConfig, kIo, kCorrupt, kInternal: the session stops
      }
    }
  }

  /// first_user_message until one is acknowledged; summary when it changed.
  void AttachMetadata(uploader::ChunkRequest* req) {
    if (!first_message_acked && stream_facts.first_user_message()) {
      std::string text =
          SendableMetadata(s.redactor_, *stream_facts.first_user_message(), SessionFacts::kMaxFirstUserMessageBytes);
      if (!text.empty()) req->first_user_message = std::move(text);
    }
    if (stream_facts.summary() && stream_facts.summary() != summary_acked) {
      std::string text = SendableMetadata(s.redactor_, *stream_facts.summary(), uploader::kMaxSummaryBytes);
      if (!text.empty()) {
        req->summary = std::move(text);
        summary_attached = *stream_facts.summary();
      }
    }
  }

  Status Quarantine(size_t index, std::string reason) {
    TrackedFile& f = tracker.files()[index];
    spdlog::error("{}: the backend refused it ({}); quarantined — it is not sent again until the file is "
                  "replaced; the session's other files go on",
                  f.file_name, reason);
    f.quarantined = reason;
    FileReport& r = ReportFor(index);
    r.state = FileState::kQuarantined;
    r.error = std::move(reason);
    SaveCheckpoint();
    return Status::Ok();
  }

  SessionReport Run() {
    const ActivePass active;  // shares chunk memory with the passes running beside it
    SessionReport report;
    report.session = s.session_;
    reports.clear();  // a report covers one pass
    transient_streak = 0;
    checkpoint_written_at = std::chrono::steady_clock::now();  // the pass's end writes it anyway
    if (!started) {
      started = true;
      tracker::LoadedCheckpoint loaded = tracker::LoadCheckpoint(s.checkpoint_dir_, s.session_.session_id);
      if (loaded.checkpoint) tracker.Restore(*loaded.checkpoint);
      info.external_id = s.session_.session_id;
      info.transcript_path = s.session_.transcript_path;
      info.metadata_json = tracker.metadata_json();
      if (info.metadata_json.empty()) {
        bool settled = false;
        info.metadata_json = SessionMetadata(&settled);
        if (settled) tracker.set_metadata_json(info.metadata_json);
      }
    }
    tracker.Discover(s.options_.include_workflows);
    // A later pass trusts the counts it keeps from acknowledgements; it
    // re-inits only after a pass that stopped (the sink may have changed).
    Status st = needs_init ? Init() : Status::Ok();
    needs_init = !st.ok();
    // Breadth-first: every known file, then whatever the sent lines revealed.
    size_t stopped_at = st.ok() ? SIZE_MAX : 0;
    for (size_t next = 0; st.ok() && next < tracker.files().size();) {
      for (const size_t end = tracker.files().size(); next < end; ++next) {
        st = SyncFile(next);
        if (!st.ok()) {
          stopped_at = next;
          break;
        }
      }
      if (st.ok()) tracker.Discover(s.options_.include_workflows);
    }
    SaveCheckpoint();
    if (!st.ok()) needs_init = true;
    follow_up.AfterPass(s.sink_, tracker.backend_session_id(), st.ok());

    report.status = st;
    report.backend_session_id = tracker.backend_session_id();
    for (size_t i = 0; i < tracker.files().size(); ++i) {
      FileReport& r = ReportFor(i);
      r.synced_lines = CountFor(r.file_name);
      if (i >= stopped_at && r.state == FileState::kSynced) {
        // The session stopped here: this file and those not reached wait.
        r.state = FileState::kPending;
        r.error = st.message();
      }
    }
    report.files = reports;
    return report;
  }
};

SyncSession::SyncSession(SessionRef session, uploader::Sink& sink, const redact::Redactor& redactor,
                         std::string checkpoint_dir, SyncOptions options)
    : session_(std::move(session)),
      sink_(sink),
      redactor_(redactor),
      checkpoint_dir_(std::move(checkpoint_dir)),
      options_(std::move(options)) {
  if (!options_.sleep) options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  if (!options_.random_unit) {
    auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
    options_.random_unit = [rng] { return std::uniform_real_distribution<double>(0.0, 1.0)(*rng); };
  }
  if (options_.hostname.empty()) options_.hostname = DefaultHostname();
  if (options_.username.empty()) options_.username = DefaultUsername();
}

SyncSession::~SyncSession() = default;

SessionReport SyncSession::Run() {
  if (!impl_) impl_ = std::make_unique<Impl>(*this);
  return impl_->Run();
}

}  // namespace tsync::agent
