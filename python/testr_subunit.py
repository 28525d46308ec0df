#!/usr/bin/env python3
"""Run unittest tests and write their results to stdout as subunit v2.

This is the Python side of testr for unittest suites: it needs nothing but
the standard library (Python 3.8+), so any project can feed testr without
installing python-subunit or testtools. testr embeds it and runs it as its
long-lived worker (``--worker``), with ``testr_worker_protocol.py`` beside
it: the subunit v2 writer (``StreamWriter``), the protocol's streams, its
listing, id reading and result writing, which the pytest worker shares.
This module is split into parts:

* ``SubunitTestResult`` is a ``unittest.TestResult`` that turns unittest's
  callbacks into subunit events, capturing each test's stdout and stderr;
* ``Worker`` runs tests one id at a time, keeping unittest's class and module
  fixtures up between consecutive tests as a normal run does;
* ``load_suite`` loads the tests as ``python -m unittest`` does for the
  same arguments, and expands testscenarios' tests into their scenarios;
* ``main()`` is the command line: loading, listing and running.

Usage::

    python3 testr_subunit.py [DISCOVERY] [--list] [--load-list FILE] [ID ...]
    python3 testr_subunit.py [--list] [--load-list FILE] discover [DISCOVERY]
                             [START [PATTERN [TOP]]]
    python3 testr_subunit.py --worker [--share-discovery] [DISCOVERY]
                             [discover [DISCOVERY] [START [PATTERN [TOP]]]]
    python3 testr_subunit.py --worker [--share-discovery] NAME ...

    DISCOVERY: [-s DIR] [-p PATTERN] [-t DIR], also spelt --start-dir or
               --start-directory, --pattern, --top-level-dir or
               --top-level-directory

What to load is what ``python -m unittest`` (and so ``-m subunit.run``,
``-m testtools.run``, ``-m stestr.subunit_runner.run``, whose arguments
testr passes through) loads for the same arguments. Without names, tests
are discovered from START (default ``.``) with PATTERN (default
``test*.py``) and TOP (default START), given as options anywhere or as
positional arguments after ``discover``, which win. With ``--worker``, the
names of modules, packages, classes or tests are loaded instead, in the
order given. Either way the ``load_tests`` protocol applies, and the working
directory comes first on the import path, as under ``python -m``.

Batch mode (the first two forms) runs every loaded test, or only those the
ids select, given by ``--load-list`` or (without ``discover``) as arguments,
in load order; a module or class name selects every test under it.
``--list`` writes an ``exists`` packet per test instead. So positional
names select in batch mode but load in worker mode: a worker never selects
(testr sends it the ids to run), and batch mode keeps the meaning its
callers rely on.

Each test gives an ``inprogress`` packet (with a timestamp) when it starts,
then its attachments (``traceback``, ``reason``, ``stdout``, ``stderr``), then
its final status packet (with a timestamp). Exit status: 0 when nothing
failed, 1 when any test failed (failures and errors; expected failures and
unexpected successes do not count, as in testr's summary), 2 on a usage
error.

Worker mode (``--worker``, worker protocol v1, see docs/worker-protocol.md)
loads the tests once, writes an ``exists`` packet per test and then the
end-of-listing marker (a packet with no test id carrying the file
``testr-listing-done`` whose content is the number of tests listed). Then it
reads test ids from stdin, one a line, and runs each as soon as its line
arrives, writing the same events as batch mode and flushing after each test.
Every id read gets a final status: an unknown id, or a test that unittest
does not run because its setUpClass or setUpModule failed, is reported as
failed (skipped when the fixture raised SkipTest); a test that ran as tests
of other ids, which its listing could not foresee, as skipped, with a reason
naming them. At the end of stdin it tears the fixtures down and exits 0
whatever the outcomes; 2 on a usage error or when discovery cannot start (a
missing start dir). A module that cannot be imported is no such error: it is
listed, and fails when run, as ``unittest.loader._FailedTest.<module>``.
Unless a test left another thread running, it exits without the
interpreter's teardown (atexit handlers still run): the run waits for the
last worker's end.

With ``--share-discovery`` the workers testr starts for one profile (they
share ``TESTR_SHARED_DIR``) import the tests once: the first discovers and
starts a fork server, and the others have their worker forked from it (see
the section "Sharing one discovery" below).
"""

import argparse
import io
import os
import struct
import sys
import time
import traceback
import unittest
import unittest.loader
import unittest.util

# What the shipped workers share, in the module testr writes beside this
# one. StreamWriter, encode_varint and the constants stay names of this
# module too, as they were before they were shared: code that imports them
# from here (testr's own fake worker imports StreamWriter) keeps working.
from testr_worker_protocol import (  # noqa: F401 - some only re-exported
    LISTING_DONE,
    TEXT_MIME,
    TRACEBACK_MIME,
    IdReader,
    StreamWriter,
    claim_stdin,
    claim_stdout,
    encode_utf8,
    encode_varint,
    exit_now,
    flush_stdio,
    now,
    only_thread,
    write_listing,
    write_result,
    write_standalone_result,
)

# Only --share-discovery needs these: _import_sharing_modules() imports them
# then, and a worker that does not share starts about 5 ms sooner.
json = selectors = signal = socket = None

try:
    import fcntl
except ImportError:  # not on Unix: --share-discovery does nothing
    fcntl = None

__all__ = [
    "StreamWriter",
    "SubunitTestResult",
    "Worker",
    "encode_varint",
    "expand_scenarios",
    "filter_suite",
    "iter_tests",
    "load_names",
    "load_suite",
    "main",
]

# --------------------------------------------------------------------------
# unittest -> subunit
# --------------------------------------------------------------------------


class _Running(object):
    """What is known about the test being run, until it stops."""

    __slots__ = ("test", "test_id", "status", "failed", "tracebacks", "reason",
                 "stdout", "stderr", "saved_streams")

    def __init__(self, test):
        self.test = test
        self.test_id = test.id()
        self.status = None      # set by the test's own outcome callback
        self.failed = False     # any failure or error, the test's or a subtest's
        self.tracebacks = []
        self.reason = None
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.saved_streams = None


