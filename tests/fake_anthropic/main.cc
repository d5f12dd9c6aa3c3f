// tsync-fake-anthropic: a loopback stand-in for the Anthropic Messages API,
// so the real Claude Code CLI can run headless in tests and write real
// transcripts and subagent files (tests/claude_e2e_test.cc).
//
//   tsync-fake-anthropic [--port N] [--script FILE] [--log FILE] [--dump DIR]
//
// --port 0 (the default) picks a free port; the first stdout line is always
// "listening on 127.0.0.1:<port>", as with tsync-refserver.
// --script FILE: the reply script (script.h; default: default_script.json
// beside this file). --log FILE: one JSON line per request: method, path,
// query, header *names* (never values: x-api-key is one), and for
// /v1/messages the stream flag, model, tool count, which agent sent it and
// which turn answered. --dump DIR: every request body as DIR/<seq>.json.
//
// Routes: POST /v1/messages (SSE when "stream": true, else one JSON message),
// POST /v1/messages/count_tokens, and GET/HEAD /api/hello (the connectivity
// probe Claude Code sends at start-up unless
// CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is set); anything else is logged
// and answered 404 with the API's error body, so a new probe shows up in the
// log.
// Claude Code appends "?beta=true" to the messages path; queries are ignored.
//
// CPPHTTPLIB_OPENSSL_SUPPORT comes from CMakeLists.txt (Debian's
// libcpp-httplib.so is built with it; it changes httplib's class layouts).
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include "tests/fake_anthropic/messages_reply.h"
#include "tests/fake_anthropic/script.h"

namespace tsync::fake_anthropic {
namespace {

using nlohmann::json;

struct Flags {
  int port = 0;
  std::string script = TSYNC_FAKE_ANTHROPIC_DEFAULT_SCRIPT;
  std::string log;
  std::string dump;
};

bool ParseFlags(int argc, char** argv, Flags* f, std::string* err) {
  for (int i = 1; i < argc; ++i) {
    std::string name = argv[i];
    if (i + 1 >= argc) {
      *err = "missing value for " + name;
      return false;
    }
    std::string v = argv[++i];
    if (name == "--port") {
      try {
        f->port = std::stoi(v);
      } catch (const std::exception&) {
        *err = "bad value for --port: " + v;
        return false;
      }
    } else if (name == "--script") {
      f->script = v;
    } else if (name == "--log") {
      f->log = v;
    } else if (name == "--dump") {
      f->dump = v;
    } else {
      *err = "unknown flag " + name;
      return false;
    }
  }
  return true;
}

/// The request log (--log): appended and flushed per line, so a test can
/// read it while the server runs.
class RequestLog {
 public:
  RequestLog(const std::string& path, const std::string& dump_dir) : dump_dir_(dump_dir) {
    if (!path.empty()) out_.open(path, std::ios::app);
  }
  bool ok() const { return !out_.fail(); }

  /// Assigns the request its sequence number and writes its body to --dump.
  uint64_t Begin(const httplib::Request& req) {
    uint64_t seq = ++seq_;
    if (!dump_dir_.empty()) std::ofstream(dump_dir_ + "/" + std::to_string(seq) + ".json") << req.body;
    return seq;
  }

  void Write(uint64_t seq, const httplib::Request& req, int status, const json& extra) {
    json line = {{"seq", seq},
                 {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count()},
                 {"method", req.method},
                 {"path", req.path},
                 {"query", QueryString(req)},
                 {"headers", HeaderNames(req)},
                 {"status", status}};
    line.update(extra);
    std::lock_guard<std::mutex> lock(mu_);
    if (!out_.is_open()) return;
    out_ << line.dump() << '\n';
    out_.flush();
  }

