#include "tracker/chunk_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/utf8.h"

namespace tsync::tracker {

void ChunkStats::Add(const ChunkStats& o) {
  crlf_lines += o.crlf_lines;
  stray_cr += o.stray_cr;
  repaired_lines += o.repaired_lines;
  replaced_sequences += o.replaced_sequences;
  oversize_lines += o.oversize_lines;
}

size_t EncodedLineCost(std::string_view line, bool first) {
  return JsonEscapedSize(line) + 2 + (first ? 0 : 1);
}

size_t EncodedLinesSize(std::span<const std::string_view> lines) {
  size_t total = 2;  // [ ]
  for (size_t i = 0; i < lines.size(); ++i) total += EncodedLineCost(lines[i], i == 0);
  return total;
}

std::string OversizePlaceholder(uint64_t bytes, const std::string& sha256_hex) {
  return R"({"type":"tsync_oversize_line","bytes":)" + std::to_string(bytes) + R"(,"sha256":")" +
         sha256_hex + R"("})";
}

namespace {

constexpr size_t kArrayBrackets = 2;

size_t LineLimit(const ChunkOptions& opt) { return std::max(opt.budget, opt.line_limit); }

void WarnOversize(const ChunkOptions& opt, uint64_t line_no, uint64_t bytes) {
  spdlog::warn(
      "{}: line {} is {} bytes, more than one chunk may carry ({} bytes encoded); it is sent as a "
      "tsync_oversize_line placeholder with its size and sha256 so the rest of the file keeps syncing",
      opt.log_name, line_no, bytes, LineLimit(opt));
}

// Reading state for one ReadChunk call. Accepted lines are views into `buf`,
// which is never compacted or reallocated while lines point into it.
class Reader {
 public:
  Reader(int fd, uint64_t offset, uint64_t first_line, const ChunkOptions& opt)
      : fd_(fd), opt_(opt), cap_(LineLimit(opt) + opt.read_block) {
    chunk_.first_line = first_line;
    chunk_.start_offset = chunk_.end_offset = offset;
    chunk_.encoded_size = kArrayBrackets;
  }

  Result<Chunk> Run();

 private:
  enum class Step { kAccepted, kFull, kNeedData };

  Status Fill();
  Step TakeLine();
  std::string_view Sanitise(std::string_view line);
  Result<bool> SkipOversizeLine();
  void AcceptPlaceholder(uint64_t bytes, const std::string& sha, size_t consumed_through);
  void LogRepairs() const;