class SubunitTestResult(unittest.TestResult):
    """A TestResult that writes every outcome as subunit v2 events.

    unittest's own bookkeeping (``errors``, ``failures``, ``skipped``, ...,
    ``failfast``, ``shouldStop``) still works: each callback calls the base
    class first and reuses the traceback text it formatted.
    """

    def __init__(self, writer, capture_output=True):
        super(SubunitTestResult, self).__init__()
        self.writer = writer
        self.capture_output = capture_output
        self.failed_count = 0   # tests reported with status "fail"
        # Outcomes unittest reports on pseudo-tests (errors in setUpClass,
        # setUpModule, ...), by pseudo id: "fail" sticks over "skip".
        self.fixture_outcomes = {}
        # Set to True when a final status is written for ``awaited_id``.
        self.awaited_id = None
        self.awaited_done = False
        # The ids of the tests started while ``awaited_id`` was awaited.
        self.started_ids = []
        self._running = None

    # -- lifecycle ---------------------------------------------------------

    def startTest(self, test):
        super(SubunitTestResult, self).startTest(test)
        running = _Running(test)
        self._running = running
        if self.awaited_id is not None:
            self.started_ids.append(running.test_id)
        self.writer.event(running.test_id, "inprogress", now())
        # Flushed at once so that a reader sees which test is running (and
        # which one hung, if it never finishes).
        self.writer.flush()
        if self.capture_output:
            # Like unittest's buffer=True: the test's prints become
            # attachments instead of text mixed into the packet stream.
            running.saved_streams = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = running.stdout, running.stderr

    def stopTest(self, test):
        running = self._running
        if running is None or running.test is not test:
            super(SubunitTestResult, self).stopTest(test)
            return
        if running.saved_streams is not None:
            sys.stdout, sys.stderr = running.saved_streams
        self._running = None
        if running.failed:
            status = "fail"
        else:
            # No outcome reported at all: nothing failed, and unittest counts
            # such a test as passed too.
            status = running.status or "success"
        self._emit_final(running.test_id, status, running.tracebacks,
                         running.reason, running.stdout.getvalue(),
                         running.stderr.getvalue())
        super(SubunitTestResult, self).stopTest(test)

    # -- outcomes ----------------------------------------------------------

    def addSuccess(self, test):
        super(SubunitTestResult, self).addSuccess(test)
        self._outcome(test, "success")

    def addFailure(self, test, err):
        super(SubunitTestResult, self).addFailure(test, err)
        self._outcome(test, "fail", traceback=self.failures[-1][1])

    def addError(self, test, err):
        super(SubunitTestResult, self).addError(test, err)
        self._outcome(test, "fail", traceback=self.errors[-1][1])

    def addSkip(self, test, reason):
        super(SubunitTestResult, self).addSkip(test, reason)
        self._outcome(test, "skip", reason=reason)

    def addExpectedFailure(self, test, err):
        super(SubunitTestResult, self).addExpectedFailure(test, err)
        self._outcome(test, "xfail", traceback=self.expectedFailures[-1][1])

    def addUnexpectedSuccess(self, test):
        super(SubunitTestResult, self).addUnexpectedSuccess(test)
        self._outcome(test, "uxsuccess")

    def addSubTest(self, test, subtest, err):
        super(SubunitTestResult, self).addSubTest(test, subtest, err)
        if err is None:
            return
        # The base class put the formatted traceback in failures or errors.
        if issubclass(err[0], test.failureException):
            text = self.failures[-1][1]
        else:
            text = self.errors[-1][1]
        running = self._running
        if running is not None and running.test is test:
            running.failed = True
            running.tracebacks.append("Subtest %s\n%s" % (subtest.id(), text))
        else:
            self._emit_standalone(subtest.id(), "fail", traceback=text)

    def _outcome(self, test, status, traceback=None, reason=None):
        running = self._running
        # A subtest's skip arrives as addSkip(subtest, ...): it belongs to
        # the running test, whose own outcome is reported separately.
        owner = getattr(test, "test_case", None)
        if running is not None and owner is running.test and test is not running.test:
            return
        if running is None or running.test is not test:
            # No startTest for this one: unittest reports errors in fixtures
            # (setUpClass, setUpModule, tearDown...) on an _ErrorHolder with
            # an id like "setUpClass (pkg.mod.Class)". Report it as a whole
            # test of its own.
            test_id = test.id()
            if self.fixture_outcomes.get(test_id) != "fail":
                self.fixture_outcomes[test_id] = status
            self._emit_standalone(test_id, status, traceback, reason)
            return
        if status == "fail":
            running.failed = True
        elif running.status is None:
            running.status = status
        if traceback is not None:
            running.tracebacks.append(traceback)
        if reason is not None:
            running.reason = reason

    # -- writing -----------------------------------------------------------

    def _emit_standalone(self, test_id, status, traceback=None, reason=None):
        write_standalone_result(self.writer, test_id, status, traceback, reason)
        self._count(test_id, status)

    def report_error(self, test_id, message):
        """Report a failure that unittest has no test for (an unknown id)."""
        self._emit_standalone(test_id, "fail", traceback=message)

    def report_skip(self, test_id, reason):
        """Report a test that was skipped without running."""
        self._emit_standalone(test_id, "skip", reason=reason)

    def _emit_final(self, test_id, status, tracebacks, reason, stdout, stderr):
        write_result(self.writer, test_id, status, "\n".join(tracebacks), reason,
                     (("stdout", stdout), ("stderr", stderr)))
        self._count(test_id, status)

    def _count(self, test_id, status):
        """Keep count of a final status just written."""
        if test_id == self.awaited_id:
            self.awaited_done = True
        if status == "fail":
            self.failed_count += 1


# --------------------------------------------------------------------------
# Discovery and selection
# --------------------------------------------------------------------------


def iter_tests(suite):
    """Yield the test cases of a suite, depth first, in run order."""
    if isinstance(suite, unittest.TestSuite):
        for child in suite:
            for test in iter_tests(child):
                yield test
    else:
        yield suite


