// Summary PATCH, GitHub links, and the read-back routes tests rely on
// (PROTOCOL.md "Endpoints" and "Read-back").
#include <string>

#include "base/json.h"
#include "tests/backend/routes.h"

namespace tsync::refserver {
namespace {

using httplib::Request;
using httplib::Response;
using simdjson::dom::element;

/// String member or nullopt when absent, null or not a string.
std::optional<std::string> StringField(element obj, const char* key) {
  std::string_view s;
  if (obj[key].get(s) != simdjson::SUCCESS) return std::nullopt;
  return std::string(s);
}

std::string LinkJson(const GithubLink& link) {
  JsonWriter w;
  w.BeginObject().Key("id").Int(link.id).Key("session_id").String(link.session_id);
  w.Key("link_type").String(link.link_type).Key("url").String(link.url).Key("owner").String(link.owner);
  w.Key("repo").String(link.repo).Key("ref").String(link.ref);
  if (link.has_title) w.Key("title").String(link.title);
  w.Key("source").String(link.source).Key("created_at").String(link.created_at).EndObject();
  return w.Take();
}

/// Checks the github-links body; returns the problem or "".
std::string LinkProblem(element root, GithubLink* link) {
  std::optional<std::string> url = StringField(root, "url");
  std::optional<GithubRef> ref;
  if (url && url->size() <= 2048) ref = ParseGithubUrl(*url);
  if (!ref) return "invalid GitHub URL: must be a PR or commit URL";
  std::optional<std::string> link_type = StringField(root, "link_type");
  if (link_type && *link_type != ref->link_type) return "invalid link_type: does not match the URL";
  std::optional<std::string> source = StringField(root, "source");
  if (!source || (*source != "cli_hook" && *source != "manual")) {
    return "invalid source: must be 'cli_hook' or 'manual'";
  }
  std::optional<std::string> title = StringField(root, "title");
  if (title && Utf8Chars(*title) > 500) return "title exceeds 500 characters";
  link->url = *url;
  link->link_type = ref->link_type;
  link->owner = ref->owner;
  link->repo = ref->repo;
  link->ref = ref->ref;
  link->source = *source;
  link->has_title = title.has_value();
  if (title) link->title = *title;
  return "";
}

}  // namespace

void Api::HandleSummary(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  simdjson::dom::parser parser;
  element root;
  if (!user || !ParseBody(req, res, kSmallBodyCap, &parser, &root)) return;
  std::optional<std::string> summary = StringField(root, "summary");
  if (!summary) return JsonError(res, 400, "summary is required");
  if (summary->size() > 2048) return JsonError(res, 400, "summary exceeds 2048 bytes");
  std::vector<SessionRef> sessions = store_->FindByExternalId(req.matches[1]);
  bool any = !sessions.empty(), updated = false;
  for (const SessionRef& s : sessions) {
    if (s.user_id != user->id) continue;
    if (!store_->SetSummary(s.id, *summary).ok()) return JsonError(res, 500, "Internal server error");
    updated = true;
  }
  if (!updated) return JsonError(res, any ? 403 : 404, any ? "Access denied" : "Session not found");
  res.set_content("{\"status\":\"ok\"}", "application/json");
}

void Api::HandleGithubLink(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  simdjson::dom::parser parser;
  element root;
  // PROTOCOL.md: another user's session is 404 here, never 403.
  if (!user || !OwnedSession(req.matches[1], *user, res, true) ||
      !ParseBody(req, res, kSmallBodyCap, &parser, &root)) {
    return;
  }
  GithubLink link;
  link.session_id = req.matches[1];
  if (std::string problem = LinkProblem(root, &link); !problem.empty()) return JsonError(res, 400, problem);
  Result<GithubLink> stored = store_->UpsertGithubLink(link);
  if (!stored.ok()) return JsonError(res, 500, "Internal server error");
  res.status = 201;
  res.set_content(LinkJson(*stored), "application/json");
}

void Api::HandleByExternalId(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  if (!user) return;
  for (const SessionRef& s : store_->FindByExternalId(req.matches[1])) {
    if (s.user_id != user->id) continue;
    JsonWriter w;
    w.BeginObject().Key("session_id").String(s.id).EndObject();
    return res.set_content(w.Take(), "application/json");
  }
  JsonError(res, 404, "Session not found");
}

void Api::HandleListFiles(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  if (!user || !OwnedSession(req.matches[1], *user, res, false)) return;
  JsonWriter w;
  w.BeginObject().Key("files").BeginArray();
  for (const FileState& f : store_->ListFiles(req.matches[1])) {
    w.BeginObject().Key("file_name").String(f.file_name).Key("file_type").String(f.file_type);
    w.Key("last_synced_line").Int(f.last_synced_line).Key("updated_at").String(f.updated_at).EndObject();
  }
  w.EndArray().EndObject();
  res.set_content(w.Take(), "application/json");
}

void Api::HandleReadFile(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  if (!user || !OwnedSession(req.matches[1], *user, res, false)) return;
  if (!req.has_param("file_name")) return JsonError(res, 400, "file_name is required");
  int64_t offset = 0;
  if (req.has_param("line_offset")) {
    try {
      offset = std::stoll(req.get_param_value("line_offset"));
    } catch (const std::exception&) {
      return JsonError(res, 400, "line_offset must be an integer");
    }
  }
  Result<std::string> lines = store_->ReadLines(req.matches[1], req.get_param_value("file_name"), offset);
  if (!lines.ok()) return JsonError(res, 500, "Internal server error");
  res.set_content(*lines, "text/plain");
}

}  // namespace tsync::refserver
