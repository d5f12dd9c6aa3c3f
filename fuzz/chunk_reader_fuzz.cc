// Fuzz target: the chunk reader / line splitter (tracker/chunk_reader.h).
//
// Input: three option bytes, then the file's bytes.
//   [0] chunk budget: 256 + 32·b (256 … 8416 bytes, so sample lines of a
//       few KiB become oversize placeholders and chunks end often)
//   [1] read block: 1 + 4·b bytes (small blocks split lines across reads)
//   [2] how much of the file exists at the first pass: b/255 of it; the rest
//       is appended before a second pass resumes from the first's checkpoint
//       (an unterminated tail must wait, then be read exactly once)
// Properties, against a reference model of the file written here:
//  - lines are numbered and placed as the file says: every '\n' ends exactly
//    one line, chunks are contiguous, offsets match, an unterminated tail is
//    never returned;
//  - every line is valid UTF-8 (checked by simdjson) with no '\n' or '\r';
//    a well-formed line comes back byte-identical (CRLF stripped, stray CR a
//    space), an ill-formed one repaired by maximal subparts (an independent
//    decoder below);
//  - encoded_size equals the size of the JSON array JsonWriter writes for the
//    lines and stays within the budget; a chunk that stops short of end of
//    file could not have taken its next line (or filled its read buffer);
//  - a line that alone exceeds the budget is the oversize placeholder with
//    the raw line's length and SHA-256 (OpenSSL), alone in its chunk;
//  - the repair counters match; FindLineOffset agrees with the model.
#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/json.h"
#include "fuzz/fuzz_util.h"
#include "tracker/chunk_reader.h"

namespace {

using tsync::fuzz::Shown;

// Maximal-subpart UTF-8 repair (Unicode §3.9, WHATWG "decode"), written
// independently of base/utf8.cc. Returns the number of U+FFFD emitted.
size_t ReferenceRepair(std::string_view s, std::string* out) {
  static const char kFffd[] = "\xEF\xBF\xBD";
  size_t replaced = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b < 0x80) {
      out->push_back(static_cast<char>(b));
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out->append(kFffd);
      ++replaced;
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (size_t k = 0; k < need; ++k, ++j) {
      if (j >= s.size()) {
        ok = false;
        break;
      }
      const auto c = static_cast<unsigned char>(s[j]);
      const unsigned char l = k == 0 ? lo : 0x80, h = k == 0 ? hi : 0xBF;
      if (c < l || c > h) {
        ok = false;
        break;
      }
    }
    if (ok) {
      out->append(s.substr(i, need + 1));
    } else {
      out->append(kFffd);
      ++replaced;
    }
    i = j;  // past the sequence, or at the byte that broke it
  }
  return replaced;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) std::abort();
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// What the reader must return for one complete line of the file.
struct RefLine {
  uint64_t start = 0;  // offset of its first byte
  std::string_view raw;  // without the '\n'
  std::string text;    // sanitised
  bool crlf = false;
  bool repaired = false;
  size_t replaced = 0;
  size_t stray_cr = 0;
};

std::vector<RefLine> Model(std::string_view file) {
  std::vector<RefLine> lines;
  size_t start = 0;
  for (size_t nl; (nl = file.find('\n', start)) != std::string_view::npos; start = nl + 1) {
    RefLine r;
    r.start = start;
    r.raw = file.substr(start, nl - start);
    std::string_view content = r.raw;
    r.crlf = !content.empty() && content.back() == '\r';
    if (r.crlf) content.remove_suffix(1);
    r.replaced = ReferenceRepair(content, &r.text);
    r.repaired = r.replaced > 0;
    for (char& c : r.text) {
      if (c == '\r') {
        c = ' ';
        ++r.stray_cr;
      }
    }
    lines.push_back(std::move(r));
  }
  return lines;
}

void WriteAllOrDie(int fd, std::string_view data) {
  tsync::Status st = tsync::WriteAll(fd, data, "memfd");
  if (!st.ok()) std::abort();
}

struct Cursor {
  uint64_t offset = 0;
  uint64_t line = 0;
};

