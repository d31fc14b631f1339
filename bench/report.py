#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turn the JSON reports of famrt's benchmarks into one Markdown report
with plots (gnuplot, PNG) and a table of performance.md's targets.

    bench/report.py RESULTS_DIR [--out REPORT.md] [--command "how it ran"]

RESULTS_DIR holds bench_*.json as the benchmark binaries write them
(bench/common.h: one object per case, same keys always). The report goes
to RESULTS_DIR/report.md (plots next to it) unless --out says otherwise.
The targets are informational: nothing here fails on a time.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys


def load(results):
    reports = {}
    for name in sorted(os.listdir(results)):
        if name.startswith("bench_") and name.endswith(".json"):
            with open(os.path.join(results, name)) as f:
                d = json.load(f)
            reports[d["benchmark"]] = d
    return reports


def cases(reports, bench):
    return {c["name"]: c for c in reports.get(bench, {}).get("cases", [])}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


def machine_facts(reports):
    facts = []
    model = sh("lscpu | sed -n 's/^Model name: *//p'") or platform.processor()
    facts.append(("CPU", model))
    facts.append(("CPUs", str(os.cpu_count())))
    for level in ("L1d", "L2", "L3"):
        v = sh("lscpu | sed -n 's/^%s cache: *//p'" % level)
        if v:
            facts.append((level + " cache", v))
    mem = sh("sed -n 's/^MemTotal: *//p' /proc/meminfo")
    facts.append(("Memory", mem))
    facts.append(("Kernel", platform.release()))
    thp = sh("cat /sys/kernel/mm/transparent_hugepage/shmem_enabled")
    facts.append(("THP for tmpfs (shmem_enabled)", thp))
    flags = sh("grep -o -w 'clwb\\|clflushopt\\|avx2\\|avx512f' /proc/cpuinfo"
               " | sort -u | tr '\\n' ' '")
    facts.append(("Cache and vector instructions", flags))
    given = sorted({c["params"]["devices"] for c in
                    reports.get("bench_io", {}).get("cases", [])
                    if "devices" in c.get("params", {})})
    devs = "bench_io: " + "; ".join(given) if given else \
        "emulated (files on /dev/shm, tmpfs)"
    devs += "; bench_resolve, bench_meta: no device / their own emulated ones"
    if os.path.exists("/sys/bus/dax/devices") and os.listdir(
            "/sys/bus/dax/devices"):
        devs += "; device-dax on this machine: " + ", ".join(
            sorted(os.listdir("/sys/bus/dax/devices")))
    facts.append(("Devices", devs))
    facts.append(("Load average at report time", sh("cat /proc/loadavg")))
    return facts


def fmt_ns(ns):
    if ns is None:
        return "-"
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.2f us" % (ns / 1e3)
    return "%.1f ns" % ns


class Targets:
    """performance.md's target rows: (row, wanted, measured, verdict)."""

    def __init__(self):
        self.rows = []

    def add(self, row, wanted, measured, ok, how=""):
        verdict = "n/a" if measured is None else ("met" if ok else "MISSED")
        self.rows.append((row, wanted, measured if measured is not None
                          else "not measured", verdict, how))