def filter_suite(suite, keep):
    """Return a copy of ``suite`` with only the tests for which ``keep(test)``
    is true, or None when none is left.

    The nesting of suites (module > class > test) and their order are kept,
    so the copy runs with unittest's own machinery: setUpModule and
    setUpClass run once per module and class, as in a full run.
    """
    if not isinstance(suite, unittest.TestSuite):
        return suite if keep(suite) else None
    kept = [t for t in (filter_suite(child, keep) for child in suite) if t is not None]
    if not kept:
        return None
    try:
        copy = type(suite)()
    except TypeError:  # a custom suite class that needs arguments
        copy = unittest.TestSuite()
    copy.addTests(kept)
    return copy


def load_suite(args):
    """Load the tests that ``python -m unittest`` loads for the same
    arguments: ``args.names`` as ``loadTestsFromNames`` loads them, or else
    discovery from ``args.start_dir``. Returns (loader, suite), the suite's
    scenarios expanded (see ``expand_scenarios``). Raises ImportError,
    TypeError or OSError when discovery cannot start (a missing start dir)."""
    loader = unittest.TestLoader()
    if args.names:
        suite = load_names(loader, args.names)
    else:
        suite = loader.discover(args.start_dir, pattern=args.pattern,
                                top_level_dir=args.top_level_dir)
    return loader, expand_scenarios(suite)


def load_names(loader, names):
    """Load module, package, class and test names as
    ``loader.loadTestsFromNames(names)`` does, ``load_tests`` included.

    unittest turns a name that fails to import with an ImportError into a
    failing ``unittest.loader._FailedTest.<name>`` test (and its message
    into ``loader.errors``), but lets any other exception out, which would
    end the whole load. Here such a name becomes a failing test too, or a
    skipped one for SkipTest, as discovery treats a module it cannot
    import, so that the other names still run."""
    suite = loader.suiteClass()
    for name in names:
        # unittest's own helpers, which discovery uses for the same cases.
        try:
            suite.addTest(loader.loadTestsFromName(name))
        except unittest.SkipTest as error:
            suite.addTest(unittest.loader._make_skipped_test(name, error, loader.suiteClass))
        except Exception as error:
            message = "Failed to load tests from %s\n%s" % (name, traceback.format_exc())
            failed, message = unittest.loader._make_failed_test(
                name, error, loader.suiteClass, message)
            loader.errors.append(message)
            suite.addTest(failed)
    return suite


def expand_scenarios(suite):
    """Replace, in place, each test that testscenarios multiplies only when
    it runs by the tests it runs as; returns ``suite``.

    A ``testscenarios.WithScenarios`` test with scenarios runs as one test
    per scenario, ``test_x(name)``, each a copy of it with the scenario
    applied. Listed under its own id, it would never report that id, and
    none of its scenarios could be run alone. Expanded here with
    testscenarios' own ``generate_scenarios``, the listing holds the ids a
    run reports, and running one of them runs that scenario only (a copy
    has no scenarios left, so it runs as a plain test). testscenarios is
    not imported for this: a suite that holds such a test imported it."""
    testscenarios = sys.modules.get("testscenarios")
    with_scenarios = getattr(testscenarios, "WithScenarios", None)
    generate = getattr(testscenarios, "generate_scenarios", None)
    if with_scenarios is not None and generate is not None:
        _expand_in(suite, with_scenarios, generate)
    return suite


def _expand_in(suite, with_scenarios, generate):
    if not isinstance(suite, unittest.TestSuite):
        return
    tests = []
    for child in suite:
        if isinstance(child, unittest.TestSuite):
            _expand_in(child, with_scenarios, generate)
            tests.append(child)
        elif isinstance(child, with_scenarios) and getattr(child, "scenarios", None):
            # Where the test was, beside its siblings of the same class:
            # class and module fixtures run as they did.
            tests.extend(generate(child))
        else:
            tests.append(child)
    suite._tests[:] = tests


def select(suite, wanted):
    """Restrict ``suite`` to the ``wanted`` ids; returns (suite, missing).

    An id selects the test with that id or, failing that, every test under
    it (a module or class name such as ``pkg.tests.test_x``). Tests run in
    discovery order, whatever the order of ``wanted``. ``missing`` lists the
    ids that selected nothing.
    """
    all_ids = set(test.id() for test in iter_tests(suite))
    exact = set()
    prefixes = []
    missing = []
    for test_id in wanted:
        if test_id in all_ids:
            exact.add(test_id)
        elif any(other.startswith(test_id + ".") for other in all_ids):
            prefixes.append(test_id + ".")
        elif test_id not in missing:
            missing.append(test_id)
    prefixes = tuple(prefixes)

    def keep(test):
        test_id = test.id()
        return test_id in exact or (bool(prefixes) and test_id.startswith(prefixes))

    return filter_suite(suite, keep), missing


# --------------------------------------------------------------------------
# Worker mode
# --------------------------------------------------------------------------

