#!/usr/bin/env python3
"""Helper of scripts/bench/runner.sh: timing, the ideal makespan, the report.

Standard library only (any Python 3.8+). Subcommands:

  exec --log FILE [--cwd DIR] [--env K=V]... [--stdout-null] -- CMD...
      Run CMD (no shell), stdout and stderr appended to FILE (stdout to
      /dev/null with --stdout-null). Prints one line:
          <wall s> <own CPU s> <children CPU s> <exit status> <ran>
      "own CPU" is user+system time of CMD's process, all of its threads,
      none of its child processes; "children CPU" is what it reaped of its
      children. <ran> is the last "Ran N" / "Ran: N" count in the output,
      or "-". Always exits 0: the caller judges the exit status.
  verify-cpu
      Check the own-CPU method against a process whose CPU use is known.
  shortest DURATIONS_JSON PHASE
      Prints "<regex> <seconds>" for one of the shortest tests of PHASE.
  median X...
      Median of the numbers.
  report RESULTS_TSV --workers N --startup S --suite NAME=DIR... [...]
      The markdown tables.

How "own CPU" is measured: the child is waited for with
waitid(WEXITED | WNOWAIT), which returns once it has exited but leaves it a
zombie. A zombie's /proc/PID/stat still holds the final utime and stime of
the whole thread group (the times of threads that ended earlier are folded
into it) and, separately, cutime/cstime of the children it reaped. Only then
is it reaped. Reading /proc/PID/stat of a live process "just before it
exits" races with its last work; `perf stat --no-inherit` counts the main
thread only (a tokio runtime's worker threads are missed); getrusage and
wait4 add the reaped children in. Resolution: one clock tick (10 ms).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

RAN_RE = re.compile(rb"\bRan:? (\d+)")


def cmd_exec(argv):
    p = argparse.ArgumentParser(prog="runner_bench.py exec")
    p.add_argument("--log", required=True)
    p.add_argument("--cwd")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--stdout-null", action="store_true")
    p.add_argument("--timeout", type=float, default=1200.0,
                   help="kill CMD after this many seconds (exit status 137)")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        p.error("no command")
    env = dict(os.environ)
    for kv in a.env:
        k, _, v = kv.partition("=")
        env[k] = v
    with open(a.log, "ab") as log:
        start = log.tell()
        log.write(("$ cd %s && %s %s\n" % (a.cwd or ".", " ".join(a.env), " ".join(cmd))).encode())
        log.flush()
        out = subprocess.DEVNULL if a.stdout_null else log
        wall, own, children, rc = run_measured(cmd, timeout=a.timeout, cwd=a.cwd, env=env,
                                               stdout=out, stderr=log)
        log.write(b"[exit %d, wall %.3f s, own CPU %.2f s, children CPU %.2f s]\n\n"
                  % (rc, wall, own, children))
    with open(a.log, "rb") as log:
        log.seek(start)
        counts = RAN_RE.findall(log.read())
    ran = counts[-1].decode() if counts else "-"
    print("%.3f %.3f %.3f %d %s" % (wall, own, children, rc, ran))


def run_measured(cmd, timeout=None, **popen_args):
    """(wall s, own CPU s, children CPU s, exit status) of one command; a
    signal's death is reported as 128 + the signal, like a shell does."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **popen_args)
    timer = None
    if timeout:
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    wall = time.perf_counter() - t0
    if timer:
        timer.cancel()
    own, children = zombie_cpu(proc.pid)
    rc = proc.wait()
    return wall, own, children, rc if rc >= 0 else 128 - rc


def zombie_cpu(pid):
    """(utime+stime, cutime+cstime) in seconds of an exited, unreaped pid."""
    with open("/proc/%d/stat" % pid) as f:
        stat = f.read()
    # Fields after "(comm)": state is field 3, utime 14 ... cstime 17.
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] != "Z":
        raise SystemExit("runner_bench.py: pid %d is not a zombie (%s)" % (pid, fields[0]))
    tick = os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(x) / tick for x in fields[11:15])
    return utime + stime, cutime + cstime


def burn(seconds):
    t = time.thread_time()
    while time.thread_time() - t < seconds:
        pass


