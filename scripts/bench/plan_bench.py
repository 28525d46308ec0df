#!/usr/bin/env python3
"""Helper of scripts/bench/plan.sh: the split into segments, their ideal
makespans, the report. Timing is runner_bench.py's `exec`, not this file's.

Standard library only (any Python 3.8+). Subcommands:

  split SUITE_DIR [--workers N] [--phase a]
      Choose the exclusive tests from SUITE_DIR/durations.json and write,
      into SUITE_DIR: plan.json (segment 0 exclusive, segment 1 parallel,
      segment 2 exclusive), seg0.txt, seg1.txt, seg2.txt (the same split as
      load lists, one id a line) and segments.json (each segment's tests,
      work, longest test and ideal makespan). Prints a one-line summary.
  report RESULTS_TSV CASES_TSV [--workers N] [--target 1.15]
      The markdown tables. RESULTS_TSV has one row per timed command
      (kind rep case tool part wall own children rc ran log); CASES_TSV one
      row per case (case suite_dir startup).

The choice of exclusive tests, deterministic and by duration: rank the tests
longest first (ties by id). Segment 0 takes ranks 1, m, m+2 and m+4, segment
2 takes ranks 3, m+1, m+3 and m+5, with m = n // 10 (the tests around the
90th percentile of duration). So each exclusive segment has one of the long
tests and three medium ones, and the longest test of all stays in the
parallel segment (in the `heavy` suites it bounds that segment's ideal).
"""

import argparse
import json
import os
import re
import statistics

# The table cells are formatted as runner.sh's are (this directory is on sys.path).
from runner_report import fmt, ratio

SEGMENT_RE = re.compile(r"^Segment (\d+)(?: \(([^)]*)\))?: (\d+) tests? in ([0-9.]+)s", re.M)
REST_RE = re.compile(r"^Tests no segment names: (\d+) tests? in ([0-9.]+)s", re.M)


def segment_ideal(durations, exclusive, workers):
    if not durations:
        return 0.0
    if exclusive:
        return sum(durations)
    return max(sum(durations) / workers, max(durations))


def cmd_split(argv):
    p = argparse.ArgumentParser(prog="plan_bench.py split")
    p.add_argument("suite")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--phase", default="a")
    a = p.parse_args(argv)
    table = json.load(open(os.path.join(a.suite, "durations.json")))[a.phase]
    n = len(table)
    m = n // 10
    if n < 20:
        raise SystemExit("plan_bench.py: a suite of %d tests is too small to split" % n)
    ranked = sorted(table, key=lambda tid: (-table[tid], tid))
    seg0 = sorted(ranked[r] for r in (1, m, m + 2, m + 4))
    seg2 = sorted(ranked[r] for r in (3, m + 1, m + 3, m + 5))
    chosen = set(seg0) | set(seg2)
    seg1 = sorted(tid for tid in table if tid not in chosen)
    segments = [(seg0, True), (seg1, False), (seg2, True)]
    plan = {"version": 1, "segments": [
        dict({"tests": tests}, **({"exclusive": True} if exclusive else {}))
        for tests, exclusive in segments]}
    with open(os.path.join(a.suite, "plan.json"), "w") as f:
        json.dump(plan, f, indent=1)
        f.write("\n")
    info = []
    for k, (tests, exclusive) in enumerate(segments):
        with open(os.path.join(a.suite, "seg%d.txt" % k), "w") as f:
            f.write("".join(tid + "\n" for tid in tests))
        ds = [table[tid] for tid in tests]
        info.append({
            "segment": k, "exclusive": exclusive, "tests": len(tests),
            "work": round(sum(ds), 4), "longest": max(ds),
            "ideal": round(segment_ideal(ds, exclusive, a.workers), 4),
        })
    with open(os.path.join(a.suite, "segments.json"), "w") as f:
        json.dump({"workers": a.workers, "phase": a.phase, "segments": info}, f, indent=1)
        f.write("\n")
    print("; ".join("segment %d%s: %d tests, work %.3f s, longest %.3f s, ideal %.3f s"
                    % (s["segment"], " (exclusive)" if s["exclusive"] else "", s["tests"],
                       s["work"], s["longest"], s["ideal"]) for s in info)
          + "; sum of ideals %.3f s" % sum(s["ideal"] for s in info))


# ---------------------------------------------------------------- report ----