class Worker(object):
    """Runs discovered tests one id at a time, as the ids arrive.

    Each test runs through one reusable ``TestSuite`` while the result says
    that a run is already under way (``result._testRunEntered``), so the
    suite does not tear the fixtures down after the test: consecutive tests
    of one class or module share one setUpClass / setUpModule, and a test of
    another class or module tears the previous ones down first, exactly as
    in a whole run. ``finish()`` tears down whatever is still set up.
    """

    def __init__(self, suite, writer, import_errors=()):
        self.writer = writer
        self.import_errors = list(import_errors)
        # id -> test, in load order. An id loaded twice (a test class
        # imported into a second test module, a load_tests that adds a test
        # twice) is listed once and runs once, as its first instance: ids
        # are unique in a listing, and each gets one result.
        self.tests = {}
        for test in iter_tests(suite):
            self.tests.setdefault(test.id(), test)
        self.result = SubunitTestResult(writer)
        self._suite = unittest.TestSuite()
        # Keep the suite from dropping its test after running it, so that
        # one suite (and its list) serves every test.
        self._suite._cleanup = False
        self._started = False

    def write_listing(self):
        """Write an ``exists`` packet per test, the loader's errors if any,
        then the end-of-listing marker; flush."""
        files = ()
        if self.import_errors:
            files = (("import errors", "\n".join(self.import_errors)),)
        write_listing(self.writer, ((test_id, None) for test_id in self.tests), files)

    def run_test(self, test_id):
        """Run the test with this id now; every id gets a final status."""
        result = self.result
        if not self._started:
            self._started = True
            result.startTestRun()
        test = self.tests.get(test_id)
        if test is None:
            result.report_error(
                test_id,
                "testr_subunit.py: no test with id %s was loaded\n" % (test_id,))
            return
        result.awaited_id = test_id
        result.awaited_done = False
        result.started_ids = []
        suite = self._suite
        suite._tests[:] = (test,)
        # Not the top level: the suite keeps the fixtures up after the test.
        result._testRunEntered = True
        suite.run(result)
        result.awaited_id = None
        if not result.awaited_done:
            self._not_run(test)

    def _not_run(self, test):
        """Report a test that unittest passed over without reporting it:
        its setUpClass or setUpModule failed (or raised SkipTest), the
        result was told to stop, or it ran as other tests."""
        result = self.result
        cls = test.__class__
        if getattr(result, "_moduleSetUpFailed", False):
            fixture = "setUpModule (%s)" % (cls.__module__,)
        elif getattr(cls, "_classSetupFailed", False):
            fixture = "setUpClass (%s)" % (unittest.util.strclass(cls),)
        else:
            fixture = None
        outcome = result.fixture_outcomes.get(fixture)
        if outcome == "skip":
            result.report_skip(test.id(), "%s was skipped" % (fixture,))
        elif fixture is not None:
            result.report_error(
                test.id(),
                "testr_subunit.py: not run: %s failed; its error is reported "
                "under that name\n" % (fixture,))
        elif result.started_ids:
            # A test that multiplies itself when it runs, in a way
            # expand_scenarios does not know: what ran is reported as it
            # ran, and its own id, which nothing reported, did not fail.
            result.report_skip(
                test.id(), "testr_subunit.py: unittest ran this test as other tests, "
                           "whose results are reported under their own ids: %s"
                           % (", ".join(result.started_ids),))
        else:
            result.report_error(test.id(), "testr_subunit.py: unittest did not run this test "
                                           "and reported nothing for it\n")

    def finish(self):
        """Tear down the fixtures still set up; flush."""
        result = self.result
        suite = self._suite
        if self._started:
            suite._tearDownPreviousClass(None, result)
            suite._handleModuleTearDown(result)
            result._previousTestClass = None
            result._testRunEntered = False
            result.stopTestRun()
        self.writer.flush()

    def serve(self, ids):
        """Run the id on each line of the binary stream ``ids`` until it
        ends, then ``finish()``."""
        run_test = self.run_test
        try:
            for test_id in IdReader(ids):
                run_test(test_id)
        finally:
            self.finish()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _read_load_list(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


# The first argument that makes the rest unittest's discovery arguments.
DISCOVER = "discover"
DEFAULT_START_DIR = "."
DEFAULT_PATTERN = "test*.py"


def build_parser():
    parser = argparse.ArgumentParser(
        prog="testr_subunit.py",
        description="Run unittest tests and write the results to stdout as subunit v2.",
    )
    # unittest's names for the discovery options, and the shorter ones that
    # configurations written by `testr init --unittest` use.
    parser.add_argument("--start-directory", "--start-dir", "-s", dest="start_dir",
                        metavar="DIR", help="directory to start discovery in (default: .)")
    parser.add_argument("--top-level-directory", "--top-level-dir", "-t",
                        dest="top_level_dir", metavar="DIR",
                        help="top level directory of the project (default: the start dir)")
    parser.add_argument("--pattern", "-p", metavar="PATTERN",
                        help="file name pattern of test modules (default: test*.py)")
    parser.add_argument("--list", action="store_true",
                        help="write an 'exists' packet per test id instead of running")
    parser.add_argument("--worker", action="store_true",
                        help="run as a long-lived worker (worker protocol v1): list the "
                             "tests, then run the ids read from stdin, one a line")
    parser.add_argument("--share-discovery", action="store_true",
                        help="with --worker: the workers that share TESTR_SHARED_DIR discover "
                             "once, and all but the first are forked from its discovered "
                             "state (Unix, Python 3.9+; otherwise ignored)")
    parser.add_argument("--load-list", metavar="FILE", action="append", default=[],
                        help="run the test ids in FILE, one a line")
    parser.add_argument("arguments", nargs="*", metavar="ARG",
                        help="'discover' [START [PATTERN [TOP]]], as python -m unittest "
                             "has it; otherwise, with --worker, module, package, class or "
                             "test names to load instead of discovering, and without it, "
                             "test ids to run (a module or class name: every test under it)")
    return parser


def parse_command_line(argv):
    """Parse the command line into (parser, args); exits 2 on a usage error.

    The positional arguments are sorted out here: after ``discover``, they
    are its START, PATTERN and TOP (which win over -s, -p and -t); without
    it, in worker mode they are names to load, as ``python -m unittest
    NAME...`` loads them (``args.names``), and in batch mode ids to select
    from discovery (``args.ids``). A worker never selects: testr sends it
    the ids to run, so a name there can only mean what to load.
    """
    parser = build_parser()
    # Intermixed: options may follow the positional arguments, as in
    # `discover -t . pkg --list`.
    args = parser.parse_intermixed_args(argv)
    positional = args.arguments
    args.names = []
    args.ids = []
    if positional and positional[0].lower() == DISCOVER:
        _take_discovery_arguments(parser, args, positional[1:])
    elif args.worker:
        args.names = positional
    else:
        args.ids = positional
    if args.names and (args.start_dir, args.pattern, args.top_level_dir) != (None,) * 3:
        parser.error("--start-dir, --pattern and --top-level-dir go with discovery, "
                     "not with test names")
    if args.start_dir is None:
        args.start_dir = DEFAULT_START_DIR
    if args.pattern is None:
        args.pattern = DEFAULT_PATTERN
    if args.worker and (args.load_list or args.list):
        parser.error("--worker takes no --load-list or --list: it lists every test, "
                     "then runs the ids read from stdin")
    if args.share_discovery and not args.worker:
        parser.error("--share-discovery goes with --worker")
    return parser, args


def _take_discovery_arguments(parser, args, arguments):
    if len(arguments) > 3:
        parser.error("discover takes at most START, PATTERN and TOP, not: %s"
                     % (" ".join(arguments),))
    for dest, value in zip(("start_dir", "pattern", "top_level_dir"), arguments):
        setattr(args, dest, value)


def _put_cwd_on_path():
    """Put the working directory first on the import path, as ``python -m
    unittest`` (or subunit.run, testtools.run, stestr's runner) has it:
    names are imported from there, and tests import the project's code from
    there whatever the top level dir. Not under ``python -P``, which asks
    for no such entry."""
    if getattr(sys.flags, "safe_path", False):
        return
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def main(argv=None, stdout=None, stdin=None):
    """Run the command line; returns the exit status.

    ``stdout`` is a binary stream for the packets; by default the process's
    stdout, claimed for packets only (see ``testr_worker_protocol.claim_stdout``). ``stdin`` is a
    binary stream of test ids for ``--worker``; by default the process's
    stdin (see ``testr_worker_protocol.claim_stdin``).
    """
    parser, args = parse_command_line(argv)
    _put_cwd_on_path()
    if args.worker:
        return _worker_main(args, stdout, stdin)

    wanted = list(args.ids)
    for path in args.load_list:
        try:
            wanted.extend(_read_load_list(path))
        except (OSError, UnicodeDecodeError) as error:
            parser.error("cannot read --load-list file: %s" % (error,))
    selecting = bool(args.ids or args.load_list)

    # Claimed before discovery, so that imports that print cannot get into
    # the packet stream.
    writer = StreamWriter(stdout if stdout is not None else claim_stdout())

    try:
        loader, suite = load_suite(args)
    except (ImportError, TypeError, OSError) as error:
        # unittest raises these for a start dir that is missing or cannot be
        # imported: a usage error rather than a test failure.
        sys.stderr.write("testr_subunit.py: cannot discover tests: %s\n" % (error,))
        return 2

    missing = []
    if selecting:
        suite, missing = select(suite, wanted)
        if suite is None:
            suite = unittest.TestSuite()

    if args.list:
        for test in iter_tests(suite):
            writer.event(test.id(), "exists")
        # Modules that failed to import are listed as
        # unittest.loader._FailedTest.<module> tests; their errors also go
        # in one attachment, as python-subunit's subunit.run does.
        errors = getattr(loader, "errors", [])
        if errors:
            writer.write_file(None, "import errors",
                              encode_utf8("\n".join(errors)), TEXT_MIME, runnable=False)
        writer.flush()
        return 1 if errors else 0

    result = SubunitTestResult(writer)
    result.startTestRun()
    try:
        suite.run(result)
        for test_id in missing:
            result.report_error(
                test_id,
                "testr_subunit.py: no test with id %s was found by discovery "
                "(start dir %r, pattern %r)\n" % (test_id, args.start_dir, args.pattern),
            )
    finally:
        result.stopTestRun()
        writer.flush()
    return 1 if result.failed_count else 0


def _worker_main(args, stdout, stdin):
    # Sharing needs the process's own descriptors: not when main() was given
    # streams.
    own_process = stdout is None and stdin is None
    directory = None
    if args.share_discovery and own_process:
        _import_sharing_modules()
        directory = _shared_dir()
    lead = None
    if directory is not None:
        identity = _identity(args)
        try:
            lead = _take_lead(directory)
        except OSError as error:
            _share_note("cannot take the lock (%s); discovering on its own" % (error,))
            directory = None
        if directory is not None and lead is None:
            # Returns only when nothing was handed over to a fork server.
            reason = _follow(directory, identity)
            _share_note("%s; discovering on its own" % (reason,))
            directory = None
    ids = stdin if stdin is not None else claim_stdin()
    packets = stdout if stdout is not None else claim_stdout()
    writer = StreamWriter(packets)
    try:
        try:
            loader, suite = load_suite(args)
        except (ImportError, TypeError, OSError) as error:
            sys.stderr.write("testr_subunit.py: cannot discover tests: %s\n" % (error,))
            return 2
        errors = getattr(loader, "errors", [])
        if lead is not None:
            _lead(directory, suite, errors, identity, (ids, packets), lead)
    finally:
        if lead is not None:
            # Unlocked once the socket is in place (or sharing was given
            # up): the followers stop waiting.
            _release_lead(lead)
    del loader
    code = _serve(suite, errors, writer, ids)
    if _leader_alive_fd is not None or (own_process and only_thread()):
        # The run is waiting for this process's end: skip the teardown.
        writer.flush()
        exit_now(code)
    return code


# The leader's end of the pipe whose end tells the fork server that the
# leader is gone: kept open (never closed) for as long as the leader lives.
_leader_alive_fd = None


def _lead(directory, suite, errors, identity, leader_files, lock_fd):
    """Start the fork server unless it cannot be done safely; the followers
    fall back to discovering on their own when it is not started."""
    global _leader_alive_fd
    if not only_thread():
        # Only the forking thread survives a fork: a lock another thread
        # holds (logging's, an import lock) would stay locked forever.
        _share_note("%d threads are running after discovery; not sharing it, "
                    "as forking could deadlock" % (sys.modules["threading"].active_count(),))
        return
    try:
        _leader_alive_fd = _start_fork_server(directory, suite, errors, identity,
                                              leader_files, lock_fd)
    except OSError as error:
        _share_note("cannot start the fork server (%s); the other workers "
                    "discover on their own" % (error,))


def _serve(suite, errors, writer, ids):
    """The worker protocol from a discovered suite: listing, then the ids."""
    worker = Worker(suite, writer, errors)
    worker.write_listing()
    worker.serve(ids)
    return 0


# --------------------------------------------------------------------------
# Sharing one discovery between the workers of a profile (--share-discovery)
# --------------------------------------------------------------------------
#
# testr starts N workers per profile, each in a process group of its own,
# and gives them TESTR_SHARED_DIR, a directory for this profile and run
# only. With --share-discovery:
#
# * The first worker to take the lock in that directory, the *leader*,
#   discovers as usual, then forks a *fork server* that holds the discovered
#   suite and listens on a Unix socket there, and carries on as a normal
#   worker.
# * Every other worker, a *follower*, waits for the socket and sends the
#   server its stdin, stdout and stderr (SCM_RIGHTS) and its process group.
#   The server forks a child that joins that group, takes those descriptors
#   as its own and runs the worker protocol from the discovered suite. The
#   follower only waits, and exits as the child did (same status, or the
#   same signal), so that testr still sees one process per worker, speaking
#   the protocol on its own pipes and killable through its own group.
# * When anything goes wrong before the server has forked a child for it,
#   a follower discovers on its own, as without the flag.
#
# The server runs in a process group of its own: testr kills the leader's
# group when the leader ends (or times out), and that must not take the
# followers' children with it. It exits once the leader is gone and it has
# no child and no connection left: its children belong to followers, whose
# groups testr kills in any case, so it waits for them rather than kill them
# (the leader often finishes first, while its siblings are still running).

SHARE_LOCK = "discovery.lock"
SHARE_SOCKET = "discovery.sock"
# The server's pid, for diagnostics and tests.
SHARE_SERVER_PID = "fork-server.pid"
SHARE_MAGIC = "testr-share-discovery/1"
# How often a follower looks for the socket while the leader discovers.
SHARE_POLL_SECONDS = 0.02
# The longest a request may take to arrive once a follower has connected.
SHARE_REQUEST_TIMEOUT = 10.0


def _import_sharing_modules():
    global json, selectors, signal, socket
    import json
    import selectors
    import signal
    import socket


def _share_note(message):
    sys.stderr.write("testr_subunit.py: --share-discovery: %s\n" % (message,))
    sys.stderr.flush()


def _shared_dir():
    """The directory to share discovery through, or None when sharing is not
    possible here (then every worker discovers on its own)."""
    directory = os.environ.get("TESTR_SHARED_DIR")
    if not directory or not os.path.isdir(directory):
        return None
    # socket.send_fds is Python 3.9+; the rest is Unix.
    if fcntl is None or not hasattr(socket, "send_fds") or not hasattr(os, "fork"):
        return None
    return directory


def _identity(args):
    """What must be equal for a follower to reuse the leader's discovery:
    the same interpreter, directory, import path and discovery arguments.
    Taken before discovery, which adds the top level dir to sys.path."""
    return {
        "executable": sys.executable,
        "version": sys.version,
        "cwd": os.getcwd(),
        "path": list(sys.path),
        "load": [args.names, args.start_dir, args.pattern, args.top_level_dir],
    }


def _take_lead(directory):
    """Try to become the leader. Returns the lock's descriptor, locked, when
    this worker leads; None when another worker already does.

    The lock file is locked (flock) before it appears under its name (a hard
    link, which fails if the name exists), so a follower never sees it
    unlocked while the leader is still discovering: unlocked means the leader
    has put its socket in place, or gave up, or died (the kernel drops the
    lock with the leader's last descriptor)."""
    path = os.path.join(directory, SHARE_LOCK)
    temporary = "%s.%d" % (path, os.getpid())
    fd = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"%d\n" % os.getpid())
        os.link(temporary, path)
    except FileExistsError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    finally:
        os.unlink(temporary)
    return fd


