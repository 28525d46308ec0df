#!/usr/bin/env python3
"""Run unittest tests and write their results to stdout as subunit v2.

This is the Python side of testr: a single file that needs nothing but the
standard library (Python 3.8+), so any project can feed testr without
installing python-subunit or testtools. testr embeds it and runs it as its
long-lived worker (``--worker``). It is split into parts:

* ``StreamWriter`` encodes subunit v2 packets (byte-for-byte what
  python-subunit's ``StreamResultToBytes`` writes for the same fields) and
  splits big attachments into chunks that fit the 4 MiB packet limit;
* ``SubunitTestResult`` is a ``unittest.TestResult`` that turns unittest's
  callbacks into subunit events, capturing each test's stdout and stderr;
* ``Worker`` runs tests one id at a time, keeping unittest's class and module
  fixtures up between consecutive tests as a normal run does;
* ``main()`` is the command line: discovery, listing and running.

Usage::

    python3 testr_subunit.py [--start-dir DIR] [--top-level-dir DIR]
                             [--pattern P] [--list] [--load-list FILE] [ids...]
    python3 testr_subunit.py --worker [--start-dir DIR] [--top-level-dir DIR]
                             [--pattern P]

Batch mode (the first form) runs every discovered test, or the given ids (a
module or class name selects every test under it), in discovery order.
``--list`` writes an ``exists`` packet per test instead.

Each test gives an ``inprogress`` packet (with a timestamp) when it starts,
then its attachments (``traceback``, ``reason``, ``stdout``, ``stderr``), then
its final status packet (with a timestamp). Exit status: 0 when nothing
failed, 1 when any test failed (failures and errors; expected failures and
unexpected successes do not count, as in testr's summary), 2 on a usage
error.

Worker mode (``--worker``, worker protocol v1, see docs/worker-protocol.md)
discovers the tests once, writes an ``exists`` packet per test and then the
end-of-listing marker (a packet with no test id carrying the file
``testr-listing-done`` whose content is the number of tests listed). Then it
reads test ids from stdin, one a line, and runs each as soon as its line
arrives, writing the same events as batch mode and flushing after each test.
Every id read gets a final status: an unknown id, or a test that unittest
does not run because its setUpClass or setUpModule failed, is reported as
failed (skipped when the fixture raised SkipTest). At the end of stdin it
tears the fixtures down and exits 0 whatever the outcomes; 2 on a usage error
or when discovery fails.
"""

import argparse
import io
import os
import struct
import sys
import time
import unittest
import unittest.util
import zlib

__all__ = [
    "StreamWriter",
    "SubunitTestResult",
    "Worker",
    "encode_varint",
    "discover",
    "filter_suite",
    "iter_tests",
    "main",
]

# --------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------

SIGNATURE = 0xB3
VERSION_2 = 0x2000
FLAG_TEST_ID = 0x0800
FLAG_ROUTE_CODE = 0x0400
FLAG_TIMESTAMP = 0x0200
FLAG_RUNNABLE = 0x0100
FLAG_TAGS = 0x0080
FLAG_FILE_CONTENT = 0x0040
FLAG_MIME_TYPE = 0x0020
FLAG_EOF = 0x0010

STATUS_CODES = {
    None: 0,
    "exists": 1,
    "inprogress": 2,
    "success": 3,
    "uxsuccess": 4,
    "skip": 5,
    "fail": 6,
    "xfail": 7,
}

# A packet's length is a varint of at most 3 bytes: 4194303 bytes in all.
MAX_PACKET_LENGTH = 4194303
# The largest varint value (4 bytes, top two bits set).
MAX_VARINT = (1 << 30) - 1

TEXT_MIME = "text/plain;charset=utf8"
TRACEBACK_MIME = "text/x-traceback;charset=utf8"

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
# Signature, flags and a 1- or 2-byte length, for encode_event.
_SIG_FLAGS = struct.Struct(">BHB")
_SIG_FLAGS_U16 = struct.Struct(">BHH")
_EVENT_FLAGS = VERSION_2 | FLAG_TEST_ID | FLAG_RUNNABLE


def encode_varint(value):
    """Encode a subunit v2 number: the top two bits of the first byte give
    the width (1-4 bytes), the remaining bits hold the value big-endian."""
    if value < 0:
        raise ValueError("negative value: %r" % (value,))
    if value < 0x40:
        return bytes((value,))
    if value < 0x4000:
        return _U16.pack(value | 0x4000)
    if value < 0x400000:
        value |= 0x800000
        return bytes((value >> 16, (value >> 8) & 0xFF, value & 0xFF))
    if value <= MAX_VARINT:
        return _U32.pack(value | 0xC0000000)
    raise ValueError("value too large to encode: %r" % (value,))


