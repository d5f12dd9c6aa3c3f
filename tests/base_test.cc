#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "base/fs.h"
#include "base/json.h"
#include "base/memory.h"
#include "base/sha256.h"
#include "base/status.h"
#include "base/text.h"
#include "base/utf8.h"
#include "tests/test_util.h"

using namespace tsync;

TEST_CASE("JsonEscapedSize equals what AppendJsonEscaped writes, for every byte", "[base][json]") {
  for (int c = 0; c < 256; ++c) {
    std::string s(1, static_cast<char>(c));
    std::string out;
    AppendJsonEscaped(&out, s);
    INFO("byte " << c);
    CHECK(out.size() == JsonEscapedSize(s));
  }
  CHECK(JsonEscapedSize("\"") == 2);
  CHECK(JsonEscapedSize("\\") == 2);
  CHECK(JsonEscapedSize("\n") == 2);
  CHECK(JsonEscapedSize(std::string(1, '\x01')) == 6);
  CHECK(JsonEscapedSize("\x7f") == 1);
  CHECK(JsonEscapedSize("é") == 2);
}

TEST_CASE("escaped strings round-trip through a JSON parser, long and short", "[base][json]") {
  std::mt19937 rng(7);
  simdjson::dom::parser parser;
  for (int round = 0; round < 200; ++round) {
    std::string s;
    size_t len = rng() % 100;
    for (size_t i = 0; i < len; ++i) {
      // ASCII including all controls, quotes and backslashes.
      s.push_back(static_cast<char>(rng() % 128));
    }
    std::string json;
    AppendJsonString(&json, s);
    CHECK(json.size() == JsonEscapedSize(s) + 2);
    std::string_view back;
    REQUIRE(parser.parse(json).get_string().get(back) == simdjson::SUCCESS);
    CHECK(back == s);
  }
}

namespace {
// Byte-at-a-time escaping, the obvious way: the reference for the
// vectorised AppendJsonEscaped.
std::string NaiveEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[7];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}
}  // namespace

namespace {
// WriteJsonEscaped into a buffer of exactly the room it asks for.
std::string Written(std::string_view s) {
  std::unique_ptr<char[]> room(new char[JsonEscapeRoom(s.size())]);
  return std::string(room.get(), WriteJsonEscaped(room.get(), s));
}
}  // namespace

TEST_CASE("AppendJsonEscaped and WriteJsonEscaped match byte-at-a-time escaping at every block position",
          "[base][json]") {
  // Specials at every offset around the 16-byte blocks, alone, in runs and
  // at the tail, inside plain ASCII and multi-byte UTF-8.
  const std::string specials = std::string("\"\\\n\r\t\b\f\x01\x1f") + std::string(1, '\0');
  for (const std::string& fill : {std::string("a"), std::string("\xc3\xa9")}) {
    for (size_t len : {size_t{15}, size_t{16}, size_t{17}, size_t{33}, size_t{64}}) {
      for (size_t pos = 0; pos < len; ++pos) {
        for (char sp : specials) {
          std::string s;
          while (s.size() < len) s += fill;
          s.resize(len);
          s[pos] = sp;
          if (pos + 1 < len) s[len - 1] = sp;  // a second one at the very end
          std::string out;
          AppendJsonEscaped(&out, s);
          INFO("len " << len << " pos " << pos << " byte " << int(static_cast<unsigned char>(sp)));
          REQUIRE(out == NaiveEscape(s));
          CHECK(JsonEscapedSize(s) == out.size());
          REQUIRE(Written(s) == out);
        }
      }
    }
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::string s(rng() % 300, 'x');
    for (char& c : s) c = (rng() % 20 == 0) ? static_cast<char>(rng() % 0x24) : static_cast<char>(0x20 + rng() % 0x60);
    std::string out;
    AppendJsonEscaped(&out, s);
    REQUIRE(out == NaiveEscape(s));
    REQUIRE(Written(s) == out);
  }
  // The worst case fills the room it is promised, and no more (ASan).
  const std::string controls(100, '\x01');
  CHECK(Written(controls) == NaiveEscape(controls));
}