def cmd_verify_cpu(_argv):
    """A parent burns 0.3 s in a second thread and 0.3 s in its main thread,
    then runs a child that burns 0.8 s: own CPU must be ~0.6 s plus the
    interpreter's start-up, children ~0.8 s."""
    if _argv == ["--calibration-parent"]:
        t = threading.Thread(target=burn, args=(0.3,))
        t.start()
        t.join()
        burn(0.3)
        subprocess.run([sys.executable, __file__, "verify-cpu", "--calibration-child"], check=True)
        return
    if _argv == ["--calibration-child"]:
        burn(0.8)
        return
    # The interpreter's own start-up, to subtract.
    base = min(run_measured([sys.executable, "-c", "pass"])[1] for _ in range(3))
    wall, own, children, rc = run_measured(
        [sys.executable, __file__, "verify-cpu", "--calibration-parent"])
    ok = rc == 0 and 0.55 <= own - base <= 0.70 and 0.75 <= children <= 0.95
    print("%s own=%.2f s (expected 0.60 + start-up %.2f) children=%.2f s (expected 0.80)"
          % ("ok" if ok else "FAILED", own, base, children))
    sys.exit(0 if ok else 1)


def cmd_shortest(argv):
    path, phase = argv
    table = json.load(open(path))[phase]
    # The shortest, then the smallest id, so the choice is stable.
    tid, d = min(table.items(), key=lambda kv: (kv[1], kv[0]))
    print("%s$ %s" % (re.escape(tid), d))


def cmd_median(argv):
    print("%.3f" % statistics.median(float(x) for x in argv))


# ---------------------------------------------------------------- report ----

PHASES = [  # key, label, SYNTH_PHASE, target of ours/ideal (None: no target)
    ("a-cold", "a cold", "a", 1.25),
    ("a-warm", "a warm", "a", 1.10),
    ("b", "b (the bug)", "b", None),
    ("a-after", "a after bug", "a", 1.10),
    ("c", "c (speeds changed)", "c", 1.25),
]


def ideal(durations, phase, workers, startup):
    ds = list(durations[phase].values())
    return max(sum(ds) / workers, max(ds)) + startup


def fmt(x, digits=2):
    return "%.*f" % (digits, x) if isinstance(x, float) else x


def ratio(a, b, digits=2):
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return "%.*f" % (digits, a / b)
    return "n/a"


def load_results(path):
    """{(kind, case, phase, tool): [row, ...]} from the TSV runner.sh wrote."""
    results = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("kind\t"):
                continue
            kind, rep, case, phase, tool, wall, own, children, rc, ran = line.rstrip("\n").split("\t")
            results.setdefault((kind, case, phase, tool), []).append({
                "rep": int(rep), "wall": float(wall), "own": float(own),
                "children": float(children), "rc": int(rc), "ran": ran,
            })
    return results


def cell(rows, key="wall"):
    """Median of one measurement over the repetitions, or a string saying
    why there is none."""
    if rows is None:
        return "n/a"
    bad = [r for r in rows if r["rc"] > 1]
    if bad:
        return "err(%d)" % bad[0]["rc"]
    return statistics.median(r[key] for r in rows)


