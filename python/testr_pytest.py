#!/usr/bin/env python3
"""Run a project's pytest suite as a testr worker (docs/worker-protocol.md).

A pytest plugin and its command line. testr writes this module beside
``testr_worker_protocol.py``, the side of the protocol that it shares with
the unittest worker (the subunit v2 writer, the streams, the listing, the
id reader, the results), and starts it from the project directory as::

    python3 <launcher> --worker [--serial-marker NAME] [PYTEST ARGS...]
    python3 <launcher> --list [--serial-marker NAME] [PYTEST ARGS...]

The project's own pytest (7.0 or later) does the work, with its own
configuration (pytest.ini, pyproject.toml, conftest.py, plugins) and the
arguments given. The options of this module come first; everything after
them goes to pytest.

pytest collects once. The worker lists the node ids as ``exists`` packets,
in collection order, then the end-of-listing marker. Tags on the listing
tell testr how to schedule: ``testr-group:NAME`` for a test marked
``@pytest.mark.xdist_group("NAME")``, ``testr-exclusive`` for one with the
serial marker (``serial`` unless ``--serial-marker`` says otherwise). A
file that fails to collect is listed under its node id (its path), and a
conftest.py that raises at import under its own path; each fails with the
error's text when run. A module skipped at collection is listed the same
way and reported as skipped.

Then it runs each node id read from stdin through pytest's whole test
protocol (``pytest_runtest_protocol``: setup, call, teardown, with every
plugin's hooks) and writes its result: ``inprogress`` when it starts, then
the attachments (``traceback``, ``reason``, ``stdout``, ``stderr``, ``log``),
then the final status, flushed. Fixtures stay up between tests as in a
whole pytest run (see ``_WorkerPlugin`` for how the next test is known).
At the end of stdin it tears the session down and exits 0, whatever the
outcomes. ``--list`` lists and exits.

Exit status: 0 as above; 2 on a usage error of this module, or when pytest
stopped without collecting anything and said nothing (``--help``); 3 when
pytest is missing or too old for this interpreter; otherwise, when pytest
stopped before the listing, pytest's own status (4 for its usage errors).
"""

import os
import sys

from testr_worker_protocol import (
    IdReader,
    StreamWriter,
    WANTS_NEXT,
    claim_stdin,
    claim_stdout,
    exit_now,
    now,
    only_thread,
    write_listing,
    write_result,
    write_standalone_result,
)

# pytest 7.0 rewrote the SetupState that runs fixtures' teardowns along the
# collector chain: teardown_exact(nextitem), the method this worker wraps
# to keep the session's fixtures up (see _WorkerPlugin), and the stack it
# unwinds appeared there; pytest 6.2's SetupState has neither, and with it
# tests fail in setup and teardown. (python/test_testr_pytest.py passes
# with pytest 7.0.1.)
MIN_PYTEST = (7, 0)

EXIT_USAGE = 2
EXIT_NO_PYTEST = 3

PROG = "testr_pytest.py"

GROUP_TAG = "testr-group:"
EXCLUSIVE_TAG = "testr-exclusive"
DEFAULT_SERIAL_MARKER = "serial"

# The id of the result that carries errors of the session fixtures' last
# teardown, when stdin ends: by then every test has its result.
SESSION_TEARDOWN_ID = "pytest session teardown"
# The id of an error in collecting the session itself (a plugin's), which
# pytest reports with an empty node id.
COLLECTION_ID = "pytest collection"

# --------------------------------------------------------------------------
# pytest reports -> subunit
# --------------------------------------------------------------------------


def _skip_reason(report):
    """The reason of a skip, xfail or xpass as the user wrote it (what
    pytest's terminal shows after "SKIPPED")."""
    if hasattr(report, "wasxfail"):
        reason = report.wasxfail
        return reason[len("reason: "):] if reason.startswith("reason: ") else reason
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
    else:
        reason = str(longrepr) if longrepr is not None else ""
    if reason.startswith("Skipped: "):
        return reason[len("Skipped: "):]
    return "" if reason == "Skipped" else reason


def _failure_text(report):
    """pytest's own text for a failure, error or xfail; None for a skip,
    whose longrepr is a (path, line, reason) tuple."""
    if report.longrepr is None or isinstance(report.longrepr, tuple):
        return None
    return report.longreprtext


# pytest's capture sections ("Captured stdout call") that become the
# attachments of these names; any other section keeps its title.
_CAPTURED = ("stdout", "stderr", "log")


