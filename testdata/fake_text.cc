#include "testdata/fake_text.h"

#include <array>
#include <cstdio>

namespace tsync::testdata {
namespace {

template <size_t N>
std::string_view Pick(Rng& rng, const std::array<std::string_view, N>& items) {
  return items[rng.Below(N)];
}

constexpr std::array<std::string_view, 96> kWords = {
    "the", "a", "to", "of", "and", "in", "is", "it", "that", "for", "this", "we", "file", "line",
    "function", "test", "build", "read", "write", "buffer", "offset", "chunk", "session", "agent",
    "should", "can", "will", "not", "with", "from", "when", "then", "error", "value", "return",
    "check", "path", "config", "upload", "server", "client", "retry", "timeout", "because",
    "instead", "first", "next", "last", "every", "each", "new", "old", "fix", "change", "update",
    "call", "handle", "parse", "string", "number", "list", "map", "index", "cache", "memory",
    "thread", "lock", "queue", "event", "hook", "watcher", "inode", "rename", "append", "truncate",
    "newline", "escape", "JSON", "UTF-8", "bytes", "seconds", "looks", "like", "seems", "works",
    "fails", "passes", "now", "still", "only", "also", "maybe", "probably", "definitely", "here",
    "there"};

// Salt mixed into prose: quotes, backslashes, tabs and non-ASCII text.
constexpr std::array<std::string_view, 24> kSpice = {
    R"("quoted")", R"(C:\Users\dev\project)", R"(a literal \n in text)", "café", "naïve",
    "日本語のテスト", "中文字符", "Привет", "🚀", "✅ done", "—", "tab\tseparated", "«guillemets»",
    "“smart quotes”", "Ünïcödé", "x ≤ y", "👩‍💻", R"(\\server\share)", "résumé", "🎉🎉",
    R"(say "hi" \ bye)", "emoji 😀 here", "line one\nline two", "naïve “café” — 日本"};

constexpr std::array<std::string_view, 40> kCodeLines = {
    "#include <string>", "#include \"tracker/chunk_reader.h\"", "",
    "int main(int argc, char** argv) {", R"(	std::string s = "hello, \"world\"\n";)",
    R"(	if (!line.empty() && line.back() == '\r') line.pop_back();)",
    R"(    return fmt::format("{}: {}", key, value);)", "  for (size_t i = 0; i < n; ++i) {",
    "\t\tsum += values[i] * weights[i];", "\t}", "}", "def parse(path: str) -> dict:",
    R"(    with open(path, encoding="utf-8") as f:)",
    R"(        return json.loads(f.read().replace('\t', '  ')))",
    R"(    print(f"{name!r}\t{count}\n", end=""))", R"(export PATH="$HOME/.local/bin:$PATH")",
    R"(grep -rn "TODO\|FIXME" src/ | wc -l)", R"(    printf("%s\t%d\n", name, count);)",
    R"re(const re = /^\s*(\w+)="([^"]*)"$/;)re", "// 注释: 日本語のコメント — ünïcödé ✨",
    R"(  "name": "tsync",)", R"(  "description": "syncs \"transcripts\" \\ fast",)",
    R"py(    raise ValueError(f"bad path: {p!r} (expected C:\\data)"))py", "\treturn nullptr;",
    "  // TODO(dev): handle EINTR here", "class ChunkReader {", " public:", " private:",
    "  uint64_t offset_ = 0;", "};", "fn main() -> Result<(), Box<dyn Error>> {",
    R"(    let s = "tab\there";)", "    Ok(())", "if [[ -z \"${CLAUDE_CONFIG_DIR:-}\" ]]; then",
    "  echo \"using ~/.claude\" >&2", "fi", "SELECT id, name FROM sessions WHERE name LIKE '%é%';",
    "\t\t\t// deeply\tindented\twith tabs", "    assert s == 'naïve', s", "    }"};

constexpr std::array<std::string_view, 24> kOutputLines = {
    "[ 12%] Building CXX object tracker/CMakeFiles/tsync_tracker.dir/chunk_reader.cc.o",
    "src/tracker/chunk_reader.cc:88:12: error: expected ';' before '}' token",
    "   88 |   return out\n      |            ^\n      |            ;",
    "===============================================================================",
    "All tests passed (1342 assertions in 87 test cases) ✅",
    "test_upload.py::test_retry_after PASSED                                  [ 42%]",
    "-rw-r--r-- 1 dev dev   16384 Nov 21 05:43 \"quoted name\".jsonl",
    "drwxr-xr-x 4 dev dev    4096 Nov 21 05:43 日本語フォルダ", "M  tracker/chunk_reader.cc",
    "?? testdata/", "warning: unused variable 'n' [-Wunused-variable]",
    "Traceback (most recent call last):\n  File \"C:\\tools\\run.py\", line 3, in <module>",
    "Compiling tsync v0.1.0 (/home/dev/demo-project)", "\tmodified:   base/json.cc",
    "real\t0m1.532s\nuser\t0m1.201s\nsys\t0m0.310s", "PASS  src/__tests__/parse.test.ts (5.1 s)",
    "npm WARN deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
    "ok  \tgithub.com/dev/tsync/internal/sync\t0.412s", "error[E0308]: mismatched types — expected `&str`",
    "Résumé of run: 3 failed, 97 passed 🚨", "  File \"/home/dev/app.py\", line 12\n    print(\"x\")",
    "HEAD is now at 3f2a1bc Fix \"flaky\" test", "total 48", "Binary files a/logo.png and b/logo.png differ"};

constexpr std::array<std::string_view, 16> kPaths = {
    "src/tracker/chunk_reader.cc", "src/tracker/chunk_reader.h", "tests/chunk_reader_test.cc",
    "README.md", "docs/日本語/使い方.md", "CMakeLists.txt", "scripts/install.sh",
    "src/uploader/sync_client.cc", "app/models/user.py", "web/src/components/Chat View.tsx",
    "config/settings.json", "notes/résumé draft.txt", "Cargo.toml", "src/main.rs",
    "internal/sync/retry.go", "package.json"};

constexpr std::array<std::string_view, 14> kCommands = {
    "cmake --build build -j8 2>&1 | tail -20", "ctest --test-dir build --output-on-failure",
    "git status --short", "git diff --stat HEAD~1", "ls -la \"$HOME/.claude/projects\"",
    "grep -rn \"ReadChunk\" src/ tests/", "python3 -m pytest -x -q tests/",
    "npm run lint -- --fix", "cargo test --workspace", "go test ./...",
    "find . -name '*.jsonl' -size +1M", "jq '.type' < session.jsonl | sort | uniq -c",
    "printf 'a\\tb\\n' | cut -f2", "echo \"naïve café 🚀\" | wc -c"};

constexpr std::array<std::string_view, 4> kFenceLangs = {"cpp", "python", "bash", "json"};

void AppendSentence(Rng& rng, std::string* out) {
  const size_t words = rng.Between(5, 18);
  for (size_t i = 0; i < words; ++i) {
    if (i > 0) out->push_back(' ');
    const uint64_t roll = rng.Below(100);
    if (roll < 6) {
      out->append(Pick(rng, kSpice));
    } else if (roll < 9) {
      out->push_back('`');
      out->append(Pick(rng, kWords));
      out->append("()`");
    } else {
      std::string_view w = Pick(rng, kWords);
      if (i == 0 && w[0] >= 'a' && w[0] <= 'z') {
        out->push_back(static_cast<char>(w[0] - 'a' + 'A'));
        w.remove_prefix(1);
      }
      out->append(w);
    }
  }
  out->append(rng.Chance(1, 8) ? "? " : ". ");
}

}  // namespace