def _encode_utf8(text):
    # Captured output may hold lone surrogates, which strict UTF-8 refuses.
    return text.encode("utf-8", "backslashreplace")


def _encode_string(text):
    data = _encode_utf8(text)
    return encode_varint(len(data)) + data


class StreamWriter(object):
    """Writes subunit v2 packets to a binary stream.

    ``status()`` takes the same fields as python-subunit's
    ``StreamResultToBytes.status()`` and writes the same bytes, except that
    ``timestamp`` is an integer of nanoseconds since the epoch (what
    ``time.time_ns()`` returns) instead of a datetime, and tags are written
    sorted so that the output is deterministic.
    """

    # Attachment bytes per packet. Well below the 4 MiB packet limit, so that
    # the test id, file name and mime type always fit beside a chunk.
    chunk_size = 1 << 20

    def __init__(self, stream):
        self.stream = stream

    @staticmethod
    def encode_packet(
        test_id=None,
        test_status=None,
        test_tags=None,
        runnable=True,
        file_name=None,
        file_bytes=None,
        eof=False,
        mime_type=None,
        route_code=None,
        timestamp=None,
    ):
        """Return one packet as bytes. Raises ValueError when it would be
        longer than the format allows."""
        flags = VERSION_2 | STATUS_CODES[test_status]
        # Fields go in the order the format fixes: timestamp, test id, tags,
        # mime type, file content, route code. Truthiness tests (tags, mime)
        # follow python-subunit, which leaves out empty ones.
        body = []
        if timestamp is not None:
            flags |= FLAG_TIMESTAMP
            seconds, nanos = divmod(timestamp, 1000000000)
            body.append(_U32.pack(seconds))
            body.append(encode_varint(nanos))
        if test_id is not None:
            flags |= FLAG_TEST_ID
            body.append(_encode_string(test_id))
        if test_tags:
            flags |= FLAG_TAGS
            body.append(encode_varint(len(test_tags)))
            body.extend(_encode_string(tag) for tag in sorted(test_tags))
        if runnable:
            flags |= FLAG_RUNNABLE
        if mime_type:
            flags |= FLAG_MIME_TYPE
            body.append(_encode_string(mime_type))
        if file_name is not None:
            flags |= FLAG_FILE_CONTENT
            if file_bytes is None:
                file_bytes = b""
            body.append(_encode_string(file_name))
            body.append(encode_varint(len(file_bytes)))
            body.append(bytes(file_bytes))
        if eof:
            flags |= FLAG_EOF
        if route_code is not None:
            flags |= FLAG_ROUTE_CODE
            body.append(_encode_string(route_code))
        body = b"".join(body)

        # The length counts the whole packet, its own varint included, so the
        # varint's width depends on the length it encodes. 1 (signature) +
        # 2 (flags) + body + 4 (CRC), then add the width that fits.
        base = 7 + len(body)
        if base <= 0x3F - 1:
            length = base + 1
        elif base <= 0x3FFF - 2:
            length = base + 2
        elif base <= MAX_PACKET_LENGTH - 3:
            length = base + 3
        else:
            raise ValueError("packet too long: %d bytes" % (base + 3,))
        head = bytes((SIGNATURE,)) + _U16.pack(flags) + encode_varint(length)
        content = head + body
        return content + _U32.pack(zlib.crc32(content) & 0xFFFFFFFF)

    def status(self, **fields):
        """Write one packet; see ``encode_packet`` for the fields."""
        self.stream.write(self.encode_packet(**fields))

    @staticmethod
    def encode_event(test_id, test_status, timestamp=None):
        """The same bytes as ``encode_packet(test_id=..., test_status=...,
        timestamp=...)``, faster: the packets written for every test (its
        start and its end) take this path."""
        id_bytes = _encode_utf8(test_id)
        size = len(id_bytes)
        flags = _EVENT_FLAGS | STATUS_CODES[test_status]
        if timestamp is None:
            body = encode_varint(size) + id_bytes
        else:
            flags |= FLAG_TIMESTAMP
            seconds, nanos = divmod(timestamp, 1000000000)
            body = _U32.pack(seconds) + encode_varint(nanos) + encode_varint(size) + id_bytes
        base = 7 + len(body)
        if base <= 0x3F - 1:
            head = _SIG_FLAGS.pack(SIGNATURE, flags, base + 1)
        elif base <= 0x3FFF - 2:
            head = _SIG_FLAGS_U16.pack(SIGNATURE, flags, (base + 2) | 0x4000)
        else:
            # Rare (an id over 16 KiB): the general encoder handles it.
            return StreamWriter.encode_packet(test_id=test_id, test_status=test_status,
                                              timestamp=timestamp)
        content = head + body
        return content + _U32.pack(zlib.crc32(content))

    def event(self, test_id, test_status, timestamp=None):
        """Write a packet with only a test id, a status and maybe a
        timestamp (see ``encode_event``)."""
        self.stream.write(self.encode_event(test_id, test_status, timestamp))

    def write_file(
        self, test_id, file_name, data, mime_type=None, timestamp=None,
        test_status=None, runnable=True,
    ):
        """Write a whole attachment, split into as many packets as needed:
        the mime type on the first, eof on the last. An empty attachment is
        one empty packet with eof."""
        data = memoryview(data)
        size = len(data)
        # Room left for content in one packet once the other fields are in,
        # with 4 bytes to spare for the length varints growing to 3 bytes.
        overhead = len(self.encode_packet(
            test_id=test_id, test_status=test_status, file_name=file_name,
            mime_type=mime_type, eof=True, timestamp=timestamp))
        chunk_size = min(self.chunk_size, MAX_PACKET_LENGTH - overhead - 4)
        if chunk_size <= 0:
            raise ValueError("test id or file name too long for a packet")
        offset = 0
        first = True
        while first or offset < size:
            end = min(offset + chunk_size, size)
            self.status(
                test_id=test_id,
                test_status=test_status,
                runnable=runnable,
                file_name=file_name,
                file_bytes=data[offset:end],
                mime_type=mime_type if first else None,
                eof=end >= size,
                timestamp=timestamp,
            )
            offset = end
            first = False

    def flush(self):
        self.stream.flush()


