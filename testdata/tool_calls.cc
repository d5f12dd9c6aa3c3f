#include "testdata/tool_calls.h"

#include "base/json.h"
#include "base/utf8.h"
#include "testdata/fake_text.h"

namespace tsync::testdata {
namespace {

// Most outputs are small; one in twenty is large.
size_t OutputSize(Rng& rng) {
  if (rng.Chance(1, 20)) return rng.Between(20000, 100000);
  return rng.Between(200, 8000);
}

std::string AbsPath(std::string_view cwd, std::string_view rel) {
  return std::string(cwd) + "/" + std::string(rel);
}

ToolCall Bash(Rng& rng, const Embedded& embed) {
  ToolCall c;
  c.name = "Bash";
  std::string command(RandomShellCommand(rng));
  if (!embed.in_input.empty()) command = std::string(embed.in_input) + " && " + command;
  std::string output;
  AppendCommandOutput(rng, &output, OutputSize(rng) / 2);
  if (!embed.in_output.empty()) {
    output.append("\n").append(embed.in_output).append("\n");
    AppendCommandOutput(rng, &output, 300);
  }
  JsonWriter in;
  in.BeginObject().Key("command").String(command).Key("description").String(Prose(rng, 40)).EndObject();
  c.input_json = in.Take();
  JsonWriter r;
  r.BeginObject().Key("stdout").String(output).Key("stderr").String("").Key("interrupted").Bool(false);
  r.Key("isImage").Bool(false).EndObject();
  c.tool_use_result = r.Take();
  c.result_text = std::move(output);
  c.streams_progress = rng.Chance(1, 6);
  return c;
}

ToolCall Read(Rng& rng, std::string_view cwd) {
  ToolCall c;
  c.name = "Read";
  const std::string path = AbsPath(cwd, RandomFilePath(rng));
  const std::string code = Code(rng, OutputSize(rng) / 2);
  size_t lines = 1;
  for (char ch : code) lines += ch == '\n';
  JsonWriter in;
  in.BeginObject().Key("file_path").String(path).EndObject();
  c.input_json = in.Take();
  // The model sees numbered lines ("     1→..."); toolUseResult keeps the raw file.
  std::string numbered = "     1→";
  size_t n = 1;
  for (char ch : code) {
    numbered.push_back(ch);
    if (ch == '\n') numbered += "     " + std::to_string(++n) + "→";
  }
  c.result_text = std::move(numbered);
  JsonWriter r;
  r.BeginObject().Key("type").String("text").Key("file").BeginObject().Key("filePath").String(path);
  r.Key("content").String(code).Key("numLines").UInt(lines).Key("startLine").UInt(1);
  r.Key("totalLines").UInt(lines).EndObject().EndObject();
  c.tool_use_result = r.Take();
  return c;
}

ToolCall Edit(Rng& rng, std::string_view cwd) {
  ToolCall c;
  c.name = "Edit";
  const std::string path = AbsPath(cwd, RandomFilePath(rng));
  const std::string old_s = Code(rng, rng.Between(40, 600));
  const std::string new_s = Code(rng, rng.Between(40, 600));
  JsonWriter in;
  in.BeginObject().Key("file_path").String(path).Key("old_string").String(old_s);
  in.Key("new_string").String(new_s).EndObject();
  c.input_json = in.Take();
  c.result_text = "The file " + path + " has been updated. Here's the result of running `cat -n`:\n" +
                  Code(rng, rng.Between(200, 1500));
  JsonWriter r;
  r.BeginObject().Key("filePath").String(path).Key("oldString").String(old_s).Key("newString").String(new_s);
  r.Key("originalFile").String(Code(rng, OutputSize(rng) / 2)).Key("structuredPatch").BeginArray();
  r.BeginObject().Key("oldStart").UInt(rng.Between(1, 400)).Key("oldLines").UInt(rng.Between(1, 30));
  r.Key("lines").BeginArray().String("-" + std::string(TruncateUtf8(old_s, 60)))
      .String("+" + std::string(TruncateUtf8(new_s, 60))).EndArray();
  r.EndObject().EndArray().Key("userModified").Bool(false).Key("replaceAll").Bool(false).EndObject();
  c.tool_use_result = r.Take();
  return c;
}

ToolCall Grep(Rng& rng, std::string_view cwd) {
  ToolCall c;
  c.name = "Grep";
  JsonWriter in;
  in.BeginObject().Key("pattern").String(R"(ReadChunk\(|"offset"\s*:)").Key("path").String(cwd);
  in.Key("output_mode").String("content").Key("-n").Bool(true).EndObject();
  c.input_json = in.Take();
  std::string out;
  const size_t hits = rng.Between(1, 60);
  for (size_t i = 0; i < hits; ++i) {
    out.append(RandomFilePath(rng)).append(":").append(std::to_string(rng.Between(1, 900))).append(":");
    AppendCode(rng, &out, 10);
    out.push_back('\n');
  }
  JsonWriter r;
  r.BeginObject().Key("mode").String("content").Key("numFiles").UInt(rng.Between(1, hits));
  r.Key("filenames").BeginArray().EndArray().Key("content").String(out).Key("numLines").UInt(hits);
  r.EndObject();
  c.tool_use_result = r.Take();
  c.result_text = std::move(out);
  return c;
}

ToolCall Write(Rng& rng, std::string_view cwd) {
  ToolCall c;
  c.name = "Write";
  const std::string path = AbsPath(cwd, RandomFilePath(rng));
  const std::string content = Code(rng, rng.Between(300, 8000));
  JsonWriter in;
  in.BeginObject().Key("file_path").String(path).Key("content").String(content).EndObject();
  c.input_json = in.Take();
  c.result_text = "File created successfully at: " + path;
  JsonWriter r;
  r.BeginObject().Key("type").String("create").Key("filePath").String(path).Key("content").String(content);
  r.Key("structuredPatch").BeginArray().EndArray().EndObject();
  c.tool_use_result = r.Take();
  return c;
}

ToolCall Failed(Rng& rng, std::string_view cwd) {
  ToolCall c;
  c.name = "Read";
  JsonWriter in;
  in.BeginObject().Key("file_path").String(AbsPath(cwd, RandomFilePath(rng))).EndObject();
  c.input_json = in.Take();
  c.result_text = "<tool_use_error>File does not exist. Current working directory: " + std::string(cwd) +
                  "</tool_use_error>";
  std::string s;
  AppendJsonString(&s, "Error: File does not exist.");
  c.tool_use_result = std::move(s);
  c.is_error = true;
  return c;
}

}  // namespace

ToolCall MakeToolCall(Rng& rng, std::string_view cwd, const Embedded& embed) {
  if (!embed.in_input.empty() || !embed.in_output.empty()) return Bash(rng, embed);
  switch (rng.Below(20)) {
    case 0: return Failed(rng, cwd);
    case 1: case 2: case 3: case 4: case 5: case 6: return Bash(rng, embed);
    case 7: case 8: case 9: case 10: case 11: return Read(rng, cwd);
    case 12: case 13: case 14: return Edit(rng, cwd);
    case 15: case 16: return Grep(rng, cwd);
    default: return Write(rng, cwd);
  }
}

}  // namespace tsync::testdata
