#!/usr/bin/env python3
"""Helper of scripts/bench/runner.sh: timing and the projects' set-up.
The tables are runner_report.py's.

Standard library only (any Python 3.8+). Subcommands:

  exec --log FILE [--cwd DIR] [--env K=V]... [--stdout-null] [--count-procs] -- CMD...
      Run CMD (no shell), stdout and stderr appended to FILE (stdout to
      /dev/null with --stdout-null). Prints one line:
          <wall s> <own CPU s> <children CPU s> <exit status> <ran> [<procs>]
      "own CPU" is user+system time of CMD's process, all of its threads,
      none of its child processes; "children CPU" is what it reaped of its
      children. <ran> is the last "Ran N" / "Ran: N" count in the output,
      else the sum of pytest's last summary line ("3 failed, 397 passed in
      ..."), or "-". With --count-procs, BENCH_PROC_COUNT names an empty
      file (FILE.procs) that runner.sh's counting interpreter appends a line
      to at each start, and <procs> is the number of lines. Always exits 0:
      the caller judges the exit status.
  verify-cpu
      Check the own-CPU method against a process whose CPU use is known.
  shortest DURATIONS_JSON PHASE
      Prints "<regex> <seconds>" for one of the shortest tests of PHASE.
  median X...
      Median of the numbers.
  sdist-requirements DIR
      pip's arguments that install what an unpacked OpenStack sdist's tests
      need, one a line: -r requirements.txt, -r test-requirements.txt, and
      the extras tox.ini's [testenv] names (from pyproject.toml; Python 3.11+).
  testr-conf DIR
      Write DIR/.testr.conf in the OpenStack form (subunit.run discover) for
      the test_path and top_dir of DIR/.stestr.conf.

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
import configparser
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

RAN_RE = re.compile(rb"\bRan:? (\d+)")
# pytest's last line: "=== 3 failed, 397 passed, 1 warning in 7.01s ===" (or
# without the "=" under -q).
PYTEST_SUMMARY_RE = re.compile(rb"^=*\s*((?:\d+ \w+(?:, )?)+) in [0-9.]+s\b", re.M)
PYTEST_RAN = (b"passed", b"failed", b"skipped", b"xfailed", b"xpassed", b"error", b"errors")


def ran_count(output):
    """The number of tests an output says ran, as a string; "-" if none."""
    counts = RAN_RE.findall(output)
    if counts:
        return counts[-1].decode()
    summaries = PYTEST_SUMMARY_RE.findall(output)
    if summaries:
        n = 0
        for part in summaries[-1].split(b", "):
            num, word = part.split(b" ", 1)
            if word in PYTEST_RAN:
                n += int(num)
        return str(n)
    return "-"


def cmd_exec(argv):
    p = argparse.ArgumentParser(prog="runner_bench.py exec")
    p.add_argument("--log", required=True)
    p.add_argument("--cwd")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--stdout-null", action="store_true")
    p.add_argument("--count-procs", action="store_true")
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
    count_file = None
    if a.count_procs:
        count_file = a.log + ".procs"
        open(count_file, "w").close()
        env["BENCH_PROC_COUNT"] = count_file
    with open(a.log, "ab") as log:
        start = log.tell()
        log.write(("$ cd %s && %s %s\n" % (a.cwd or ".", " ".join(a.env), " ".join(cmd))).encode())
        log.flush()
        out = subprocess.DEVNULL if a.stdout_null else log
        wall, own, children, rc = run_measured(cmd, timeout=a.timeout, cwd=a.cwd, env=env,
                                               stdout=out, stderr=log)
        procs = ""
        if count_file:
            with open(count_file) as f:
                procs = " %d" % sum(1 for _ in f)
            os.unlink(count_file)
        log.write(b"[exit %d, wall %.3f s, own CPU %.2f s, children CPU %.2f s%s]\n\n"
                  % (rc, wall, own, children,
                     (",%s interpreters started" % procs).encode() if procs else b""))
    with open(a.log, "rb") as log:
        log.seek(start)
        ran = ran_count(log.read())
    print("%.3f %.3f %.3f %d %s%s" % (wall, own, children, rc, ran, procs))


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


def cmd_sdist_requirements(argv):
    (root,) = argv
    args = []
    for name in ("requirements.txt", "test-requirements.txt"):
        if os.path.exists(os.path.join(root, name)):
            args += ["-r", os.path.join(root, name)]
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(os.path.join(root, "tox.ini"))
    extras = tox.get("testenv", "extras", fallback="").split()
    if extras:
        try:
            import tomllib
        except ImportError:  # Python < 3.11: the extras' tests may fail to import
            tomllib = None
        if tomllib and os.path.exists(os.path.join(root, "pyproject.toml")):
            with open(os.path.join(root, "pyproject.toml"), "rb") as f:
                optional = tomllib.load(f).get("project", {}).get("optional-dependencies", {})
            for extra in extras:
                args += optional.get(extra, [])
    for arg in args:
        print(arg)


def cmd_testr_conf(argv):
    (root,) = argv
    stestr = configparser.ConfigParser(interpolation=None)
    stestr.read(os.path.join(root, ".stestr.conf"))
    test_path = stestr.get("DEFAULT", "test_path")
    top_dir = stestr.get("DEFAULT", "top_dir", fallback="./")
    with open(os.path.join(root, ".testr.conf"), "w") as f:
        f.write("[DEFAULT]\n"
                "test_command=${PYTHON:-python3} -m subunit.run discover -t %s %s $LISTOPT $IDOPTION\n"
                "test_id_option=--load-list $IDFILE\n"
                "test_list_option=--list\n" % (top_dir, test_path))
    print("wrote %s/.testr.conf for test_path=%s top_dir=%s" % (root, test_path, top_dir))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    sub, argv = sys.argv[1], sys.argv[2:]
    commands = {
        "exec": cmd_exec, "verify-cpu": cmd_verify_cpu, "shortest": cmd_shortest,
        "median": cmd_median, "sdist-requirements": cmd_sdist_requirements,
        "testr-conf": cmd_testr_conf,
    }
    if sub not in commands:
        raise SystemExit(__doc__)
    commands[sub](argv)


if __name__ == "__main__":
    main()