def _release_lead(fd):
    # LOCK_UN releases the lock for every copy of the descriptor, including
    # those a fork (the server, a daemon started at import) may hold.
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _wait_for_server(directory):
    """Wait while the leader discovers. Returns the socket's path, or None
    when the leader ended (or gave up sharing) without putting it there."""
    socket_path = os.path.join(directory, SHARE_SOCKET)
    fd = os.open(os.path.join(directory, SHARE_LOCK), os.O_RDONLY)
    try:
        try:
            leader = int(os.pread(fd, 32, 0).split()[0])
        except (ValueError, IndexError):
            leader = None
        while True:
            if os.path.exists(socket_path):
                return socket_path
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                # Still locked. Normally the leader holds the lock; if the
                # leader is gone, a process it forked while importing (and
                # that inherited the descriptor) may be holding it.
                if leader is not None and not _pid_alive(leader):
                    return None
                time.sleep(SHARE_POLL_SECONDS)
                continue
            # Unlocked: the leader renames its socket into place before it
            # unlocks, so a missing socket now means there will be none.
            return socket_path if os.path.exists(socket_path) else None
    finally:
        os.close(fd)


def _follow(directory, identity):
    """Have the fork server run this worker. Returns a reason to discover
    on our own instead, only when nothing has been handed over; once the
    server has forked the child, never returns: exits as the child does."""
    path = _wait_for_server(directory)
    if path is None:
        return "the leading worker ended before its discovery could be shared"
    request = json.dumps({
        "magic": SHARE_MAGIC,
        "identity": identity,
        "pgid": os.getpgrp(),
        # The child gets the follower's environment (TESTR_WORKER differs).
        "env": dict(os.environ),
    }).encode("utf-8")
    data = struct.pack(">I", len(request)) + request
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
        sent = socket.send_fds(conn, [data], [0, 1, 2])
        if sent < len(data):
            # Not sendall(b""): even an empty send fails once the server has
            # answered (and closed) after reading the whole request.
            conn.sendall(data[sent:])
        replies = conn.makefile("rb")
        line = replies.readline()
    except OSError as error:
        conn.close()
        return "cannot use the fork server: %s" % (error,)
    words = line.split(None, 1)
    if len(words) != 2 or words[0] != b"started":
        conn.close()
        if words and words[0] == b"error":
            return "the fork server refused: %s" % (words[1].decode("utf-8", "replace").strip(),)
        return "the fork server closed the connection"
    child = int(words[1])

    # The child now serves our stdin and stdout. Let go of our copies, so
    # that it alone holds testr's pipes: its exit is their end.
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    try:
        line = replies.readline()
    except OSError:
        line = b""
    words = line.split()
    if len(words) == 2 and words[0] == b"exit":
        os._exit(int(words[1]))
    if len(words) == 2 and words[0] == b"signal":
        _die_by_signal(int(words[1]))
    # The server died: nobody will report the child's end. Stop the child
    # (it is in our group, unless it is gone already) and fail.
    try:
        line += replies.read()
    except OSError:
        pass
    _share_note("the fork server ended while this worker's child (pid %d) was running; "
                "stopping it%s" % (child, (":\n" + line.decode("utf-8", "replace")) if line else ""))
    try:
        if os.getpgid(child) == os.getpgrp():
            os.kill(child, signal.SIGKILL)
    except OSError:
        pass
    os._exit(1)


