#include "bench/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/fs.h"
#include "base/json.h"

namespace tsync::bench {

namespace {

/// A JSON number with 6 significant digits; null for NaN or infinity.
std::string Number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::optional<bool> MeetsTarget(double value, const std::string& target) {
  size_t i = 0;
  while (i < target.size() && target[i] == ' ') ++i;
  std::string op;
  while (i < target.size() && (target[i] == '<' || target[i] == '>' || target[i] == '=')) op += target[i++];
  char* end = nullptr;
  const double bound = std::strtod(target.c_str() + i, &end);
  if (end == target.c_str() + i) return std::nullopt;
  if (op == ">=") return value >= bound;
  if (op == ">") return value > bound;
  if (op == "<=") return value <= bound;
  if (op == "<") return value < bound;
  return std::nullopt;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least p % of the values at or below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(v.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return v[std::min(index, v.size() - 1)];
}

void FigureSheet::Target(const std::string& name, double value, const std::string& unit, const std::string& target,
                         const std::string& detail) {
  figures_.push_back({name, value, unit, target, MeetsTarget(value, target), detail});
}

void FigureSheet::Info(const std::string& name, double value, const std::string& unit, const std::string& detail) {
  figures_.push_back({name, value, unit, "", std::nullopt, detail});
}

void FigureSheet::Note(const std::string& key, const std::string& value) { notes_.emplace_back(key, value); }

std::string FigureSheet::ToJson() const {
  JsonWriter w;
  w.BeginObject().Key("bench").String(bench_).Key("figures").BeginArray();
  for (const Figure& f : figures_) {
    w.BeginObject().Key("name").String(f.name).Key("value").Raw(Number(f.value)).Key("unit").String(f.unit);
    w.Key("target").String(f.target).Key("met");
    if (f.met) {
      w.Bool(*f.met);
    } else {
      w.Null();
    }
    w.Key("detail").String(f.detail).EndObject();
  }
  w.EndArray().Key("notes").BeginObject();
  for (const auto& [key, value] : notes_) w.Key(key).String(value);
  w.EndObject().EndObject();
  return w.Take() + "\n";
}

Status FigureSheet::Write(const std::string& path) const {
  if (path.empty()) return Status::Ok();
  return WriteFileAtomic(path, ToJson(), 0644);
}

}  // namespace tsync::bench