def collect_targets(reports):
    t = Targets()
    rs = cases(reports, "bench_resolve")
    if rs:
        one = rs.get("resolve/one")
        t.add("fmap resolve, one extent", "< 3 ns",
              fmt_ns(one and one["ns_per_op"]),
              one and one["ns_per_op"] < 3, "bench_resolve resolve/one")
        worst = max(((c["ns_per_op"], n) for n, c in rs.items()
                     if n.startswith("resolve/ilv32x32") and
                     not n.endswith("-general")), default=None)
        t.add("fmap resolve, 32 x 32 extents", "< 10 ns",
              "%s (%s)" % (fmt_ns(worst[0]), worst[1]) if worst else None,
              worst and worst[0] < 10, "worst fast-path 32x32 map")
        x24 = rs.get("resolve/ilv32x24-div")
        if x24:
            # Not a target of performance.md: the 32x32 bar, for a map
            # whose strips and chunks need divisions. Reported, not judged.
            t.add("(informational) fmap resolve, 32 extents x 24 strips: "
                  "binary search and division (bar: 10 ns)", "report",
                  fmt_ns(x24["ns_per_op"]), True,
                  "the 32x32 bar, for a map that divides")
            t.rows[-1] = t.rows[-1][:3] + ("report",) + t.rows[-1][4:]
    io = cases(reports, "bench_io")
    for name in sorted((n for n in io if n.startswith("target/")),
                       key=lambda n: int(n.split("/")[1])):
        p = io[name]["params"]
        if p["kind"] == "report":
            t.add(p["target"], "report", "%.3f" % p["measured"], True)
            t.rows[-1] = t.rows[-1][:3] + ("report",) + t.rows[-1][4:]
        elif p["kind"].startswith("ns"):
            t.add(p["target"], "<= %s" % fmt_ns(p["wanted"]),
                  fmt_ns(p["measured"]), p["result"] == "pass")
        else:
            t.add(p["target"], ">= %.2fx" % p["wanted"],
                  "%.3fx" % p["measured"], p["result"] == "pass")
    sh_ = cases(reports, "bench_shim")
    if sh_:
        for name, want, label in (
                ("shim/pread4k-rand-hot", 2.5,
                 "shim, 4 KiB random reads, hot: faster than tmpfs by half "
                 "the 5x pread target"),
                ("shim/read4k-seq-hot", 2.5,
                 "shim, 4 KiB sequential reads, hot: the same"),
                ("shim/pread4k-rand-streaming", 1.0,
                 "shim, 4 KiB random reads, streaming: half the 2x target"),
                ("shim/no-famrt-io-read4k", 0.99,
                 "a program touching no famrt file, with the shim: within "
                 "1%")):
            c = sh_.get(name)
            r = c and c["ratio"]
            t.add(label, ">= %.2fx" % want,
                  "%.3fx" % r if r else None, r is not None and r >= want)
    me = cases(reports, "bench_meta")
    if me:
        c = me.get("create/one-dir")
        if c:
            rate = 1e9 / c["ns_per_op"]
            t.add("durable creates per second (famfs: 90-120 ms a file)",
                  ">= 10,000/s", "%.0f/s" % rate, rate >= 10000)
        c = me.get("mount/100000")
        if c:
            t.add("mount: replay of a 100,000-entry log", "< 200 ms",
                  fmt_ns(c["ns_per_op"]), c["ns_per_op"] < 200e6)
        c = me.get("visible/tight") or me.get("visible/sleep-100us")
        if c:
            t.add("a create visible to another follower process",
                  "< 10 ms", fmt_ns(c["ns_per_op"]) + " (median)",
                  c["ns_per_op"] < 10e6)
    return t


def gp_text(text):
    """Text for a single-quoted gnuplot string (plots are noenhanced)."""
    return text.replace("'", "''")


def gnuplot(script, out_dir):
    if not shutil.which("gnuplot"):
        return False
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True, cwd=out_dir)
    if r.returncode:
        sys.stderr.write("report.py: gnuplot: %s\n" % r.stderr)
    return r.returncode == 0


def size_of(name):
    s = name.rsplit("/", 1)[1]
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


def plot_reads(reports, out_dir, layout, pattern, fname, title):
    io = cases(reports, "bench_io")
    rows = []
    for n, c in io.items():
        if not n.startswith("read/%s/%s/" % (layout, pattern)):
            continue
        size = size_of(n)
        k = io.get("read-vs-kernel/%s/%s/%s" % (layout, pattern,
                                                 n.rsplit("/", 1)[1]))
        rows.append((size, size / c["ns_per_op"],
                     size / c["baseline"]["ns_per_op"] if c["baseline"]
                     else 0,
                     size / k["baseline"]["ns_per_op"] if k and
                     k["baseline"] else 0))
    if not rows:
        return None
    rows.sort()
    data = os.path.join(out_dir, fname + ".dat")
    with open(data, "w") as f:
        for r in rows:
            f.write("%d %.4f %.4f %.4f\n" % r)
    ok = gnuplot("""set terminal pngcairo size 900,520 noenhanced font 'sans,10'
set output '%s.png'
set title '%s'
set logscale x 2
set xlabel 'block size (bytes)'
set ylabel 'GB/s'
set key below
set grid
plot '%s.dat' u 1:2 w lp t 'famrt_pread', \\
     '' u 1:3 w lp t 'memcpy from the device mapping', \\
     '' u 1:4 w lp t 'kernel pread (tmpfs)'
""" % (fname, gp_text(title), fname), out_dir)
    return fname + ".png" if ok else None


