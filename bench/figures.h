// The figures a benchmark reports, in a form bench/run-all can merge into
// one table and bench/results.json:
//   {"bench": "<name>", "figures": [{"name", "value", "unit", "target",
//    "met", "detail"}...], "notes": {"<key>": "<text>"...}}
// "target" is the text printed beside the figure (">= 150", "<= 20", or ""
// for a figure shown for information); "met" is true or false against it,
// null when there is no target. "detail" carries the spread (p90, max, n)
// or the conditions a figure was measured under.
// Every bench takes `--json FILE`; without it nothing is written.
// Thread-safety: a single-owner object.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tsync::bench {

struct Figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::string target;       // "" when shown for information only
  std::optional<bool> met;  // against target; empty without one
  std::string detail;
};

class FigureSheet {
 public:
  explicit FigureSheet(std::string bench) : bench_(std::move(bench)) {}

  /// A figure with a target: met is `value >= bound` for ">=" / ">", `value
  /// <= bound` for "<=" / "<" (`target` is e.g. "<= 20", a number after the
  /// comparison).
  void Target(const std::string& name, double value, const std::string& unit, const std::string& target,
              const std::string& detail = "");
  /// A figure shown for information (no target).
  void Info(const std::string& name, double value, const std::string& unit, const std::string& detail = "");
  /// A fact about the run ("size": "1 GiB").
  void Note(const std::string& key, const std::string& value);

  const std::vector<Figure>& figures() const { return figures_; }
  std::string ToJson() const;
  /// Writes ToJson() to `path` atomically; OK and nothing written when
  /// `path` is empty.
  Status Write(const std::string& path) const;

 private:
  std::string bench_;
  std::vector<Figure> figures_;
  std::vector<std::pair<std::string, std::string>> notes_;
};

/// Whether `value` meets `target` (">= 150", "<= 20", "< 1000", "> 0");
/// empty when the target cannot be read.
std::optional<bool> MeetsTarget(double value, const std::string& target);

/// p-th percentile (0..100, nearest rank) of `v`; 0 when empty.
double Percentile(std::vector<double> v, double p);

}  // namespace tsync::bench
