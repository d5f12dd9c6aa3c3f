// Fuzz target: the hook input parser (agent/hook_input.h, ParseHookInput).
//
// Input: the JSON a Claude Code hook gets on stdin. The projects dir is a
// real directory made for the run, with a project in it, symlinks out of it
// (to a directory and to a file outside, dangling ones), a symlink back into
// it, one to the projects dir and one to itself; the text
// "/home/dev/.claude/projects" in the input stands for it, so payloads
// recorded on a real machine are seeds.
// Properties of an accepted payload:
//  - the session id is [A-Za-z0-9_-]{1,128} (checked here, not with the
//    parser's own helper);
//  - the transcript is <projects>/<project>/<id>.jsonl with <projects> the
//    real path of the projects dir; the path is absolute, holds no '.', '..'
//    or empty component and no NUL, and no part of it that exists is a
//    symlink (lstat) — after resolving, nothing can lead outside;
//  - payload_json is the input document, minified (same structure and
//    values, checked with a second simdjson parse); source and reason are the
//    input's strings.
// A refused payload: the message never echoes it (bounded length, no long
// session id or transcript path in it).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "agent/hook_input.h"
#include "fuzz/fuzz_util.h"

namespace {

namespace fs = std::filesystem;
using tsync::fuzz::Shown;

constexpr std::string_view kRecordedProjects = "/home/dev/.claude/projects";

struct Fixture {
  std::string projects;       // as passed to ParseHookInput
  std::string real_projects;  // its real path
};

const Fixture& Setup() {
  static const Fixture* f = [] {
    const std::string dir = tsync::fuzz::ScratchDir("hook_input");
    auto* out = new Fixture;
    out->projects = dir + "/projects";
    fs::create_directories(out->projects + "/-home-dev-demo-project");
    fs::create_directories(dir + "/outside/-home-dev-demo-project");
    fs::create_directory_symlink(dir + "/outside", out->projects + "/escape");
    fs::create_directory_symlink(out->projects + "/-home-dev-demo-project", out->projects + "/inside");
    fs::create_directory_symlink(out->projects, out->projects + "/self");
    fs::create_symlink("/etc/passwd", out->projects + "/-home-dev-demo-project/passwd.jsonl");
    fs::create_symlink(dir + "/outside/none.jsonl", out->projects + "/-home-dev-demo-project/dangling.jsonl");
    fs::create_symlink(out->projects + "/-home-dev-demo-project/loop.jsonl",
                       out->projects + "/-home-dev-demo-project/loop.jsonl");
    fs::create_directory_symlink(dir + "/outside/gone", out->projects + "/gone");
    out->real_projects = fs::canonical(out->projects).string();
    return out;
  }();
  return *f;
}

bool ValidSessionId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// The path's components after the leading '/': none empty, '.' or '..', and
// none of the existing prefixes a symlink.
std::string PathProblem(const std::string& path) {
  if (path.empty() || path[0] != '/') return "not absolute";
  if (path.find('\0') != std::string::npos) return "holds a NUL byte";
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string_view part(path.data() + start, slash - start);
    if (part.empty() || part == "." || part == "..") return "has an empty, '.' or '..' component";
    struct stat st;
    const std::string prefix = path.substr(0, slash);
    if (::lstat(prefix.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return prefix + " is a symlink";
    start = slash + 1;
  }
  return "";
}

std::string OptionalString(simdjson::dom::element doc, const char* key) {
  std::string_view v;
  return doc[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tsync::fuzz::QuietLogs();
  Setup();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Fixture& fx = Setup();
  std::string json(reinterpret_cast<const char*>(data), size);
  for (size_t at = 0; (at = json.find(kRecordedProjects, at)) != std::string::npos; at += fx.projects.size()) {
    json.replace(at, kRecordedProjects.size(), fx.projects);
  }
  const auto event = static_cast<tsync::agent::HookEvent>(size % 7);
  tsync::Result<tsync::agent::HookInput> got = tsync::agent::ParseHookInput(event, json, fx.projects);

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const bool is_json = tsync::fuzz::ParseJson(parser, json, &doc);
  std::string_view sid, transcript;
  if (is_json && doc.is_object()) {
    (void)doc["session_id"].get(sid);
    (void)doc["transcript_path"].get(transcript);
  }

  if (!got.ok()) {
    const std::string& msg = got.status().message();
    FUZZ_CHECK(msg.size() <= 300 + 2 * fx.real_projects.size(), "the error is long: " + Shown(msg, 400));
    FUZZ_CHECK(sid.size() < 40 || msg.find(sid) == std::string::npos, "the error echoes the session id: " + Shown(msg));
    FUZZ_CHECK(transcript.size() <= fx.projects.size() + 40 || msg.find(transcript) == std::string::npos,
               "the error echoes the transcript path: " + Shown(msg));
    return 0;
  }

  const tsync::agent::HookInput& in = *got;
  const std::string what = "accepted \"" + Shown(json, 400) + "\"";
  FUZZ_CHECK(is_json && doc.is_object(), what + ": simdjson does not read it as an object");
  FUZZ_CHECK(in.event == event, what + ": event changed");
  FUZZ_CHECK(in.session.session_id == sid, what + ": session id differs from the input's");
  FUZZ_CHECK(ValidSessionId(in.session.session_id), what + ": unsafe session id " + Shown(in.session.session_id));
  const std::string& tp = in.session.transcript_path;
  FUZZ_CHECK(tp == in.session.project_dir + "/" + in.session.session_id + ".jsonl",
             what + ": transcript " + Shown(tp) + " is not <project>/<id>.jsonl");
  const size_t slash = in.session.project_dir.rfind('/');
  FUZZ_CHECK(slash != std::string::npos && in.session.project_dir.substr(0, slash) == fx.real_projects,
             what + ": project dir " + Shown(in.session.project_dir) + " is not in " + fx.real_projects);
  const std::string problem = PathProblem(tp);
  FUZZ_CHECK(problem.empty(), what + ": transcript " + Shown(tp) + ": " + problem);

  simdjson::dom::parser payload_parser;
  simdjson::dom::element payload;
  FUZZ_CHECK(tsync::fuzz::ParseJson(payload_parser, in.payload_json, &payload), what + ": payload_json is not JSON");
  const std::string diff = tsync::fuzz::JsonDifference(doc, payload);
  FUZZ_CHECK(diff.empty(), what + ": payload_json differs at " + diff);
  FUZZ_CHECK(in.payload_json.find_first_of(" \n\t\r") == std::string::npos ||
                 in.payload_json == simdjson::minify(payload),
             what + ": payload_json is not minified");
  FUZZ_CHECK(in.source == OptionalString(doc, "source") && in.reason == OptionalString(doc, "reason"),
             what + ": source or reason differ from the input's");
  return 0;
}