# --------------------------------------------------------------------------
# unittest -> subunit
# --------------------------------------------------------------------------


def _now():
    return time.time_ns()


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
        self._running = None

    # -- lifecycle ---------------------------------------------------------

    def startTest(self, test):
        super(SubunitTestResult, self).startTest(test)
        running = _Running(test)
        self._running = running
        self.writer.event(running.test_id, "inprogress", _now())
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
        self.writer.event(test_id, "inprogress", _now())
        self._emit_final(test_id, status, [traceback] if traceback else [], reason, "", "")

    def report_error(self, test_id, message):
        """Report a failure that unittest has no test for (an unknown id)."""
        self._emit_standalone(test_id, "fail", traceback=message)

    def report_skip(self, test_id, reason):
        """Report a test that was skipped without running."""
        self._emit_standalone(test_id, "skip", reason=reason)

    def _emit_final(self, test_id, status, tracebacks, reason, stdout, stderr):
        writer = self.writer
        if reason is not None:
            writer.write_file(test_id, "reason", _encode_utf8(reason), TEXT_MIME)
        if stdout:
            writer.write_file(test_id, "stdout", _encode_utf8(stdout), TEXT_MIME)
        if stderr:
            writer.write_file(test_id, "stderr", _encode_utf8(stderr), TEXT_MIME)
        if tracebacks:
            writer.write_file(test_id, "traceback",
                              _encode_utf8("\n".join(tracebacks)), TRACEBACK_MIME)
        writer.event(test_id, status, _now())
        writer.flush()
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


def discover(start_dir, pattern, top_level_dir):
    """Discover tests as ``python -m unittest discover`` does; returns
    (loader, suite)."""
    loader = unittest.TestLoader()
    suite = loader.discover(start_dir, pattern=pattern, top_level_dir=top_level_dir)
    return loader, suite


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

