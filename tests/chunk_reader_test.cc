#include "tracker/chunk_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/utf8.h"
#include "tests/test_util.h"

using tsync::UniqueFd;
using tsync::testing::AppendFile;
using tsync::testing::TempDir;
using tsync::testing::WriteFile;
using namespace tsync::tracker;

namespace {

UniqueFd OpenRead(const std::string& path) { return UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)); }

Chunk MustRead(int fd, uint64_t offset, uint64_t first_line, size_t budget = kDefaultChunkBudget,
               size_t block = 1u << 20) {
  ChunkOptions opt;
  opt.budget = budget;
  opt.read_block = block;
  opt.log_name = "test.jsonl";
  auto r = ReadChunk(fd, offset, first_line, opt);
  REQUIRE(r.ok());
  return std::move(r).value();
}

// Reads the whole file chunk by chunk; checks each chunk's invariants.
std::vector<std::string> ReadAll(int fd, size_t budget, size_t block, uint64_t* end_offset = nullptr) {
  std::vector<std::string> out;
  uint64_t offset = 0, line = 1;
  for (int guard = 0; guard < 1000000; ++guard) {
    Chunk c = MustRead(fd, offset, line, budget, block);
    REQUIRE(c.first_line == line);
    REQUIRE(c.start_offset == offset);
    REQUIRE(c.encoded_size <= budget);
    REQUIRE(c.encoded_size == EncodedLinesSize(c.lines));
    for (auto l : c.lines) out.emplace_back(l);
    offset = c.end_offset;
    line += c.lines.size();
    if (c.reached_eof) break;
    REQUIRE(!c.empty());  // a chunk that is not at EOF always makes progress
  }
  if (end_offset) *end_offset = offset;
  return out;
}

std::string WireArray(const std::vector<std::string_view>& lines) {
  tsync::JsonWriter w;
  w.BeginArray();
  for (auto l : lines) w.String(l);
  w.EndArray();
  return w.Take();
}

}  // namespace

TEST_CASE("complete lines only: a partial last line waits for its newline", "[chunk]") {
  TempDir dir;
  std::string path = dir / "s.jsonl";
  WriteFile(path, "{\"a\":1}\n{\"b\":2}\n{\"c\":");
  UniqueFd fd = OpenRead(path);
  Chunk c = MustRead(fd.get(), 0, 1);
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0] == "{\"a\":1}");
  CHECK(c.lines[1] == "{\"b\":2}");
  CHECK(c.end_offset == 16);
  CHECK(c.reached_eof);

  Chunk again = MustRead(fd.get(), c.end_offset, 3);
  CHECK(again.empty());
  CHECK(again.reached_eof);
  CHECK(again.end_offset == 16);

  AppendFile(path, "3}\n");
  Chunk done = MustRead(fd.get(), c.end_offset, 3);
  REQUIRE(done.lines.size() == 1);
  CHECK(done.first_line == 3);
  CHECK(done.lines[0] == "{\"c\":3}");
  CHECK(done.end_offset == 24);
}

TEST_CASE("blank lines are lines, so numbering matches the file", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "{}\n\n\n{\"x\":1}\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  Chunk c = MustRead(fd.get(), 0, 1);
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[1].empty());
  CHECK(c.lines[2].empty());
  CHECK(c.last_line() == 4);
  CHECK(WireArray(c.lines) == R"(["{}","","","{\"x\":1}"])");
}

TEST_CASE("an empty file yields an empty chunk at EOF", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "e.jsonl", "");
  UniqueFd fd = OpenRead(dir / "e.jsonl");
  Chunk c = MustRead(fd.get(), 0, 1);
  CHECK(c.empty());
  CHECK(c.reached_eof);
  CHECK(c.end_offset == 0);
  CHECK(c.first_line == 1);
}

TEST_CASE("CRLF: the carriage return is not part of the line and offsets stay exact", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "{\"a\":1}\r\n{\"b\":2}\n\r\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  Chunk c = MustRead(fd.get(), 0, 1);
  REQUIRE(c.lines.size() == 3);
  CHECK(c.lines[0] == "{\"a\":1}");
  CHECK(c.lines[1] == "{\"b\":2}");
  CHECK(c.lines[2] == "");
  CHECK(c.end_offset == 19);
  CHECK(c.stats.crlf_lines == 2);
  CHECK(c.stats.stray_cr == 0);
}