TEST_CASE("FindText finds what string_view::find finds, from every offset and at every block position",
          "[base][text]") {
  // A two-letter alphabet makes partial matches (anchor bytes equal, the
  // rest not) common; needles of every length up to past a 16-byte block.
  std::mt19937 rng(99);
  auto text = [&](size_t n) {
    std::string s(n, 'a');
    for (char& c : s) c = (rng() & 1) ? 'a' : 'b';
    return s;
  };
  size_t found = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string hay = text(rng() % 80);
    const std::string needle = text(rng() % 20);
    const size_t from = rng() % (hay.size() + 2);
    CAPTURE(hay, needle, from);
    const size_t want = from > hay.size() ? std::string_view::npos : std::string_view(hay).find(needle, from);
    REQUIRE(tsync::FindText(hay, needle, from) == want);
    found += want != std::string_view::npos;
  }
  CHECK(found > 500);  // the comparison covered hits as well as misses
  // A match that ends on the haystack's last byte, after a long miss-free run.
  const std::string line = std::string(1000, 'x') + R"("gitBranch")";
  CHECK(tsync::FindText(line, R"("gitBranch")") == 1000);
  CHECK(tsync::FindText(line, R"("gitBranch")", 1001) == std::string_view::npos);
  CHECK(tsync::ContainsText(line, "x\"g"));
  CHECK_FALSE(tsync::ContainsText(line, R"("agentId")"));
  CHECK(tsync::FindText("abc", "") == 0);
  CHECK(tsync::FindText("", "a") == std::string_view::npos);
}

TEST_CASE("JsonWriter places commas and nests", "[base][json]") {
  JsonWriter w;
  w.BeginObject().Key("a").Int(-1).Key("b").BeginArray().String("x").Bool(true).Null().UInt(7).EndArray();
  w.Key("c").BeginObject().EndObject().Key("d").Raw("[1]").EndObject();
  CHECK(w.str() == R"({"a":-1,"b":["x",true,null,7],"c":{},"d":[1]})");
}

TEST_CASE("UTF-8 validation and maximal-subpart repair", "[base][utf8]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(IsValidUtf8("plain"));
  CHECK(IsValidUtf8("é日本🎉"));
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));        // overlong
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));    // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF

  struct Case {
    std::string in, out;
    size_t replaced;
  };
  std::vector<Case> cases = {
      {"ok", "ok", 0},
      {"a\x80z", "a" + fffd + "z", 1},
      {"\xE2\x82", fffd, 1},                      // truncated 3-byte: one replacement
      {"\xE2\x82z", fffd + "z", 1},
      {"\xC0\xAF", fffd + fffd, 2},                // C0 is never valid; AF is a lone continuation
      {"\xED\xA0\x80", fffd + fffd + fffd, 3},     // surrogates: ED then A0 is out of range
      {"\xF0\x9F\x8E", fffd, 1},                  // truncated emoji
      {"\xF0\x9F\x8E\x89", "\xF0\x9F\x8E\x89", 0},
      {"\xFF\xFE", fffd + fffd, 2},
  };
  for (const auto& c : cases) {
    std::string out;
    size_t n = AppendRepairedUtf8(&out, c.in);
    INFO("input bytes " << c.in.size());
    CHECK(out == c.out);
    CHECK(n == c.replaced);
    CHECK(IsValidUtf8(out));
  }
}

TEST_CASE("TruncateUtf8 never cuts a sequence", "[base][utf8]") {
  std::string s = "aé日";  // 1 + 2 + 3 bytes
  CHECK(TruncateUtf8(s, 100) == s);
  CHECK(TruncateUtf8(s, 2) == "a");
  CHECK(TruncateUtf8(s, 3) == "aé");
  CHECK(TruncateUtf8(s, 5) == "aé");
  CHECK(TruncateUtf8(s, 6) == s);
}

TEST_CASE("SHA-256 matches the standard test vectors", "[base]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.FinishHex() == Sha256Hex("abc"));
}