def _die_by_signal(number):
    """End this process by signal ``number``, as the child it stands for."""
    sys.stderr.flush()
    try:
        # The child's crash already dumped whatever core it dumps; the
        # follower's own would only be noise.
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    try:
        signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [number])
    except (OSError, ValueError, RuntimeError):
        pass  # SIGKILL and SIGSTOP cannot be caught or blocked anyway
    os.kill(os.getpid(), number)
    # Still alive: a signal whose default action is not to terminate. Exit
    # as a shell reports a death by signal.
    os._exit(128 + number)


def _start_fork_server(directory, suite, errors, identity, leader_files, lock_fd):
    """Start the fork server for the suite the leader discovered, its socket
    in place. Returns the descriptor whose end tells the server that the
    leader is gone; the leader keeps it open until it exits. Raises OSError
    when the server cannot be started (the followers then fall back)."""
    socket_path = os.path.join(directory, SHARE_SOCKET)
    # Bound under a temporary name, renamed into place once it listens: a
    # follower never connects to a half-ready socket.
    temporary = "%s.%d" % (socket_path, os.getpid())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(temporary)
        listener.listen(64)
        os.rename(temporary, socket_path)
    except OSError:
        listener.close()
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    alive_r, alive_w = os.pipe()
    flush_stdio()
    try:
        middle = os.fork()
    except OSError:
        _close_fds(alive_r, alive_w)
        listener.close()
        os.unlink(socket_path)
        raise
    if middle == 0:
        # Forked twice, so that the server is not the leader's child (the
        # leader's tests may wait for any child of theirs) and is reparented
        # at once; and put in a group of its own before the second fork, so
        # that it is never in the leader's group, which testr kills when the
        # leader ends.
        status = 1
        try:
            os.close(alive_w)
            os.setpgid(0, 0)
            if os.fork() == 0:
                server = _ForkServer(directory, listener, alive_r, suite, errors, identity)
                server.run(leader_files, lock_fd)  # never returns
            status = 0
        finally:
            os._exit(status)
    os.close(alive_r)
    # Queued connections wait for the server's accept; if it never came up,
    # closing the last copy of the listener refuses them.
    listener.close()
    _, status = os.waitpid(middle, 0)
    if status != 0:
        os.close(alive_w)
        os.unlink(socket_path)
        raise OSError("the fork server could not be started (status %d)" % (status,))
    return alive_w