TEST_CASE("a carriage return inside a line becomes a space (the server would split it)", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "{\"a\":\r1}\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  Chunk c = MustRead(fd.get(), 0, 1);
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0] == "{\"a\": 1}");
  CHECK(c.stats.stray_cr == 1);
  CHECK(c.end_offset == 9);
}

TEST_CASE("invalid UTF-8 is replaced by U+FFFD deterministically and counted", "[chunk]") {
  TempDir dir;
  // A lone continuation byte, a truncated 3-byte sequence, an overlong '/',
  // and a valid 'é' that must survive.
  std::string bad = "{\"t\":\"a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xC3\xA9\"}";
  WriteFile(dir / "s.jsonl", "{\"ok\":1}\n" + bad + "\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  Chunk c1 = MustRead(fd.get(), 0, 1);
  Chunk c2 = MustRead(fd.get(), 0, 1);
  REQUIRE(c1.lines.size() == 2);
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(std::string(c1.lines[1]) == "{\"t\":\"a" + fffd + "b" + fffd + "c" + fffd + fffd + "d\xC3\xA9\"}");
  CHECK(c1.lines[1] == c2.lines[1]);
  CHECK(tsync::IsValidUtf8(c1.lines[1]));
  CHECK(c1.stats.repaired_lines == 1);
  CHECK(c1.stats.replaced_sequences == 4);
  CHECK(c1.end_offset == 9 + bad.size() + 1);  // offsets count the raw bytes
}

TEST_CASE("the budget is on the encoded size: quote-heavy lines split where escaping says", "[chunk]") {
  TempDir dir;
  // Each line: 100 quotes -> 200 bytes escaped + 2 quotes = 202 (+1 comma after the first).
  std::string line(100, '"');
  std::string file;
  for (int i = 0; i < 10; ++i) file += line + "\n";
  WriteFile(dir / "q.jsonl", file);
  UniqueFd fd = OpenRead(dir / "q.jsonl");

  // 2 brackets + 202 + 3*203 = 813: exactly four lines fit in 813, not in 812.
  Chunk exact = MustRead(fd.get(), 0, 1, 813);
  CHECK(exact.lines.size() == 4);
  CHECK(exact.encoded_size == 813);
  CHECK(WireArray(exact.lines).size() == 813);
  Chunk under = MustRead(fd.get(), 0, 1, 812);
  CHECK(under.lines.size() == 3);
  CHECK(under.end_offset == 303);
  CHECK_FALSE(under.reached_eof);
  // Raw bytes would have allowed 8 lines: the budget must not count raw bytes.
  CHECK(file.size() / 10 * 8 <= 812);
}

TEST_CASE("control characters are budgeted as six-byte unicode escapes", "[chunk]") {
  TempDir dir;
  std::string line(50, '\x01');
  WriteFile(dir / "c.jsonl", line + "\n");
  UniqueFd fd = OpenRead(dir / "c.jsonl");
  Chunk c = MustRead(fd.get(), 0, 1);
  REQUIRE(c.lines.size() == 1);
  CHECK(c.encoded_size == 2 + 50 * 6 + 2);
  CHECK(WireArray(c.lines).size() == c.encoded_size);
}

TEST_CASE("a 20 MiB line never wedges the file: it becomes a placeholder with its number", "[chunk]") {
  TempDir dir;
  std::string path = dir / "big.jsonl";
  std::string huge = "{\"type\":\"user\",\"blob\":\"" + std::string(20u << 20, 'A') + "\"}";
  WriteFile(path, "{\"n\":1}\n" + huge + "\n{\"n\":3}\n");
  UniqueFd fd = OpenRead(path);

  Chunk first = MustRead(fd.get(), 0, 1);
  REQUIRE(first.lines.size() == 1);  // line 2 does not fit beside line 1
  CHECK_FALSE(first.reached_eof);

  Chunk second = MustRead(fd.get(), first.end_offset, 2);
  REQUIRE(second.lines.size() == 1);
  CHECK(second.first_line == 2);
  CHECK(second.stats.oversize_lines == 1);
  std::string expected = R"({"type":"tsync_oversize_line","bytes":)" + std::to_string(huge.size()) +
                         R"(,"sha256":")" + tsync::Sha256Hex(huge) + R"("})";
  CHECK(second.lines[0] == expected);
  CHECK(second.end_offset == first.end_offset + huge.size() + 1);

  Chunk third = MustRead(fd.get(), second.end_offset, 3);
  REQUIRE(third.lines.size() == 1);
  CHECK(third.lines[0] == "{\"n\":3}");
  CHECK(third.reached_eof);
}

TEST_CASE("an oversize line that fits the buffer but not the budget is a placeholder too", "[chunk]") {
  TempDir dir;
  // 300 raw bytes of quotes encode to 600+: over a 512-byte budget, under the buffer.
  std::string line(300, '"');
  WriteFile(dir / "s.jsonl", line + "\r\n{}\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  Chunk c = MustRead(fd.get(), 0, 7, 512, 4096);
  REQUIRE(c.lines.size() == 1);
  CHECK(c.first_line == 7);
  CHECK(c.stats.oversize_lines == 1);
  // bytes and sha256 cover the raw line up to its '\n' (a CRLF's '\r' included).
  CHECK(c.lines[0].find("\"bytes\":301,") != std::string_view::npos);
  CHECK(c.lines[0].find(tsync::Sha256Hex(line + "\r")) != std::string_view::npos);
  CHECK(c.end_offset == 302);
  Chunk next = MustRead(fd.get(), c.end_offset, 8, 512, 4096);
  REQUIRE(next.lines.size() == 1);
  CHECK(next.lines[0] == "{}");
}

TEST_CASE("an unterminated oversize line waits like any other partial line", "[chunk]") {
  TempDir dir;
  std::string path = dir / "s.jsonl";
  WriteFile(path, std::string(5000, 'x'));
  UniqueFd fd = OpenRead(path);
  Chunk c = MustRead(fd.get(), 0, 1, 1024, 512);
  CHECK(c.empty());
  CHECK(c.reached_eof);
  CHECK(c.end_offset == 0);
  AppendFile(path, "\n");
  Chunk done = MustRead(fd.get(), 0, 1, 1024, 512);
  REQUIRE(done.lines.size() == 1);
  CHECK(done.stats.oversize_lines == 1);
  CHECK(done.end_offset == 5001);
}

TEST_CASE("line views stay valid when a chunk is moved", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "{}\n[]\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  std::vector<Chunk> chunks;
  chunks.push_back(MustRead(fd.get(), 0, 1));
  chunks.reserve(64);  // forces a move of the chunk
  Chunk moved = std::move(chunks[0]);
  REQUIRE(moved.lines.size() == 2);
  CHECK(moved.lines[0] == "{}");
  CHECK(moved.lines[1] == "[]");
}

TEST_CASE("random files: chunks re-join into exactly the file's lines at any budget", "[chunk]") {
  std::mt19937_64 rng(42);
  const char alphabet[] = "abc\"\\\t\x01\r{}:,é日";
  for (int round = 0; round < 40; ++round) {
    TempDir dir;
    std::string file;
    std::vector<std::string> expected;
    int n_lines = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n_lines; ++i) {
      std::string line;
      size_t len = rng() % 4 == 0 ? rng() % 3000 : rng() % 80;
      for (size_t k = 0; k < len; ++k) line.push_back(alphabet[rng() % (sizeof(alphabet) - 1)]);
      if (rng() % 5 == 0) line += '\r';  // CRLF
      file += line + "\n";
      expected.push_back(std::move(line));  // the raw bytes before '\n'

    }
    WriteFile(dir / "r.jsonl", file + "{\"partial\":");
    UniqueFd fd = OpenRead(dir / "r.jsonl");
    size_t budget = 256 + rng() % 8000;
    size_t block = 1 + rng() % 5000;
    uint64_t end = 0;
    std::vector<std::string> got = ReadAll(fd.get(), budget, block, &end);
    REQUIRE(got.size() == expected.size());
    CHECK(end == file.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("round " << round << " line " << i + 1 << " budget " << budget);
      const std::string& e = expected[i];
      std::string_view trimmed(e);  // exactly one '\r' before the '\n' is the terminator's
      if (!trimmed.empty() && trimmed.back() == '\r') trimmed.remove_suffix(1);
      std::string want;
      tsync::AppendRepairedUtf8(&want, trimmed);
      for (char& ch : want) if (ch == '\r') ch = ' ';
      bool oversize = got[i].rfind(R"({"type":"tsync_oversize_line")", 0) == 0;
      if (oversize) {
        CHECK(tsync::JsonEscapedSize(want) + 4 > budget);
        continue;
      }
      CHECK(got[i].size() == want.size());
      CHECK(got[i] == want);
    }
  }
}

TEST_CASE("FindLineOffset finds the byte after the Nth newline", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "a\nbb\n\nccc\npartial");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  CHECK(*FindLineOffset(fd.get(), 0) == 0);
  CHECK(*FindLineOffset(fd.get(), 1) == 2);
  CHECK(*FindLineOffset(fd.get(), 3) == 6);
  CHECK(*FindLineOffset(fd.get(), 4) == 10);
  auto over = FindLineOffset(fd.get(), 5);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().kind() == tsync::Status::Kind::kConflict);
  CHECK(over.status().message().find("4 complete lines") != std::string::npos);
}