def cmd_report(argv):
    p = argparse.ArgumentParser(prog="runner_bench.py report")
    p.add_argument("results")
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--startup", type=float, required=True)
    p.add_argument("--suite", action="append", default=[], help="CASE=SUITE_DIR")
    p.add_argument("--tests", type=int, required=True)
    p.add_argument("--overhead-tests", type=int)
    p.add_argument("--overhead-workers", type=int)
    p.add_argument("--cpu-target-us", type=float, default=15.0)
    a = p.parse_args(argv)
    results = load_results(a.results)
    notes = []

    print("| case | ideal (s) | ours (s) | ours/ideal | stestr (s) | testr (s) "
          "| stestr/ours | testr/ours | target (ours/ideal) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for spec in a.suite:
        case, suite = spec.split("=", 1)
        durations = json.load(open(os.path.join(suite, "durations.json")))
        for key, label, phase, target in PHASES:
            best = ideal(durations, phase, a.workers, a.startup)
            got = {t: cell(results.get(("phase", case, key, t)))
                   for t in ("ours", "stestr", "testr")}
            o = got["ours"]
            if target is None:
                verdict = "none (failures expected)"
            elif isinstance(o, float):
                verdict = "≤ %.2f: %s" % (target, "met" if o / best <= target else "NOT met")
            else:
                verdict = "≤ %.2f: not measured" % target
            print("| %s, %s | %.2f | %s | %s | %s | %s | %s | %s | %s |" % (
                case, label, best, fmt(o), ratio(o, best, 3), fmt(got["stestr"]),
                fmt(got["testr"]), ratio(got["stestr"], o), ratio(got["testr"], o), verdict))
            # Sanity: every tool ran every test, and only phase b failed.
            for tool in ("ours", "stestr", "testr"):
                for r in results.get(("phase", case, key, tool)) or []:
                    want_rc = 1 if phase == "b" else 0
                    if r["rc"] != want_rc:
                        notes.append("%s, %s, %s, rep %d: exit status %d (expected %d)"
                                     % (case, label, tool, r["rep"], r["rc"], want_rc))
                    if r["ran"] != str(a.tests):
                        notes.append("%s, %s, %s, rep %d: ran %s tests (expected %d)"
                                     % (case, label, tool, r["rep"], r["ran"], a.tests))
        own = [r["own"] for key, *_ in PHASES
               for r in results.get(("phase", case, key, "ours")) or []]
        if own:
            notes.append("%s: our testr's own CPU per run (all phases, all reps): median %.0f ms, max %.0f ms"
                         % (case, statistics.median(own) * 1000, max(own) * 1000))

    if a.overhead_tests:
        n = a.overhead_tests
        titles = {
            "trivial": "%d trivial tests, modules patched not to parse durations.json" % n,
            "generated": "%d trivial tests as gen_suite.py writes them (each module parses a 3 MB JSON)" % n,
        }
        for suite in ("trivial", "generated"):
            if not results.get(("overhead", suite, "serial", "subunit.run")):
                continue
            print()
            print("| overhead: %s | wall (s) | vs subunit.run | own CPU (s) | own CPU / test (µs) | target (< %g µs/test) |"
                  % (titles[suite], a.cpu_target_us))
            print("|---|---:|---:|---:|---:|---|")
            bar = cell(results.get(("overhead", suite, "serial", "subunit.run")))
            w = a.overhead_workers
            rows = [
                ("`python -m subunit.run discover` (serial, the bar)", "serial", "subunit.run"),
                ("ours, concurrency %d, cold" % w, "cold", "ours"),
                ("ours, concurrency %d, warm" % w, "warm", "ours"),
                ("ours with --share-discovery, concurrency %d, cold" % w, "cold", "ours-shared"),
                ("ours with --share-discovery, concurrency %d, warm" % w, "warm", "ours-shared"),
                ("stestr, concurrency %d, cold" % w, "cold", "stestr"),
                ("stestr, concurrency %d, warm" % w, "warm", "stestr"),
            ]
            for label, phase, tool in rows:
                rs = results.get(("overhead", suite, phase, tool))
                if not rs:
                    continue
                wall = cell(rs)
                if tool.startswith("ours"):
                    own = cell(rs, "own")
                    per = own / n * 1e6 if isinstance(own, float) else "n/a"
                    verdict = ("%s" % ("met" if per < a.cpu_target_us else "NOT met")
                               if isinstance(per, float) else "not measured")
                    print("| %s | %s | %s | %s | %s | %s |" % (
                        label, fmt(wall), ratio(wall, bar), fmt(own), fmt(per, 1), verdict))
                else:
                    print("| %s | %s | %s | | | |" % (label, fmt(wall), ratio(wall, bar)))
                for r in rs:
                    if r["rc"] != 0:
                        notes.append("overhead (%s), %s, rep %d: exit status %d" % (suite, label, r["rep"], r["rc"]))
                    if tool != "subunit.run" and r["ran"] != str(n):
                        notes.append("overhead (%s), %s, rep %d: ran %s tests (expected %d)"
                                     % (suite, label, r["rep"], r["ran"], n))
    if notes:
        print()
        for note in notes:
            print("- " + note)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    sub, argv = sys.argv[1], sys.argv[2:]
    commands = {
        "exec": cmd_exec, "verify-cpu": cmd_verify_cpu, "shortest": cmd_shortest,
        "median": cmd_median, "report": cmd_report,
    }
    if sub not in commands:
        raise SystemExit(__doc__)
    commands[sub](argv)


if __name__ == "__main__":
    main()