def load_rows(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                row = dict(zip(header, line.rstrip("\n").split("\t")))
                row["rep"] = int(row["rep"])
                row["wall"] = float(row["wall"])
                row["rc"] = int(row["rc"])
                rows.append(row)
    return rows


def log_text(path):
    """The output of one timed command: the whole log (plan.sh gives each
    planned run a log of its own)."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def cmd_report(argv):
    p = argparse.ArgumentParser(prog="plan_bench.py report")
    p.add_argument("results")
    p.add_argument("cases")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--target", type=float, default=1.15)
    a = p.parse_args(argv)
    rows = load_rows(a.results)
    cases = []
    with open(a.cases) as f:
        for line in f:
            if line.strip():
                name, suite, startup = line.rstrip("\n").split("\t")
                cases.append((name, suite, float(startup)))
    notes = []
    seg_rows = []
    last_lines = []

    print("| case | Σ segment ideals (s) | startup (s) | ours planned (s) | planned / Σ ideals "
          "| planned / (Σ ideals + startup) | target (≤ %.2f on the latter) | ours, 3 invocations (s) "
          "| stestr, 3 invocations (s) | stestr 3 inv. / ours planned | ours 3 inv. / ours planned |"
          % a.target)
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for name, suite, startup in cases:
        info = json.load(open(os.path.join(suite, "segments.json")))["segments"]
        total = sum(s["tests"] for s in info)
        bar = sum(s["ideal"] for s in info)
        mine = [r for r in rows if r["case"] == name and r["kind"] == "timed"]

        # ours planned: one row per rep.
        planned = [r for r in mine if r["tool"] == "ours-plan"]
        for r in planned:
            if r["rc"] != 0:
                notes.append("%s, ours planned, rep %d: exit status %d (see %s)"
                             % (name, r["rep"], r["rc"], r["log"]))
            if r["ran"] != str(total):
                notes.append("%s, ours planned, rep %d: ran %s tests (expected %d)"
                             % (name, r["rep"], r["ran"], total))
        bad = [r for r in planned if r["rc"] != 0]
        if not planned:
            wall = "n/a"
        elif bad:
            wall = "err(%d)" % bad[0]["rc"]
        else:
            wall = statistics.median(r["wall"] for r in planned)

        # The split as three invocations: a rep's time is the sum of its three.
        def three(tool):
            parts = [r for r in mine if r["tool"] == tool]
            reps = sorted({r["rep"] for r in parts})
            sums = []
            for rep in reps:
                got = {r["part"]: r for r in parts if r["rep"] == rep}
                for k, s in enumerate(info):
                    r = got.get("seg%d" % k)
                    if r is None:
                        notes.append("%s, %s, rep %d: no run of seg%d" % (name, tool, rep, k))
                        continue
                    if r["rc"] != 0:
                        notes.append("%s, %s, rep %d, seg%d: exit status %d (see %s)"
                                     % (name, tool, rep, k, r["rc"], r["log"]))
                    if r["ran"] != str(s["tests"]):
                        notes.append("%s, %s, rep %d, seg%d: ran %s tests (expected %d)"
                                     % (name, tool, rep, k, r["ran"], s["tests"]))
                if any(got.get("seg%d" % k) is None or got["seg%d" % k]["rc"] != 0
                       for k in range(len(info))):
                    continue
                sums.append(sum(got["seg%d" % k]["wall"] for k in range(len(info))))
            if not reps:
                return "n/a"
            if len(sums) < len(reps):
                return "err"
            return statistics.median(sums)

        ours3 = three("ours-3")
        stestr3 = three("stestr-3")
        with_startup = bar + startup
        if isinstance(wall, float):
            verdict = "%s (%.2f)" % ("met" if wall / with_startup <= a.target else "NOT met",
                                     wall / with_startup)
        else:
            verdict = "not measured"
        print("| %s | %.3f | %.3f | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, bar, startup, fmt(wall, 3), ratio(wall, bar, 3), ratio(wall, with_startup, 3),
            verdict, fmt(ours3, 3), fmt(stestr3, 3), ratio(stestr3, wall), ratio(ours3, wall)))

        # Per segment: what our Segment lines say, against each ideal.
        per_rep = {}
        for r in planned:
            text = log_text(r["log"])
            segs = {int(m.group(1)): (int(m.group(3)), float(m.group(4)))
                    for m in SEGMENT_RE.finditer(text)}
            rest = REST_RE.search(text)
            if rest:
                notes.append("%s, ours planned, rep %d: %s tests ran in the final segment for "
                             "tests no segment names (expected none)" % (name, r["rep"], rest.group(1)))
            per_rep[r["rep"]] = (segs, r["wall"])
            if r["rep"] == max(x["rep"] for x in planned):
                last_lines.append((name, r["rep"], r["log"],
                                   [ln for ln in text.splitlines()
                                    if ln.startswith(("Segment ", "Tests no segment names",
                                                      "Worker balance:", "Ran "))]))
        in_segments = []
        for s in info:
            k = s["segment"]
            got = [segs[k] for segs, _ in per_rep.values() if k in segs]
            for segs, _ in per_rep.values():
                if k in segs and segs[k][0] != s["tests"]:
                    notes.append("%s: our Segment %d line says %d tests (expected %d)"
                                 % (name, k, segs[k][0], s["tests"]))
            t = statistics.median(g[1] for g in got) if got else "n/a"
            seg_rows.append((name, k, s, t))
        complete = [(segs, w) for segs, w in per_rep.values() if len(segs) == len(info)]
        sums = [sum(t for _, t in segs.values()) for segs, _ in complete]
        outside = [w - sm for (_, w), sm in zip(complete, sums)]
        if sums:
            notes.append("%s: our segments took %.3f s together (median), against %.3f s of ideals "
                         "(%.3f×); the rest of the planned run's wall time, %.3f s, is start-up, "
                         "listing, barriers and storing (startup measured apart: %.3f s)"
                         % (name, statistics.median(sums), bar, statistics.median(sums) / bar,
                            statistics.median(outside), startup))

    print()
    print("| case | segment | tests | work (s) | longest (s) | ideal (s) | ours, from its Segment line (s) | ours / ideal |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, k, s, t in seg_rows:
        kind = "%d (exclusive)" % k if s["exclusive"] else "%d (parallel, %d workers)" % (k, a.workers)
        print("| %s | %s | %d | %.3f | %.3f | %.3f | %s | %s |" % (
            name, kind, s["tests"], s["work"], s["longest"], s["ideal"], fmt(t, 3),
            ratio(t, s["ideal"])))

    if last_lines:
        print()
        print("Our last planned run of each case:")
        for name, rep, log, lines in last_lines:
            print()
            print("%s, rep %d (%s):" % (name, rep, log))
            print()
            for ln in lines:
                print("    " + ln)
    if notes:
        print()
        for note in notes:
            print("- " + note)


def main():
    import sys
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    sub, argv = sys.argv[1], sys.argv[2:]
    commands = {"split": cmd_split, "report": cmd_report}
    if sub not in commands:
        raise SystemExit(__doc__)
    commands[sub](argv)


if __name__ == "__main__":
    main()