# The file, sent with no test id, that ends a worker's listing.
LISTING_DONE = "testr-listing-done"


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
        # id -> test, in discovery order. An id discovered twice (a test
        # class imported into a second test module) is listed and run once.
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
        event = self.writer.event
        for test_id in self.tests:
            event(test_id, "exists")
        if self.import_errors:
            self.writer.write_file(None, "import errors",
                                   _encode_utf8("\n".join(self.import_errors)),
                                   TEXT_MIME, runnable=False)
        self.writer.status(file_name=LISTING_DONE,
                           file_bytes=str(len(self.tests)).encode("ascii"),
                           eof=True, mime_type=TEXT_MIME, runnable=False)
        self.writer.flush()

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
                "testr_subunit.py: no test with id %s was found by discovery\n" % (test_id,))
            return
        result.awaited_id = test_id
        result.awaited_done = False
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
        its setUpClass or setUpModule failed (or raised SkipTest), or the
        result was told to stop."""
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
        readline = ids.readline
        run_test = self.run_test
        try:
            while True:
                # One line at a time, as soon as it is complete: a buffered
                # reader's readline returns without waiting for more input.
                line = readline()
                if not line:
                    break
                test_id = line.rstrip(b"\r\n").decode("utf-8", "replace")
                if test_id:
                    run_test(test_id)
        finally:
            self.finish()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _claim_stdout():
    """Return a binary stream on the process's real stdout for the packets,
    and point file descriptor 1 (hence sys.stdout, print() outside a test,
    and child processes) at stderr, so that nothing but packets reaches
    stdout. Text written outside a test (at import, in setUpClass) then shows
    on the terminal instead of being mixed into the packet stream."""
    sys.stdout.flush()
    try:
        packets = os.fdopen(os.dup(1), "wb")
        os.dup2(2, 1)
    except (OSError, AttributeError, ValueError):
        # No usable descriptors (stdout is not a real file): write the
        # packets to stdout's binary buffer and let the text mix in.
        return getattr(sys.stdout, "buffer", sys.stdout)
    return packets


def _claim_stdin():
    """Return a binary stream on the process's real stdin for the test ids,
    and point file descriptor 0 at the null device, so that a test (or a
    child process) that reads its stdin cannot eat the ids. Called before
    ``_claim_stdout``, so that descriptor 0 is in use (if only by the null
    device) when that one duplicates descriptor 1."""
    try:
        try:
            fd = os.dup(0)
        except OSError:
            fd = None  # descriptor 0 is closed: no ids will come
        null = os.open(os.devnull, os.O_RDONLY)
        if null != 0:
            os.dup2(null, 0)
            os.close(null)
    except (OSError, AttributeError, ValueError):
        return getattr(sys.stdin, "buffer", None) or io.BytesIO()
    return os.fdopen(fd, "rb") if fd is not None else io.BytesIO()


def _read_load_list(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="testr_subunit.py",
        description="Run unittest tests and write the results to stdout as subunit v2.",
    )
    parser.add_argument("--start-dir", "-s", default=".",
                        help="directory to start discovery in (default: .)")
    parser.add_argument("--top-level-dir", "-t", default=None,
                        help="top level directory of the project (default: the start dir)")
    parser.add_argument("--pattern", "-p", default="test*.py",
                        help="file name pattern of test modules (default: test*.py)")
    parser.add_argument("--list", action="store_true",
                        help="write an 'exists' packet per test id instead of running")
    parser.add_argument("--worker", action="store_true",
                        help="run as a long-lived worker (worker protocol v1): list the "
                             "tests, then run the ids read from stdin, one a line")
    parser.add_argument("--load-list", metavar="FILE", action="append", default=[],
                        help="run the test ids in FILE, one a line")
    parser.add_argument("ids", nargs="*", metavar="id",
                        help="test ids to run (or a module/class name: every test under it)")
    return parser


def main(argv=None, stdout=None, stdin=None):
    """Run the command line; returns the exit status.

    ``stdout`` is a binary stream for the packets; by default the process's
    stdout, claimed for packets only (see ``_claim_stdout``). ``stdin`` is a
    binary stream of test ids for ``--worker``; by default the process's
    stdin (see ``_claim_stdin``).
    """
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    if args.worker:
        if args.ids or args.load_list or args.list:
            parser.error("--worker takes no test ids, --load-list or --list: "
                         "it lists every test, then runs the ids read from stdin")
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
    writer = StreamWriter(stdout if stdout is not None else _claim_stdout())

    try:
        loader, suite = discover(args.start_dir, args.pattern, args.top_level_dir)
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
                              _encode_utf8("\n".join(errors)), TEXT_MIME, runnable=False)
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
    ids = stdin if stdin is not None else _claim_stdin()
    writer = StreamWriter(stdout if stdout is not None else _claim_stdout())
    try:
        loader, suite = discover(args.start_dir, args.pattern, args.top_level_dir)
    except (ImportError, TypeError, OSError) as error:
        sys.stderr.write("testr_subunit.py: cannot discover tests: %s\n" % (error,))
        return 2
    worker = Worker(suite, writer, getattr(loader, "errors", []))
    del suite, loader
    worker.write_listing()
    worker.serve(ids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
