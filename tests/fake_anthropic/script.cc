#include "tests/fake_anthropic/script.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace tsync::fake_anthropic {
namespace {

using nlohmann::json;

// The tools through which Claude Code starts a subagent: "Agent" since 2.1.x,
// "Task" before. Their `prompt` becomes the subagent's first user message.
bool IsSubagentTool(const std::string& name) { return name == "Agent" || name == "Task"; }

bool CheckBlocks(const json& blocks, const std::string& where, std::string* err) {
  if (!blocks.is_array() || blocks.empty()) {
    *err = where + ": must be a non-empty array of content blocks";
    return false;
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const json& b = blocks[i];
    std::string at = where + "[" + std::to_string(i) + "]";
    std::string type = b.is_object() ? b.value("type", "") : "";
    if (type == "text") {
      if (!b.contains("text") || !b["text"].is_string()) {
        *err = at + ": a text block needs a string \"text\"";
        return false;
      }
    } else if (type == "tool_use") {
      const json& name = b.contains("name") ? b["name"] : json();
      bool names_ok = name.is_string() || (name.is_array() && !name.empty());
      for (const json& n : name.is_array() ? name : json::array()) names_ok = names_ok && n.is_string();
      if (!names_ok) {
        *err = at + ": a tool_use block needs \"name\": a string or a list of strings";
        return false;
      }
      if (!b.contains("input") || !b["input"].is_object()) {
        *err = at + ": a tool_use block needs an object \"input\"";
        return false;
      }
    } else {
      *err = at + ": \"type\" must be \"text\" or \"tool_use\"";
      return false;
    }
  }
  return true;
}

bool OneOf(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) return true;
  }
  return false;
}

bool ParseTurn(const json& t, size_t index, Turn* out, std::string* err) {
  std::string where = "turns[" + std::to_string(index) + "]";
  if (!t.is_object()) {
    *err = where + ": must be an object";
    return false;
  }
  out->name = t.value("name", where);
  where += " (" + out->name + ")";
  out->times = t.value("times", 1);
  json match = t.value("match", json::object());
  if (!match.is_object()) {
    *err = where + ": \"match\" must be an object";
    return false;
  }
  for (const auto& [key, value] : match.items()) {
    if (key == "has_tool") {
      json names = value.is_array() ? value : json::array({value});
      for (const json& n : names) {
        if (!n.is_string()) {
          *err = where + ": match.has_tool must be a string or a list of strings";
          return false;
        }
        out->has_tool.push_back(n.get<std::string>());
      }
      continue;
    }
    if (!value.is_string()) {
      *err = where + ": match." + key + " must be a string";
      return false;
    }
    const std::string v = value.get<std::string>();
    if (key == "agent" && OneOf(v, {"main", "subagent", "any"})) out->agent = v;
    else if (key == "last" && OneOf(v, {"text", "tool_result", "any"})) out->last = v;
    else if (key == "contains") out->contains = v;
    else if (key == "first_contains") out->first_contains = v;
    else {
      *err = where + ": unknown match." + key + " or bad value \"" + v + "\"";
      return false;
    }
  }
  if (out->times < 1) {
    *err = where + ": \"times\" must be at least 1";
    return false;
  }
  out->reply = t.value("reply", json());
  return CheckBlocks(out->reply, where + ".reply", err);
}

/// The last message whose role is "user" (Claude Code also puts "system"
/// role messages into `messages`), or null.
const json* LastUserMessage(const json& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->is_object() && it->value("role", "") == "user") return &*it;
  }
  return nullptr;
}

const json* FirstUserMessage(const json& messages) {
  for (const json& m : messages) {
    if (m.is_object() && m.value("role", "") == "user") return &m;
  }
  return nullptr;
}

bool HasToolResult(const json& message) {
  const json& content = message.contains("content") ? message["content"] : json();
  if (!content.is_array()) return false;
  for (const json& b : content) {
    if (b.is_object() && b.value("type", "") == "tool_result") return true;
  }
  return false;
}

bool OffersTool(const json& request, const std::string& name) {
  const json& tools = request.contains("tools") ? request["tools"] : json();
  if (!tools.is_array()) return false;
  for (const json& t : tools) {
    if (t.is_object() && t.value("name", "") == name) return true;
  }
  return false;
}

bool OffersAny(const json& request, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (OffersTool(request, n)) return true;
  }
  return false;
}