TEST_CASE("WriteFileAtomic replaces whole files with the requested mode", "[base][fs]") {
  testing::TempDir dir;
  std::string path = dir / "sub/state.json";
  REQUIRE(MakeDirs(DirName(path), 0700).ok());
  REQUIRE(WriteFileAtomic(path, "first").ok());
  REQUIRE(WriteFileAtomic(path, "second, longer").ok());
  CHECK(testing::ReadWholeFile(path) == "second, longer");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(DirName(path).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  auto missing_dir = WriteFileAtomic(dir / "nope/x.json", "x");
  CHECK_FALSE(missing_dir.ok());
  CHECK(missing_dir.kind() == Status::Kind::kIo);
  CHECK(missing_dir.message().find("nope") != std::string::npos);
}

TEST_CASE("WriteFileAtomic without fsync still replaces whole files and leaves no temp file", "[base][fs]") {
  testing::TempDir dir;
  std::string path = dir / "cp.json";
  REQUIRE(WriteFileAtomic(path, "first", 0600, Durability::kAtomicOnly).ok());
  REQUIRE(WriteFileAtomic(path, "second, longer", 0640, Durability::kAtomicOnly).ok());
  CHECK(testing::ReadWholeFile(path) == "second, longer");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.is_regular_file();
  CHECK(entries == 1);
  CHECK_FALSE(WriteFileAtomic(dir / "nope/x.json", "x", 0600, Durability::kAtomicOnly).ok());
}

TEST_CASE("ReadFile reports missing and oversized files by kind", "[base][fs]") {
  testing::TempDir dir;
  auto missing = ReadFile(dir / "none", 10);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().kind() == Status::Kind::kNotFound);
  testing::WriteFile(dir / "big", std::string(11, 'x'));
  auto big = ReadFile(dir / "big", 10);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().kind() == Status::Kind::kInvalidInput);
  CHECK(*ReadFile(dir / "big", 11) == std::string(11, 'x'));
}

TEST_CASE("PathIsInside compares whole path components", "[base][fs]") {
  CHECK(PathIsInside("/a/b/c", "/a/b"));
  CHECK(PathIsInside("/a/b/c", "/a/b/"));
  CHECK_FALSE(PathIsInside("/a/bc", "/a/b"));
  CHECK_FALSE(PathIsInside("/a/b", "/a/b"));
  CHECK(PathIsInside("/x", "/"));
}

TEST_CASE("Status and Result carry kinds and messages", "[base]") {
  Status s = Status::Config("bad field");
  CHECK_FALSE(s.ok());
  CHECK(s.ToString() == "config error: bad field");
  Result<int> r = 5;
  CHECK(r.ok());
  CHECK(r.status().ok());
  Result<int> e = Status::NotFound("x");
  CHECK_FALSE(e.ok());
  CHECK(e.status().kind() == Status::Kind::kNotFound);
  Result<int> misuse = Status::Ok();
  CHECK_FALSE(misuse.ok());
  CHECK(misuse.status().kind() == Status::Kind::kInternal);
}

namespace {

/// A private mapping of `path` (`size` bytes), unmapped on destruction.
struct Mapping {
  Mapping(const std::string& path, size_t size, int prot) : size(size) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    void* p = ::mmap(nullptr, size, prot, MAP_PRIVATE, fd, 0);
    ::close(fd);
    REQUIRE(p != MAP_FAILED);
    data = static_cast<unsigned char*>(p);
  }
  ~Mapping() { ::munmap(data, size); }
  uint64_t Sum() const {  // touches every page
    uint64_t sum = 0;
    for (size_t i = 0; i < size; i += 512) sum = sum * 31 + data[i];
    return sum;
  }
  unsigned char* data = nullptr;
  size_t size;
};

}  // namespace