def plot_latency(reports, out_dir, layout, fname, title):
    """ns per read by block size: famrt, memcpy, kernel; hot and streaming."""
    io = cases(reports, "bench_io")
    series = []
    for pattern, what in (("hot", "hot"), ("rand", "streaming")):
        pts = {"famrt_pread": [], "memcpy": [], "kernel pread": []}
        for n, c in io.items():
            if not n.startswith("read/%s/%s/" % (layout, pattern)):
                continue
            size = size_of(n)
            k = io.get("read-vs-kernel/%s/%s/%s" % (layout, pattern,
                                                     n.rsplit("/", 1)[1]))
            pts["famrt_pread"].append((size, c["ns_per_op"]))
            if c["baseline"]:
                pts["memcpy"].append((size, c["baseline"]["ns_per_op"]))
            if k and k["baseline"]:
                pts["kernel pread"].append((size, k["baseline"]["ns_per_op"]))
        for arm, v in pts.items():
            if v:
                series.append(("%s, %s" % (arm, what), v))
    return plot_xy(out_dir, fname, title, "block size (bytes)",
                   "ns per read (lower is better)", series, logx=True,
                   logy=True)


def plot_simple_bars(out_dir, fname, title, ylabel, rows, logy=False):
    """Grouped bars: rows of (label, value, value...); title is
    "TITLE|series 1|series 2..."."""
    if not rows:
        return None
    parts = title.split("|")
    with open(os.path.join(out_dir, fname + ".dat"), "w") as f:
        for i, r in enumerate(rows):
            f.write("%d %s\n" % (i, " ".join("%.4f" % v for v in r[1:])))
    ncols = len(rows[0]) - 1
    bw = 0.8 / ncols
    cols = ", ".join(
        "'%s.dat' u ($1%+.3f):%d:(%.3f) w boxes t '%s'"
        % (fname, (j - (ncols - 1) / 2.0) * bw, j + 2, bw,
           gp_text(parts[1 + j]) if len(parts) > 1 + j else "")
        for j in range(ncols))
    xtics = ", ".join("'%s' %d" % (gp_text(r[0]), i)
                      for i, r in enumerate(rows))
    ok = gnuplot("""set terminal pngcairo size 900,560 noenhanced font 'sans,10'
set output '%s.png'
set title '%s'
set style fill solid 0.7 border -1
set ylabel '%s'
%s
set xrange [-0.6:%f]
set xtics (%s) rotate by -25 left nomirror
set bmargin 7
set grid y
set key below
plot %s
""" % (fname, gp_text(parts[0]), ylabel,
       "set logscale y" if logy else "set yrange [0:*]", len(rows) - 0.4,
       xtics, cols), out_dir)
    return fname + ".png" if ok else None


def plot_xy(out_dir, fname, title, xlabel, ylabel, series, logx=False,
            logy=False):
    if not series:
        return None
    plots = []
    for i, (label, pts) in enumerate(series):
        d = "%s.%d.dat" % (fname, i)
        with open(os.path.join(out_dir, d), "w") as f:
            for x, y in sorted(pts):
                f.write("%g %g\n" % (x, y))
        plots.append("'%s' u 1:2 w lp t '%s'" % (d, gp_text(label)))
    ok = gnuplot("""set terminal pngcairo size 900,520 noenhanced font 'sans,10'
set output '%s.png'
set title '%s'
set xlabel '%s'
set ylabel '%s'
%s
%s
set grid
set key below
plot %s
""" % (fname, gp_text(title), xlabel, ylabel,
       "set logscale x" if logx else "",
       "set logscale y" if logy else "", ", ".join(plots)), out_dir)
    return fname + ".png" if ok else None


def case_table(reports, bench):
    lines = ["| case | median | spread | baseline | ratio |",
             "|---|---|---|---|---|"]
    for c in reports[bench]["cases"]:
        if c["name"].startswith("target/"):
            continue
        base = c["baseline"]
        lines.append("| %s | %s | %.0f%% | %s | %s |" % (
            c["name"], fmt_ns(c["ns_per_op"]),
            100 * (c["runs"]["spread"] or 0),
            "%s: %s" % (base["name"], fmt_ns(base["ns_per_op"]))
            if base else "-",
            "%.3f" % c["ratio"] if c["ratio"] else "-"))
    return "\n".join(lines)


