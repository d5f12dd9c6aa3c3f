#include "tracker/checkpoint.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "base/fs.h"
#include "base/json.h"

namespace tsync::tracker {

namespace {
constexpr size_t kMaxCheckpointBytes = 64u << 20;

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
}  // namespace

bool IsValidSessionId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

std::string CheckpointPath(const std::string& state_dir, const std::string& session_id) {
  return state_dir + "/sessions/" + session_id + ".json";
}

std::string SerializeCheckpoint(const Checkpoint& cp) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(kCheckpointVersion);
  w.Key("session_id").String(cp.session_id);
  w.Key("backend_session_id").String(cp.backend_session_id);
  if (!cp.metadata_json.empty()) w.Key("metadata").Raw(cp.metadata_json);
  w.Key("files").BeginArray();
  for (const TrackedFile& f : cp.files) {
    const FilePosition& p = f.pos;
    w.BeginObject();
    w.Key("path").String(f.path);
    w.Key("base_name").String(f.base_name);
    w.Key("file_name").String(f.file_name);
    w.Key("file_type").String(FileTypeName(f.type));
    w.Key("generation").UInt(f.generation);
    w.Key("dev").UInt(p.dev);
    w.Key("ino").UInt(p.ino);
    w.Key("offset").UInt(p.offset);
    w.Key("lines").UInt(p.lines);
    w.Key("size").UInt(p.size);
    w.Key("mtime_ns").Int(p.mtime_ns);
    w.Key("head_len").UInt(p.head_len);
    w.Key("head_hash").String(p.head_hash);
    w.Key("tail_len").UInt(p.tail_len);
    w.Key("tail_hash").String(p.tail_hash);
    if (!f.quarantined.empty()) w.Key("quarantined").String(f.quarantined);
    if (f.acked_at > 0) w.Key("acked_at").Int(f.acked_at);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Take();
}

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// Field readers that turn any type mismatch into one descriptive error.
struct FieldReader {
  object obj;
  std::string where;
  std::string error;

  std::string Str(const char* key) {
    std::string_view v;
    if (error.empty() && obj[key].get_string().get(v)) error = where + "." + key + " must be a string";
    return std::string(v);
  }
  uint64_t U64(const char* key) {
    uint64_t v = 0;
    if (error.empty() && obj[key].get_uint64().get(v)) error = where + "." + key + " must be a non-negative integer";
    return v;
  }
  int64_t I64(const char* key) {
    int64_t v = 0;
    if (error.empty() && obj[key].get_int64().get(v)) error = where + "." + key + " must be an integer";
    return v;
  }
};

std::string CheckConsistent(const TrackedFile& f) {
  const FilePosition& p = f.pos;
  if (f.path.empty() || f.path[0] != '/') return "path must be absolute";
  if (f.base_name.empty() || f.file_name != GenerationFileName(f.base_name, f.generation)) {
    return "file_name does not match base_name and generation";
  }
  if (p.head_len > p.offset || p.tail_len > p.offset || p.head_len > kFingerprintBytes ||
      p.tail_len > kFingerprintBytes) {
    return "fingerprint lengths exceed the offset";
  }
  if ((p.head_len > 0 && p.head_hash.size() != 64) || (p.tail_len > 0 && p.tail_hash.size() != 64)) {
    return "fingerprint hashes are malformed";
  }
  if (p.lines > p.offset) return "more lines than bytes";
  return "";
}

Result<TrackedFile> ParseFile(element el, size_t index) {
  FieldReader r{object(), "files[" + std::to_string(index) + "]", ""};
  if (el.get_object().get(r.obj)) return Status::Corrupt(r.where + " must be an object");
  TrackedFile f;
  f.path = r.Str("path");
  f.base_name = r.Str("base_name");
  f.file_name = r.Str("file_name");
  std::string type = r.Str("file_type");
  uint64_t generation = r.U64("generation");
  FilePosition& p = f.pos;
  p.dev = r.U64("dev");
  p.ino = r.U64("ino");
  p.offset = r.U64("offset");
  p.lines = r.U64("lines");
  p.size = r.U64("size");
  p.mtime_ns = r.I64("mtime_ns");
  p.head_len = r.U64("head_len");
  p.head_hash = r.Str("head_hash");
  p.tail_len = r.U64("tail_len");
  p.tail_hash = r.Str("tail_hash");
  if (!r.error.empty()) return Status::Corrupt(r.error);
  std::string_view quarantined;
  if (r.obj["quarantined"].get_string().get(quarantined) == simdjson::SUCCESS) f.quarantined = quarantined;
  int64_t acked_at = 0;
  if (r.obj["acked_at"].get_int64().get(acked_at) == simdjson::SUCCESS && acked_at > 0) f.acked_at = acked_at;
  std::optional<FileType> ft = ParseFileType(type);
  if (!ft) return Status::Corrupt(r.where + ".file_type is unknown");
  if (generation < 1 || generation > 1000000) return Status::Corrupt(r.where + ".generation is out of range");
  f.type = *ft;
  f.generation = static_cast<uint32_t>(generation);
  std::string inconsistent = CheckConsistent(f);
  if (!inconsistent.empty()) return Status::Corrupt(r.where + ": " + inconsistent);
  return f;
}

}  // namespace