/// A tool_use id shaped like the real ones ("toolu_" + 24 base62 chars).
std::string ToolUseId(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "toolu_01Fake%018llu", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

bool Script::Parse(const std::string& text, Script* out, std::string* err) try {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    *err = "not a JSON object";
    return false;
  }
  const json& turns = doc.contains("turns") ? doc["turns"] : json();
  if (!turns.is_array()) {
    *err = "\"turns\" must be an array";
    return false;
  }
  out->turns.clear();
  for (size_t i = 0; i < turns.size(); ++i) {
    Turn t;
    if (!ParseTurn(turns[i], i, &t, err)) return false;
    out->turns.push_back(std::move(t));
  }
  out->fallback = doc.value("fallback", json::array({{{"type", "text"}, {"text", "ok"}}}));
  return CheckBlocks(out->fallback, "fallback", err);
} catch (const nlohmann::json::exception& e) {
  *err = std::string("wrong type: ") + e.what();  // e.g. "times": "2"
  return false;
}

bool Script::Load(const std::string& path, Script* out, std::string* err) {
  std::ifstream in(path);
  if (!in) {
    *err = "cannot read " + path;
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (Parse(text.str(), out, err)) return true;
  *err = path + ": " + *err;
  return false;
}

std::string MessageText(const json& message) {
  const json& content = message.contains("content") ? message["content"] : json();
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const json& b : content) {
    if (!b.is_object()) continue;
    if (b.contains("text") && b["text"].is_string()) text += b["text"].get<std::string>() + "\n";
    if (b.value("type", "") == "tool_result" && b.contains("content")) {
      text += MessageText(b) + "\n";  // tool_result content: a string or blocks
    }
  }
  return text;
}

Answer Conversation::Respond(const json& request, bool agent_id_header) {
  const json& messages = request.contains("messages") ? request["messages"] : json::array();
  const json* first = FirstUserMessage(messages);
  const json* last = LastUserMessage(messages);
  const std::string first_text = first ? MessageText(*first) : "";
  const std::string last_text = last ? MessageText(*last) : "";

  std::lock_guard<std::mutex> lock(mu_);
  Answer a;
  a.why.agent = agent_id_header ? "subagent" : "main";
  for (const std::string& p : subagent_prompts_) {
    if (first_text.find(p) != std::string::npos) a.why.agent = "subagent";
  }
  a.why.last = !last ? "none" : HasToolResult(*last) ? "tool_result" : "text";

  used_.resize(script_.turns.size(), 0);
  const json* blocks = &script_.fallback;
  a.why.turn = "fallback";
  for (size_t i = 0; i < script_.turns.size(); ++i) {
    const Turn& t = script_.turns[i];
    if (used_[i] >= t.times) continue;
    if (t.agent != "any" && t.agent != a.why.agent) continue;
    if (t.last != "any" && t.last != a.why.last) continue;
    if (!t.contains.empty() && last_text.find(t.contains) == std::string::npos) continue;
    if (!t.first_contains.empty() && first_text.find(t.first_contains) == std::string::npos) continue;
    if (!t.has_tool.empty() && !OffersAny(request, t.has_tool)) continue;
    ++used_[i];
    blocks = &t.reply;
    a.why.turn = t.name;
    break;
  }

  a.content = json::array();
  a.stop_reason = "end_turn";
  for (const json& b : *blocks) {
    if (b["type"] != "tool_use") {
      a.content.push_back(b);
      continue;
    }
    // The first offered name wins; none offered: the first listed, so the
    // client's "no such tool" error shows up in the transcript.
    json names = b["name"].is_array() ? b["name"] : json::array({b["name"]});
    std::string name = names[0].get<std::string>();
    for (const json& n : names) {
      if (OffersTool(request, n.get<std::string>())) {
        name = n.get<std::string>();
        break;
      }
    }
    json block = {{"type", "tool_use"}, {"id", ToolUseId(next_tool_id_++)}, {"name", name}, {"input", b["input"]}};
    if (IsSubagentTool(name) && b["input"].contains("prompt") && b["input"]["prompt"].is_string() &&
        !b["input"]["prompt"].get<std::string>().empty()) {
      subagent_prompts_.insert(b["input"]["prompt"].get<std::string>());
    }
    a.content.push_back(std::move(block));
    a.stop_reason = "tool_use";
  }
  return a;
}

}  // namespace tsync::fake_anthropic