def plot_4k(reports, out_dir):
    """4 KiB random reads, hot and streaming: the three arms side by side."""
    io = cases(reports, "bench_io")
    rows = []
    for layout in ("simple", "ilv"):
        for pattern, what in (("hot", "hot"), ("rand", "streaming")):
            c = io.get("read/%s/%s/4K" % (layout, pattern))
            k = io.get("read-vs-kernel/%s/%s/4K" % (layout, pattern))
            if c and c["baseline"] and k and k["baseline"]:
                rows.append(("%s %s" % (layout, what), c["ns_per_op"],
                             c["baseline"]["ns_per_op"],
                             k["baseline"]["ns_per_op"]))
    return plot_simple_bars(out_dir, "read-4k", "4 KiB random reads|"
                            "famrt_pread|memcpy from the device mapping|"
                            "kernel pread (tmpfs)",
                            "ns per read (lower is better)", rows)


def plot_mmap(reports, out_dir):
    """famrt_mmap: build and first touch per MiB mapped, by pieces."""
    io = cases(reports, "bench_io")
    build, touch, base = [], [], []
    for n, c in io.items():
        if not n.startswith("mmap-build/"):
            continue
        label = n.split("/", 1)[1]
        p = c["params"]
        mib = p["mapped"] / float(1 << 20)
        pieces = max(p["pieces"], 1)
        # Per-piece figures (a MAP_FIXED each) scale by the pieces; the
        # one-run case times the whole call.
        whole = c["ns_per_op"] * (pieces if p.get("chunk") else 1)
        build.append((pieces, whole / mib / 1e3))
        t = io.get("mmap-first-touch/" + label)
        if t:
            touch.append((pieces, t["ns_per_op"] / 1e3))
            if t["baseline"]:
                base.append((pieces, t["baseline"]["ns_per_op"] / 1e3))
    return plot_xy(out_dir, "mmap", "famrt_mmap of 8 MiB: cost per MiB "
                   "mapped vs pieces (runs) in the mapping", "pieces",
                   "us per MiB", [("build (famrt_mmap)", build),
                                  ("first touch of every byte", touch),
                                  ("memcpy of the same bytes", base)],
                   logx=True)


