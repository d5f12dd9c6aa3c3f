#!/usr/bin/env python3
"""Merges the figures of tsync's benchmarks into one table and one JSON file.

bench/run-all runs every bench with `--json <dir>/<bench>.json` (the format of
bench/figures.h) and then this script:

  merge_results.py --dir DIR --out FILE --mode quick|full --build B --repo R
      prints ONE table (every figure, the target beside it, met or not) and
      writes the same to FILE with the machine facts (nproc, CPU model,
      memory, kernel), the build (type, compiler, the git commit and the
      files with uncommitted changes when the run started) and the load averages run-all recorded before,
      during (every 10 s) and after the run;
  merge_results.py --markdown FILE [--all]
      prints the headline figures of an existing results file (or --all of
      them) as a Markdown table, for the README.

Only the standard library: scripts/install-deps installs python3.
"""
import argparse
import json
import os
import subprocess
import sys

# The order of the table: issue 7's list first (redaction, save, the one-line
# re-save, hooks, append -> ack, RSS), then the component benches.
ORDER = ["redact_bench", "save_bench", "hook_bench", "live_bench", "chunk_read_bench", "upload_bench"]


def fmt_value(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def met_text(m):
    return {True: "met", False: "MISSED", None: ""}[m]


def load_dir(d):
    benches, figures = [], []
    runs = {}
    runs_path = os.path.join(d, "runs.tsv")
    if os.path.exists(runs_path):
        with open(runs_path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    runs[parts[0]] = {"exit_code": int(parts[1]), "seconds": float(parts[2])}
    names = sorted(runs, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in names:
        entry = {"bench": name, **runs[name], "notes": {}}
        path = os.path.join(d, name + ".json")
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            entry["notes"] = data.get("notes", {})
            for fig in data.get("figures", []):
                figures.append({"bench": name, **fig})
        else:
            entry["missing"] = "no figures (the bench failed or was not built)"
        benches.append(entry)
    return benches, figures


def table_rows(figures):
    rows = [("bench", "figure", "value", "unit", "target", "", "detail")]
    for f in figures:
        rows.append((f["bench"].replace("_bench", ""), f["name"], fmt_value(f["value"]), f["unit"], f["target"],
                     met_text(f["met"]), f.get("detail", "")))
    return rows


def text_table(figures):
    rows = table_rows(figures)
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    out = []
    for n, r in enumerate(rows):
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]), r[3].ljust(widths[3]),
                 r[4].ljust(widths[4]), r[5].ljust(widths[5]), r[6]]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths) + "  ------")
    return "\n".join(out)


# The README's short table: issue 7's list (redaction and its naive baseline,
# save against curl, the one-line re-save, hook latency, append -> ack, peak
# and idle RSS), by figure name prefix.
HEADLINE = [
    "redaction, full catalogue", "redaction vs naive", "tsync save --all, end to end", "curl posting",
    "save --all speed", "one appended line: re-save", "tsync version", "hook post-tool-use, no match (ls",
    "hook session-start", "hook user-prompt-submit", "hook stop", "hook session-end", "append -> acknowledged",
    "burst of", "tsync save --all peak RSS", "idle watcher",
]


def markdown_table(figures):
    out = ["| figure | value | target | | detail |", "| --- | ---: | --- | --- | --- |"]
    for f in figures:
        out.append(f"| {f['name']} | {fmt_value(f['value'])} {f['unit']} | {f['target'] or '(info)'} | "
                   f"{met_text(f['met'])} | {f.get('detail', '')} |")
    return "\n".join(out)


def machine_line(r):
    m, load = r["machine"], r["load"]
    during = load.get("during_1min", {})
    text = (f"{r['mode']} mode, {r['date']}, {m.get('nproc')} x {m.get('cpu_model')}, "
            f"load average before {load['before'][0]:.2f}, after {load['after'][0]:.2f}")
    if during.get("samples"):
        text += f", during: mean {during['mean']:.2f} max {during['max']:.2f} (1-min, every 10 s)"
    return text