def summarize(nodeid, reports):
    """Fold the reports of one test's phases into one subunit result:
    (status, traceback text or None, reason or None, {attachment: text}).

    A failure in any phase fails the test; an error in setup or teardown
    says which phase, as pytest's "ERROR at setup of" does. Otherwise the
    outcome of the call decides, or that of the setup when it skipped.
    """
    if not reports:
        return "fail", "%s: pytest reported nothing for %s\n" % (PROG, nodeid), None, {}
    status = None
    failed = False
    texts = []
    reason = None
    for report in reports:
        when = report.when
        if report.failed:
            failed = True
            text = report.longreprtext
            if when == "call":
                texts.append(text)
            else:
                texts.append("error in %s of %s:\n%s" % (when, nodeid, text))
        elif report.skipped:
            if status is not None:
                continue  # a skip in teardown after a passing call
            status = "xfail" if hasattr(report, "wasxfail") else "skip"
            reason = _skip_reason(report) or None
            if status == "xfail":
                text = _failure_text(report)
                if text:
                    texts.append(text)
            elif reason is None:
                reason = "skipped"
        elif when == "call":
            if hasattr(report, "wasxfail"):
                status = "uxsuccess"
                reason = _skip_reason(report) or None
            else:
                status = "success"
    if failed:
        status = "fail"
    elif status is None:
        status = "success"  # set up and torn down, never called (--setup-only)
    # Each report holds the sections of every phase so far: the last has them all.
    files = {}
    for title, content in reports[-1].sections:
        words = title.split()
        if len(words) == 3 and words[0] == "Captured" and words[1] in _CAPTURED:
            name = words[1]
        else:
            name = title
        files[name] = files.get(name, "") + content
    return status, ("\n".join(texts) if texts else None), reason, files


def _format_exception(error, from_file=None):
    """A traceback's text; from the first frame in ``from_file`` on, when
    it has one (pytest's own import machinery is noise to the user)."""
    import traceback
    tb = error.__traceback__
    if from_file is not None:
        frame = tb
        while frame is not None and frame.tb_frame.f_code.co_filename != from_file:
            frame = frame.tb_next
        if frame is not None:
            tb = frame
    return "".join(traceback.format_exception(type(error), error, tb))


def _is_conftest_failure(error):
    # pytest's ConftestImportFailure, by name: its module is private.
    return error is not None and type(error).__name__ == "ConftestImportFailure"


def _conftest_failure(error, rootpath):
    """(node id, text) for a conftest.py that raised at import: its path
    from the rootdir, as pytest writes node ids, and the error from the
    conftest's own frame on."""
    path = str(getattr(error, "path", None) or getattr(error, "fspath", ""))
    cause = getattr(error, "cause", None)
    if cause is None:
        excinfo = getattr(error, "excinfo", None)  # pytest 7
        cause = excinfo[1] if excinfo else error
    try:
        node_id = os.path.relpath(path, str(rootpath))
    except ValueError:  # another drive, on Windows
        node_id = path
    node_id = node_id.replace(os.sep, "/")
    return node_id, "error importing %s:\n%s" % (node_id, _format_exception(cause, path))


# --------------------------------------------------------------------------
# The plugin
# --------------------------------------------------------------------------