def results_json(reports, path, command, facts, targets):
    """Every case of every benchmark, in one file."""
    doc = {
        "made": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": command,
        "machine": {k: v for k, v in facts},
        "targets": [{"target": r[0], "wanted": r[1], "measured": r[2],
                     "verdict": r[3]} for r in targets.rows],
        "benchmarks": reports,
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--out")
    ap.add_argument("--command", default="bench/run.sh")
    a = ap.parse_args()
    reports = load(a.results)
    if not reports:
        sys.exit("report.py: no bench_*.json in %s" % a.results)
    out = a.out or os.path.join(a.results, "report.md")
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    # The plots and their data, out of the way of the report.
    plot_dir = os.path.join(out_dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    facts = machine_facts(reports)
    t = collect_targets(reports)
    results_json(reports, os.path.join(out_dir, "results.json"), a.command,
                 facts, t)
    quick = any(r.get("quick") for r in reports.values())
    md = []
    md.append("# famrt performance report\n")
    md.append("Made %s by `%s`. Every figure is a median of repeated runs; "
              "every ratio compares two arms measured side by side in the "
              "same run (these machines are shared: absolute times drift "
              "between runs, ratios hold). A ratio above 1 means famrt is "
              "faster than its baseline. Every case, with its parameters "
              "and spread, is in `results.json` next to this report.\n" % (
                  datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
                  a.command))
    if quick:
        md.append("**Quick mode**: small data sets and few repeats, to see "
                  "the chain work. These figures are not worth quoting.\n")
    md.append("## Machine\n")
    md.append("| | |\n|---|---|")
    for k, v in facts:
        md.append("| %s | %s |" % (k, v))
    md.append("")
    md.append("## Targets (docs: performance.md)\n")
    md.append("Informational: the test suite never fails on a time.\n")
    md.append("| target | wanted | measured | verdict |")
    md.append("|---|---|---|---|")
    for row, want, got, verdict, how in t.rows:
        md.append("| %s | %s | %s | %s |" % (row, want, got, verdict))
    md.append("")
    md.append("## Plots\n")
    for layout, pattern, title in (
            ("simple", "hot", "reads, one-run file, hot (1 MiB working set)"),
            ("simple", "rand", "reads, one-run file, streaming (random "
             "offsets over a file much larger than the LLC)"),
            ("ilv", "hot", "reads, interleaved file (2 MiB chunks), hot"),
            ("ilv", "rand", "reads, interleaved file, streaming")):
        f = plot_reads(reports, plot_dir, layout, pattern,
                       "read-%s-%s" % (layout, pattern),
                       "famrt vs memcpy vs kernel pread: " + title)
        if f:
            md.append("### Read bandwidth: %s\n\n![](plots/%s)\n" % (title, f))
    for layout, title in (("simple", "one-run file"),
                          ("ilv", "interleaved file")):
        f = plot_latency(reports, plot_dir, layout, "latency-" + layout,
                         "read latency by block size, " + title)
        if f:
            md.append("### Read latency: %s\n\n![](plots/%s)\n" % (title, f))
    f = plot_4k(reports, plot_dir)
    if f:
        md.append("### 4 KiB random reads, hot and streaming\n\n![](plots/%s)\n"
                  % f)
    sh_ = cases(reports, "bench_shim")
    rows = [(n.split("/", 1)[1], c["ns_per_op"], c["baseline"]["ns_per_op"])
            for n, c in sh_.items() if c["baseline"]]
    f = plot_simple_bars(plot_dir, "shim", "An unmodified program reading "
                         "4 KiB..1 MiB blocks|famrt through the shim|tmpfs "
                         "(no shim; or without the shim)",
                         "ns per read (lower is better)", rows, logy=True)
    if f:
        md.append("### The LD_PRELOAD shim\n\n![](plots/%s)\n" % f)
    me = cases(reports, "bench_meta")
    creates = [(n, 1e9 / c["ns_per_op"]) for n, c in me.items()
               if n.startswith("create/") or n == "mkdir"]
    fd = cases(reports, "bench_famrtd")
    creates += [("service " + n, 1e9 / c["ns_per_op"])
                for n, c in fd.items() if n.startswith("create/")]
    f = plot_simple_bars(plot_dir, "creates", "durable creates per second "
                         "(famfs: about 10 a second)|creates/s",
                         "creates per second", creates, logy=True)
    if f:
        md.append("### Creates\n\n![](plots/%s)\n" % f)
    mixed = sorted((c["params"]["clients"], c["params"])
                   for n, c in fd.items() if n.startswith("mixed/"))
    f = plot_xy(plot_dir, "service-rps", "famrtd: mixed lookup, getattr and "
                "GET_FMAP requests per second vs clients", "client processes",
                "requests per second",
                [("requests/s", [(k, p["requests_per_sec"])
                                 for k, p in mixed])], logx=True)
    if f:
        md.append("### The service\n\n![](plots/%s)\n" % f)
    f = plot_xy(plot_dir, "service-latency", "famrtd: request latency "
                "percentiles vs clients", "client processes", "us",
                [(q, [(k, p[key] / 1e3) for k, p in mixed if key in p])
                 for q, key in (("p50", "p50_ns"), ("p90", "p90_ns"),
                                ("p99", "p99_ns"), ("p99.9", "p999_ns"))],
                logx=True, logy=True)
    if f:
        md.append("![](plots/%s)\n" % f)
    pts = [(int(n.split("/")[1]), c["ns_per_op"] / 1e6)
           for n, c in me.items() if n.startswith("mount/")]
    f = plot_xy(plot_dir, "replay", "mount: replay time vs log length",
                "log entries", "ms", [("famrt_fs_open (full replay)", pts)])
    if f:
        md.append("### Replay\n\n![](plots/%s)\n" % f)
    f = plot_mmap(reports, plot_dir)
    if f:
        md.append("### Mapping a file\n\n![](plots/%s)\n" % f)
    md.append("## Every case\n")
    for bench in sorted(reports):
        md.append("### %s\n" % bench)
        md.append(case_table(reports, bench))
        md.append("")
    with open(out, "w") as f:
        f.write("\n".join(md) + "\n")
    print("report.py: wrote %s and %s" % (
        out, os.path.join(out_dir, "results.json")))
    width = max(len(r[0]) for r in t.rows) if t.rows else 10
    print("%-*s  %12s  %22s  %s" % (width, "target", "wanted", "measured",
                                    "verdict"))
    for row, want, got, verdict, how in t.rows:
        print("%-*s  %12s  %22s  %s" % (width, row, want, got, verdict))


if __name__ == "__main__":
    main()