void AppendProse(Rng& rng, std::string* out, size_t bytes) {
  const size_t end = out->size() + bytes;
  while (out->size() < end) {
    const uint64_t roll = rng.Below(100);
    if (roll < 4) {
      out->append("\n\n```").append(Pick(rng, kFenceLangs)).push_back('\n');
      AppendCode(rng, out, rng.Between(80, 400));
      out->append("\n```\n\n");
    } else if (roll < 10) {
      out->append("\n- ");
      AppendSentence(rng, out);
    } else if (roll < 16) {
      out->append("\n\n");
    } else {
      AppendSentence(rng, out);
    }
  }
}

std::string Prose(Rng& rng, size_t bytes) {
  std::string s;
  s.reserve(bytes + 64);
  AppendProse(rng, &s, bytes);
  return s;
}

void AppendCode(Rng& rng, std::string* out, size_t bytes) {
  const size_t end = out->size() + bytes;
  bool first = true;
  while (out->size() < end) {
    if (!first) out->push_back('\n');
    first = false;
    out->append(Pick(rng, kCodeLines));
  }
}

std::string Code(Rng& rng, size_t bytes) {
  std::string s;
  s.reserve(bytes + 128);
  AppendCode(rng, &s, bytes);
  return s;
}

void AppendCommandOutput(Rng& rng, std::string* out, size_t bytes) {
  const size_t end = out->size() + bytes;
  bool first = true;
  while (out->size() < end) {
    if (!first) out->push_back('\n');
    first = false;
    if (rng.Chance(1, 6)) {
      AppendCode(rng, out, 60);
    } else {
      out->append(Pick(rng, kOutputLines));
    }
  }
}