TEST_CASE("a budget too small for a placeholder is refused", "[chunk]") {
  TempDir dir;
  WriteFile(dir / "s.jsonl", "{}\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  ChunkOptions opt;
  opt.budget = 100;
  auto r = ReadChunk(fd.get(), 0, 1, opt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().kind() == tsync::Status::Kind::kInvalidInput);
}

TEST_CASE("a line over a reduced budget but within the line limit comes alone, never as a placeholder", "[chunk]") {
  TempDir dir;
  const std::string big = "{\"t\":\"" + std::string(300 * 1024, 'b') + "\"}";
  WriteFile(dir / "s.jsonl", "{\"n\":1}\n" + big + "\n{\"n\":3}\n");
  UniqueFd fd = OpenRead(dir / "s.jsonl");
  ChunkOptions opt;
  opt.budget = 64 * 1024;  // what the engine shrinks to after failures
  opt.read_block = 16 * 1024;
  opt.line_limit = kDefaultChunkBudget;
  tsync::Result<Chunk> first = ReadChunk(fd.get(), 0, 1, opt);
  REQUIRE(first.ok());
  REQUIRE(first->lines.size() == 1);  // the big line does not join a chunk over the budget
  tsync::Result<Chunk> second = ReadChunk(fd.get(), first->end_offset, 2, opt);
  REQUIRE(second.ok());
  REQUIRE(second->lines.size() == 1);  // it comes alone, whole
  CHECK(second->lines[0] == big);
  CHECK(second->stats.oversize_lines == 0);
  CHECK(second->first_line == 2);
  CHECK(second->end_offset == first->end_offset + big.size() + 1);
  CHECK_FALSE(second->reached_eof);
  tsync::Result<Chunk> third = ReadChunk(fd.get(), second->end_offset, 3, opt);
  REQUIRE(third.ok());
  REQUIRE(third->lines.size() == 1);
  CHECK(third->lines[0] == "{\"n\":3}");
  // Without the limit, the same budget makes it a placeholder (guarantee 5).
  opt.line_limit = 0;
  tsync::Result<Chunk> capped = ReadChunk(fd.get(), first->end_offset, 2, opt);
  REQUIRE(capped.ok());
  CHECK(capped->stats.oversize_lines == 1);
  // And a line over the limit too is a placeholder whatever the budget.
  opt.line_limit = 128 * 1024;
  tsync::Result<Chunk> over = ReadChunk(fd.get(), first->end_offset, 2, opt);
  REQUIRE(over.ok());
  CHECK(over->stats.oversize_lines == 1);
  CHECK(over->end_offset == second->end_offset);
}
