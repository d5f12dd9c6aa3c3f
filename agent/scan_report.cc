#include "agent/scan_report.h"

#include <algorithm>
#include <cstdio>

#include "base/json.h"

namespace tsync::agent {

std::string HumanBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else if (bytes < (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  }
  return buf;
}

namespace {

std::string Repairs(const tracker::ChunkStats& r) {
  std::string out;
  auto add = [&out](uint64_t n, const char* what) {
    if (n == 0) return;
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + what;
  };
  add(r.repaired_lines, "invalid UTF-8");
  add(r.oversize_lines, "oversize");
  add(r.crlf_lines, "CRLF");
  add(r.stray_cr, "stray CR");
  return out;
}

}  // namespace

std::string ScanReportText(const std::vector<SessionScan>& scans) {
  std::string out;
  uint64_t files = 0, lines = 0, bytes = 0;
  char row[512];
  for (const SessionScan& s : scans) {
    out += "session " + s.session.session_id + "  (" + s.session.project_dir + ")\n";
    int width = 0;
    for (const FileScan& f : s.files) width = std::max(width, static_cast<int>(f.file_name.size()));
    for (const FileScan& f : s.files) {
      std::snprintf(row, sizeof row, "  %-*s %-16s %8llu lines %11s %4llu chunk(s)", width, f.file_name.c_str(),
                    std::string(tracker::FileTypeName(f.type)).c_str(), static_cast<unsigned long long>(f.lines),
                    HumanBytes(f.encoded_bytes).c_str(), static_cast<unsigned long long>(f.chunks));
      out += row;
      if (f.pending_bytes > 0) out += "  +" + HumanBytes(f.pending_bytes) + " unterminated";
      std::string repairs = Repairs(f.repairs);
      if (!repairs.empty()) out += "  [" + repairs + "]";
      out += "\n";
      ++files;
      lines += f.lines;
      bytes += f.encoded_bytes;
    }
    if (s.pending_agent_ids > 0) {
      out += "  " + std::to_string(s.pending_agent_ids) + " referenced agent file(s) not on disk yet\n";
    }
    if (!s.error.empty()) out += "  error: " + s.error + "\n";
  }
  out += std::to_string(scans.size()) + " session(s), " + std::to_string(files) + " file(s), " +
         std::to_string(lines) + " line(s), " + HumanBytes(bytes) + " to send (scan sends nothing)\n";
  return out;
}

std::string ScanReportJson(const std::vector<SessionScan>& scans) {
  JsonWriter w;
  w.BeginObject().Key("sessions").BeginArray();
  for (const SessionScan& s : scans) {
    w.BeginObject();
    w.Key("session_id").String(s.session.session_id);
    w.Key("project_dir").String(s.session.project_dir);
    w.Key("transcript_path").String(s.session.transcript_path);
    w.Key("pending_agent_ids").UInt(s.pending_agent_ids);
    if (!s.error.empty()) w.Key("error").String(s.error);
    w.Key("files").BeginArray();
    for (const FileScan& f : s.files) {
      w.BeginObject();
      w.Key("file_name").String(f.file_name);
      w.Key("file_type").String(tracker::FileTypeName(f.type));
      w.Key("path").String(f.path);
      w.Key("lines").UInt(f.lines);
      w.Key("encoded_bytes").UInt(f.encoded_bytes);
      w.Key("chunks").UInt(f.chunks);
      w.Key("pending_bytes").UInt(f.pending_bytes);
      w.Key("invalid_utf8_lines").UInt(f.repairs.repaired_lines);
      w.Key("oversize_lines").UInt(f.repairs.oversize_lines);
      w.Key("crlf_lines").UInt(f.repairs.crlf_lines);
      w.Key("stray_cr").UInt(f.repairs.stray_cr);
      w.EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return w.Take() + "\n";
}

}  // namespace tsync::agent
