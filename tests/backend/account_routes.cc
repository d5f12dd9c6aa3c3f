// Capabilities, key validation and device login (PROTOCOL.md "Endpoints").
#include <string>

#include "base/json.h"
#include "tests/backend/routes.h"

namespace tsync::refserver {
namespace {

using httplib::Request;
using httplib::Response;
using simdjson::dom::element;

/// Device logins are approved on behalf of the first user in --keys.
constexpr int64_t kDeviceUserId = 1;

std::string WithoutDashes(std::string s) {
  std::erase(s, '-');
  return s;
}

}  // namespace

void Api::HandleCapabilities(const Request&, Response& res) {
  JsonWriter w;
  w.BeginObject().Key("workflow_files").Bool(true).Key("workflow_journal").Bool(true);
  if (options_.lifecycle_events) w.Key("lifecycle_events").Bool(true);
  w.EndObject();
  res.set_content(w.Take(), "application/json");
}

void Api::HandleValidate(const Request& req, Response& res) {
  std::optional<User> user = Authenticate(req, res);
  if (!user) return;
  JsonWriter w;
  w.BeginObject().Key("valid").Bool(true).Key("user_id").Int(user->id).Key("email").String(user->email);
  w.Key("name").Null().EndObject();
  res.set_content(w.Take(), "application/json");
}

void Api::HandleDeviceCode(const Request& req, Response& res) {
  simdjson::dom::parser parser;
  element root;
  if (!ParseBody(req, res, kSmallBodyCap, &parser, &root)) return;
  std::string device_code = WithoutDashes(NewUuid());
  std::string user_code = WithoutDashes(NewUuid()).substr(0, 8);
  for (char& c : user_code) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  user_code.insert(4, "-");
  {
    std::lock_guard lock(mu_);
    device_grants_[device_code] = DeviceGrant{};
  }
  JsonWriter w;
  w.BeginObject().Key("device_code").String(device_code).Key("user_code").String(user_code);
  w.Key("verification_uri").String("http://" + req.get_header_value("Host") + "/device");
  w.Key("expires_in").Int(300).Key("interval").Int(5).EndObject();
  res.set_content(w.Take(), "application/json");
}

void Api::HandleDeviceToken(const Request& req, Response& res) {
  simdjson::dom::parser parser;
  element root;
  std::string_view code;
  if (!ParseBody(req, res, kSmallBodyCap, &parser, &root)) return;
  if (root["device_code"].get(code) != simdjson::SUCCESS || code.empty()) {
    return JsonError(res, 400, "invalid_request");
  }
  {
    // The user "approves" in the browser between the first and second poll.
    std::lock_guard lock(mu_);
    auto it = device_grants_.find(std::string(code));
    if (it == device_grants_.end() || it->second.issued) return JsonError(res, 400, "invalid_grant");
    if (++it->second.polls < 2) return JsonError(res, 400, "authorization_pending");
    it->second.issued = true;
  }
  std::string key = "cfb_" + WithoutDashes(NewUuid()) + WithoutDashes(NewUuid());
  std::optional<User> owner = store_->UserById(kDeviceUserId);
  std::string email = owner ? owner->email : "device@example.com";
  if (!store_->RegisterKey(key, kDeviceUserId, email).ok()) return JsonError(res, 500, "Internal server error");
  JsonWriter w;
  w.BeginObject().Key("access_token").String(key).Key("token_type").String("Bearer").EndObject();
  res.set_content(w.Take(), "application/json");
}

}  // namespace tsync::refserver