  int fd_;
  const ChunkOptions& opt_;
  const size_t cap_;
  Chunk chunk_;
  size_t filled_ = 0;  // valid bytes in buf
  size_t scan_ = 0;    // start of the first unconsumed line in buf
  bool eof_ = false;
};

Status Reader::Fill() {
  if (!chunk_.raw) chunk_.raw = PooledBuffer(cap_);
  size_t want = std::min(opt_.read_block, cap_ - filled_);
  Result<size_t> n = PreadFull(fd_, chunk_.raw.data() + filled_, want, chunk_.start_offset + filled_);
  if (!n.ok()) return Status::Io(std::string(opt_.log_name) + ": " + n.status().message());
  if (*n < want) eof_ = true;
  filled_ += *n;
  return Status::Ok();
}

// Makes a line wire-safe (guarantees 2 and 3 of the header); returns a view of
// either the original bytes or a repaired copy owned by the chunk.
std::string_view Reader::Sanitise(std::string_view line) {
  bool has_cr = std::memchr(line.data(), '\r', line.size()) != nullptr;
  bool valid = IsValidUtf8(line);
  if (!has_cr && valid) return line;
  std::string& fixed = chunk_.rewritten.emplace_back();
  fixed.reserve(line.size() + 16);
  if (valid) {
    fixed.assign(line);
  } else {
    chunk_.stats.replaced_sequences += AppendRepairedUtf8(&fixed, line);
    ++chunk_.stats.repaired_lines;
  }
  for (char& c : fixed) {
    if (c == '\r') {
      c = ' ';
      ++chunk_.stats.stray_cr;
    }
  }
  return fixed;
}

Reader::Step Reader::TakeLine() {
  char* buf = chunk_.raw.data();
  const char* nl = static_cast<const char*>(std::memchr(buf + scan_, '\n', filled_ - scan_));
  if (nl == nullptr) return Step::kNeedData;
  std::string_view raw(buf + scan_, static_cast<size_t>(nl - (buf + scan_)));
  std::string_view content = raw;
  bool crlf = !content.empty() && content.back() == '\r';
  if (crlf) content.remove_suffix(1);
  const bool first = chunk_.lines.empty();
  const size_t repaired_before = chunk_.rewritten.size();
  const ChunkStats stats_before = chunk_.stats;
  std::string_view line = Sanitise(content);
  size_t cost = EncodedLineCost(line, first);
  const bool over_budget = chunk_.encoded_size + cost > opt_.budget;
  // Over the budget, a first line within the line limit still comes (alone).
  if (over_budget && (!first || kArrayBrackets + cost > LineLimit(opt_))) {
    // Not taken: undo the repair so the next chunk counts it exactly once.
    if (chunk_.rewritten.size() > repaired_before) chunk_.rewritten.pop_back();
    chunk_.stats = stats_before;
    if (!first) return Step::kFull;
    // Alone it still does not fit: a placeholder keeps the line number.
    WarnOversize(opt_, chunk_.first_line, raw.size());
    AcceptPlaceholder(raw.size(), Sha256Hex(raw), scan_ + raw.size() + 1);
    return Step::kFull;
  }
  if (crlf) ++chunk_.stats.crlf_lines;
  chunk_.lines.push_back(line);
  chunk_.encoded_size += cost;
  scan_ += raw.size() + 1;
  chunk_.end_offset = chunk_.start_offset + scan_;
  return over_budget ? Step::kFull : Step::kAccepted;
}

void Reader::AcceptPlaceholder(uint64_t bytes, const std::string& sha, size_t consumed_through) {
  std::string& text = chunk_.rewritten.emplace_back(OversizePlaceholder(bytes, sha));
  chunk_.lines.push_back(text);
  chunk_.encoded_size += EncodedLineCost(text, true);
  ++chunk_.stats.oversize_lines;
  chunk_.end_offset = chunk_.start_offset + consumed_through;
}

// The buffer is full and holds only the beginning of one line: the line is
// longer than the line limit, so it can only become a placeholder. Hash it as it
// streams past, reusing the buffer (no line points into it yet). Returns
// false when the line has no newline yet — it must wait like any other
// unterminated line.
Result<bool> Reader::SkipOversizeLine() {
  Sha256 hash;
  uint64_t bytes = 0;
  uint64_t pos = chunk_.start_offset;
  char* buf = chunk_.raw.data();
  size_t n = filled_;
  for (;;) {
    const char* nl = static_cast<const char*>(std::memchr(buf, '\n', n));
    size_t take = nl ? static_cast<size_t>(nl - buf) : n;
    hash.Update(std::string_view(buf, take));
    bytes += take;
    pos += n;
    if (nl != nullptr) break;
    Result<size_t> got = PreadFull(fd_, buf, opt_.read_block, pos);
    if (!got.ok()) return Status::Io(std::string(opt_.log_name) + ": " + got.status().message());
    if (*got == 0) return false;
    n = *got;
  }
  WarnOversize(opt_, chunk_.first_line, bytes);
  filled_ = 0;  // the buffer now holds unrelated bytes
  AcceptPlaceholder(bytes, hash.FinishHex(), bytes + 1);
  return true;
}

void Reader::LogRepairs() const {
  const ChunkStats& s = chunk_.stats;
  if (s.repaired_lines > 0) {
    spdlog::warn("{}: {} line(s) in lines {}..{} had invalid UTF-8; {} sequence(s) replaced by U+FFFD",
                 opt_.log_name, s.repaired_lines, chunk_.first_line, chunk_.last_line(),
                 s.replaced_sequences);
  }
  if (s.stray_cr > 0) {
    spdlog::warn("{}: {} carriage return(s) inside lines {}..{} replaced by spaces", opt_.log_name,
                 s.stray_cr, chunk_.first_line, chunk_.last_line());
  }
}

Result<Chunk> Reader::Run() {
  for (;;) {
    Step step = filled_ > scan_ ? TakeLine() : Step::kNeedData;
    if (step == Step::kAccepted) continue;
    if (step == Step::kFull) break;
    if (eof_) {
      chunk_.reached_eof = true;
      break;
    }
    if (filled_ == cap_) {
      if (!chunk_.lines.empty()) break;  // the next line starts the next chunk
      Result<bool> done = SkipOversizeLine();
      if (!done.ok()) return done.status();
      if (!*done) chunk_.reached_eof = true;
      break;
    }
    Status st = Fill();
    if (!st.ok()) return st;
  }
  LogRepairs();
  return std::move(chunk_);
}

}  // namespace

Result<Chunk> ReadChunk(int fd, uint64_t offset, uint64_t first_line, const ChunkOptions& options) {
  if (options.budget < kMinChunkBudget || options.read_block == 0) {
    return Status::InvalidInput("chunk budget must be at least " + std::to_string(kMinChunkBudget) +
                                " bytes and the read block non-zero");
  }
  Reader reader(fd, offset, first_line, options);
  return reader.Run();
}

Result<uint64_t> FindLineOffset(int fd, uint64_t lines) {
  if (lines == 0) return uint64_t{0};
  constexpr size_t kBlock = 1u << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(kBlock);
  uint64_t pos = 0;
  uint64_t seen = 0;
  for (;;) {
    Result<size_t> n = PreadFull(fd, buf.get(), kBlock, pos);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    const char* p = buf.get();
    const char* end = p + *n;
    while (const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))) {
      if (++seen == lines) return pos + static_cast<uint64_t>(nl + 1 - buf.get());
      p = nl + 1;
    }
    pos += *n;
  }
  return Status::Conflict("the file holds " + std::to_string(seen) + " complete lines, fewer than " +
                          std::to_string(lines));
}

}  // namespace tsync::tracker