// Reads chunks until the reader says there is nothing more now, checking
// each against the model of the whole file (`ref`) of which the first
// `available` bytes exist.
void ReadAll(int fd, const std::vector<RefLine>& ref, uint64_t available, const tsync::tracker::ChunkOptions& opt,
             Cursor* cur) {
  for (int guard = 0;; ++guard) {
    FUZZ_CHECK(guard < 100000, "no end to the chunks");
    tsync::Result<tsync::tracker::Chunk> got = ReadChunk(fd, cur->offset, cur->line, opt);
    FUZZ_CHECK(got.ok(), got.status().message());
    const tsync::tracker::Chunk& c = *got;
    const std::string at = "chunk at line " + std::to_string(cur->line) + " offset " + std::to_string(cur->offset);
    FUZZ_CHECK(c.first_line == cur->line && c.start_offset == cur->offset, at + ": starts elsewhere");
    FUZZ_CHECK(!c.empty() || c.reached_eof, at + ": empty but not at end of file");
    FUZZ_CHECK(c.end_offset <= available, at + ": ends past the bytes written");

    tsync::JsonWriter w;
    w.BeginArray();
    tsync::tracker::ChunkStats want;
    for (size_t i = 0; i < c.lines.size(); ++i) {
      const uint64_t n = c.first_line + i;
      const std::string where = at + ", line " + std::to_string(n);
      FUZZ_CHECK(n < ref.size(), where + ": the file has no such complete line");
      const RefLine& r = ref[n];
      FUZZ_CHECK(r.start + r.raw.size() + 1 <= available, where + ": returned before its newline was written");
      std::string_view line = c.lines[i];
      w.String(line);
      FUZZ_CHECK(simdjson::validate_utf8(line.data(), line.size()), where + ": not valid UTF-8");
      FUZZ_CHECK(line.find('\n') == std::string_view::npos && line.find('\r') == std::string_view::npos,
                 where + ": holds a newline or carriage return");
      const bool oversize = tsync::tracker::EncodedLineCost(r.text, true) + 2 > opt.budget;
      if (oversize) {
        FUZZ_CHECK(c.lines.size() == 1, where + ": oversize placeholder shares its chunk");
        std::string placeholder = tsync::tracker::OversizePlaceholder(r.raw.size(), Sha256Hex(r.raw));
        FUZZ_CHECK(line == placeholder, where + ": expected the placeholder, got " + Shown(line));
        ++want.oversize_lines;
      } else {
        FUZZ_CHECK(line == r.text, where + ": got \"" + Shown(line) + "\" want \"" + Shown(r.text) + "\"");
        want.crlf_lines += r.crlf;
        want.repaired_lines += r.repaired;
        want.replaced_sequences += r.replaced;
        want.stray_cr += r.stray_cr;
      }
    }
    w.EndArray();
    FUZZ_CHECK(c.encoded_size == w.str().size(),
               at + ": encoded_size " + std::to_string(c.encoded_size) + " but JsonWriter writes " +
                   std::to_string(w.str().size()));
    FUZZ_CHECK(c.encoded_size == tsync::tracker::EncodedLinesSize(c.lines), at + ": EncodedLinesSize disagrees");
    FUZZ_CHECK(c.encoded_size <= opt.budget, at + ": over budget");
    FUZZ_CHECK(c.stats.crlf_lines == want.crlf_lines && c.stats.stray_cr == want.stray_cr &&
                   c.stats.repaired_lines == want.repaired_lines &&
                   c.stats.replaced_sequences == want.replaced_sequences &&
                   c.stats.oversize_lines == want.oversize_lines,
               at + ": repair counters differ");

    const uint64_t next = c.first_line + c.lines.size();
    const uint64_t end = next == 0 ? 0 : ref[next - 1].start + ref[next - 1].raw.size() + 1;
    FUZZ_CHECK(c.empty() ? c.end_offset == cur->offset : c.end_offset == end, at + ": end_offset is wrong");
    const bool next_complete = next < ref.size() && ref[next].start + ref[next].raw.size() + 1 <= available;
    if (c.reached_eof) {
      FUZZ_CHECK(!next_complete, at + ": stopped at 'end of file' with line " + std::to_string(next) + " complete");
    } else if (c.stats.oversize_lines == 0) {
      // Stopped short of the end: the next line did not fit the budget, or
      // the read buffer (budget + one block) filled up before its newline —
      // then the next call decides, and the line may still be unterminated.
      if (next_complete) {
        FUZZ_CHECK(c.encoded_size + tsync::tracker::EncodedLineCost(ref[next].text, false) > opt.budget,
                   at + ": stopped short although line " + std::to_string(next) + " fitted");
      } else {
        FUZZ_CHECK(available >= c.start_offset + opt.budget + opt.read_block,
                   at + ": stopped short with neither a complete line after it nor a full buffer");
      }
    }
    cur->offset = c.end_offset;
    cur->line = next;
    if (c.reached_eof) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  tsync::tracker::ChunkOptions opt;
  opt.budget = tsync::tracker::kMinChunkBudget + 32u * data[0];
  opt.read_block = 1 + 4u * data[1];
  opt.log_name = "fuzz.jsonl";
  const std::string_view file(reinterpret_cast<const char*>(data) + 3, size - 3);
  const size_t split = file.size() * data[2] / 255;
  const std::vector<RefLine> ref = Model(file);

  tsync::UniqueFd fd(::memfd_create("chunk_reader_fuzz", MFD_CLOEXEC));
  FUZZ_CHECK(fd.valid(), "memfd_create failed");
  WriteAllOrDie(fd.get(), file.substr(0, split));
  Cursor cur;
  ReadAll(fd.get(), ref, split, opt, &cur);
  WriteAllOrDie(fd.get(), file.substr(split));
  ReadAll(fd.get(), ref, file.size(), opt, &cur);
  FUZZ_CHECK(cur.line == ref.size(), "read " + std::to_string(cur.line) + " of " + std::to_string(ref.size()) + " lines");

  // FindLineOffset: the offset just past the k-th newline.
  for (uint64_t k : {uint64_t{0}, uint64_t{ref.size() / 2}, uint64_t{ref.size()}, uint64_t{ref.size() + 1}}) {
    tsync::Result<uint64_t> off = tsync::tracker::FindLineOffset(fd.get(), k);
    if (k > ref.size()) {
      FUZZ_CHECK(!off.ok(), "FindLineOffset past the last line succeeded");
      continue;
    }
    FUZZ_CHECK(off.ok(), "FindLineOffset(" + std::to_string(k) + ") failed: " + off.status().message());
    const uint64_t want = k == 0 ? 0 : ref[k - 1].start + ref[k - 1].raw.size() + 1;
    FUZZ_CHECK(*off == want, "FindLineOffset(" + std::to_string(k) + ") = " + std::to_string(*off));
  }
  return 0;
}