class _WorkerPlugin(object):
    """Lists what pytest collected and runs the ids read from stdin.

    The next test: pytest tears a test's fixtures down as far as the next
    test (``nextitem``) does not need them. A worker knows its next test
    only if its id has arrived, and must never wait for it (testr may send
    it only once this test's result is in). So a test runs with the next
    id as ``nextitem`` when that id is already on stdin at the start;
    otherwise with ``nextitem=None``, as other plugins' hooks then see. In
    that case the teardown looks at stdin again (the test has run
    meanwhile): if the next id has come, it tears down as far as that test
    needs; if not, it keeps the session's fixtures and tears down the rest
    (module, class, package). The session's fixtures go when stdin ends.
    """

    def __init__(self, pytest, writer, ids, serial_marker, list_only):
        # What pytest.exit() raises.
        self.exit_exception = pytest.exit.Exception
        self.writer = writer
        self.ids = ids
        self.serial_marker = serial_marker
        self.list_only = list_only
        # node id -> pytest's text, for collectors that failed (or were
        # skipped), in the order pytest met them.
        self.collect_failures = {}
        self.collect_skips = {}
        self.conftest_failure = None  # (node id, text) when pytest never started
        self.listed = False
        self.served = False
        self.reports = []
        self._session = None
        self._reader = None
        self._items = {}
        self._teardown_exact = None
        self._running_item = None
        self._running_id = None

    # -- configuration -----------------------------------------------------

    def pytest_load_initial_conftests(self, early_config):
        # A conftest.py at the root (or in a test* directory beside it) is
        # imported here, before any collection; if it raises, pytest stops
        # with a usage error. Keep its error, to report it as a test.
        outcome = yield
        error = outcome.excinfo[1] if outcome.excinfo else None
        if _is_conftest_failure(error):
            self.conftest_failure = _conftest_failure(error, early_config.rootpath)

    def pytest_configure(self, config):
        config.addinivalue_line(
            "markers", "xdist_group(name): run the tests of this group on one testr "
                       "worker, one after the other (and with pytest-xdist's --dist loadgroup)")
        config.addinivalue_line(
            "markers", "%s: under testr, run this test with no other test running"
                       % (self.serial_marker,))
        # The worker runs its tests itself: keep pytest-xdist (or a -n in
        # the project's addopts) from sending them to its own workers.
        option = config.option
        if getattr(option, "dist", "no") != "no" or getattr(option, "tx", None):
            option.dist = "no"
            option.tx = []

    # -- collection ----------------------------------------------------------

    def pytest_make_collect_report(self, collector):
        outcome = yield
        if outcome.excinfo:
            return
        report = outcome.get_result()
        if report.failed:
            call = getattr(report, "call", None)  # set by pytest's own hook
            error = call.excinfo.value if call is not None and call.excinfo else None
            if _is_conftest_failure(error):
                # Named after the conftest, not the directory (or, before
                # pytest 8, the whole session) whose collection it stopped.
                node_id, text = _conftest_failure(error, collector.config.rootpath)
            else:
                node_id = report.nodeid or COLLECTION_ID
                text = "error collecting %s:\n%s" % (node_id, report.longreprtext)
            self.collect_failures.setdefault(node_id, text)
        elif report.skipped:
            self.collect_skips.setdefault(report.nodeid or COLLECTION_ID, _skip_reason(report))

    def _tags(self, item):
        tags = None
        names = set()
        # As pytest-xdist's --dist loadgroup names a group: every
        # xdist_group marker of the test, its class and module.
        for mark in item.iter_markers("xdist_group"):
            name = mark.args[0] if mark.args else mark.kwargs.get("name", "default")
            names.add(str(name))
        if names:
            tags = {GROUP_TAG + "_".join(sorted(names))}
        if item.get_closest_marker(self.serial_marker) is not None:
            tags = (tags or set()) | {EXCLUSIVE_TAG}
        return tags

    def _listing(self, session):
        entries = []
        items = self._items
        for item in session.items:
            node_id = item.nodeid
            if node_id in items:
                continue  # listed once (pytest --keep-duplicates)
            if "\n" in node_id or "\r" in node_id:
                # Sent back one a line, it could not be told apart.
                sys.stderr.write("%s: not listing %r: its node id holds a line break\n"
                                 % (PROG, node_id))
                continue
            items[node_id] = item
            entries.append((node_id, self._tags(item)))
        for node_id in list(self.collect_failures) + list(self.collect_skips):
            if node_id not in items:
                entries.append((node_id, None))
        return entries

    # -- running -------------------------------------------------------------

    def pytest_runtestloop(self, session):
        self._session = session
        # pytest tears fixtures down by the next test (``nextitem``): the
        # marker asks testr to keep one queued behind the running test.
        write_listing(self.writer, self._listing(session), marker_tags={WANTS_NEXT})
        self.listed = True
        if self.list_only:
            return True
        setup_state = getattr(session, "_setupstate", None)
        if setup_state is not None and hasattr(setup_state, "teardown_exact"):
            self._teardown_exact = setup_state.teardown_exact
            setup_state.teardown_exact = self._teardown_as_far_as_known
        self._reader = IdReader(self.ids)
        try:
            for test_id in self._reader:
                self._run(test_id)
            self._finish_session()
        finally:
            if self._teardown_exact is not None:
                del setup_state.teardown_exact
        self.served = True
        return True

    def pytest_runtest_logreport(self, report):
        if report.nodeid == self._running_id:
            self.reports.append(report)

    def _next_item(self):
        """The item of the first id that has arrived and names a test,
        without waiting; None if there is none yet."""
        items = self._items
        for line in self._reader.arrived():
            item = items.get(line.decode("utf-8", "replace"))
            if item is not None:
                return item
        return None

    def _teardown_as_far_as_known(self, nextitem):
        item = self._running_item
        if nextitem is None and item is not None:
            nextitem = self._next_item()
            if nextitem is item:
                # The same test again: only its own fixtures go.
                nextitem = item.parent
            elif nextitem is None and not self._reader.eof:
                # No next test yet: keep the session's fixtures, which every
                # test needs, and tear the rest down.
                nextitem = self._session
        return self._teardown_exact(nextitem)

    def _run(self, test_id):
        writer = self.writer
        item = self._items.get(test_id)
        if item is None:
            self._not_a_test(test_id)
            return
        nextitem = self._next_item()
        if nextitem is item:
            nextitem = None  # see _teardown_as_far_as_known
        writer.event(test_id, "inprogress", now())
        # Flushed at once: testr learns which test runs (and which hung).
        writer.flush()
        self.reports = reports = []
        session = self._session
        hook = item.config.hook
        self._running_item = item
        self._running_id = test_id
        exit_error = None
        try:
            hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        except self.exit_exception as error:
            # pytest.exit() in a test ends a pytest run; here it fails that
            # test, and the worker goes on from a clean state.
            exit_error = error
        finally:
            self._running_item = None
            self._running_id = None
        status, text, reason, files = summarize(test_id, reports)
        if exit_error is not None:
            status = "fail"
            text = (text + "\n" if text else "") + "pytest.exit() was called: %s\n" % (
                getattr(exit_error, "msg", exit_error),)
            try:
                session._setupstate.teardown_exact(None)
            except BaseException as error:  # noqa: B902 - reported with the test
                text += "error in the teardown after it:\n%s" % (_format_exception(error),)
        write_result(writer, test_id, status, text, reason, files.items())
        # -x, --maxfail and the like stop a pytest run; a worker's tests are
        # chosen by testr, which decides when to stop.
        if session.shouldfail or session.shouldstop:
            session.shouldfail = False
            session.shouldstop = False

    def _not_a_test(self, test_id):
        text = self.collect_failures.get(test_id)
        if text is not None:
            write_standalone_result(self.writer, test_id, "fail", text)
            return
        reason = self.collect_skips.get(test_id)
        if reason is not None:
            write_standalone_result(self.writer, test_id, "skip", reason=reason or "skipped")
            return
        write_standalone_result(self.writer, test_id, "fail",
                                "%s: pytest collected no test with node id %s\n"
                                % (PROG, test_id))

    def _finish_session(self):
        """Tear down what is still set up (the session's fixtures, unless
        the last test had torn them down); report errors under their own id,
        as every test has its result by now."""
        if self._teardown_exact is None:
            return
        try:
            self._teardown_exact(None)
        except BaseException as error:  # noqa: B902 - reported as a result
            if isinstance(error, KeyboardInterrupt):
                raise
            write_standalone_result(self.writer, SESSION_TEARDOWN_ID, "fail",
                                    "error in the teardown of the session:\n%s"
                                    % (_format_exception(error),))

    # -- staying quiet -------------------------------------------------------

    def pytest_internalerror(self, excrepr):
        # The terminal reporter, which would show it, writes nowhere here.
        for line in str(excrepr).split("\n"):
            sys.stderr.write("INTERNALERROR> %s\n" % (line,))
        sys.stderr.flush()
        return True

    def pytest_sessionstart(self, session):
        # Before the terminal reporter writes its header (it runs last).
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            _mute(session.config.pluginmanager, reporter)