def _close_fds(*fds):
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class _ForkServer(object):
    """The process that holds the discovered suite and forks a worker for
    each follower that connects. Single-threaded: one loop over the
    listening socket, the connections, the leader's pipe and SIGCHLD."""

    def __init__(self, directory, listener, leader_pipe, suite, errors, identity):
        self.directory = directory
        self.socket_path = os.path.join(directory, SHARE_SOCKET)
        self.listener = listener
        self.leader_pipe = leader_pipe
        self.suite = suite
        self.errors = errors
        self.identity = identity
        self.leader_gone = False
        self.conns = {}     # connection -> its child's pid, None until forked
        self.children = {}  # pid -> its connection, None once the follower is gone
        self.selector = None
        self.wakeup = None
        self.old_sigchld = None

    def run(self, leader_files, lock_fd):
        try:
            self._detach(leader_files, lock_fd)
            self._loop()
        except BaseException:
            # Nobody reads the server's stderr (see _detach): tell the
            # followers connected now, which stop their children and fail.
            text = ("crash\n" + traceback.format_exc()).encode("utf-8", "replace")
            for conn in list(self.conns):
                self._reply(conn, text)
        finally:
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass
            os._exit(0)

    def _detach(self, leader_files, lock_fd):
        """Let go of everything of the leader's but the discovered suite."""
        os.close(lock_fd)
        # Never write to the leader's stdout or hold its stdin: testr must
        # see them end when the leader ends.
        for stream in leader_files:
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        # Nor its stderr (fds 1 and 2 by now): testr waits for the end of a
        # worker's stderr before it counts the worker as done, and the
        # server may outlive the leader.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        with open(os.path.join(self.directory, SHARE_SERVER_PID + ".tmp"), "w") as out:
            out.write("%d\n" % os.getpid())
        os.rename(os.path.join(self.directory, SHARE_SERVER_PID + ".tmp"),
                  os.path.join(self.directory, SHARE_SERVER_PID))
        # The discovered objects stay as they are in every child: keep the
        # collector from touching them (which would copy their pages).
        import gc
        if hasattr(gc, "freeze"):
            gc.freeze()

    def _loop(self):
        # PollSelector, not epoll: an epoll instance would be shared with
        # the children through the fork.
        selector_class = getattr(selectors, "PollSelector", selectors.SelectSelector)
        self.selector = selector_class()
        # SIGCHLD wakes the loop through a pipe (set_wakeup_fd), so that a
        # child's end is reported at once.
        self.wakeup = os.pipe()
        for fd in self.wakeup:
            os.set_blocking(fd, False)
        self.old_sigchld = signal.signal(signal.SIGCHLD, lambda number, frame: None)
        signal.set_wakeup_fd(self.wakeup[1])
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.selector.register(self.leader_pipe, selectors.EVENT_READ, self._leader_ended)
        self.selector.register(self.wakeup[0], selectors.EVENT_READ, self._sigchld)
        closing = False
        while True:
            if self.leader_gone and not self.children and not self.conns:
                if closing:
                    return
                # Unlink first, so that no new connection can come, then
                # take those that came in meanwhile before deciding.
                closing = True
                try:
                    os.unlink(self.socket_path)
                except OSError:
                    pass
                self._accept()
                continue
            for key, _ in self.selector.select():
                key.data(key.fileobj)
            self._reap()

    # -- events ------------------------------------------------------------

    def _accept(self, listener=None):
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn.setblocking(True)
            self.conns[conn] = None
            self.selector.register(conn, selectors.EVENT_READ, self._readable)

    def _leader_ended(self, fd):
        if os.read(fd, 1):
            return  # nobody writes to it; only its end counts
        self.leader_gone = True
        self.selector.unregister(fd)
        os.close(fd)
        self.leader_pipe = None

    def _sigchld(self, fd):
        try:
            while os.read(fd, 512):
                pass
        except BlockingIOError:
            pass

    def _readable(self, conn):
        pid = self.conns.get(conn)
        if pid is None:
            self._start_child(conn)
            return
        # A follower sends nothing after its request: this is its end
        # (killed, most likely with its whole group). Nobody is left to
        # report to, or to serve: stop the child if it still runs.
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if not data:
            self._follower_gone(conn, pid)

    def _follower_gone(self, conn, pid):
        self._drop(conn)
        self.children[pid] = None
        # Not reaped yet, so the pid cannot have been reused.
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass

    def _reap(self):
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            if os.WIFSIGNALED(status):
                reply = b"signal %d\n" % os.WTERMSIG(status)
            else:
                reply = b"exit %d\n" % os.WEXITSTATUS(status)
            self._reply(conn, reply)
            self._drop(conn)

    # -- serving a follower ------------------------------------------------

    def _drop(self, conn):
        self.conns.pop(conn, None)
        try:
            self.selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _reply(self, conn, line):
        try:
            conn.sendall(line)
            return True
        except OSError:
            return False

    def _read_request(self, conn):
        """Returns (request, fds); raises OSError or ValueError."""
        conn.settimeout(SHARE_REQUEST_TIMEOUT)
        data, fds, _, _ = socket.recv_fds(conn, 65536, 3)
        try:
            if len(fds) != 3:
                raise ValueError("expected 3 descriptors, got %d" % (len(fds),))
            while len(data) < 4 or len(data) < 4 + struct.unpack(">I", data[:4])[0]:
                more = conn.recv(65536)
                if not more:
                    raise ValueError("truncated request")
                data += more
            request = json.loads(data[4:].decode("utf-8"))
            if request.get("magic") != SHARE_MAGIC:
                raise ValueError("not a %s request" % (SHARE_MAGIC,))
        except BaseException:
            _close_fds(*fds)
            raise
        conn.settimeout(None)
        return request, fds

    def _start_child(self, conn):
        try:
            request, fds = self._read_request(conn)
        except (OSError, ValueError) as error:
            self._reply(conn, b"error bad request: %s\n" % (str(error).encode("utf-8"),))
            self._drop(conn)
            return
        if request.get("identity") != self.identity:
            # Another command, directory or interpreter: our suite is not
            # what this follower would discover.
            _close_fds(*fds)
            self._reply(conn, b"error the worker's command, directory or Python differs "
                              b"from the leader's\n")
            self._drop(conn)
            return
        pgid = request["pgid"]
        flush_stdio()
        try:
            pid = os.fork()
        except OSError as error:
            _close_fds(*fds)
            self._reply(conn, b"error cannot fork: %s\n" % (str(error).encode("utf-8"),))
            self._drop(conn)
            return
        if pid == 0:
            self._child(conn, request, fds)  # never returns
        _close_fds(*fds)
        self.conns[conn] = pid
        self.children[pid] = conn
        # Also done by the child itself: done here too so that the child is
        # in the follower's group, within reach of its killpg, before the
        # follower hears of it. The child exits at once if it cannot join
        # (before it touches the follower's descriptors), and the follower
        # then discovers on its own.
        try:
            os.setpgid(pid, pgid)
        except OSError as error:
            self._reply(conn, b"error cannot join the worker's process group: %s\n"
                        % (str(error).encode("utf-8"),))
            self._follower_gone(conn, pid)
            return
        if not self._reply(conn, b"started %d\n" % (pid,)):
            self._follower_gone(conn, pid)

    def _child(self, conn, request, fds):
        """In the forked child: become the follower's worker. Never returns."""
        code = 1
        try:
            # Into the follower's group, so that testr's killpg of the
            # follower kills us too (allowed: same session).
            try:
                os.setpgid(0, request["pgid"])
            except OSError:
                os._exit(1)  # the server saw it too and tells the follower
            try:
                # Nothing of the server's: a child holding the listener or a
                # connection would keep followers waiting on a dead server.
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL if self.old_sigchld is None
                              else self.old_sigchld)
                self.selector.close()
                for other in list(self.conns):
                    other.close()
                self.listener.close()
                _close_fds(*self.wakeup)
                if self.leader_pipe is not None:
                    _close_fds(self.leader_pipe)
                # The follower's stdin, stdout and stderr become ours.
                for target, fd in enumerate(fds):
                    os.dup2(fd, target)
                _close_fds(*fds)
                os.environ.clear()
                os.environ.update(request["env"])
                ids = claim_stdin()
                writer = StreamWriter(claim_stdout())
                code = _serve(self.suite, self.errors, writer, ids)
            except SystemExit as exit:
                code = exit.code
            except KeyboardInterrupt:
                # As Python does for an uncaught KeyboardInterrupt.
                flush_stdio()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGINT)
            except BaseException:
                traceback.print_exc()
                code = 1
            if code is None:
                code = 0
            elif not isinstance(code, int):
                sys.stderr.write("%s\n" % (code,))
                code = 1
            # Never back into the server's code: its cleanup is not ours.
            exit_now(code)
        finally:
            os._exit(1)


if __name__ == "__main__":
    sys.exit(main())