TEST_CASE("ReleaseIdleMemory unmaps clean read-only file pages and keeps every private copy", "[base][memory]") {
  testing::TempDir dir;
  constexpr size_t kSize = 16u << 20;
  std::string bytes(kSize, '\0');
  std::mt19937_64 rng(5);
  for (char& c : bytes) c = static_cast<char>(rng());
  testing::WriteFile(dir / "clean.bin", bytes);
  testing::WriteFile(dir / "copied.bin", bytes.substr(0, 1u << 20));
  testing::WriteFile(dir / "written.bin", bytes.substr(0, 1u << 20));

  Mapping clean(dir / "clean.bin", kSize, PROT_READ);
  const uint64_t sum = clean.Sum();
  // Like relocated tables: written privately, then made read-only.
  Mapping copied(dir / "copied.bin", 1u << 20, PROT_READ | PROT_WRITE);
  std::memset(copied.data, 'c', 1u << 20);
  REQUIRE(::mprotect(copied.data, 1u << 20, PROT_READ) == 0);
  // Writable data.
  Mapping written(dir / "written.bin", 1u << 20, PROT_READ | PROT_WRITE);
  std::memset(written.data + 4096, 'w', 8192);

  const MemoryRelease r = ReleaseIdleMemory();
  CHECK(r.mappings_released >= 1);
  INFO("resident before " << r.rss_before << ", after " << r.rss_after);
  REQUIRE(r.rss_before > r.rss_after);
  CHECK(r.rss_before - r.rss_after >= (12u << 20));  // the clean mapping's 16 MiB, most of them
  CHECK(ResidentBytes() >= r.rss_after);

  // Everything reads as before: the clean pages come back from the page
  // cache, the private copies were never dropped.
  CHECK(clean.Sum() == sum);
  CHECK(std::all_of(copied.data, copied.data + (1u << 20), [](unsigned char c) { return c == 'c'; }));
  CHECK(std::all_of(written.data + 4096, written.data + 4096 + 8192, [](unsigned char c) { return c == 'w'; }));
  CHECK(std::memcmp(written.data, bytes.data(), 4096) == 0);
  CHECK(std::memcmp(written.data + 12288, bytes.data() + 12288, (1u << 20) - 12288) == 0);
}

TEST_CASE("PooledBuffer serves a size class from the pool, keeps an idle buffer's first pages resident only",
          "[base][memory]") {
  PooledBuffer::ReleaseIdle();
  REQUIRE(PooledBuffer::IdleCount() == 0);

  // A 15 MiB request is served from the 16 MiB class, fully writable.
  PooledBuffer a(15u << 20);
  REQUIRE(a);
  REQUIRE(a.capacity() >= (15u << 20));
  std::memset(a.data(), 'a', a.capacity());
  char* const first = a.data();

  const uint64_t written = ResidentBytes();
  a = PooledBuffer();  // given back: idle, trimmed to its first kKeepResident bytes
  CHECK(PooledBuffer::IdleCount() == 1);
  const uint64_t idle = ResidentBytes();
  INFO("resident written " << written << ", idle " << idle);
  REQUIRE(written > idle);
  CHECK(written - idle >= (12u << 20));
  // The kept prefix is still the bytes written.
  CHECK(std::all_of(first, first + PooledBuffer::kKeepResident, [](char c) { return c == 'a'; }));

  // The same class gets the same buffer back; another class does not.
  PooledBuffer b(14u << 20);
  CHECK(b.data() == first);
  CHECK(PooledBuffer::IdleCount() == 0);
  PooledBuffer small(100u << 10);
  CHECK(small.data() != first);
  CHECK(small.capacity() >= (100u << 10));
  std::memset(small.data(), 's', 100u << 10);
  b = PooledBuffer();
  small = PooledBuffer();
  CHECK(PooledBuffer::IdleCount() == 2);

  // Moves hand the buffer over without giving it back.
  PooledBuffer moved_from(1u << 20);
  PooledBuffer moved(std::move(moved_from));
  CHECK_FALSE(moved_from);
  CHECK(moved);
  CHECK(PooledBuffer::IdleCount() == 2);  // the 1 MiB class had none: a new buffer

  // At most kMaxIdle wait; the smallest make way for larger ones.
  {
    std::vector<PooledBuffer> many;
    for (int i = 0; i < PooledBuffer::kMaxIdle + 3; ++i) many.emplace_back(size_t{2} << 20);
    many.emplace_back(size_t{32} << 20);
  }
  CHECK(PooledBuffer::IdleCount() == PooledBuffer::kMaxIdle);
  CHECK(PooledBuffer::IdleBytes() >= (size_t{32} << 20));

  // ReleaseIdleMemory empties the pool.
  moved = PooledBuffer();
  ReleaseIdleMemory();
  CHECK(PooledBuffer::IdleCount() == 0);
  CHECK(PooledBuffer::IdleBytes() == 0);
}
