#include "tests/backend/request_checks.h"

#include <cctype>

#include "base/json.h"

namespace tsync::refserver {

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string FileNameProblem(std::string_view name) {
  if (name.size() > 512) return "file_name exceeds 512 bytes";
  if (name.empty()) return "file_name is empty";
  if (name.front() == '/') return "file_name must not start with '/'";
  if (name.find('\\') != std::string_view::npos) return "file_name must not contain a backslash";
  if (name.find("//") != std::string_view::npos) return "file_name must not contain '//'";
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(start, end - start) == "..") return "file_name must not contain a '..' component";
    start = end + 1;
  }
  return "";
}

size_t Utf8Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

namespace {

/// Optional string field of `obj` no longer than `max`; sets *present.
bool StringFieldOk(simdjson::dom::element obj, const char* key, size_t max, bool* present) {
  *present = false;
  simdjson::dom::element v;
  if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS || s.size() > max) return false;
  *present = !s.empty();
  return true;
}

}  // namespace

std::string GitInfoProblem(simdjson::dom::element git_info) {
  if (git_info.is_null()) return "";
  if (!git_info.is_object()) return "git_info must be an object";
  simdjson::dom::element remotes;
  if (git_info["remotes"].get(remotes) != simdjson::SUCCESS || remotes.is_null()) return "";
  simdjson::dom::array list;
  if (remotes.get(list) != simdjson::SUCCESS) return "git_info.remotes must be an array";
  if (list.size() > 50) return "git_info.remotes exceeds 50 entries";
  for (simdjson::dom::element r : list) {
    bool has_name = false, has_fetch = false, has_push = false;
    if (!r.is_object() || !StringFieldOk(r, "name", 2048, &has_name) || !has_name) {
      return "git_info.remotes entries need a non-empty name";
    }
    if (!StringFieldOk(r, "fetch_url", 2048, &has_fetch) || !StringFieldOk(r, "push_url", 2048, &has_push)) {
      return "git_info.remotes url exceeds 2048 bytes";
    }
    if (!has_fetch && !has_push) return "git_info.remotes entries need a fetch_url or push_url";
  }
  return "";
}

namespace {

/// Consumes one non-empty path segment from `rest`.
bool TakeSegment(std::string_view* rest, std::string* segment) {
  size_t slash = rest->find('/');
  if (slash == 0 || slash == std::string_view::npos) return false;
  segment->assign(rest->substr(0, slash));
  rest->remove_prefix(slash + 1);
  return true;
}

/// Leading run of characters accepted by `ok`, ending at end, '/', '?' or '#'.
template <typename Pred>
bool TakeRef(std::string_view rest, Pred ok, std::string* ref) {
  size_t n = 0;
  while (n < rest.size() && ok(rest[n])) ++n;
  if (n == 0) return false;
  if (n < rest.size() && rest[n] != '/' && rest[n] != '?' && rest[n] != '#') return false;
  ref->assign(rest.substr(0, n));
  return true;
}

}  // namespace

std::optional<GithubRef> ParseGithubUrl(std::string_view url) {
  constexpr std::string_view kPrefix = "https://github.com/";
  if (url.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = url.substr(kPrefix.size());
  GithubRef out;
  std::string kind;
  if (!TakeSegment(&rest, &out.owner) || !TakeSegment(&rest, &out.repo) || !TakeSegment(&rest, &kind)) {
    return std::nullopt;
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto lower_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  if (kind == "pull" && TakeRef(rest, digit, &out.ref)) {
    out.link_type = "pull_request";
  } else if (kind == "commit" && TakeRef(rest, lower_hex, &out.ref)) {
    out.link_type = "commit";
  } else {
    return std::nullopt;
  }
  return out;
}

bool IsRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  auto digits = [&](size_t at, size_t n) {
    for (size_t i = at; i < at + n; ++i) {
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  if (s.size() < 20 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) ||
      (s[10] != 'T' && s[10] != 't') || !digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' ||
      !digits(17, 2)) {
    return false;
  }
  size_t i = 19;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  std::string_view zone = s.substr(i);
  if (zone == "Z" || zone == "z") return true;
  return zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && digits(i + 1, 2) && zone[3] == ':' &&
         digits(i + 4, 2);
}

void Violations::Count(const std::string& kind) {
  std::lock_guard lock(mu_);
  ++counts_[kind];
}

std::string Violations::ToJson() {
  std::lock_guard lock(mu_);
  JsonWriter w;
  int64_t total = 0;
  w.BeginObject().Key("counts").BeginObject();
  for (const auto& [kind, n] : counts_) {
    w.Key(kind).Int(n);
    total += n;
  }
  w.EndObject().Key("total").Int(total).EndObject();
  return w.Take();
}

}  // namespace tsync::refserver
