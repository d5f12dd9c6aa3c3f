#include "agent/github_links.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "agent/git_info.h"
#include "agent/session_facts.h"
#include "redact/redactor.h"

namespace tsync::agent {
namespace {

constexpr std::string_view kGithubPrefix = "https://github.com/";
constexpr size_t kMaxCollectedBytes = 1 << 20;  // tool output searched for URLs

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool IsRepoName(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && std::all_of(s.begin(), s.end(), IsNameChar);
}

bool Contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.ends_with('\r')) line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// --- the payload --------------------------------------------------------------

/// Every string in `v` (recursively), in document order, up to a byte cap.
void CollectStrings(simdjson::dom::element v, std::vector<std::string>* out, size_t* bytes) {
  if (*bytes > kMaxCollectedBytes) return;
  std::string_view s;
  simdjson::dom::array arr;
  simdjson::dom::object obj;
  if (v.get(s) == simdjson::SUCCESS) {
    *bytes += s.size();
    out->emplace_back(s);
  } else if (v.get(arr) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : arr) CollectStrings(e, out, bytes);
  } else if (v.get(obj) == simdjson::SUCCESS) {
    for (auto field : obj) CollectStrings(field.value, out, bytes);
  }
}

/// Shell words of `command`, quotes removed; unquoted ; & | and newlines are
/// words of their own (command separators). Good enough to find flags.
std::vector<std::string> ShellWords(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto flush = [&] {
    if (in_word) words.push_back(word);
    word.clear();
    in_word = false;
  };
  for (size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == '\'') {
      const size_t end = command.find('\'', i + 1);
      word.append(command.substr(i + 1, end == std::string_view::npos ? std::string_view::npos : end - i - 1));
      in_word = true;
      if (end == std::string_view::npos) break;
      i = end;
    } else if (c == '"') {
      in_word = true;
      for (++i; i < command.size() && command[i] != '"'; ++i) {
        if (command[i] == '\\' && i + 1 < command.size() && Contains("\"\\$`", std::string_view(&command[i + 1], 1))) {
          ++i;
        }
        word += command[i];
      }
    } else if (c == '\\' && i + 1 < command.size()) {
      word += command[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      flush();
    } else if (c == ';' || c == '&' || c == '|' || c == '\n') {
      flush();
      words.emplace_back(1, ';');
    } else {
      word += c;
      in_word = true;
    }
  }
  flush();
  return words;
}

/// The words of each simple command in `words` that runs `program sub…`
/// (gh pr create): the arguments after the subcommand, up to the next
/// separator. Options before the subcommand are skipped. (git runs, whose
/// options decide the repository, are found by GitRuns.)
std::vector<std::vector<std::string>> Invocations(const std::vector<std::string>& words, std::string_view program,
                                                  const std::vector<std::string_view>& sub) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] != program && !words[i].ends_with("/" + std::string(program))) continue;
    size_t j = i + 1;
    size_t matched = 0;
    while (j < words.size() && words[j] != ";" && matched < sub.size()) {
      if (words[j] == sub[matched]) {
        ++matched;
      } else if (matched > 0 || !words[j].starts_with("-")) {
        if (!(j > 0 && (words[j - 1] == "-C" || words[j - 1] == "-c"))) break;
      }
      ++j;
    }
    if (matched < sub.size()) continue;
    std::vector<std::string> args;
    for (; j < words.size() && words[j] != ";"; ++j) args.push_back(words[j]);
    out.push_back(std::move(args));
  }
  return out;
}

/// The value of --title / -t among `args`.
std::string TitleFlag(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "--title" || a == "-t") && i + 1 < args.size()) return args[i + 1];
    if (a.starts_with("--title=")) return a.substr(8);
  }
  return "";
}

