// Redaction throughput, per core, over generated realistic transcripts with
// planted secrets — the full catalogue against a naive baseline (every rule
// on every line) measured in the same run — plus the rule-set compile time
// and the time hostile inputs take. Prints figures; never fails the build.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/figures.h"
#include "redact/catalogue.h"
#include "redact/redactor.h"
#include "testdata/byte_size.h"
#include "testdata/session_generator.h"

namespace {

using Clock = std::chrono::steady_clock;
using tsync::redact::Redactor;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Lines of every file of a generated session (transcript and agents).
std::vector<std::string> GenerateLines(uint64_t bytes, uint64_t seed, const std::string& dir) {
  tsync::testdata::GeneratorOptions options;
  options.seed = seed;
  options.target_bytes = bytes;
  options.agents = 3;
  options.image_rate = 0.01;
  options.plant_secrets = true;
  auto session = tsync::testdata::GenerateSession(dir + "/-bench-redact", options);
  if (!session.ok()) {
    std::fprintf(stderr, "redact_bench: %s\n", session.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<std::string> lines;
  for (const auto& f : session->files) {
    std::ifstream in(f.path, std::ios::binary);
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }
  return lines;
}

struct Pass {
  double mb_per_s;
  uint64_t changed;
};

Pass FullPass(const Redactor& r, const std::vector<std::string>& lines, uint64_t bytes) {
  uint64_t changed = 0;
  auto t0 = Clock::now();
  for (const std::string& l : lines) changed += r.RedactLine(l).changed();
  double ms = Ms(t0, Clock::now());
  return {static_cast<double>(bytes) / 1e6 / (ms / 1e3), changed};
}

// Every rule's regex on every whole line: what redaction costs without
// keyword prefilters or JSON-aware placement.
double NaivePass(const std::vector<std::unique_ptr<tsync::redact::CompiledRule>>& rules,
                 const std::vector<std::string>& lines, uint64_t bytes) {
  std::vector<tsync::redact::Span> spans;
  auto t0 = Clock::now();
  for (const std::string& l : lines) {
    for (const auto& rule : rules) rule->FindAll(l, &spans);
  }
  double ms = Ms(t0, Clock::now());
  return static_cast<double>(bytes) / 1e6 / (ms / 1e3);
}

double TimeLine(const Redactor& r, const std::string& line) {
  auto t0 = Clock::now();
  r.RedactLine(line);
  return Ms(t0, Clock::now());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Benchmark the redactor over generated transcripts with planted secrets."};
  std::string size_text = "256M", naive_text = "16M";
  uint64_t seed = 7;
  int runs = 3;
  std::string json_path;
  app.add_option("--json", json_path, "also write the figures as JSON to this file (bench/run-all)");
  app.add_option("--size", size_text, "transcript bytes to generate (>= 256M for the issue's figure)");
  app.add_option("--naive-size", naive_text, "bytes the naive baseline runs over (it is slow)");
  app.add_option("--runs", runs, "passes of the full catalogue (median reported)")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  auto size = tsync::testdata::ParseByteSize(size_text);
  auto naive_size = tsync::testdata::ParseByteSize(naive_text);
  if (!size.ok() || !naive_size.ok()) {
    std::fprintf(stderr, "redact_bench: bad size\n");
    return 2;
  }

  std::vector<double> compile_ms;
  for (int i = 0; i < 5; ++i) {
    auto t0 = Clock::now();
    auto r = Redactor::CreateDefault();
    compile_ms.push_back(Ms(t0, Clock::now()));
    if (!r.ok()) {
      std::fprintf(stderr, "redact_bench: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  auto redactor = std::move(Redactor::CreateDefault()).value();

  std::string dir = std::filesystem::temp_directory_path() / ("tsync-redact-bench-" + std::to_string(::getpid()));
  std::printf("generating %s of transcripts with planted secrets ...\n", size_text.c_str());
  std::vector<std::string> lines = GenerateLines(*size, seed, dir);
  std::filesystem::remove_all(dir);
  uint64_t bytes = 0;
  for (const auto& l : lines) bytes += l.size() + 1;

  std::vector<double> full;
  uint64_t changed = 0;
  for (int i = 0; i < runs; ++i) {
    Pass p = FullPass(*redactor, lines, bytes);
    full.push_back(p.mb_per_s);
    changed = p.changed;
  }

  std::vector<std::string> subset;
  uint64_t subset_bytes = 0;
  for (const auto& l : lines) {
    if (subset_bytes >= *naive_size) break;
    subset.push_back(l);
    subset_bytes += l.size() + 1;
  }
  std::vector<std::unique_ptr<tsync::redact::CompiledRule>> rules;
  for (const auto& spec : tsync::redact::BuiltinRules()) rules.push_back(std::move(tsync::redact::CompiledRule::Compile(spec)).value());
  double naive = NaivePass(rules, subset, subset_bytes);
  double full_on_subset = FullPass(*redactor, subset, subset_bytes).mb_per_s;

  std::string begins;
  while (begins.size() < (256u << 10)) begins += "-----BEGIN";
  double hostile_begin = TimeLine(*redactor, "{\"s\":\"" + begins + "\"}");
  double hostile_spaces = TimeLine(*redactor, std::string(16u << 20, ' ') + "password=");
  double hostile_big = TimeLine(*redactor, "{\"s\":\"" + std::string(20u << 20, 'a') + " sk-ant-api03-\"}");

  std::printf("\n%zu rules, %zu lines, %.1f MiB, %llu lines changed (%.2f %%)\n", redactor->rule_count(), lines.size(),
              static_cast<double>(bytes) / (1 << 20), static_cast<unsigned long long>(changed),
              100.0 * static_cast<double>(changed) / static_cast<double>(lines.size()));
  std::printf("\n%-44s %10s %10s %7s  %s\n", "figure", "median", "target", "ratio", "result");
  auto row = [](const char* name, double v, double target, bool higher) {
    double ratio = v / target;
    std::printf("%-44s %10.1f %10.1f %7.2f  %s\n", name, v, target, ratio, (higher ? ratio >= 1 : ratio <= 1) ? "PASS" : "MISS");
  };
  row("full catalogue, one core (MB/s)", Median(full), 200, true);
  row("rule-set compile (ms)", Median(compile_ms), 50, false);
  std::printf("%-44s %10.1f  (on the first %.0f MiB; full catalogue there: %.1f MB/s, %.1fx faster)\n",
              "naive baseline: every rule on every line (MB/s)", naive, static_cast<double>(subset_bytes) / (1 << 20),
              full_on_subset, full_on_subset / naive);
  std::printf("hostile: 256 KiB of -----BEGIN %.1f ms, 16 MiB of spaces %.1f ms, a 20 MiB line %.1f ms\n", hostile_begin,
              hostile_spaces, hostile_big);

  tsync::bench::FigureSheet sheet("redact_bench");
  char detail[160];
  std::snprintf(detail, sizeof detail, "median of %d passes over %.0f MiB, %zu rules", runs,
                static_cast<double>(bytes) / (1 << 20), redactor->rule_count());
  sheet.Target("redaction, full catalogue, one core", Median(full), "MB/s", ">= 200", detail);
  std::snprintf(detail, sizeof detail, "naive %.1f MB/s vs full catalogue %.1f MB/s on the first %.0f MiB", naive,
                full_on_subset, static_cast<double>(subset_bytes) / (1 << 20));
  sheet.Info("redaction vs naive baseline (every rule on every line)", full_on_subset / naive, "x", detail);
  sheet.Target("redaction rule-set compile", Median(compile_ms), "ms", "<= 50");
  std::snprintf(detail, sizeof detail, "256 KiB of -----BEGIN %.1f, 16 MiB of spaces %.1f, a 20 MiB line %.1f",
                hostile_begin, hostile_spaces, hostile_big);
  sheet.Info("redaction, worst hostile line", std::max({hostile_begin, hostile_spaces, hostile_big}), "ms", detail);
  sheet.Note("size", size_text);
  if (auto st = sheet.Write(json_path); !st.ok()) {
    std::fprintf(stderr, "redact_bench: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