 private:
  static std::string QueryString(const httplib::Request& req) {
    std::string q;
    for (const auto& [k, v] : req.params) q += (q.empty() ? "" : "&") + k + "=" + v;
    return q;
  }
  static json HeaderNames(const httplib::Request& req) {
    std::set<std::string> names;
    for (const auto& [k, v] : req.headers) {
      // httplib files the peer's address among the headers.
      if (k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" || k == "LOCAL_PORT") continue;
      std::string lower = k;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      names.insert(lower);
    }
    return names;
  }

  std::mutex mu_;
  std::ofstream out_;
  std::string dump_dir_;
  std::atomic<uint64_t> seq_{0};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

void Reject(httplib::Response& res, int status, const std::string& type, const std::string& message) {
  res.status = status;
  res.set_content(ErrorJson(type, message), "application/json");
}

void HandleMessages(Conversation* conversation, RequestLog* log, const httplib::Request& req,
                    httplib::Response& res) {
  uint64_t seq = log->Begin(req);
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("messages") || !body["messages"].is_array()) {
    Reject(res, 400, "invalid_request_error", "body must be a JSON object with a \"messages\" array");
    log->Write(seq, req, 400, json::object());
    return;
  }
  const bool agent_id_header = req.has_header("X-Claude-Code-Agent-Id");
  Answer answer = conversation->Respond(body, agent_id_header);
  ReplyMeta meta;
  meta.message_id = "msg_01FakeAnthropic" + std::to_string(seq);
  meta.model = body.value("model", "claude-fake");
  meta.input_tokens = RoughTokens(req.body.size());
  const bool stream = body.value("stream", false);
  const size_t tools = body.contains("tools") && body["tools"].is_array() ? body["tools"].size() : 0;
  res.set_header("request-id", "req_fake_" + std::to_string(seq));
  if (stream) {
    auto events = std::make_shared<std::vector<std::string>>(MessageEvents(meta, answer.content, answer.stop_reason));
    res.set_chunked_content_provider("text/event-stream", [events](size_t, httplib::DataSink& sink) {
      for (const std::string& e : *events) {
        if (!sink.write(e.data(), e.size())) return false;  // client went away
      }
      sink.done();
      return true;
    });
  } else {
    res.set_content(MessageJson(meta, answer.content, answer.stop_reason), "application/json");
  }
  log->Write(seq, req, 200,
             {{"stream", stream},
              {"model", meta.model},
              {"tools", tools},
              {"messages", body["messages"].size()},
              {"agent", answer.why.agent},
              {"last", answer.why.last},
              {"turn", answer.why.turn},
              {"stop_reason", answer.stop_reason}});
}

void HandleCountTokens(RequestLog* log, const httplib::Request& req, httplib::Response& res) {
  uint64_t seq = log->Begin(req);
  res.set_content(json{{"input_tokens", RoughTokens(req.body.size())}}.dump(), "application/json");
  log->Write(seq, req, 200, json::object());
}

void HandleHello(RequestLog* log, const httplib::Request& req, httplib::Response& res) {
  uint64_t seq = log->Begin(req);
  res.set_content(R"({"message":"hello"})", "application/json");
  log->Write(seq, req, 200, json::object());
}

void HandleUnknown(RequestLog* log, const httplib::Request& req, httplib::Response& res) {
  uint64_t seq = log->Begin(req);
  Reject(res, 404, "not_found_error", "tsync-fake-anthropic does not serve " + req.method + " " + req.path);
  log->Write(seq, req, 404, json::object());
}

int Run(int argc, char** argv) {
  Flags flags;
  std::string err;
  if (!ParseFlags(argc, argv, &flags, &err)) {
    std::fprintf(stderr, "tsync-fake-anthropic: %s\n", err.c_str());
    return 2;
  }
  Script script;
  if (!Script::Load(flags.script, &script, &err)) {
    std::fprintf(stderr, "tsync-fake-anthropic: %s\n", err.c_str());
    return 2;
  }
  RequestLog log(flags.log, flags.dump);
  if (!log.ok()) {
    std::fprintf(stderr, "tsync-fake-anthropic: cannot open log %s\n", flags.log.c_str());
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill us
  Conversation conversation(std::move(script));

  httplib::Server server;
  // Claude Code keeps connections alive and runs subagents concurrently; the
  // default pool (a few threads) would queue a subagent behind idle
  // keep-alive connections.
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_payload_max_length(64u * 1024 * 1024);
  server.Post("/v1/messages", [&](const httplib::Request& req, httplib::Response& res) {
    HandleMessages(&conversation, &log, req, res);
  });
  server.Post("/v1/messages/count_tokens",
              [&](const httplib::Request& req, httplib::Response& res) { HandleCountTokens(&log, req, res); });
  server.Get("/api/hello", [&](const httplib::Request& req, httplib::Response& res) { HandleHello(&log, req, res); });
  auto unknown = [&](const httplib::Request& req, httplib::Response& res) { HandleUnknown(&log, req, res); };
  server.Get(".*", unknown);
  server.Post(".*", unknown);
  server.Put(".*", unknown);
  server.Patch(".*", unknown);
  server.Delete(".*", unknown);
  server.Options(".*", unknown);

  int port = flags.port == 0 ? server.bind_to_any_port("127.0.0.1")
                             : (server.bind_to_port("127.0.0.1", flags.port) ? flags.port : -1);
  if (port <= 0) {
    std::fprintf(stderr, "tsync-fake-anthropic: cannot bind 127.0.0.1:%d\n", flags.port);
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}

}  // namespace
}  // namespace tsync::fake_anthropic

int main(int argc, char** argv) { return tsync::fake_anthropic::Run(argc, argv); }