# Options of the plugin's hooks, applied once pytest is imported: this
# module must import without pytest, to say that it is missing.
_HOOK_OPTIONS = {
    "pytest_load_initial_conftests": {"hookwrapper": True},
    "pytest_make_collect_report": {"hookwrapper": True},
    "pytest_configure": {"tryfirst": True},
    "pytest_sessionstart": {"tryfirst": True},
    "pytest_runtestloop": {"tryfirst": True},
}


def _mark_hooks(pytest):
    for name, options in _HOOK_OPTIONS.items():
        function = getattr(_WorkerPlugin, name)
        if not hasattr(function, "pytest_impl"):
            setattr(_WorkerPlugin, name, pytest.hookimpl(**options)(function))


class _NullFile(object):
    """Where the terminal reporter writes: nowhere."""

    encoding = "utf-8"

    def write(self, text):
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _mute(pluginmanager, reporter):
    """Keep the terminal reporter registered (plugins look it up, and write
    through it) but have it write nowhere, and take it off the hooks called
    for every test: the worker reports tests itself."""
    writer = reporter._tw
    try:
        reporter._tw = type(writer)(_NullFile())
    except TypeError:
        writer._file = _NullFile()
    name = pluginmanager.get_name(reporter)
    pluginmanager.unregister(reporter)
    for hook in ("pytest_runtest_logstart", "pytest_runtest_logreport",
                 "pytest_runtest_logfinish"):
        # An instance attribute that is not a function is no hook.
        setattr(reporter, hook, None)
    pluginmanager.register(reporter, name)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