def summary_line(r):
    figs = r["figures"]
    targeted = [f for f in figs if f["met"] is not None]
    met = sum(1 for f in targeted if f["met"])
    failed = [b["bench"] for b in r["benches"] if b["exit_code"] != 0]
    text = f"{len(figs)} figures, {met} of {len(targeted)} targets met"
    if failed:
        text += "; benches that failed: " + ", ".join(failed)
    return text


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def machine_facts():
    model = ""
    for line in read_text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "mem_total_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": os.uname().release,
    }


def build_facts(build, repo, work):
    cache = {}
    for line in read_text(os.path.join(build, "CMakeCache.txt")).splitlines():
        for key in ("CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER"):
            if line.startswith(key + ":"):
                cache[key] = line.split("=", 1)[1]

    def git(*a):
        try:
            return subprocess.run(["git", "-C", repo, *a], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    # run-all records both when the benches start; the tree may move while they run.
    commit = read_text(os.path.join(work, "commit")) or git("rev-parse", "HEAD")
    try:
        with open(os.path.join(work, "changes")) as f:
            status = f.read()  # not stripped: a porcelain line may start with a space
    except OSError:
        status = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True).stdout
    changed = sorted(l[3:] for l in status.splitlines() if len(l) > 3)
    return {
        "dir": os.path.abspath(build),
        "build_type": cache.get("CMAKE_BUILD_TYPE", ""),
        "compiler": cache.get("CMAKE_CXX_COMPILER", ""),
        "commit": commit,
        "uncommitted_files": len(changed),
        "uncommitted": changed,
    }


def loadavg(path):
    parts = read_text(path).split()
    return [float(x) for x in parts[:3]] if len(parts) >= 3 else [None, None, None]


def merge(args):
    facts = {
        "date": read_text(os.path.join(args.dir, "started")),
        "machine": machine_facts(),
        "build": build_facts(args.build, args.repo, args.dir),
        "load": {"before": loadavg(os.path.join(args.dir, "load_before")),
                 "after": loadavg(os.path.join(args.dir, "load_after"))},
    }
    benches, figures = load_dir(args.dir)
    loads = []
    load_path = os.path.join(args.dir, "load.txt")
    if os.path.exists(load_path):
        with open(load_path) as f:
            loads = [float(x) for x in f.read().split() if x]
    facts["load"]["during_1min"] = {
        "samples": len(loads),
        "mean": round(sum(loads) / len(loads), 2) if loads else None,
        "max": max(loads) if loads else None,
    }
    result = {
        "generated_by": "bench/run-all",
        "mode": args.mode,
        "date": facts.pop("date"),
        "machine": facts["machine"],
        "build": facts["build"],
        "load": facts["load"],
        "benches": benches,
        "figures": figures,
    }
    print()
    print("=== one table: every figure, its target, met or not ===")
    print(machine_line(result))
    print(text_table(figures))
    print(summary_line(result))
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    print(f"written to {args.out}")
    return 1 if any(b["exit_code"] != 0 for b in benches) else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", help="where run-all left <bench>.json, runs.tsv, started, load_before/after, load.txt")
    p.add_argument("--build", default="build", help="the build directory the benches came from")
    p.add_argument("--repo", default=".", help="the source tree (for the git commit)")
    p.add_argument("--out", help="the merged JSON file to write")
    p.add_argument("--mode", default="full")
    p.add_argument("--markdown", metavar="RESULTS", help="print an existing results file as a Markdown table")
    p.add_argument("--all", action="store_true", help="with --markdown: every figure, not only the headline ones")
    args = p.parse_args()
    if args.markdown:
        with open(args.markdown) as f:
            r = json.load(f)
        print(f"Measured by `bench/run-all` ({machine_line(r)}); {summary_line(r)}.")
        print()
        figures = r["figures"]
        if not args.all:
            figures = [f for f in figures if any(f["name"].startswith(h) for h in HEADLINE)]
        print(markdown_table(figures))
        return 0
    if not args.dir or not args.out:
        p.error("--dir and --out are required (or --markdown)")
    return merge(args)


if __name__ == "__main__":
    sys.exit(main())
