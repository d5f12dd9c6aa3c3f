#include "agent/redact_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>

#include "agent/exit_codes.h"

namespace tsync::agent {

namespace {

void PrintReport(const std::map<std::string_view, uint64_t>& counts, uint64_t lines, uint64_t changed, std::ostream& err) {
  std::vector<std::pair<std::string_view, uint64_t>> rows(counts.begin(), counts.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  uint64_t total = 0;
  for (const auto& [rule, n] : rows) {
    err << "  " << rule << std::string(rule.size() < 40 ? 40 - rule.size() : 1, ' ') << n << "\n";
    total += n;
  }
  err << "tsync redact: " << lines << " line(s), " << changed << " changed, " << total << " redaction(s)\n";
}

}  // namespace

int RunRedact(const redact::Redactor& redactor, const RedactArgs& args, std::ostream& out, std::ostream& err) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) {
      spdlog::error("cannot read {}: {}", args.input, std::strerror(errno));
      return errno == ENOENT ? kExitUsage : kExitIncomplete;
    }
    in = &file;
  }
  std::map<std::string_view, uint64_t> counts;
  uint64_t lines = 0, changed = 0;
  std::string line;
  while (std::getline(*in, line)) {
    const bool had_newline = !in->eof();
    redact::RedactResult r = redactor.RedactLine(line);
    out << r.text();
    if (had_newline) out << '\n';
    ++lines;
    if (r.changed()) ++changed;
    for (std::string_view rule : r.fired) ++counts[rule];
  }
  if (in->bad()) {
    spdlog::error("reading {} failed after {} line(s)", args.input == "-" ? "stdin" : args.input, lines);
    return kExitIncomplete;
  }
  out.flush();
  if (!out) {
    spdlog::error("writing the redacted output failed");
    return kExitIncomplete;
  }
  if (args.report) PrintReport(counts, lines, changed, err);
  return kExitOk;
}

}  // namespace tsync::agent