Result<Checkpoint> ParseCheckpoint(std::string_view json) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return Status::Corrupt("the file is empty");
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root)) {
    return Status::Corrupt(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  FieldReader r{object(), "checkpoint", ""};
  if (root.get_object().get(r.obj)) return Status::Corrupt("the top level is not an object");
  int64_t version = r.I64("version");
  if (!r.error.empty()) return Status::Corrupt(r.error);
  if (version != kCheckpointVersion) {
    return Status::Corrupt("format version " + std::to_string(version) + " is not " +
                           std::to_string(kCheckpointVersion));
  }
  Checkpoint cp;
  cp.session_id = r.Str("session_id");
  cp.backend_session_id = r.Str("backend_session_id");
  simdjson::dom::array files;
  if (r.error.empty() && r.obj["files"].get_array().get(files)) r.error = "checkpoint.files must be an array";
  if (!r.error.empty()) return Status::Corrupt(r.error);
  if (!IsValidSessionId(cp.session_id)) return Status::Corrupt("session_id is not a valid session id");
  // Only a cache of what git said: a bad one is dropped, not fatal.
  object metadata;
  if (r.obj["metadata"].get_object().get(metadata) == simdjson::SUCCESS) {
    std::string minified = simdjson::minify(metadata);
    if (minified.size() <= kMaxCheckpointMetadata) cp.metadata_json = std::move(minified);
  }
  size_t index = 0;
  for (element el : files) {
    Result<TrackedFile> f = ParseFile(el, index++);
    if (!f.ok()) return f.status();
    cp.files.push_back(std::move(f).value());
  }
  return cp;
}

Status SaveCheckpoint(const std::string& state_dir, const Checkpoint& cp) {
  if (!IsValidSessionId(cp.session_id)) return Status::InvalidInput("refusing to save a checkpoint for an invalid session id");
  Status st = MakeDirs(state_dir + "/sessions", 0700);
  if (!st.ok()) return st;
  // Advisory (see checkpoint.h): atomic against concurrent readers, but no
  // fsync — two per acknowledged chunk were the cost of a save.
  return WriteFileAtomic(CheckpointPath(state_dir, cp.session_id), SerializeCheckpoint(cp), 0600,
                         Durability::kAtomicOnly);
}

LoadedCheckpoint LoadCheckpoint(const std::string& state_dir, const std::string& session_id) {
  LoadedCheckpoint out;
  if (!IsValidSessionId(session_id)) {
    out.ignored_because = "the session id is not valid";
    return out;
  }
  std::string path = CheckpointPath(state_dir, session_id);
  Result<std::string> text = ReadFile(path, kMaxCheckpointBytes);
  if (!text.ok()) {
    if (text.status().kind() != Status::Kind::kNotFound) out.ignored_because = text.status().message();
  } else {
    Result<Checkpoint> cp = ParseCheckpoint(*text);
    if (!cp.ok()) {
      out.ignored_because = cp.status().message();
    } else if (cp->session_id != session_id) {
      out.ignored_because = "it belongs to session " + cp->session_id;
    } else {
      out.checkpoint = std::move(cp).value();
    }
  }
  if (!out.ignored_because.empty()) {
    spdlog::warn("checkpoint {} ignored ({}); the backend's line counts will be used and the files rescanned",
                 path, out.ignored_because);
  }
  return out;
}

}  // namespace tsync::tracker
