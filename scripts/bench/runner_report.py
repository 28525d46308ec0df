#!/usr/bin/env python3
"""The tables of scripts/bench/runner.sh, from the results.tsv it wrote.

Standard library only (any Python 3.8+). Usage:

  runner_report.py RESULTS_TSV --reps N --workers N --tests N --startup S
      --suite NAME=DIR... --trivial-tests N --trivial-workers N
      --trivial-startup S --oslo-workers N --oslo-counts DIR

Every verdict ("met" / "NOT met") is computed here from the measured
medians; a cell that could not be measured says why (n/a, err(N)) and its
targets say "not measured". The tables of a case that did not run are left
out. fmt, ratio and table are also plan_bench.py's.
"""

import argparse
import json
import os
import re
import statistics

# ---------------------------------------------------------------- format ----


def fmt(x, digits=2):
    return "%.*f" % (digits, x) if isinstance(x, float) else x


def ratio(a, b, digits=2):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return "%.*f" % (digits, a / b)
    return "n/a"


def table(columns, rows):
    """A markdown table; columns are (title, "l" or "r") pairs."""
    print("| " + " | ".join(title for title, _ in columns) + " |")
    print("|" + "|".join("---:" if align == "r" else "---" for _, align in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


# ---------------------------------------------------------------- results ----


def load_results(path):
    """{(kind, case, phase, tool): [row, ...]} from the TSV runner.sh wrote."""
    results = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("kind\t"):
                continue
            kind, rep, case, phase, tool, wall, own, children, rc, ran, procs = \
                line.rstrip("\n").split("\t")
            results.setdefault((kind, case, phase, tool), []).append({
                "rep": int(rep), "wall": float(wall), "own": float(own),
                "children": float(children), "rc": int(rc), "ran": ran,
                "procs": int(procs) if procs.isdigit() else None,
            })
    return results


def cell(rows, key="wall", ok_rc=(0, 1)):
    """Median of one measurement over the repetitions, or a string saying
    why there is none. Exit 1 means "tests failed" for every tool here."""
    if not rows:
        return "n/a"
    bad = [r for r in rows if r["rc"] not in ok_rc]
    if bad:
        return "err(%d)" % bad[0]["rc"]
    values = [r[key] for r in rows if r[key] is not None]
    return statistics.median(values) if values else "n/a"


def spread(rows):
    """"median (min–max)" of the wall times, or the one value, or why not."""
    m = cell(rows)
    if not isinstance(m, float) or len(rows) < 2:
        return fmt(m)
    walls = [r["wall"] for r in rows]
    return "%.2f (%.2f–%.2f)" % (m, min(walls), max(walls))


def procs(rows):
    m = cell(rows, "procs")
    return "%d" % m if isinstance(m, (int, float)) else "?"


def verdict(ours, other, limit, what):
    """"ours/what ≤ limit: met (0.73)" from two medians."""
    head = "≤ %.2f × %s" % (limit, what)
    if not isinstance(ours, float):
        return "%s: not measured (ours %s)" % (head, ours)
    if not isinstance(other, float) or other <= 0:
        return "%s: not measured (%s %s)" % (head, what, other)
    r = ours / other
    # Enough digits that a ratio just over the limit does not read as equal.
    digits = 3 if round(r, 2) == limit and r != limit else 2
    return "%s: %s (%.*f)" % (head, "met" if r <= limit else "NOT met", digits, r)


def faster(ours, other, what):
    """"< what: met (0.73)": strictly faster, from two medians."""
    if not isinstance(ours, float):
        return "< %s: not measured (ours %s)" % (what, ours)
    if not isinstance(other, float) or other <= 0:
        return "< %s: not measured (%s %s)" % (what, what, other)
    return "< %s: %s (%.2f)" % (what, "met" if ours < other else "NOT met", ours / other)


def check_runs(notes, rows, label, tests, want_rc=0, log=None):
    """One note for the runs that exited otherwise than WANT_RC or did not
    run TESTS tests (None: any count), with the first error line of LOG."""
    bad = [r for r in rows or []
           if r["rc"] != want_rc or (tests is not None and r["ran"] != str(tests))]
    if not bad:
        return
    what = ", ".join("%s: exit %d, ran %s" % ("cold" if r["rep"] == 0 else "rep %d" % r["rep"],
                                              r["rc"], r["ran"]) for r in bad)
    expected = "expected exit %d" % want_rc + (", %s tests" % tests if tests is not None else "")
    why = first_error(log) if any(r["rc"] > 1 for r in bad) else None
    notes.append("%s: %s (%s)%s" % (label, what, expected, "; log: %s" % why if why else ""))


def first_error(log):
    """The first line of LOG that reads like an error, or None."""
    try:
        with open(log, errors="replace") as f:
            for line in f:
                if re.search(r"error|traceback|no such|not found", line, re.I) and not line.startswith("$ "):
                    return "`%s`" % line.strip()[:200]
    except (OSError, TypeError):
        return None
    return None


def warm_log(a, kind, case, tool):
    """The log runner.sh's warm_rows writes for one tool."""
    return os.path.join(a.logs, "%s-%s" % (kind, case.replace(" ", "-")), tool + ".log")


def ideal(durations, phase, workers, startup):
    ds = list(durations[phase].values())
    return max(sum(ds) / workers, max(ds)) + startup


# ---------------------------------------------------------------- phases ----

PHASES = [  # key, label, SYNTH_PHASE, target of ours/ideal (None: no target)
    ("a-cold", "a cold", "a", 1.25),
    ("a-warm", "a warm", "a", 1.10),
    ("b", "b (the bug)", "b", None),
    ("a-after", "a after bug", "a", 1.10),
    ("c", "c (speeds changed)", "c", 1.25),
]


def report_phases(a, results, notes):
    if not any(key[0] == "phase" for key in results):
        return
    rows = []
    for case, suite in a.suites:
        durations = json.load(open(os.path.join(suite, "durations.json")))
        for key, label, phase, target in PHASES:
            best = ideal(durations, phase, a.workers, a.startup)
            got = {t: cell(results.get(("phase", case, key, t)))
                   for t in ("ours", "stestr", "testr")}
            o = got["ours"]
            if target is None:
                v = "none (failures expected)"
            else:
                v = verdict(o, best, target, "ideal")
            rows.append(("%s, %s" % (case, label), "%.2f" % best, fmt(o), ratio(o, best, 3),
                         fmt(got["stestr"]), fmt(got["testr"]), ratio(got["stestr"], o),
                         ratio(got["testr"], o), v))
            for tool in ("ours", "stestr", "testr"):
                check_runs(notes, results.get(("phase", case, key, tool)),
                           "%s, %s, %s" % (case, label, tool), a.tests, 1 if phase == "b" else 0)
        own = [r["own"] for key, *_ in PHASES
               for r in results.get(("phase", case, key, "ours")) or []]
        if own:
            notes.append("%s: our testr's own CPU per run (all phases, all reps): median %.0f ms, max %.0f ms"
                         % (case, statistics.median(own) * 1000, max(own) * 1000))
    print("### Our streaming worker (`worker_command` of `testr init --unittest`), concurrency %d" % a.workers)
    print()
    table([("case", "l"), ("ideal (s)", "r"), ("ours (s)", "r"), ("ours/ideal", "r"),
           ("stestr (s)", "r"), ("testr (s)", "r"), ("stestr/ours", "r"), ("testr/ours", "r"),
           ("target", "l")], rows)
    print()


# ---------------------------------------------------------------- classic ----

# label, our tool, the Python testr's tool, targets ("opaque", "known", None)
CLASSIC_ROWS = [
    ("`./run-tests.sh $LISTOPT $IDOPTION` (testr cannot look into it)", "ours-script", "testr-script", "opaque"),
    ("OpenStack form (`subunit.run discover`, gen_suite.py's .testr.conf)", "ours-openstack", "testr", "known"),
    ("the same with `stream = no` (classic batches)", "ours-nostream", "testr", None),
    ("`.stestr.conf` only (testr: the OpenStack form)", "ours-stestr", "testr", "known"),
]


def classic_targets(kind, trivial, ours, testr, stestr, best):
    if kind is None:
        return "none (information)"
    if kind == "opaque":
        return "; ".join((verdict(ours, testr, 1.0, "testr"), verdict(ours, best, 1.25, "ideal")))
    if trivial:
        return verdict(ours, stestr, 0.30, "stestr")
    return "; ".join((verdict(ours, testr, 0.85, "testr"), verdict(ours, stestr, 0.85, "stestr")))


def report_classic(a, results, notes):
    cases = [(case, suite, a.workers, a.tests) for case, suite in a.suites]
    cases.append(("trivial", None, a.trivial_workers, a.trivial_tests))
    for case, suite, workers, tests in cases:
        def rows_of(tool, phase="warm"):
            return results.get(("classic", case, phase, tool))
        if not any(rows_of(t) for _, ours, testr, _ in CLASSIC_ROWS for t in (ours, testr, "stestr")):
            continue
        durations = suite and json.load(open(os.path.join(suite, "durations.json")))
        if durations is not None:
            startup = a.startup
            best = ideal(durations, "a", workers, startup)
            ideal_note = "max(sum / %d, longest) + startup" % workers
        else:
            # Tests that do nothing still cost something to run: what the
            # serial bar takes beyond one start-up is their total.
            startup = a.trivial_startup
            bar = cell(results.get(("bar", "trivial", "serial", "subunit.run")))
            if isinstance(bar, float):
                best = max(bar - startup, 0.0) / workers + startup
            else:
                best = "n/a"
            ideal_note = "(bar − startup) / %d + startup, the bar being serial subunit.run" % workers
        stestr = cell(rows_of("stestr"))
        out = []
        for label, ours_tool, testr_tool, kind in CLASSIC_ROWS:
            ours = cell(rows_of(ours_tool))
            testr = cell(rows_of(testr_tool))
            count = "ours %s (cold %s) / testr %s / stestr %s" % (
                procs(rows_of(ours_tool)), procs(rows_of(ours_tool, "cold")),
                procs(rows_of(testr_tool)), procs(rows_of("stestr")))
            out.append((label, spread(rows_of(ours_tool)), fmt(cell(rows_of(ours_tool, "cold"))),
                        fmt(best), ratio(ours, best), spread(rows_of(testr_tool)), ratio(ours, testr),
                        spread(rows_of("stestr")), ratio(ours, stestr), count,
                        classic_targets(kind, durations is None, ours, testr, stestr, best)))
        for tool in {t for _, o, p, _ in CLASSIC_ROWS for t in (o, p)} | {"stestr"}:
            check_runs(notes, (rows_of(tool, "cold") or []) + (rows_of(tool) or []),
                       "classic, %s, %s" % (case, tool), tests, log=warm_log(a, "classic", case, tool))
        print("### Classic projects, %s, concurrency %d, warm (%s)" % (
            case if durations is not None else "%d trivial tests" % tests, workers,
            "median (min–max) of %d runs" % a.reps if a.reps > 1 else "1 run"))
        print()
        print("ideal = %s = %s s; processes = interpreters started (median, warm)." % (ideal_note, fmt(best)))
        print()
        table([("project form", "l"), ("ours (s)", "r"), ("ours cold (s)", "r"), ("ideal (s)", "r"),
               ("ours/ideal", "r"), ("Python testr (s)", "r"), ("ours/testr", "r"),
               ("stestr (s)", "r"), ("ours/stestr", "r"), ("processes", "l"), ("targets", "l")], out)
        print()


def report_overhead(a, results, notes):
    bar_rows = results.get(("bar", "trivial", "serial", "subunit.run"))
    if not bar_rows:
        return
    n, w = a.trivial_tests, a.trivial_workers
    bar = cell(bar_rows)
    runs = [
        ("`python -m subunit.run discover` (serial, the bar)", "bar", "serial", "subunit.run"),
        ("ours, streaming worker, cold", "classic", "cold", "ours"),
        ("ours, streaming worker, warm", "classic", "warm", "ours"),
        ("ours, --share-discovery, cold", "classic", "cold", "ours-shared"),
        ("ours, --share-discovery, warm", "classic", "warm", "ours-shared"),
        ("ours, OpenStack form, warm", "classic", "warm", "ours-openstack"),
        ("ours, `.stestr.conf`, warm", "classic", "warm", "ours-stestr"),
        ("stestr, cold", "classic", "cold", "stestr"),
        ("stestr, warm", "classic", "warm", "stestr"),
    ]
    out = []
    for label, kind, phase, tool in runs:
        rows = results.get((kind, "trivial", phase, tool))
        if not rows:
            continue
        wall = cell(rows)
        if tool.startswith("ours"):
            own = cell(rows, "own")
            per = own / n * 1e6 if isinstance(own, float) else "n/a"
            v = (("met" if per < a.cpu_target_us else "NOT met") if isinstance(per, float)
                 else "not measured")
            out.append((label, spread(rows), ratio(wall, bar), fmt(own), fmt(per, 1), v))
        else:
            out.append((label, spread(rows), ratio(wall, bar), "", "", ""))
    check_runs(notes, bar_rows, "trivial, subunit.run", None)
    print("### Overhead: %d trivial tests, concurrency %d" % (n, w))
    print()
    table([("run", "l"), ("wall (s)", "r"), ("vs subunit.run", "r"), ("own CPU (s)", "r"),
           ("own CPU / test (µs)", "r"), ("target (< %g µs/test)" % a.cpu_target_us, "l")], out)
    print()


# ---------------------------------------------------------------- pytest ----

PYTEST_PHASES = [  # key, label, target of ours/xdist (None: no target)
    ("a-cold", "a cold", 1.0),
    ("a-warm", "a warm", 0.8),
    ("b", "b (the bug)", None),
    ("a-after", "a after bug", 0.8),
    ("c", "c (speeds changed)", None),
]


def report_pytest(a, results, notes):
    out = []
    for case, _suite in a.suites:
        for key, label, target in PYTEST_PHASES:
            def rows_of(tool):
                return results.get(("pytest-phase", case, key, tool))
            if not rows_of("xdist") and not rows_of("ours-pytest"):
                continue
            ours, xdist = cell(rows_of("ours-pytest")), cell(rows_of("xdist"))
            v = "none (information)" if target is None else verdict(ours, xdist, target, "xdist")
            out.append(("%s, %s" % (case, label), spread(rows_of("ours-pytest")),
                        spread(rows_of("xdist")), ratio(ours, xdist),
                        spread(rows_of("pytest")) if rows_of("pytest") else "", v))
            for tool in ("ours-pytest", "xdist", "pytest"):
                check_runs(notes, rows_of(tool), "pytest, %s, %s, %s" % (case, label, tool),
                           a.tests, 1 if key == "b" else 0)
    if out:
        print("### pytest suites (gen_suite.py --pytest), concurrency %d" % a.workers)
        print()
        print("Plain pytest runs once per repetition, phase a, on xdist's warm copy.")
        print()
        table([("case", "l"), ("ours, pytest worker (s)", "r"), ("pytest -n %d (s)" % a.workers, "r"),
               ("ours/xdist", "r"), ("plain pytest (s)", "r"), ("target", "l")], out)
        print()

    def rows_of(tool, phase="warm"):
        return results.get(("pytest", "trivial", phase, tool))
    if not rows_of("pytest"):
        return
    plain = cell(rows_of("pytest"))
    ours = cell(rows_of("ours-pytest"))
    out = [
        ("plain `pytest` (serial)", spread(rows_of("pytest")), "1.00", ""),
        ("`pytest -n %d` (xdist, one run)" % a.trivial_workers, spread(rows_of("xdist")),
         ratio(cell(rows_of("xdist")), plain), ""),
        ("ours, pytest worker, cold", spread(rows_of("ours-pytest", "cold")),
         ratio(cell(rows_of("ours-pytest", "cold")), plain), ""),
        ("ours, pytest worker, warm", spread(rows_of("ours-pytest")), ratio(ours, plain),
         faster(ours, plain, "plain pytest")),
    ]
    for tool in ("pytest", "xdist", "ours-pytest"):
        check_runs(notes, (rows_of(tool, "cold") or []) + (rows_of(tool) or []),
                   "pytest, trivial, %s" % tool, a.trivial_tests, log=warm_log(a, "pytest", "trivial", tool))
    print("### pytest: %d trivial tests, concurrency %d" % (a.trivial_tests, a.trivial_workers))
    print()
    table([("run", "l"), ("wall (s)", "r"), ("vs plain pytest", "r"), ("target", "l")], out)
    print()


# ---------------------------------------------------------------- oslo ----

COUNT_RE = {k: re.compile(r"^%s tests:\s+(\d+)" % k.capitalize(), re.M)
            for k in ("total", "passed", "failed", "skipped")}


def subunit_counts(path):
    """{total, passed, failed, skipped} from subunit-stats' output, or None."""
    try:
        text = open(path).read()
    except OSError:
        return None
    counts = {}
    for k, pattern in COUNT_RE.items():
        m = pattern.search(text)
        if not m:
            return None
        counts[k] = int(m.group(1))
    return counts


def report_oslo(a, results, notes):
    tools = [("ours (`.stestr.conf`)", "ours-stestr"), ("stestr", "stestr"),
             ("Python testr (OpenStack-form `.testr.conf`)", "testr")]

    def rows_of(tool, phase="warm"):
        return results.get(("real", "oslo.utils", phase, tool))
    if not any(rows_of(t) for _, t in tools):
        return
    stestr = cell(rows_of("stestr"))
    # A tool whose runs failed has no counts worth comparing (an empty
    # repository reads as 0 tests).
    counts = {t: subunit_counts(os.path.join(a.oslo_counts, "counts-%s.txt" % t))
              if isinstance(cell(rows_of(t)), float) else None for _, t in tools}
    out = []
    for label, tool in tools:
        if not rows_of(tool):
            continue
        c = counts[tool] or {}
        out.append((label, fmt(cell(rows_of(tool, "cold"))), spread(rows_of(tool)),
                    ratio(cell(rows_of(tool)), stestr), procs(rows_of(tool)),
                    *(c.get(k, "n/a") for k in ("total", "passed", "failed", "skipped"))))
        check_runs(notes, (rows_of(tool, "cold") or []) + (rows_of(tool) or []),
                   "oslo.utils, %s" % tool, None, log=warm_log(a, "real", "oslo.utils", tool))
    print("### oslo.utils' own tests (sdist), concurrency %d" % a.oslo_workers)
    print()
    table([("tool", "l"), ("cold (s)", "r"), ("warm (s)", "r"), ("vs stestr", "r"),
           ("processes", "r"), ("total", "r"), ("passed", "r"), ("failed", "r"),
           ("skipped", "r")], out)
    print()
    ref = counts["stestr"]
    for label, tool in tools:
        if tool == "stestr" or not rows_of(tool):
            continue
        mine = counts[tool]
        if ref is None or mine is None:
            print("- %s: counts not compared (%s: no counts, its runs failed or were not read)"
                  % (label, "stestr" if ref is None else "ours" if tool.startswith("ours") else "testr"))
        elif mine == ref:
            print("- %s: counts identical to stestr's" % label)
        else:
            diff = ", ".join("%s %d vs stestr's %d" % (k, mine[k], ref[k]) for k in ref if mine[k] != ref[k])
            print("- %s: counts differ from stestr's: %s" % (label, diff))
    print("- target, ours (warm median): %s" % faster(cell(rows_of("ours-stestr")), stestr, "stestr"))
    print()


# ---------------------------------------------------------------- pyreal ----

PYTEST_COUNT_RE = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)")


def pytest_counts(path):
    """{total, passed, failed, skipped} from pytest's summary line, or None.
    xfailed counts as passed and xpassed as failed, as subunit-stats counts
    xfail and uxsuccess."""
    try:
        text = open(path).read()
    except OSError:
        return None
    found = {k: int(n) for n, k in PYTEST_COUNT_RE.findall(text)}
    if not found:
        return None
    counts = {
        "passed": found.get("passed", 0) + found.get("xfailed", 0),
        "failed": found.get("failed", 0) + found.get("xpassed", 0)
        + found.get("error", 0) + found.get("errors", 0),
        "skipped": found.get("skipped", 0),
    }
    counts["total"] = sum(counts.values())
    return counts


def report_pyreal(a, results, notes):
    if not a.pyreal:
        return
    tools = [("ours, pytest worker", "ours-pytest"), ("`pytest -n %d`" % a.pyreal_workers, "xdist"),
             ("plain `pytest` (serial)", "pytest")]

    def rows_of(tool, phase="warm"):
        return results.get(("pyreal", a.pyreal, phase, tool))
    if not any(rows_of(t) for _, t in tools):
        return
    xdist = cell(rows_of("xdist"))
    counts_dir = os.path.join(a.logs, "pyreal-%s" % a.pyreal)
    counts = {}
    for _, tool in tools:
        path = os.path.join(counts_dir, "counts-%s.txt" % tool)
        counts[tool] = subunit_counts(path) if tool.startswith("ours") else pytest_counts(path)
    out = []
    for label, tool in tools:
        if not rows_of(tool):
            continue
        c = counts[tool] or {}
        out.append((label, spread(rows_of(tool)), ratio(cell(rows_of(tool)), xdist),
                    *(c.get(k, "n/a") for k in ("total", "passed", "failed", "skipped"))))
        check_runs(notes, (rows_of(tool, "cold") or []) + (rows_of(tool) or []),
                   "%s, %s" % (a.pyreal, tool), None, log=warm_log(a, "pyreal", a.pyreal, tool))
    print("### A real pytest suite: %s's own tests (sdist), concurrency %d"
          % (a.pyreal, a.pyreal_workers))
    print()
    table([("tool", "l"), ("warm (s)", "r"), ("vs pytest -n %d" % a.pyreal_workers, "r"),
           ("total", "r"), ("passed", "r"), ("failed", "r"), ("skipped", "r")], out)
    print()
    ref, mine = counts["pytest"], counts["ours-pytest"]
    if ref is None or mine is None:
        print("- counts not compared (%s: no counts)" % ("pytest" if ref is None else "ours"))
    elif ref == mine:
        print("- ours: counts identical to plain pytest's")
    else:
        diff = ", ".join("%s %d vs pytest's %d" % (k, mine[k], ref[k]) for k in ref if mine[k] != ref[k])
        print("- ours: counts differ from plain pytest's: %s" % diff)
    print("- target, ours (warm median): %s" % faster(cell(rows_of("ours-pytest")), xdist,
                                                     "pytest -n %d" % a.pyreal_workers))
    print()


# ---------------------------------------------------------------- main ----


# ---------------------------------------------------------------- repeats ----


def per(median, count):
    """A median wall time shared out over COUNT tests or runs."""
    return "%.3f" % (median / count) if isinstance(median, float) else "n/a"


def report_repeats(a, results, notes):
    if not any(key[0] == "repeats" for key in results):
        return
    rows = [  # phase, label, what a unit is, how many, the exit status it ends with
        ("run", "one run", "run", 1, 0),
        ("isolated", "`--isolated`, %d tests" % a.repeat_tests, "test", a.repeat_tests, 0),
        ("until-failure", "`--until-failure`, %d runs (the last fails)" % a.until_runs, "run",
         a.until_runs, 1),
    ]
    out = []
    for phase, label, unit, count, want_rc in rows:
        ours = results.get(("repeats", "repeats", phase, "ours-stestr"))
        stestr = results.get(("repeats", "repeats", phase, "stestr"))
        o, s = cell(ours), cell(stestr)
        out.append((label, spread(ours), spread(stestr), ratio(o, s),
                    "%s s / %s" % (per(o, count), unit), "%s s / %s" % (per(s, count), unit)))
        check_runs(notes, ours, "repeats, ours, %s" % phase, None, want_rc,
                   os.path.join(a.logs, "repeats", "ours-stestr.log"))
        check_runs(notes, stestr, "repeats, stestr, %s" % phase, None, want_rc,
                   os.path.join(a.logs, "repeats", "stestr.log"))
    print("### Repeats: `--isolated` and `--until-failure`, %d trivial tests, `.stestr.conf`"
          % a.repeat_tests)
    print()
    table([("run", "l"), ("ours (s)", "r"), ("stestr (s)", "r"), ("ours/stestr", "r"),
           ("ours per test or run", "r"), ("stestr per test or run", "r")], out)
    print()


def main():
    p = argparse.ArgumentParser(prog="runner_report.py")
    p.add_argument("results")
    p.add_argument("--reps", type=int, required=True)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--tests", type=int, required=True)
    p.add_argument("--startup", type=float, required=True)
    p.add_argument("--suite", action="append", default=[], help="CASE=SUITE_DIR")
    p.add_argument("--trivial-tests", type=int, required=True)
    p.add_argument("--trivial-workers", type=int, required=True)
    p.add_argument("--trivial-startup", type=float, required=True)
    p.add_argument("--oslo-workers", type=int, required=True)
    p.add_argument("--oslo-counts", required=True, help="dir of counts-TOOL.txt")
    p.add_argument("--pyreal", default="", help="the real pytest suite's sdist name-version")
    p.add_argument("--pyreal-workers", type=int, default=2)
    p.add_argument("--logs", required=True, help="runner.sh's log dir")
    p.add_argument("--cpu-target-us", type=float, default=15.0)
    p.add_argument("--repeat-tests", type=int, default=0, help="tests of the repeats case")
    p.add_argument("--until-runs", type=int, default=0, help="runs of its --until-failure")
    a = p.parse_args()
    a.suites = [tuple(s.split("=", 1)) for s in a.suite]
    results = load_results(a.results)
    notes = []
    report_phases(a, results, notes)
    report_classic(a, results, notes)
    report_overhead(a, results, notes)
    report_pytest(a, results, notes)
    report_oslo(a, results, notes)
    report_pyreal(a, results, notes)
    report_repeats(a, results, notes)
    if notes:
        print("Notes:")
        print()
        for note in notes:
            print("- " + note)


if __name__ == "__main__":
    main()