USAGE = ("usage: %s (--worker | --list) [--serial-marker NAME] [PYTEST ARGS...]" % PROG)


def parse_args(argv):
    """Split our leading options from pytest's arguments; returns
    (mode, serial marker, pytest args) or raises ValueError."""
    mode = None
    serial_marker = DEFAULT_SERIAL_MARKER
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg in ("--worker", "--list"):
            if mode is not None and mode != arg:
                raise ValueError("--worker and --list do not go together")
            mode = arg
        elif arg == "--serial-marker" or arg.startswith("--serial-marker="):
            if arg == "--serial-marker":
                index += 1
                if index >= len(argv):
                    raise ValueError("--serial-marker needs a marker name")
                serial_marker = argv[index]
            else:
                serial_marker = arg.split("=", 1)[1]
            if not serial_marker.isidentifier():
                raise ValueError("--serial-marker: %r is not a marker name" % (serial_marker,))
        else:
            break
        index += 1
    if mode is None:
        raise ValueError("say --worker or --list first")
    return mode, serial_marker, list(argv[index:])


def _pytest_or_none():
    """pytest, or None after saying on stderr why it cannot be used."""
    fix = "%s -m pip install 'pytest>=%s'" % (sys.executable, ".".join(map(str, MIN_PYTEST)))
    try:
        import pytest
    except ImportError as error:
        sys.stderr.write("%s: pytest is not installed for %s (%s); install it with: %s\n"
                         % (PROG, sys.executable, error, fix))
        return None
    version = getattr(pytest, "__version__", "unknown")
    found = []
    for part in version.split(".")[:2]:
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        found.append(int(digits) if digits else 0)
    if tuple(found) < MIN_PYTEST:
        sys.stderr.write("%s: %s has pytest %s, but the testr worker needs pytest %s or "
                         "later; upgrade it with: %s\n"
                         % (PROG, sys.executable, version, ".".join(map(str, MIN_PYTEST)), fix))
        return None
    return pytest


def main(argv=None, stdout=None, stdin=None):
    """Run the command line; returns the exit status.

    ``stdout`` is a binary stream for the packets (by default the process's
    stdout, claimed for packets only), ``stdin`` a binary stream of ids for
    ``--worker`` (by default the process's stdin, which tests then cannot
    read): see testr_worker_protocol.py's ``claim_stdout`` and ``claim_stdin``.
    """
    try:
        mode, serial_marker, pytest_args = parse_args(
            sys.argv[1:] if argv is None else list(argv))
    except ValueError as error:
        sys.stderr.write("%s: %s\n%s\n" % (PROG, error, USAGE))
        return EXIT_USAGE
    pytest = _pytest_or_none()
    if pytest is None:
        return EXIT_NO_PYTEST
    _mark_hooks(pytest)
    worker = mode == "--worker"
    own_process = stdout is None and stdin is None
    if worker and stdin is None:
        stdin = claim_stdin()
    if stdout is None:
        stdout = claim_stdout()
    writer = StreamWriter(stdout)
    plugin = _WorkerPlugin(pytest, writer, stdin, serial_marker, list_only=not worker)
    code = pytest.main(pytest_args, plugins=[plugin])
    writer.flush()
    if plugin.served or (plugin.listed and not worker):
        code = 0
    elif plugin.conftest_failure is not None and not plugin.listed:
        code = _serve_conftest_failure(plugin, writer, stdin if worker else None)
    elif plugin.listed:
        # Stopped after the listing (pytest.exit() at the session's end,
        # an internal error): pytest said why on stderr.
        code = int(code) or 1
    else:
        code = int(code)
        if code == 0:
            sys.stderr.write("%s: pytest ended without collecting tests (pytest args: %r)\n"
                             % (PROG, pytest_args))
            code = EXIT_USAGE
    if own_process and only_thread():
        # The run waits for the last worker's end: skip the interpreter's
        # teardown of every collected item (atexit handlers still run).
        exit_now(code)
    return code


def _serve_conftest_failure(plugin, writer, stdin):
    """pytest stopped at a conftest.py that raised at import: list it as the
    one test, which fails with its error; every other id is unknown."""
    node_id, text = plugin.conftest_failure
    write_listing(writer, [(node_id, None)])
    if stdin is None:
        return 0
    for test_id in IdReader(stdin):
        if test_id == node_id:
            write_standalone_result(writer, test_id, "fail", text)
        else:
            write_standalone_result(writer, test_id, "fail",
                                    "%s: not run: pytest stopped at %s, which failed to "
                                    "import\n" % (PROG, node_id))
    return 0


if __name__ == "__main__":
    sys.exit(main())