/// Pull request URLs in `text`, canonical, in order.
void FindPullRequestUrls(std::string_view text, std::vector<std::string>* out) {
  for (size_t at = text.find(kGithubPrefix); at != std::string_view::npos; at = text.find(kGithubPrefix, at + 1)) {
    size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '"' &&
           text[end] != '\'' && text[end] != '<' && text[end] != '>' && text[end] != ')' && text[end] != ']' &&
           text[end] != ',' && text[end] != '`') {
      ++end;
    }
    std::optional<GithubRef> ref = ParseGithubLinkUrl(text.substr(at, end - at));
    if (ref && ref->link_type == "pull_request" &&
        std::find(out->begin(), out->end(), ref->url) == out->end()) {
      out->push_back(ref->url);
    }
  }
}

bool IsHash(std::string_view s, size_t min = 7) {
  return s.size() >= min && s.size() <= 64 && std::all_of(s.begin(), s.end(), IsLowerHex);
}

/// "[main abc1234] subject", "[main (root-commit) abc1234] subject",
/// "[detached HEAD abc1234] subject": {hash, subject}.
std::optional<std::pair<std::string, std::string>> CommitLine(std::string_view line) {
  if (!line.starts_with("[")) return std::nullopt;
  const size_t close = line.find("] ");
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inside = line.substr(1, close - 1);
  const size_t space = inside.rfind(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view hash = inside.substr(space + 1);
  if (!IsHash(hash)) return std::nullopt;
  return std::make_pair(std::string(hash), Trim(line.substr(close + 2)));
}

struct PushedRef {
  std::string remote_url;  // from the "To" line above it
  std::string rev;         // new hash (abbreviated) or the local ref for a new branch
};

/// Ref updates in `git push` output (git's porcelain-like summary lines).
std::vector<PushedRef> PushedRefs(std::string_view output) {
  std::vector<PushedRef> out;
  std::string to;
  for (std::string_view line : Lines(output)) {
    if (line.starts_with("To ")) {
      to = Trim(line.substr(3));
      continue;
    }
    // " <flag> <summary> <from> -> <to> [(reason)]"; flag ' ', '+', '*' are
    // successful updates ('-' deleted, '!' rejected, '=' up to date).
    if (line.size() < 4 || line[0] != ' ' || !Contains(" +*", std::string_view(&line[1], 1)) || line[2] != ' ') {
      continue;
    }
    const size_t arrow = line.find(" -> ");
    if (arrow == std::string_view::npos) continue;
    std::vector<std::string> words = ShellWords(line.substr(3, arrow - 3));
    if (words.empty()) continue;
    const std::string& summary = words.front();
    const std::string& src = words.back();
    if (summary == "[new" && words.size() >= 3 && words[1] == "branch]") {
      out.push_back({to, src});
      continue;
    }
    const size_t dots = summary.find("..");
    const size_t tip = dots == std::string::npos ? std::string::npos : summary.find_first_not_of('.', dots);
    if (tip != std::string::npos && IsHash(std::string_view(summary).substr(tip))) {
      out.push_back({to, summary.substr(tip)});
    }
  }
  return out;
}

uploader::GithubLink MakeLink(const GithubRef& ref, std::string_view title) {
  uploader::GithubLink link;
  link.url = ref.url;
  link.link_type = ref.link_type;
  link.title = QueuedLinkTitle(title);
  link.source = "cli_hook";
  return link;
}

void AddLink(std::vector<uploader::GithubLink>* links, uploader::GithubLink link) {
  for (uploader::GithubLink& l : *links) {
    if (l.url == link.url) {
      if (l.title.empty()) l.title = std::move(link.title);
      return;
    }
  }
  links->push_back(std::move(link));
}

std::optional<GithubRef> CommitRef(const std::pair<std::string, std::string>& repo, const std::string& hash) {
  return ParseGithubLinkUrl(std::string(kGithubPrefix) + repo.first + "/" + repo.second + "/commit/" + hash);
}

bool IsMcpPullRequestTool(std::string_view name) {
  if (!name.starts_with("mcp__") || !name.ends_with("__create_pull_request")) return false;
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return Contains(lower, "github");
}

// --- where each git runs -------------------------------------------------------

/// One `git … <subcommand>` in a command line and the repository it works in.
struct GitRun {
  std::string subcommand;          // empty when none follows the options
  std::optional<std::string> dir;  // nullopt: not known for sure
};

/// A path word the shell passes on as written: no expansion (~, $, `, globs)
/// and no option.
bool IsLiteralPath(std::string_view w) {
  return !w.empty() && !w.starts_with("~") && !w.starts_with("-") && w != ";" &&
         w.find_first_of("$`*?[{}()") == std::string_view::npos;
}

/// Where chdir(`path`) from `base` leads; nullopt when that is not known.
std::optional<std::string> ChangeDir(const std::optional<std::string>& base, std::string_view path) {
  if (!IsLiteralPath(path)) return std::nullopt;
  if (path.starts_with("/")) return std::string(path);
  if (!base) return std::nullopt;
  return *base + "/" + std::string(path);
}

bool IsGitProgram(std::string_view w) { return w == "git" || w.ends_with("/git"); }

/// git's options before the subcommand that take the next word as their
/// value (git.c handle_options; the `--opt=value` forms are one word).
bool GitOptionTakesValue(std::string_view o) {
  return o == "-C" || o == "-c" || o == "--git-dir" || o == "--work-tree" || o == "--namespace" ||
         o == "--config-env" || o == "--super-prefix" || o == "--attr-source";
}

/// The git run starting at words[at] (the program), from the shell's `dir`.
/// As git does: every `-C DIR` changes directory in turn (relative to the
/// previous one; `-C ''` is no change); `--git-dir` names the repository,
/// relative to where the -C options led; `--work-tree` changes the work tree,
/// not the repository.
GitRun ParseGitRun(const std::vector<std::string>& words, size_t at, std::optional<std::string> dir) {
  GitRun run;
  std::optional<std::string> git_dir;
  size_t j = at + 1;
  for (; j < words.size() && words[j] != ";" && words[j].starts_with("-"); ++j) {
    std::string_view name = words[j];
    std::string_view value;
    if (const size_t eq = name.find('='); name.starts_with("--") && eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (GitOptionTakesValue(name)) {
      if (j + 1 >= words.size() || words[j + 1] == ";") return run;  // git would refuse it
      value = words[++j];
    }
    if (name == "-C" && !value.empty()) dir = ChangeDir(dir, value);
    if (name == "--git-dir") git_dir = std::string(value);
  }
  if (j < words.size() && words[j] != ";") run.subcommand = words[j];
  run.dir = git_dir ? ChangeDir(dir, *git_dir) : dir;
  return run;
}

/// Every git run in `words`, each with its directory: the payload's cwd, as
/// changed by `cd DIR` / `pushd DIR` at the start of a simple command, then by
/// git's own options. Anything that moves the shell in a way not followed
/// here (cd with no or an expanded argument, cd inside a subshell, a loop or
/// a condition, popd) or sets GIT_DIR makes the later runs' directory
/// unknown: better no link than one to another repository.
std::vector<GitRun> GitRuns(const std::vector<std::string>& words, const std::string& cwd) {
  std::vector<GitRun> runs;
  std::optional<std::string> dir;
  if (!cwd.empty()) dir = cwd;
  bool git_dir_env = false;
  for (size_t k = 0; k < words.size(); ++k) {
    const std::string& w = words[k];
    std::string_view name = w;
    while (name.starts_with("(")) name.remove_prefix(1);
    if (name == "cd" || name == "pushd" || name == "popd") {
      const bool command_start = (k == 0 || words[k - 1] == ";") && name.size() == w.size();
      if (command_start && name != "popd" && k + 1 < words.size() && words[k + 1] != ";") {
        dir = ChangeDir(dir, words[++k]);
      } else {
        dir = std::nullopt;
      }
      continue;
    }
    if (Contains(w, "GIT_DIR=")) git_dir_env = true;  // `GIT_DIR=x git …`, `export GIT_DIR=x`
    if (!IsGitProgram(w)) continue;
    runs.push_back(ParseGitRun(words, k, dir));
    if (git_dir_env) runs.back().dir = std::nullopt;
  }
  return runs;
}

/// The distinct directories of the runs of `subcommand`; nullopt when one of
/// them is unknown.
std::optional<std::vector<std::string>> RunDirs(const std::vector<GitRun>& runs, std::string_view subcommand) {
  std::vector<std::string> dirs;
  for (const GitRun& run : runs) {
    if (run.subcommand != subcommand) continue;
    if (!run.dir) return std::nullopt;
    if (std::find(dirs.begin(), dirs.end(), *run.dir) == dirs.end()) dirs.push_back(*run.dir);
  }
  return dirs;
}

void BashLinks(const std::string& command, const std::vector<std::string>& output, const std::string& cwd,
               const GitQueries& git, std::vector<uploader::GithubLink>* links) {
  const std::vector<std::string> words = ShellWords(command);
  std::string all;
  for (const std::string& s : output) all.append(s).append("\n");

  const auto pr_runs = Invocations(words, "gh", {"pr", "create"});
  if (!pr_runs.empty()) {
    std::vector<std::string> urls;
    FindPullRequestUrls(all, &urls);
    if (!urls.empty()) {
      if (std::optional<GithubRef> ref = ParseGithubLinkUrl(urls.front())) AddLink(links, MakeLink(*ref, TitleFlag(pr_runs.front())));
    }
  }
  const std::vector<GitRun> runs = GitRuns(words, cwd);
  const std::optional<std::vector<std::string>> commit_dirs = RunDirs(runs, "commit");
  const std::optional<std::vector<std::string>> push_dirs = RunDirs(runs, "push");
  const bool commits = !commit_dirs || !commit_dirs->empty();
  const bool pushes = !push_dirs || !push_dirs->empty();
  if ((!commits && !pushes) || !git.resolve_commit) return;
  std::vector<std::pair<std::string, std::optional<std::pair<std::string, std::string>>>> origins;  // asked once a dir
  auto origin_repo = [&](const std::string& dir) -> std::optional<std::pair<std::string, std::string>> {
    for (const auto& [d, repo] : origins) {
      if (d == dir) return repo;
    }
    std::optional<std::string> url = git.origin_url ? git.origin_url(dir) : std::nullopt;
    origins.emplace_back(dir, url ? GithubRepoOfRemote(*url) : std::nullopt);
    return origins.back().second;
  };
  auto full_hash = [&](const std::string& dir, const std::string& rev) -> std::string {
    std::optional<std::string> full = git.resolve_commit(dir, rev);
    return full && IsHash(*full, 40) && (!IsHash(rev) || full->starts_with(rev)) ? *full : std::string();
  };
  // A commit line counts only where its hash is a commit of a github.com
  // repository among the dirs the command committed in, and of one such
  // repository only: `git -C /other commit` is never linked to the cwd's.
  if (commit_dirs) {
    for (std::string_view line : Lines(all)) {
      std::optional<std::pair<std::string, std::string>> commit = CommitLine(line);
      if (!commit) continue;
      std::optional<GithubRef> found;
      bool ambiguous = false;
      for (const std::string& dir : *commit_dirs) {
        std::optional<std::pair<std::string, std::string>> repo = origin_repo(dir);
        const std::string hash = repo ? full_hash(dir, commit->first) : std::string();
        std::optional<GithubRef> ref = hash.empty() ? std::nullopt : CommitRef(*repo, hash);
        if (!ref) continue;
        if (found && found->url != ref->url) ambiguous = true;
        found = std::move(ref);
      }
      if (found && !ambiguous) AddLink(links, MakeLink(*found, commit->second));
    }
  }
  if (pushes) {
    // The repository is the one git's "To" line names; the dirs only expand
    // an abbreviated hash or name the commit of a new branch, and only when
    // they agree.
    for (const PushedRef& pushed : PushedRefs(all)) {
      std::optional<std::pair<std::string, std::string>> repo;
      if (!pushed.remote_url.empty()) {
        repo = GithubRepoOfRemote(pushed.remote_url);
      } else if (push_dirs && push_dirs->size() == 1) {
        repo = origin_repo(push_dirs->front());
      }
      if (!repo) continue;
      std::string hash;
      bool ambiguous = false;
      for (const std::string& dir : push_dirs ? *push_dirs : std::vector<std::string>()) {
        const std::string full = full_hash(dir, pushed.rev);
        if (full.empty()) continue;
        if (!hash.empty() && hash != full) ambiguous = true;
        hash = full;
      }
      if (hash.empty() || ambiguous) hash = IsHash(pushed.rev) ? pushed.rev : std::string();
      if (std::optional<GithubRef> ref = hash.empty() ? std::nullopt : CommitRef(*repo, hash)) {
        AddLink(links, MakeLink(*ref, ""));
      }
    }
  }
}

}  // namespace

std::optional<GithubRef> ParseGithubLinkUrl(std::string_view url) {
  if (!url.starts_with(kGithubPrefix)) return std::nullopt;
  std::string_view rest = url.substr(kGithubPrefix.size());
  auto segment = [&rest](std::string_view* out) {
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return false;
    *out = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
    return true;
  };
  GithubRef ref;
  std::string_view owner, repo, kind;
  if (!segment(&owner) || !segment(&repo) || !segment(&kind) || !IsRepoName(owner) || !IsRepoName(repo)) {
    return std::nullopt;
  }
  size_t n = 0;
  const bool pull = kind == "pull";
  if (!pull && kind != "commit") return std::nullopt;
  while (n < rest.size() && (pull ? IsDigit(rest[n]) : IsLowerHex(rest[n]))) ++n;
  if (n == 0 || (n < rest.size() && rest[n] != '/' && rest[n] != '?' && rest[n] != '#')) return std::nullopt;
  if (!pull && (n < 7 || n > 64)) return std::nullopt;
  if (pull && (n > 18 || rest[0] == '0')) return std::nullopt;
  ref.owner = owner;
  ref.repo = repo;
  ref.ref = rest.substr(0, n);
  ref.link_type = pull ? "pull_request" : "commit";
  ref.url = std::string(kGithubPrefix) + ref.owner + "/" + ref.repo + "/" + std::string(kind) + "/" + ref.ref;
  return ref;
}

std::optional<std::pair<std::string, std::string>> GithubRepoOfRemote(std::string_view remote) {
  std::string_view path;
  const size_t scheme = remote.find("://");
  if (scheme != std::string_view::npos) {
    std::string_view proto = remote.substr(0, scheme);
    if (proto != "https" && proto != "http" && proto != "ssh" && proto != "git" && proto != "git+ssh") {
      return std::nullopt;
    }
    std::string_view rest = remote.substr(scheme + 3);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    std::string_view host = rest.substr(0, slash);
    if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
    if (const size_t colon = host.find(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    if (!EqualsIgnoreCase(host, "github.com") && !EqualsIgnoreCase(host, "www.github.com")) return std::nullopt;
    path = rest.substr(slash + 1);
  } else {
    // scp-like: [user@]host:owner/repo(.git)
    const size_t colon = remote.find(':');
    if (colon == std::string_view::npos || Contains(remote.substr(0, colon), "/")) return std::nullopt;
    std::string_view host = remote.substr(0, colon);
    if (const size_t at = host.rfind('@'); at != std::string_view::npos) host.remove_prefix(at + 1);
    if (!EqualsIgnoreCase(host, "github.com")) return std::nullopt;
    path = remote.substr(colon + 1);
  }
  while (path.starts_with("/")) path.remove_prefix(1);
  while (path.ends_with("/")) path.remove_suffix(1);
  if (path.ends_with(".git")) path.remove_suffix(4);
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::string_view owner = path.substr(0, slash), repo = path.substr(slash + 1);
  if (!IsRepoName(owner) || !IsRepoName(repo)) return std::nullopt;
  return std::make_pair(std::string(owner), std::string(repo));
}

GitQueries RealGitQueries(std::chrono::milliseconds timeout) {
  GitQueries q;
  q.origin_url = [timeout](const std::string& dir) -> std::optional<std::string> {
    Result<std::string> out = RunGitQuery(dir, {"remote", "get-url", "origin"}, timeout);
    if (!out.ok()) return std::nullopt;
    std::string url = Trim(*out);
    return url.empty() ? std::nullopt : std::optional<std::string>(url);
  };
  q.resolve_commit = [timeout](const std::string& dir, const std::string& rev) -> std::optional<std::string> {
    if (rev.empty() || rev.starts_with("-")) return std::nullopt;
    Result<std::string> out = RunGitQuery(dir, {"rev-parse", "--verify", "--quiet", rev + "^{commit}"}, timeout);
    if (!out.ok()) return std::nullopt;
    return Trim(*out);
  };
  return q;
}

bool MayHoldGithubLink(std::string_view payload) {
  if (Contains(payload, "github.com") || Contains(payload, "pull_request")) return true;
  return Contains(payload, "git") && (Contains(payload, "commit") || Contains(payload, "push"));
}

std::vector<uploader::GithubLink> LinksFromToolUse(std::string_view payload_json, const GitQueries& git) {
  std::vector<uploader::GithubLink> links;
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(payload_json.data(), payload_json.size(), true).get(root) != simdjson::SUCCESS) return links;
  std::string_view tool_name, cwd;
  if (root["tool_name"].get(tool_name) != simdjson::SUCCESS) return links;
  if (root["cwd"].get(cwd) != simdjson::SUCCESS || !cwd.starts_with("/")) cwd = {};
  simdjson::dom::element response;
  std::vector<std::string> output;
  size_t bytes = 0;
  if (root["tool_response"].get(response) == simdjson::SUCCESS) CollectStrings(response, &output, &bytes);
  simdjson::dom::object input;
  const bool has_input = root["tool_input"].get(input) == simdjson::SUCCESS;

  if (tool_name == "Bash") {
    std::string_view command;
    if (!has_input || input["command"].get(command) != simdjson::SUCCESS) return links;
    BashLinks(std::string(command), output, std::string(cwd), git, &links);
  } else if (IsMcpPullRequestTool(tool_name)) {
    std::vector<std::string> urls;
    for (const std::string& s : output) FindPullRequestUrls(s, &urls);
    std::string_view title;
    if (!has_input || input["title"].get(title) != simdjson::SUCCESS) title = {};
    if (!urls.empty()) {
      if (std::optional<GithubRef> ref = ParseGithubLinkUrl(urls.front())) AddLink(&links, MakeLink(*ref, title));
    }
  }
  return links;
}

std::string QueuedLinkTitle(std::string_view title) {
  if (title.size() > kMaxQueuedTitleBytes) {
    spdlog::warn("a GitHub link title of {} bytes is over the {} kept; the link goes without one (`tsync link "
                 "--title` sets a shorter one)",
                 title.size(), kMaxQueuedTitleBytes);
    return std::string();
  }
  return CleanMetadataText(title, kMaxQueuedTitleBytes);
}

std::string SendableLinkTitle(const redact::Redactor& redactor, std::string_view queued_title) {
  const std::string text =
      SendableMetadata(redactor, MetadataText{std::string(queued_title), false}, kMaxGithubTitleChars * 4);
  size_t chars = 0, at = 0;
  for (; at < text.size(); ++at) {
    if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80 && ++chars > kMaxGithubTitleChars) break;
  }
  std::string_view cut = redact::CutRedacted(text, at);
  while (!cut.empty() && cut.back() == ' ') cut.remove_suffix(1);
  return std::string(cut);
}

}  // namespace tsync::agent