void AppendBase64(Rng& rng, std::string* out, size_t chars) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  chars = (chars + 3) / 4 * 4;
  const size_t start = out->size();
  out->resize(start + chars);
  char* p = out->data() + start;
  size_t i = 0;
  while (i < chars) {
    uint64_t bits = rng.Next();
    for (int k = 0; k < 10 && i < chars; ++k, bits >>= 6) p[i++] = kAlphabet[bits & 63];
  }
}

std::string RandomHex(Rng& rng, size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(digits, '0');
  uint64_t bits = 0;
  for (size_t i = 0; i < digits; ++i, bits >>= 4) {
    if (i % 16 == 0) bits = rng.Next();
    s[i] = kHex[bits & 15];
  }
  return s;
}

std::string RandomUuid(Rng& rng) {
  std::string h = RandomHex(rng, 32);
  h[12] = '4';
  h[16] = "89ab"[rng.Below(4)];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string RandomToolUseId(Rng& rng) {
  static constexpr char kChars[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::string s = "toolu_01";
  for (int i = 0; i < 22; ++i) s.push_back(kChars[rng.Below(sizeof kChars - 1)]);
  return s;
}

std::string_view RandomFilePath(Rng& rng) { return Pick(rng, kPaths); }
std::string_view RandomShellCommand(Rng& rng) { return Pick(rng, kCommands); }

std::string FormatTimestamp(uint64_t unix_ms) {
  // Civil-from-days (H. Hinnant), valid for any date after 1970.
  const uint64_t days = unix_ms / 86400000;
  const uint64_t ms_of_day = unix_ms % 86400000;
  const uint64_t z = days + 719468;
  const uint64_t era = z / 146097;
  const uint64_t doe = z - era * 146097;
  const uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint64_t mp = (5 * doy + 2) / 153;
  const uint64_t day = doy - (153 * mp + 2) / 5 + 1;
  const uint64_t month = mp < 10 ? mp + 3 : mp - 9;
  const uint64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04llu-%02llu-%02lluT%02llu:%02llu:%02llu.%03lluZ",
                static_cast<unsigned long long>(year), static_cast<unsigned long long>(month),
                static_cast<unsigned long long>(day), static_cast<unsigned long long>(ms_of_day / 3600000),
                static_cast<unsigned long long>(ms_of_day / 60000 % 60),
                static_cast<unsigned long long>(ms_of_day / 1000 % 60),
                static_cast<unsigned long long>(ms_of_day % 1000));
  return buf;
}

}  // namespace tsync::testdata
