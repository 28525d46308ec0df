"""Tests of testr_subunit.py (standard library only, but for the tests of
testscenarios suites, skipped when it is not installed).

Run with:  python3 -m unittest discover -s python -p 'test_*.py'

The encoder is checked against bytes written by python-subunit's
StreamResultToBytes for the same fields; the command line is checked by
running small generated test projects in a subprocess and decoding the
output with the strict decoder below (every byte must belong to a packet
with a valid CRC). Worker mode (--worker) is driven as testr drives it: ids
are written to the worker's stdin one at a time, and its packets are read as
they come.
"""

import io
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "testr_subunit.py")
sys.path.insert(0, HERE)

import testr_subunit  # noqa: E402
from testr_subunit import StreamWriter, encode_varint  # noqa: E402

STATUS_NAMES = {0: None, 1: "exists", 2: "inprogress", 3: "success",
                4: "uxsuccess", 5: "skip", 6: "fail", 7: "xfail"}

# 2024-05-17T12:34:56.789012Z in nanoseconds since the epoch.
TIMESTAMP = 1715949296 * 10**9 + 789012000


# --------------------------------------------------------------------------
# A small strict decoder, independent of the module under test.
# --------------------------------------------------------------------------


def read_varint(data, pos):
    first = data[pos]
    width = (first >> 6) + 1
    value = first & 0x3F
    for byte in data[pos + 1:pos + width]:
        value = (value << 8) | byte
    if pos + width > len(data):
        raise ValueError("truncated varint")
    return value, pos + width


def read_string(data, pos):
    size, pos = read_varint(data, pos)
    return data[pos:pos + size].decode("utf-8"), pos + size


def decode(data):
    """Decode a whole stream into a list of event dicts; raise ValueError
    on anything that is not a well-formed packet."""
    events = []
    pos = 0
    while pos < len(data):
        if data[pos] != 0xB3:
            raise ValueError("no packet signature at %d: %r" % (pos, data[pos:pos + 40]))
        (flags,) = struct.unpack(">H", data[pos + 1:pos + 3])
        if flags >> 12 != 2:
            raise ValueError("bad version at %d" % pos)
        length, body = read_varint(data, pos + 3)
        packet = data[pos:pos + length]
        if len(packet) != length:
            raise ValueError("truncated packet at %d" % pos)
        (crc,) = struct.unpack(">I", packet[-4:])
        if zlib.crc32(packet[:-4]) & 0xFFFFFFFF != crc:
            raise ValueError("bad CRC at %d" % pos)
        body -= pos
        event = {
            "status": STATUS_NAMES[flags & 0x7],
            "runnable": bool(flags & 0x0100),
            "eof": bool(flags & 0x0010),
            "length": length,
            "timestamp": None, "test_id": None, "tags": None, "mime": None,
            "file_name": None, "file_bytes": None, "route_code": None,
        }
        if flags & 0x0200:
            (seconds,) = struct.unpack(">I", packet[body:body + 4])
            nanos, body = read_varint(packet, body + 4)
            event["timestamp"] = seconds * 10**9 + nanos
        if flags & 0x0800:
            event["test_id"], body = read_string(packet, body)
        if flags & 0x0080:
            count, body = read_varint(packet, body)
            tags = []
            for _ in range(count):
                tag, body = read_string(packet, body)
                tags.append(tag)
            event["tags"] = tags
        if flags & 0x0020:
            event["mime"], body = read_string(packet, body)
        if flags & 0x0040:
            event["file_name"], body = read_string(packet, body)
            size, body = read_varint(packet, body)
            event["file_bytes"] = packet[body:body + size]
            body += size
        if flags & 0x0400:
            event["route_code"], body = read_string(packet, body)
        if body != length - 4:
            raise ValueError("packet at %d has %d stray bytes" % (pos, length - 4 - body))
        events.append(event)
        pos += length
    return events


def by_test(events):
    """Group events per test id: statuses in order, files joined from their
    chunks ({name: (mime, bytes)}), and the timestamps seen."""
    tests = {}
    for event in events:
        test = tests.setdefault(event["test_id"], {"statuses": [], "files": {}, "timestamps": []})
        if event["status"] is not None:
            test["statuses"].append(event["status"])
        if event["timestamp"] is not None:
            test["timestamps"].append(event["timestamp"])
        if event["file_name"] is not None:
            mime, data = test["files"].get(event["file_name"], (None, b""))
            test["files"][event["file_name"]] = (mime or event["mime"], data + event["file_bytes"])
    return tests


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


class TestVarint(unittest.TestCase):

    def test_widths_at_each_boundary(self):
        cases = [
            (0, "00"), (1, "01"), (63, "3f"),
            (64, "4040"), (16383, "7fff"),
            (16384, "804000"), (4194303, "bfffff"),
            (4194304, "c0400000"), (2**30 - 1, "ffffffff"),
        ]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(encode_varint(value).hex(), expected)
                self.assertEqual(read_varint(encode_varint(value), 0), (value, len(expected) // 2))

    def test_out_of_range(self):
        self.assertRaises(ValueError, encode_varint, -1)
        self.assertRaises(ValueError, encode_varint, 2**30)


class TestPacket(unittest.TestCase):
    # Expected bytes below were written by python-subunit's
    # StreamResultToBytes for the same fields.

    def test_readme_example_is_an_exists_packet(self):
        # b3 2901 0c 03666f6f 08555f1b: flags 0x2901 = version 2, test id,
        # runnable, status 1 ("exists").
        packet = StreamWriter.encode_packet(test_id="foo", test_status="exists")
        self.assertEqual(packet.hex(), "b329010c03666f6f08555f1b")
        (event,) = decode(packet)
        self.assertEqual(event["status"], "exists")
        self.assertTrue(event["runnable"])
        self.assertEqual(event["test_id"], "foo")

    def test_no_status(self):
        self.assertEqual(StreamWriter.encode_packet(test_id="foo").hex(),
                         "b329000c03666f6fc3098cbe")

    def test_timestamp(self):
        packet = StreamWriter.encode_packet(
            test_id="pkg.Test.test_x", test_status="inprogress", timestamp=TIMESTAMP)
        self.assertEqual(
            packet.hex(),
            "b32b022066474ef0ef075e200f706b672e546573742e746573745f780c3b5204")
        self.assertEqual(decode(packet)[0]["timestamp"], TIMESTAMP)

    def test_tags(self):
        packet = StreamWriter.encode_packet(
            test_id="pkg.Test.test_x", test_status="fail", timestamp=TIMESTAMP,
            test_tags={"worker-0"})
        self.assertEqual(
            packet.hex(),
            "b32b862a66474ef0ef075e200f706b672e546573742e746573745f78"
            "0108776f726b65722d300252097d")

    def test_file_content_mime_and_eof(self):
        packet = StreamWriter.encode_packet(
            test_id="t", file_name="reason", file_bytes=b"why",
            mime_type="text/plain;charset=utf8", eof=True)
        self.assertEqual(
            packet.hex(),
            "b329702d017417746578742f706c61696e3b636861727365743d75746638"
            "06726561736f6e037768792636fde5")

    def test_route_code_not_runnable(self):
        packet = StreamWriter.encode_packet(
            test_id="t", test_status="xfail", route_code="0", runnable=False)
        self.assertEqual(packet.hex(), "b32c070c0174013039352678")

    def test_length_counts_its_own_varint(self):
        # Around the 1->2 and 2->3 byte length boundaries.
        for size in list(range(40, 70)) + list(range(16350, 16400)):
            with self.subTest(size=size):
                packet = StreamWriter.encode_packet(test_id="i" * size)
                (event,) = decode(packet)
                self.assertEqual(event["length"], len(packet))

    def test_too_long(self):
        self.assertRaises(ValueError, StreamWriter.encode_packet,
                          file_name="f", file_bytes=b"x" * 4194300)


class TestWriteFile(unittest.TestCase):

    def write(self, data, chunk_size):
        out = io.BytesIO()
        writer = StreamWriter(out)
        writer.chunk_size = chunk_size
        writer.write_file("t", "stdout", data, "text/plain;charset=utf8")
        return decode(out.getvalue())

    def test_chunks_mime_first_eof_last(self):
        data = bytes(range(256)) * 10
        events = self.write(data, 1000)
        self.assertEqual(len(events), 3)
        self.assertEqual([e["mime"] for e in events], ["text/plain;charset=utf8", None, None])
        self.assertEqual([e["eof"] for e in events], [False, False, True])
        self.assertEqual(b"".join(e["file_bytes"] for e in events), data)
        self.assertTrue(all(e["test_id"] == "t" and e["file_name"] == "stdout" for e in events))

    def test_exact_multiple_of_chunk(self):
        events = self.write(b"ab" * 50, 50)
        self.assertEqual([len(e["file_bytes"]) for e in events], [50, 50])
        self.assertEqual([e["eof"] for e in events], [False, True])

    def test_empty_file_is_one_eof_packet(self):
        (event,) = self.write(b"", 1000)
        self.assertEqual(event["file_bytes"], b"")
        self.assertTrue(event["eof"])

    def test_default_chunks_fit_the_packet_limit(self):
        data = b"x" * (5 * 1024 * 1024)
        events = self.write(data, StreamWriter.chunk_size)
        self.assertGreater(len(events), 1)
        self.assertTrue(all(e["length"] <= 4194303 for e in events))
        self.assertEqual(b"".join(e["file_bytes"] for e in events), data)


# --------------------------------------------------------------------------
# The result class, in process
# --------------------------------------------------------------------------


class TestSubunitTestResult(unittest.TestCase):

    def run_cases(self, *cases):
        out = io.BytesIO()
        result = testr_subunit.SubunitTestResult(StreamWriter(out))
        unittest.TestSuite(cases).run(result)
        return result, by_test(decode(out.getvalue())), decode(out.getvalue())

    def test_capture_and_order(self):
        # Defined here, not at module level, so that discovery of this file
        # does not run it as a test of its own.
        class Sample(unittest.TestCase):
            def runTest(self):
                print("to stdout")
                sys.stderr.write("to stderr\n")

        real_stdout = sys.stdout
        result, tests, events = self.run_cases(Sample())
        self.assertIs(sys.stdout, real_stdout)
        test_id = Sample().id()
        self.assertEqual([e["status"] for e in events], ["inprogress", None, None, "success"])
        self.assertEqual(tests[test_id]["files"], {
            "stdout": ("text/plain;charset=utf8", b"to stdout\n"),
            "stderr": ("text/plain;charset=utf8", b"to stderr\n"),
        })
        self.assertEqual(len(tests[test_id]["timestamps"]), 2)
        self.assertLessEqual(*tests[test_id]["timestamps"])
        self.assertEqual(result.failed_count, 0)

    def test_failure_with_error_in_teardown_keeps_both_tracebacks(self):
        class Sample(unittest.TestCase):
            def runTest(self):
                self.fail("first problem")

            def tearDown(self):
                raise RuntimeError("second problem")

        result, tests, _ = self.run_cases(Sample())
        (test,) = tests.values()
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        mime, text = test["files"]["traceback"]
        self.assertEqual(mime, "text/x-traceback;charset=utf8")
        self.assertIn(b"first problem", text)
        self.assertIn(b"second problem", text)
        self.assertEqual(result.failed_count, 1)

    def test_subtest_failure_fails_the_test(self):
        class Sample(unittest.TestCase):
            def runTest(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 1)

        _, tests, _ = self.run_cases(Sample())
        (test,) = tests.values()
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertIn(b"(i=1)", test["files"]["traceback"][1])


# --------------------------------------------------------------------------
# The command line, in a subprocess
# --------------------------------------------------------------------------

SAMPLE_PROJECT = {
    "sample/__init__.py": "",
    "sample/test_outcomes.py": '''
        import os
        import sys
        import unittest

        print("printed at import")  # must not get into the packet stream

        class Outcomes(unittest.TestCase):

            @classmethod
            def setUpClass(cls):
                # One line per call, to check that it runs once per class.
                with open(os.environ["SETUP_LOG"], "a") as log:
                    log.write("setUpClass\\n")

            def test_pass(self):
                print("hello from test_pass")
                sys.stderr.write("complaint\\n")

            def test_fail(self):
                self.assertEqual(1, 2)

            def test_error(self):
                raise RuntimeError("kaput")

            @unittest.skip("not today")
            def test_skip(self):
                pass

            @unittest.expectedFailure
            def test_xfail(self):
                self.fail("known")

            @unittest.expectedFailure
            def test_uxsuccess(self):
                pass
    ''',
    "sample/test_fixtures.py": '''
        import unittest

        class BrokenClassFixture(unittest.TestCase):

            @classmethod
            def setUpClass(cls):
                raise ValueError("fixture is broken")

            def test_never_runs(self):
                pass

        class Fine(unittest.TestCase):

            def test_one(self):
                pass

            def test_two(self):
                pass
    ''',
}


class CommandLineTestCase(unittest.TestCase):

    project = SAMPLE_PROJECT

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="testr_subunit_")
        self.addCleanup(shutil.rmtree, self.dir)
        for path, text in self.project.items():
            full = os.path.join(self.dir, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as handle:
                handle.write(textwrap.dedent(text))
        self.setup_log = os.path.join(self.dir, "setup.log")

    def run_script(self, *args):
        env = dict(os.environ, SETUP_LOG=self.setup_log, PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run([sys.executable, SCRIPT] + list(args), cwd=self.dir, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # decode() refuses any byte outside a valid packet.
        return proc.returncode, decode(proc.stdout), proc.stderr

    def assert_started_then_ended(self, tests):
        """Each test (as by_test gives them) has an inprogress status, then
        one final status, each with a timestamp."""
        for test_id, test in tests.items():
            with self.subTest(test_id=test_id):
                self.assertEqual(test["statuses"][0], "inprogress")
                self.assertEqual(len(test["statuses"]), 2)
                self.assertEqual(len(test["timestamps"]), 2)

    def setup_calls(self):
        if not os.path.exists(self.setup_log):
            return 0
        with open(self.setup_log) as log:
            return len(log.readlines())


class TestCommandLine(CommandLineTestCase):

    def test_full_run(self):
        code, events, stderr = self.run_script()
        self.assertEqual(code, 1)
        tests = by_test(events)
        prefix = "sample.test_outcomes.Outcomes."
        final = {test_id: t["statuses"][-1] for test_id, t in tests.items()}
        self.assertEqual(final, {
            prefix + "test_pass": "success",
            prefix + "test_fail": "fail",
            prefix + "test_error": "fail",
            prefix + "test_skip": "skip",
            prefix + "test_xfail": "xfail",
            prefix + "test_uxsuccess": "uxsuccess",
            "setUpClass (sample.test_fixtures.BrokenClassFixture)": "fail",
            "sample.test_fixtures.Fine.test_one": "success",
            "sample.test_fixtures.Fine.test_two": "success",
        })
        self.assert_started_then_ended(tests)

        files = tests[prefix + "test_pass"]["files"]
        self.assertEqual(files["stdout"], ("text/plain;charset=utf8", b"hello from test_pass\n"))
        self.assertEqual(files["stderr"], ("text/plain;charset=utf8", b"complaint\n"))
        self.assertEqual(tests[prefix + "test_skip"]["files"]["reason"],
                         ("text/plain;charset=utf8", b"not today"))
        for name, expected in [("test_fail", b"AssertionError: 1 != 2"),
                               ("test_error", b"RuntimeError: kaput")]:
            mime, text = tests[prefix + name]["files"]["traceback"]
            self.assertEqual(mime, "text/x-traceback;charset=utf8")
            self.assertIn(b"Traceback (most recent call last)", text)
            self.assertIn(expected, text)
        fixture = tests["setUpClass (sample.test_fixtures.BrokenClassFixture)"]
        self.assertIn(b"ValueError: fixture is broken", fixture["files"]["traceback"][1])

        self.assertEqual(self.setup_calls(), 1)
        # Output outside tests goes to stderr, never into the packet stream.
        self.assertIn(b"printed at import", stderr)

    def test_every_packet_is_runnable_without_route_or_tags(self):
        _, events, _ = self.run_script()
        for event in events:
            self.assertTrue(event["runnable"])
            self.assertIsNone(event["tags"])
            self.assertIsNone(event["route_code"])

    def test_list(self):
        code, events, _ = self.run_script("--list")
        self.assertEqual(code, 0)
        self.assertEqual(set(e["status"] for e in events), {"exists"})
        ids = [e["test_id"] for e in events]
        self.assertEqual(len(ids), 9)
        self.assertIn("sample.test_outcomes.Outcomes.test_pass", ids)
        self.assertIn("sample.test_fixtures.BrokenClassFixture.test_never_runs", ids)
        self.assertEqual(self.setup_calls(), 0)

    def test_selected_ids_run_setupclass_once(self):
        code, events, _ = self.run_script(
            "sample.test_outcomes.Outcomes.test_skip",
            "sample.test_outcomes.Outcomes.test_pass")
        self.assertEqual(code, 0)
        tests = by_test(events)
        # Discovery order (test methods sort by name), not argument order.
        self.assertEqual(list(tests), ["sample.test_outcomes.Outcomes.test_pass",
                                       "sample.test_outcomes.Outcomes.test_skip"])
        self.assertEqual(self.setup_calls(), 1)

    def test_load_list(self):
        id_file = os.path.join(self.dir, "ids.txt")
        with open(id_file, "w") as handle:
            handle.write("sample.test_fixtures.Fine.test_two\n\nsample.test_outcomes.Outcomes.test_fail\n")
        code, events, _ = self.run_script("--load-list", id_file)
        self.assertEqual(code, 1)
        final = {k: v["statuses"][-1] for k, v in by_test(events).items()}
        self.assertEqual(final, {"sample.test_fixtures.Fine.test_two": "success",
                                 "sample.test_outcomes.Outcomes.test_fail": "fail"})

    def test_class_name_selects_its_tests(self):
        code, events, _ = self.run_script("sample.test_fixtures.Fine")
        self.assertEqual(code, 0)
        self.assertEqual(sorted(by_test(events)), ["sample.test_fixtures.Fine.test_one",
                                                   "sample.test_fixtures.Fine.test_two"])

    def test_unknown_id_is_reported_as_a_failure(self):
        code, events, _ = self.run_script("sample.test_fixtures.Fine.test_one", "no.such.test")
        self.assertEqual(code, 1)
        tests = by_test(events)
        self.assertEqual(tests["no.such.test"]["statuses"], ["inprogress", "fail"])
        self.assertIn(b"no.such.test", tests["no.such.test"]["files"]["traceback"][1])
        self.assertEqual(tests["sample.test_fixtures.Fine.test_one"]["statuses"][-1], "success")

    def test_usage_errors_exit_2(self):
        self.assertEqual(self.run_script("--no-such-option")[0], 2)
        self.assertEqual(self.run_script("--load-list", os.path.join(self.dir, "missing"))[0], 2)
        self.assertEqual(self.run_script("--start-dir", os.path.join(self.dir, "missing"))[0], 2)


class TestImportErrors(CommandLineTestCase):

    project = {
        "broken/__init__.py": "",
        "broken/test_broken.py": "import no_such_module_anywhere\n",
        "broken/test_ok.py": '''
            import unittest

            class Ok(unittest.TestCase):
                def test_ok(self):
                    pass
        ''',
    }

    def test_run_reports_the_import_error_as_a_failing_test(self):
        code, events, _ = self.run_script()
        self.assertEqual(code, 1)
        final = {k: v["statuses"][-1] for k, v in by_test(events).items()}
        self.assertEqual(final["broken.test_ok.Ok.test_ok"], "success")
        (failed,) = [k for k, v in final.items() if v == "fail"]
        self.assertIn("broken.test_broken", failed)

    def test_list_attaches_the_errors_and_exits_1(self):
        code, events, _ = self.run_script("--list")
        self.assertEqual(code, 1)
        (attachment,) = [e for e in events if e["file_name"] == "import errors"]
        self.assertIn(b"no_such_module_anywhere", attachment["file_bytes"])
        self.assertFalse(attachment["runnable"])
        self.assertTrue(attachment["eof"])


class TestBigOutput(CommandLineTestCase):

    project = {
        "big/__init__.py": "",
        "big/test_big.py": '''
            import unittest

            class Big(unittest.TestCase):
                def test_prints_a_lot(self):
                    print("y" * (6 * 1024 * 1024))
        ''',
    }

    def test_big_stdout_is_chunked_under_the_limit(self):
        code, events, _ = self.run_script()
        self.assertEqual(code, 0)
        chunks = [e for e in events if e["file_name"] == "stdout"]
        self.assertGreater(len(chunks), 1)
        self.assertTrue(all(e["length"] <= 4194303 for e in events))
        self.assertEqual(sum(len(e["file_bytes"]) for e in chunks), 6 * 1024 * 1024 + 1)
        self.assertEqual([e["eof"] for e in chunks], [False] * (len(chunks) - 1) + [True])
        self.assertEqual([e["mime"] is not None for e in chunks],
                         [True] + [False] * (len(chunks) - 1))


# --------------------------------------------------------------------------
# Worker mode (--worker), driven over pipes as testr drives it
# --------------------------------------------------------------------------

FINAL = ("success", "fail", "skip", "xfail", "uxsuccess")
LISTING_DONE = "testr-listing-done"


class WorkerProcess(object):
    """A worker started in a subprocess: ids go to its stdin, its packets
    are read one at a time, as they arrive. Every read has a deadline, so a
    worker that stops answering fails the test instead of hanging it."""

    timeout = 30.0

    def __init__(self, case, args, env, own_group=False, new_session=False, command=None):
        """Start ``command`` (by default testr_subunit.py ``--worker``) with
        ``args`` after it."""
        if command is None:
            command = [sys.executable, SCRIPT, "--worker"]
        self.case = case
        self.own_group = own_group or new_session
        self.stderr_file = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            list(command) + list(args), cwd=case.dir, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr_file,
            # As testr starts workers: each in a process group of its own,
            # all in one session.
            preexec_fn=os.setpgrp if own_group else None, start_new_session=new_session)
        case.addCleanup(self._cleanup)
        self.buffer = b""

    def _cleanup(self):
        if self.proc.poll() is None:
            if self.own_group:
                # With whatever it has in its group (a forked child). Not
                # reaped yet, so the group is surely still its own.
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.stderr_file.close()

    def stderr(self):
        self.stderr_file.seek(0)
        return self.stderr_file.read()

    def _fill(self):
        """Read what the worker wrote next; False at the end of its stdout."""
        fd = self.proc.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], self.timeout)
        if not ready:
            self.case.fail("the worker wrote nothing for %s s; stderr: %r"
                           % (self.timeout, self.stderr()))
        data = os.read(fd, 65536)
        if not data:
            return False
        self.buffer += data
        return True

    def read_packet(self):
        """The next packet as an event dict (strictly decoded); None when
        the worker closed its stdout."""
        while True:
            if len(self.buffer) >= 4:
                width = (self.buffer[3] >> 6) + 1
                if len(self.buffer) >= 3 + width:
                    length, _ = read_varint(self.buffer, 3)
                    if len(self.buffer) >= length:
                        (event,) = decode(self.buffer[:length])
                        self.buffer = self.buffer[length:]
                        return event
            if not self._fill():
                if self.buffer:
                    self.case.fail("the worker's stdout ends in a partial packet: %r"
                                   % (self.buffer,))
                return None

    def read_listing(self):
        """Packets up to and including the end-of-listing marker: returns
        (listed ids, other packets before the marker, the marker)."""
        ids = []
        others = []
        while True:
            event = self.read_packet()
            if event is None:
                self.case.fail("the worker ended before its listing was done; stderr: %r"
                               % (self.stderr(),))
            if event["test_id"] is None and event["file_name"] == LISTING_DONE:
                return ids, others, event
            if event["status"] == "exists":
                ids.append(event["test_id"])
            else:
                others.append(event)

    def send(self, *test_ids):
        self.send_bytes(b"".join(t.encode("utf-8") + b"\n" for t in test_ids))

    def send_bytes(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_until_final(self, test_id):
        """Packets up to and including the final status of ``test_id``."""
        events = []
        while True:
            event = self.read_packet()
            if event is None:
                self.case.fail("the worker ended before %s finished; stderr: %r"
                               % (test_id, self.stderr()))
            events.append(event)
            if event["test_id"] == test_id and event["status"] in FINAL:
                return events

    def run(self, test_id):
        """Send one id (stdin stays open) and return its events, by test."""
        self.send(test_id)
        return by_test(self.read_until_final(test_id))

    def read_until_eof(self):
        """The packets left, up to the end of the worker's stdout."""
        events = []
        while True:
            event = self.read_packet()
            if event is None:
                return events
            events.append(event)

    def close(self):
        """Close stdin; returns (exit status, the packets written after it)."""
        self.proc.stdin.close()
        events = []
        while True:
            event = self.read_packet()
            if event is None:
                break
            events.append(event)
        try:
            code = self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.case.fail("the worker did not exit at the end of its stdin")
        return code, events


class WorkerTestCase(CommandLineTestCase):

    def start_worker(self, *args):
        env = dict(os.environ, SETUP_LOG=self.setup_log, PYTHONDONTWRITEBYTECODE="1")
        return WorkerProcess(self, args, env)

    def log_lines(self):
        if not os.path.exists(self.setup_log):
            return []
        with open(self.setup_log) as log:
            return log.read().splitlines()


class TestWorker(WorkerTestCase):

    prefix = "sample.test_outcomes.Outcomes."

    def test_listing_ends_with_the_marker(self):
        _, batch_events, _ = self.run_script("--list")
        worker = self.start_worker()
        ids, others, marker = worker.read_listing()
        # Every test once, in discovery order, as --list gives them.
        self.assertEqual(ids, [e["test_id"] for e in batch_events])
        self.assertEqual(len(ids), 9)
        self.assertEqual(others, [])
        self.assertIsNone(marker["test_id"])
        self.assertIsNone(marker["status"])
        self.assertEqual(marker["file_bytes"], b"9")
        self.assertTrue(marker["eof"])
        self.assertEqual(marker["mime"], "text/plain;charset=utf8")
        self.assertEqual(worker.close(), (0, []))
        # Listing runs no fixture; output at import goes to stderr.
        self.assertEqual(self.setup_calls(), 0)
        self.assertIn(b"printed at import", worker.stderr())

    def test_runs_each_id_as_it_arrives(self):
        worker = self.start_worker()
        worker.read_listing()
        # One id at a time, stdin left open: each test's results must come
        # before the next id is sent.
        test = worker.run(self.prefix + "test_pass")[self.prefix + "test_pass"]
        self.assertEqual(test["statuses"], ["inprogress", "success"])
        self.assertEqual(len(test["timestamps"]), 2)
        self.assertEqual(test["files"]["stdout"],
                         ("text/plain;charset=utf8", b"hello from test_pass\n"))
        self.assertEqual(test["files"]["stderr"], ("text/plain;charset=utf8", b"complaint\n"))

        test = worker.run(self.prefix + "test_fail")[self.prefix + "test_fail"]
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertIn(b"AssertionError: 1 != 2", test["files"]["traceback"][1])

        test = worker.run(self.prefix + "test_skip")[self.prefix + "test_skip"]
        self.assertEqual(test["statuses"], ["inprogress", "skip"])
        self.assertEqual(test["files"]["reason"], ("text/plain;charset=utf8", b"not today"))

        # Empty lines are ignored, and a line may end in \r\n.
        worker.send_bytes(b"\n\r\n" + (self.prefix + "test_xfail\r\n").encode())
        tests = by_test(worker.read_until_final(self.prefix + "test_xfail"))
        self.assertEqual(list(tests), [self.prefix + "test_xfail"])
        self.assertEqual(tests[self.prefix + "test_xfail"]["statuses"], ["inprogress", "xfail"])

        self.assertEqual(self.setup_calls(), 1)
        # Failed tests do not make the worker fail.
        self.assertEqual(worker.close(), (0, []))

    def test_everything_sent_at_once_gives_every_id_a_result(self):
        worker = self.start_worker()
        ids, _, _ = worker.read_listing()
        worker.send(*ids)
        code, events = worker.close()
        self.assertEqual(code, 0)
        tests = by_test(events)
        final = {test_id: t["statuses"][-1] for test_id, t in tests.items()}
        self.assertEqual(final, {
            self.prefix + "test_pass": "success",
            self.prefix + "test_fail": "fail",
            self.prefix + "test_error": "fail",
            self.prefix + "test_skip": "skip",
            self.prefix + "test_xfail": "xfail",
            self.prefix + "test_uxsuccess": "uxsuccess",
            # As in batch mode, the fixture's error under its own name...
            "setUpClass (sample.test_fixtures.BrokenClassFixture)": "fail",
            # ...and the test it kept from running fails too, since every
            # id sent must get a result.
            "sample.test_fixtures.BrokenClassFixture.test_never_runs": "fail",
            "sample.test_fixtures.Fine.test_one": "success",
            "sample.test_fixtures.Fine.test_two": "success",
        })
        self.assert_started_then_ended(tests)
        fixture = tests["setUpClass (sample.test_fixtures.BrokenClassFixture)"]
        self.assertIn(b"ValueError: fixture is broken", fixture["files"]["traceback"][1])
        never = tests["sample.test_fixtures.BrokenClassFixture.test_never_runs"]
        self.assertIn(b"setUpClass (sample.test_fixtures.BrokenClassFixture) failed",
                      never["files"]["traceback"][1])
        self.assertEqual(self.setup_calls(), 1)

    def test_unknown_id_fails(self):
        worker = self.start_worker()
        worker.read_listing()
        test = worker.run("no.such.test")["no.such.test"]
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertIn(b"no test with id no.such.test was loaded",
                      test["files"]["traceback"][1])
        # The worker carries on.
        tests = worker.run("sample.test_fixtures.Fine.test_one")
        self.assertEqual(tests["sample.test_fixtures.Fine.test_one"]["statuses"][-1], "success")
        self.assertEqual(worker.close(), (0, []))

    def test_usage_errors_exit_2(self):
        with open(os.path.join(self.dir, "ids.txt"), "w") as handle:
            handle.write("sample.test_fixtures.Fine.test_one\n")
        for args in (["--worker", "--load-list", "ids.txt"],
                     ["--worker", "--list"]):
            with self.subTest(args=args):
                code, events, stderr = self.run_script(*args)
                self.assertEqual(code, 2)
                self.assertEqual(events, [])
                self.assertIn(b"--worker", stderr)

    def test_failed_discovery_exits_2_before_the_marker(self):
        code, events, stderr = self.run_script(
            "--worker", "--start-dir", os.path.join(self.dir, "missing"))
        self.assertEqual(code, 2)
        self.assertEqual(events, [])
        self.assertIn(b"cannot discover tests", stderr)


FIXTURE_PROJECT = {
    "fix/__init__.py": "",
    "fix/log.py": '''
        import os

        def log(line):
            with open(os.environ["SETUP_LOG"], "a") as handle:
                handle.write(line + "\\n")
    ''',
    "fix/test_one.py": '''
        import sys
        import unittest
        from fix.log import log

        def setUpModule():
            print("printed in setUpModule")
            log("setUpModule one")

        def tearDownModule():
            log("tearDownModule one")

        class A(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                print("printed in setUpClass")
                log("setUpClass A")

            @classmethod
            def tearDownClass(cls):
                log("tearDownClass A")

            def test_1(self):
                log("A.test_1")

            def test_2(self):
                log("A.test_2")

            def test_3(self):
                log("A.test_3")

            def test_reads_stdin(self):
                # The ids must not be readable by the tests.
                self.assertEqual(sys.stdin.read(), "")

            def test_subtests(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 1)

        class B(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass B")

            @classmethod
            def tearDownClass(cls):
                log("tearDownClass B")

            def test_1(self):
                log("B.test_1")
    ''',
    "fix/test_two.py": '''
        import unittest
        from fix.log import log

        def setUpModule():
            log("setUpModule two")

        def tearDownModule():
            log("tearDownModule two")

        class C(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass C")

            @classmethod
            def tearDownClass(cls):
                log("tearDownClass C")
                raise RuntimeError("tearDownClass C is broken")

            def test_1(self):
                log("C.test_1")

        class SkippedBySetUp(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise unittest.SkipTest("no database")

            def test_1(self):
                pass

            def test_2(self):
                pass

        @unittest.skip("whole class")
        class SkippedByDecorator(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass SkippedByDecorator")

            def test_1(self):
                pass
    ''',
    "fix/test_three.py": '''
        import unittest

        def setUpModule():
            raise RuntimeError("setUpModule three is broken")

        class D(unittest.TestCase):
            def test_1(self):
                pass

            def test_2(self):
                pass
    ''',
}


class TestWorkerFixtures(WorkerTestCase):

    project = FIXTURE_PROJECT

    def test_fixtures_stay_up_between_consecutive_tests(self):
        worker = self.start_worker()
        worker.read_listing()
        worker.run("fix.test_one.A.test_1")
        worker.run("fix.test_one.A.test_2")
        # Still set up after each test: set up once for both.
        self.assertEqual(self.log_lines(), [
            "setUpModule one", "setUpClass A", "A.test_1", "A.test_2"])
        worker.run("fix.test_one.B.test_1")
        worker.run("fix.test_one.A.test_3")
        self.assertEqual(self.log_lines()[4:], [
            "tearDownClass A", "setUpClass B", "B.test_1",
            # A class that comes back is set up again.
            "tearDownClass B", "setUpClass A", "A.test_3"])
        worker.run("fix.test_two.C.test_1")
        self.assertEqual(self.log_lines()[10:], [
            "tearDownClass A", "tearDownModule one",
            "setUpModule two", "setUpClass C", "C.test_1"])
        # Whatever is still set up is torn down at the end of stdin; the
        # error in tearDownClass is reported under its own name.
        code, events = worker.close()
        self.assertEqual(code, 0)
        self.assertEqual(self.log_lines()[15:], ["tearDownClass C", "tearDownModule two"])
        tests = by_test(events)
        self.assertEqual(list(tests), ["tearDownClass (fix.test_two.C)"])
        fixture = tests["tearDownClass (fix.test_two.C)"]
        self.assertEqual(fixture["statuses"], ["inprogress", "fail"])
        self.assertIn(b"tearDownClass C is broken", fixture["files"]["traceback"][1])
        # Text printed by fixtures never reaches the packet stream.
        self.assertIn(b"printed in setUpModule\n", worker.stderr())
        self.assertIn(b"printed in setUpClass\n", worker.stderr())

    def test_tests_cannot_read_the_ids(self):
        worker = self.start_worker()
        worker.read_listing()
        worker.send("fix.test_one.A.test_reads_stdin", "fix.test_one.A.test_1")
        tests = by_test(worker.read_until_final("fix.test_one.A.test_1"))
        self.assertEqual(tests["fix.test_one.A.test_reads_stdin"]["statuses"][-1], "success")
        self.assertEqual(tests["fix.test_one.A.test_1"]["statuses"][-1], "success")
        self.assertEqual(worker.close()[0], 0)

    def test_subtests(self):
        worker = self.start_worker()
        worker.read_listing()
        test = worker.run("fix.test_one.A.test_subtests")["fix.test_one.A.test_subtests"]
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertIn(b"(i=1)", test["files"]["traceback"][1])
        self.assertEqual(worker.close()[0], 0)

    def test_skips_in_class_fixtures(self):
        worker = self.start_worker()
        worker.read_listing()
        ids = ["fix.test_two.SkippedBySetUp.test_1", "fix.test_two.SkippedBySetUp.test_2",
               "fix.test_two.SkippedByDecorator.test_1"]
        worker.send(*ids)
        tests = by_test(worker.read_until_final(ids[-1]))
        final = {test_id: t["statuses"][-1] for test_id, t in tests.items()}
        self.assertEqual(final, {
            "setUpClass (fix.test_two.SkippedBySetUp)": "skip",
            "fix.test_two.SkippedBySetUp.test_1": "skip",
            "fix.test_two.SkippedBySetUp.test_2": "skip",
            "fix.test_two.SkippedByDecorator.test_1": "skip",
        })
        self.assertEqual(tests["fix.test_two.SkippedByDecorator.test_1"]["files"]["reason"][1],
                         b"whole class")
        self.assertIn(b"setUpClass (fix.test_two.SkippedBySetUp)",
                      tests["fix.test_two.SkippedBySetUp.test_2"]["files"]["reason"][1])
        self.assertNotIn("setUpClass SkippedByDecorator", self.log_lines())
        self.assertEqual(worker.close()[0], 0)

    def test_broken_setupmodule(self):
        worker = self.start_worker()
        worker.read_listing()
        worker.send("fix.test_three.D.test_1", "fix.test_three.D.test_2")
        tests = by_test(worker.read_until_final("fix.test_three.D.test_2"))
        self.assertEqual(list(tests), ["setUpModule (fix.test_three)",
                                       "fix.test_three.D.test_1", "fix.test_three.D.test_2"])
        self.assertIn(b"setUpModule three is broken",
                      tests["setUpModule (fix.test_three)"]["files"]["traceback"][1])
        for name in ("test_1", "test_2"):
            test = tests["fix.test_three.D." + name]
            self.assertEqual(test["statuses"], ["inprogress", "fail"])
            self.assertIn(b"setUpModule (fix.test_three) failed", test["files"]["traceback"][1])
        # The next module is set up as usual.
        worker.run("fix.test_one.A.test_1")
        self.assertEqual(self.log_lines(), ["setUpModule one", "setUpClass A", "A.test_1"])
        self.assertEqual(worker.close()[0], 0)


EXIT_PROJECT = {
    "ending/__init__.py": "",
    "ending/test_ending.py": """\
        import atexit
        import os
        import threading
        import time
        import unittest

        def log(line):
            with open(os.environ["SETUP_LOG"], "a") as handle:
                handle.write(line + "\\n")

        atexit.register(log, "atexit")

        class Finalized(object):
            # Its own references: the teardown clears the module's globals.
            def __del__(self, path=os.environ["SETUP_LOG"], open=open):
                with open(path, "a") as handle:
                    handle.write("finalized\\n")

        KEPT = Finalized()

        class Ending(unittest.TestCase):
            def test_plain(self):
                pass

            def test_leaves_a_thread(self):
                def late():
                    time.sleep(0.3)
                    log("thread done")
                threading.Thread(target=late).start()
    """,
}


class TestWorkerExit(WorkerTestCase):
    """At the end of its stdin the worker exits without the interpreter's
    teardown, unless a thread is still running."""

    project = EXIT_PROJECT
    prefix = "ending.test_ending.Ending."

    def test_atexit_handlers_run_but_the_teardown_is_skipped(self):
        worker = self.start_worker()
        worker.read_listing()
        worker.run(self.prefix + "test_plain")
        self.assertEqual(worker.close(), (0, []))
        self.assertEqual(self.log_lines(), ["atexit"])

    def test_a_thread_left_running_is_waited_for(self):
        worker = self.start_worker()
        worker.read_listing()
        worker.run(self.prefix + "test_leaves_a_thread")
        self.assertEqual(worker.close()[0], 0)
        # As a normal exit: the thread ends before the atexit handlers run.
        self.assertEqual(self.log_lines()[:2], ["thread done", "atexit"])


class TestWorkerImportErrors(WorkerTestCase):

    project = TestImportErrors.project

    def test_failed_imports_are_listed_and_runnable(self):
        worker = self.start_worker()
        ids, others, marker = worker.read_listing()
        self.assertIn("broken.test_ok.Ok.test_ok", ids)
        (failed,) = [i for i in ids if "broken.test_broken" in i]
        self.assertTrue(failed.startswith("unittest.loader._FailedTest."))
        self.assertEqual(marker["file_bytes"], str(len(ids)).encode())
        # The loader's errors come before the marker, with no test id.
        (attachment,) = others
        self.assertEqual(attachment["file_name"], "import errors")
        self.assertIsNone(attachment["test_id"])
        self.assertIn(b"no_such_module_anywhere", attachment["file_bytes"])

        test = worker.run(failed)[failed]
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertIn(b"no_such_module_anywhere", test["files"]["traceback"][1])
        test = worker.run("broken.test_ok.Ok.test_ok")["broken.test_ok.Ok.test_ok"]
        self.assertEqual(test["statuses"], ["inprogress", "success"])
        self.assertEqual(worker.close(), (0, []))


# --------------------------------------------------------------------------
# What to load: unittest's command line, in worker and batch mode
# --------------------------------------------------------------------------

GRAMMAR_PROJECT = {
    # The project's own code, which the tests import from the working
    # directory, as they do under python -m unittest.
    "mylib/__init__.py": "VALUE = 42\n",
    "synth/__init__.py": "",
    "synth/test_a.py": '''
        import unittest
        import mylib

        class A(unittest.TestCase):
            def test_1(self):
                self.assertEqual(mylib.VALUE, 42)

            def test_2(self):
                pass
    ''',
    "synth/test_b.py": '''
        import unittest

        class B(unittest.TestCase):
            def test_1(self):
                pass
    ''',
    # Found only with the pattern check_*.py.
    "synth/check_c.py": '''
        import unittest

        class C(unittest.TestCase):
            def test_1(self):
                pass
    ''',
    # Not a package: its modules are top level once it is the start dir.
    "tests/test_flat.py": '''
        import unittest
        import mylib

        class Flat(unittest.TestCase):
            def test_1(self):
                self.assertEqual(mylib.VALUE, 42)
    ''',
}

SYNTH_IDS = ["synth.test_a.A.test_1", "synth.test_a.A.test_2", "synth.test_b.B.test_1"]


class LoadingTestCase(WorkerTestCase):

    def list_and_run_all(self, *args):
        """Start a worker with ``args``, send it every id it lists, close
        its stdin; returns (listed ids, {id: final statuses in order},
        the packets after the listing). Fails unless it exits 0."""
        worker = self.start_worker(*args)
        ids, _, _ = worker.read_listing()
        worker.send(*ids)
        code, events = worker.close()
        self.assertEqual(code, 0, worker.stderr())
        finals = {}
        for event in events:
            if event["test_id"] is not None and event["status"] in FINAL:
                finals.setdefault(event["test_id"], []).append(event["status"])
        return ids, finals, events


class TestWorkerCommandLines(LoadingTestCase):
    """The arguments of `python -m unittest` (and of subunit.run,
    testtools.run and stestr's runner) after --worker say what to load."""

    project = GRAMMAR_PROJECT

    def test_each_form_lists_and_runs_what_unittest_loads(self):
        forms = [
            (["discover", "-t", ".", "synth"], SYNTH_IDS),
            (["discover", "-t", "./", "./synth"], SYNTH_IDS),
            # No arguments: start dir ".", which holds one package of tests.
            (["discover"], SYNTH_IDS),
            # A positional start dir that is not a package: it is the top.
            (["discover", "tests"], ["test_flat.Flat.test_1"]),
            (["discover", "synth", "check_*.py", "."], ["synth.check_c.C.test_1"]),
            (["discover", "-s", "synth", "-p", "check_*.py", "-t", "."],
             ["synth.check_c.C.test_1"]),
            (["DISCOVER", "--start-directory", "synth", "--top-level-directory", "."],
             SYNTH_IDS),
            # The options before any `discover`, as `testr init` writes them.
            (["--start-dir", "synth", "--top-level-dir", "."], SYNTH_IDS),
            (["-s", "synth", "-t", ".", "discover", "-p", "check_*.py"],
             ["synth.check_c.C.test_1"]),
            # Names: modules, a class, a test, in the order given.
            (["synth.test_b", "synth.test_a"],
             ["synth.test_b.B.test_1", "synth.test_a.A.test_1", "synth.test_a.A.test_2"]),
            (["synth.test_a.A", "synth.test_b.B.test_1"], SYNTH_IDS),
            (["synth.test_a.A.test_2"], ["synth.test_a.A.test_2"]),
            # A package loads what its own module holds, as with unittest.
            (["synth"], []),
        ]
        for args, expected in forms:
            with self.subTest(args=args):
                ids, finals, _ = self.list_and_run_all(*args)
                self.assertEqual(ids, expected)
                self.assertEqual(finals, {test_id: ["success"] for test_id in expected})

    def test_discovery_arguments_in_batch_mode(self):
        code, events, _ = self.run_script("discover", "-t", ".", "synth", "--list")
        self.assertEqual(code, 0)
        self.assertEqual([e["test_id"] for e in events], SYNTH_IDS)
        self.assertEqual(set(e["status"] for e in events), {"exists"})

        id_file = os.path.join(self.dir, "ids.txt")
        with open(id_file, "w") as handle:
            handle.write("synth.check_c.C.test_1\n")
        code, events, _ = self.run_script("--load-list", id_file, "discover", "synth",
                                          "check_*.py", ".")
        self.assertEqual(code, 0)
        self.assertEqual({k: v["statuses"] for k, v in by_test(events).items()},
                         {"synth.check_c.C.test_1": ["inprogress", "success"]})

    def test_a_missing_start_dir_is_named_on_one_line(self):
        for args in (["--worker", "discover", "no_such_dir"],
                     ["--worker", "discover", "-s", "no_such_dir"],
                     ["discover", "no_such_dir", "--list"]):
            with self.subTest(args=args):
                code, events, stderr = self.run_script(*args)
                self.assertEqual(code, 2)
                self.assertEqual(events, [])
                self.assertEqual(stderr.count(b"\n"), 1, stderr)
                self.assertIn(b"cannot discover tests", stderr)
                self.assertIn(b"no_such_dir", stderr)

    def test_usage_errors_exit_2(self):
        for args, message in [
                (["--worker", "discover", "synth", "test*.py", ".", "extra"],
                 b"discover takes at most START, PATTERN and TOP, not: synth test*.py . extra"),
                (["--worker", "--start-dir", "synth", "synth.test_a"],
                 b"go with discovery, not with test names"),
                (["discover", "--share-discovery"], b"--share-discovery goes with --worker")]:
            with self.subTest(args=args):
                code, events, stderr = self.run_script(*args)
                self.assertEqual(code, 2)
                self.assertEqual(events, [])
                self.assertIn(message, stderr)


LOAD_TESTS_PROJECT = {
    "mult/__init__.py": '''
        # A package that gathers its tests itself: discovery and loading it
        # by name both go through this.
        def load_tests(loader, standard_tests, pattern):
            from mult import test_mult
            standard_tests.addTests(loader.loadTestsFromModule(test_mult))
            return standard_tests
    ''',
    "mult/log.py": FIXTURE_PROJECT["fix/log.py"],
    "mult/test_mult.py": '''
        import unittest
        from mult.log import log

        class Doubling(unittest.TestCase):
            def __init__(self, methodName="runTest", factor=1):
                super(Doubling, self).__init__(methodName)
                self.factor = factor

            def id(self):
                return "%s(factor=%d)" % (super(Doubling, self).id(), self.factor)

            def test_double(self):
                log("double %d" % self.factor)

        class Once(unittest.TestCase):
            def test_once(self):
                log("once")

        def load_tests(loader, standard_tests, pattern):
            suite = unittest.TestSuite()
            suite.addTests(Doubling("test_double", factor) for factor in (2, 3))
            # The same test twice: one id.
            suite.addTests(loader.loadTestsFromTestCase(Once))
            suite.addTests(loader.loadTestsFromTestCase(Once))
            return suite
    ''',
    "grow/__init__.py": "",
    "grow/test_grow.py": '''
        import copy
        import unittest

        class Grows(unittest.TestCase):
            """Runs as two tests of other ids, which no loader can foresee."""

            def run(self, result=None):
                for n in (1, 2):
                    clone = copy.copy(self)
                    clone.id = lambda n=n: "%s[%d]" % (Grows.id(self), n)
                    unittest.TestCase.run(clone, result)

            def test_twice(self):
                pass
    ''',
}

MULT_IDS = ["mult.test_mult.Doubling.test_double(factor=2)",
            "mult.test_mult.Doubling.test_double(factor=3)",
            "mult.test_mult.Once.test_once"]


class TestLoadTestsProtocol(LoadingTestCase):

    project = LOAD_TESTS_PROJECT

    def test_the_listing_is_what_runs(self):
        for args in (["discover", "-t", ".", "mult"], ["mult"], ["mult.test_mult"]):
            with self.subTest(args=args):
                if os.path.exists(self.setup_log):
                    os.unlink(self.setup_log)
                ids, finals, _ = self.list_and_run_all(*args)
                self.assertEqual(ids, MULT_IDS)
                # One result per listed id, and nothing else; the test
                # added twice runs once.
                self.assertEqual(finals, {test_id: ["success"] for test_id in MULT_IDS})
                self.assertEqual(self.log_lines(), ["double 2", "double 3", "once"])

    def test_batch_mode_lists_what_it_runs(self):
        code, listed, _ = self.run_script("discover", "-t", ".", "mult", "--list")
        self.assertEqual(code, 0)
        code, events, _ = self.run_script("discover", "-t", ".", "mult")
        self.assertEqual(code, 0)
        ran = [e["test_id"] for e in events if e["status"] in FINAL]
        # As unittest runs the suite: the test added twice, twice.
        self.assertEqual(ran, MULT_IDS + ["mult.test_mult.Once.test_once"])
        self.assertEqual([e["test_id"] for e in listed], ran)

    def test_a_test_that_multiplies_when_run_does_not_fail(self):
        listed = "grow.test_grow.Grows.test_twice"
        worker = self.start_worker("grow.test_grow")
        self.assertEqual(worker.read_listing()[0], [listed])
        worker.send(listed)
        tests = by_test(worker.read_until_final(listed))
        self.assertEqual({k: v["statuses"] for k, v in tests.items()}, {
            listed + "[1]": ["inprogress", "success"],
            listed + "[2]": ["inprogress", "success"],
            listed: ["inprogress", "skip"],
        })
        reason = tests[listed]["files"]["reason"][1]
        self.assertIn(b"ran this test as other tests", reason)
        self.assertIn((listed + "[1], " + listed + "[2]").encode(), reason)
        self.assertEqual(worker.close(), (0, []))


try:
    import testscenarios  # noqa: F401
except ImportError:
    testscenarios = None

SCENARIOS_PROJECT = {
    "scen/__init__.py": "",
    "scen/log.py": FIXTURE_PROJECT["fix/log.py"],
    "scen/test_scen.py": '''
        import unittest
        import testscenarios
        from scen.log import log

        class Sized(testscenarios.WithScenarios, unittest.TestCase):
            scenarios = [("small", {"size": 1}), ("big", {"size": 100})]

            @classmethod
            def setUpClass(cls):
                log("setUpClass Sized")

            def test_positive(self):
                log("test_positive %d" % self.size)

            def test_small(self):
                self.assertLess(self.size, 10)

        class NoScenarios(testscenarios.TestWithScenarios):
            def test_plain(self):
                pass
    ''',
}

SIZED = "scen.test_scen.Sized."
SCENARIO_IDS = ["scen.test_scen.NoScenarios.test_plain",
                SIZED + "test_positive(small)", SIZED + "test_positive(big)",
                SIZED + "test_small(small)", SIZED + "test_small(big)"]


@unittest.skipIf(testscenarios is None, "testscenarios is not installed")
class TestScenarios(LoadingTestCase):
    """testscenarios' WithScenarios tests multiply themselves when they run:
    the listing holds their scenarios, each of which runs on its own."""

    project = SCENARIOS_PROJECT

    def test_the_listing_holds_the_scenarios(self):
        for args in ([], ["scen.test_scen"]):
            with self.subTest(args=args):
                ids, finals, _ = self.list_and_run_all(*args)
                self.assertEqual(ids, SCENARIO_IDS)
                expected = {test_id: ["success"] for test_id in SCENARIO_IDS}
                expected[SIZED + "test_small(big)"] = ["fail"]
                self.assertEqual(finals, expected)

    def test_a_scenario_runs_alone(self):
        worker = self.start_worker()
        worker.read_listing()
        tests = worker.run(SIZED + "test_positive(big)")
        self.assertEqual({k: v["statuses"] for k, v in tests.items()},
                         {SIZED + "test_positive(big)": ["inprogress", "success"]})
        self.assertEqual(self.log_lines(), ["setUpClass Sized", "test_positive 100"])
        test = worker.run(SIZED + "test_small(big)")[SIZED + "test_small(big)"]
        self.assertIn(b"100 not less than 10", test["files"]["traceback"][1])
        self.assertEqual(worker.close(), (0, []))

    def test_batch_mode_lists_and_selects_scenarios(self):
        code, events, _ = self.run_script("--list")
        self.assertEqual(code, 0)
        self.assertEqual([e["test_id"] for e in events], SCENARIO_IDS)
        code, events, _ = self.run_script(SIZED + "test_small(small)")
        self.assertEqual(code, 0)
        self.assertEqual({k: v["statuses"] for k, v in by_test(events).items()},
                         {SIZED + "test_small(small)": ["inprogress", "success"]})


IMPORT_FAILURES_PROJECT = dict(TestImportErrors.project, **{
    "broken/test_raises.py": 'raise RuntimeError("refuses to be imported")\n',
    "broken/test_skipped.py": 'import unittest\nraise unittest.SkipTest("needs a database")\n',
})


class TestImportFailuresByName(LoadingTestCase):
    """A module that cannot be imported is a failing test named after it,
    whether it was discovered or named; the others still run."""

    project = IMPORT_FAILURES_PROJECT

    def test_failed_modules_are_named_and_the_rest_runs(self):
        raised = b"RuntimeError: refuses to be imported"
        missing = b"No module named 'no_such_module_anywhere'"
        for args, broken in [
                (["broken.test_broken", "broken.test_raises", "broken.test_ok",
                  "broken.test_skipped"],
                 {"unittest.loader._FailedTest.test_broken": missing,
                  "unittest.loader._FailedTest.broken.test_raises": raised}),
                (["discover", "-t", ".", "broken"],
                 {"unittest.loader._FailedTest.broken.test_broken": missing,
                  "unittest.loader._FailedTest.broken.test_raises": raised})]:
            with self.subTest(args=args):
                worker = self.start_worker(*args)
                ids, others, _ = worker.read_listing()
                expected = dict({test_id: "fail" for test_id in broken}, **{
                    "broken.test_ok.Ok.test_ok": "success",
                    "unittest.loader.ModuleSkipped.broken.test_skipped": "skip"})
                self.assertEqual(sorted(ids), sorted(expected))
                (attachment,) = others
                self.assertEqual(attachment["file_name"], "import errors")
                worker.send(*ids)
                code, events = worker.close()
                self.assertEqual(code, 0)
                tests = by_test(events)
                self.assertEqual({k: v["statuses"][-1] for k, v in tests.items()}, expected)
                for test_id, text in broken.items():
                    self.assertIn(text, attachment["file_bytes"])
                    self.assertIn(text, tests[test_id]["files"]["traceback"][1])
                skipped = tests["unittest.loader.ModuleSkipped.broken.test_skipped"]
                self.assertEqual(skipped["files"]["reason"][1], b"needs a database")


# --------------------------------------------------------------------------
# --share-discovery: the workers of a profile discover once
# --------------------------------------------------------------------------

SHARED_PROJECT = {
    "shared/__init__.py": "",
    "shared/test_one.py": '''
        import os
        import signal
        import time
        import unittest

        # One line per import, to count them across the workers.
        with open(os.environ["IMPORT_LOG"], "a") as log:
            log.write("one %d\\n" % os.getpid())
        if os.environ.get("HANG_AT_IMPORT"):
            # A leader that never finishes its discovery: say so, then hang.
            open(os.environ["HANG_AT_IMPORT"], "w").close()
            time.sleep(60)

        class T(unittest.TestCase):

            def test_who(self):
                print(os.getpid(), os.getpgrp(), os.environ.get("TESTR_WORKER"))

            def test_pass(self):
                pass

            def test_exit_3(self):
                os._exit(3)

            def test_sigkill(self):
                os.kill(os.getpid(), signal.SIGKILL)

            def test_hang(self):
                time.sleep(60)
    ''',
    "shared/test_two.py": '''
        import os
        import unittest

        with open(os.environ["IMPORT_LOG"], "a") as log:
            log.write("two %d\\n" % os.getpid())

        class U(unittest.TestCase):

            def test_pass(self):
                pass
    ''',
}

SHARED_IDS = ["shared.test_one.T.test_exit_3", "shared.test_one.T.test_hang",
              "shared.test_one.T.test_pass", "shared.test_one.T.test_sigkill",
              "shared.test_one.T.test_who", "shared.test_two.U.test_pass"]


def wait_for(condition, what, timeout=10.0):
    """Poll ``condition`` until it is true; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


def process_gone(pid):
    """True when ``pid`` has ended (a zombie counts as ended: it runs
    nothing, and its parent may not be ours to wait for)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


SHARING = (hasattr(os, "fork") and hasattr(__import__("socket"), "send_fds")
           and testr_subunit.fcntl is not None)


@unittest.skipUnless(SHARING, "--share-discovery needs Unix and Python 3.9+")
class TestShareDiscovery(WorkerTestCase):

    project = SHARED_PROJECT

    def setUp(self):
        super(TestShareDiscovery, self).setUp()
        self.shared = os.path.join(self.dir, "shared-dir")
        os.mkdir(self.shared)
        self.import_log = os.path.join(self.dir, "imports.log")
        self.addCleanup(self._kill_server)

    def start(self, slot, shared=True, new_session=False, args=(), **env):
        """A worker as testr starts one: in a group of its own, with its
        slot number and the profile's shared directory."""
        env = dict(os.environ, IMPORT_LOG=self.import_log, TESTR_WORKER=str(slot),
                   PYTHONDONTWRITEBYTECODE="1", **env)
        env.pop("TESTR_SHARED_DIR", None)
        if shared:
            env["TESTR_SHARED_DIR"] = self.shared
        return WorkerProcess(self, ["--share-discovery"] + list(args), env,
                             own_group=not new_session, new_session=new_session)

    def imports(self):
        if not os.path.exists(self.import_log):
            return []
        with open(self.import_log) as log:
            return log.read().split("\n")[:-1]

    def server_pid(self):
        with open(os.path.join(self.shared, "fork-server.pid")) as pid_file:
            return int(pid_file.read())

    def _kill_server(self):
        # Only if a test failed half-way: normally it is gone already.
        try:
            pid = self.server_pid()
        except (OSError, ValueError):
            return
        if not process_gone(pid):
            os.kill(pid, signal.SIGKILL)

    def who(self, worker):
        """(pid, process group, TESTR_WORKER) of the process running the
        worker's tests."""
        test = worker.run("shared.test_one.T.test_who")["shared.test_one.T.test_who"]
        self.assertEqual(test["statuses"], ["inprogress", "success"])
        pid, pgid, slot = test["files"]["stdout"][1].decode().split()
        return int(pid), int(pgid), int(slot)

    def leader_and_followers(self, followers):
        """A leader, alone until its listing is done, then the followers."""
        leader = self.start(0)
        self.assertEqual(leader.read_listing()[0], SHARED_IDS)
        started = [self.start(slot) for slot in range(1, followers + 1)]
        for worker in started:
            self.assertEqual(worker.read_listing()[0], SHARED_IDS)
        return leader, started

    def test_workers_started_together_import_the_tests_once(self):
        workers = [self.start(slot) for slot in range(3)]
        for worker in workers:
            ids, others, marker = worker.read_listing()
            self.assertEqual(ids, SHARED_IDS)
            self.assertEqual(others, [])
            self.assertEqual(marker["file_bytes"], b"6")
        # Each module once, all in the same process: the leader's.
        imports = self.imports()
        self.assertEqual(sorted(line.split()[0] for line in imports), ["one", "two"])
        self.assertEqual(len(set(line.split()[1] for line in imports)), 1)
        leaders = []
        for slot, worker in enumerate(workers):
            # Each worker's tests run in a process of its own group, with its
            # own environment, and report on its own stdout.
            pid, pgid, their_slot = self.who(worker)
            self.assertEqual(pgid, worker.proc.pid)
            self.assertEqual(their_slot, slot)
            if pid == worker.proc.pid:
                leaders.append(slot)
            test = worker.run("shared.test_two.U.test_pass")["shared.test_two.U.test_pass"]
            self.assertEqual(test["statuses"], ["inprogress", "success"])
        self.assertEqual(len(leaders), 1)
        self.assertEqual(int(self.imports()[0].split()[1]), workers[leaders[0]].proc.pid)
        server = self.server_pid()
        for worker in workers:
            self.assertEqual(worker.close(), (0, []))
        wait_for(lambda: process_gone(server), "the fork server to exit")
        self.assertEqual(len(self.imports()), 2)

    def test_the_followers_exit_as_their_children_do(self):
        leader, (exits, killed) = self.leader_and_followers(2)
        exits.send("shared.test_one.T.test_exit_3")
        self.assertEqual(exits.proc.wait(exits.timeout), 3)
        killed.send("shared.test_one.T.test_sigkill")
        self.assertEqual(killed.proc.wait(killed.timeout), -signal.SIGKILL)
        # The test that ended its process never finished.
        statuses = by_test(killed.read_until_eof())["shared.test_one.T.test_sigkill"]
        self.assertEqual(statuses["statuses"], ["inprogress"])
        # The leader is not affected.
        test = leader.run("shared.test_one.T.test_pass")["shared.test_one.T.test_pass"]
        self.assertEqual(test["statuses"], ["inprogress", "success"])
        server = self.server_pid()
        self.assertEqual(leader.close(), (0, []))
        wait_for(lambda: process_gone(server), "the fork server to exit")
        self.assertEqual(len(self.imports()), 2)

    def test_killing_a_followers_group_kills_its_child(self):
        leader, (follower,) = self.leader_and_followers(1)
        child, _, _ = self.who(follower)
        self.assertNotEqual(child, follower.proc.pid)
        follower.send("shared.test_one.T.test_hang")
        event = follower.read_packet()
        self.assertEqual((event["test_id"], event["status"]),
                         ("shared.test_one.T.test_hang", "inprogress"))
        # What testr does on a timeout.
        os.killpg(follower.proc.pid, signal.SIGKILL)
        self.assertEqual(follower.proc.wait(follower.timeout), -signal.SIGKILL)
        wait_for(lambda: process_gone(child), "the follower's child to die")
        self.assertEqual(follower.read_until_eof(), [])
        # The server serves on: a replacement worker is forked at once.
        replacement = self.start(1)
        self.assertEqual(replacement.read_listing()[0], SHARED_IDS)
        self.assertEqual(self.who(replacement)[2], 1)
        self.assertEqual(replacement.close(), (0, []))
        self.assertEqual(leader.close(), (0, []))
        self.assertEqual(len(self.imports()), 2)

    def test_the_server_outlives_the_leader_while_followers_run(self):
        leader, (follower,) = self.leader_and_followers(1)
        server = self.server_pid()
        child, _, _ = self.who(follower)
        self.assertEqual(leader.close(), (0, []))
        # A replacement for the leader still gets the discovered suite.
        replacement = self.start(0)
        self.assertEqual(replacement.read_listing()[0], SHARED_IDS)
        self.assertNotEqual(self.who(replacement)[0], replacement.proc.pid)
        self.assertEqual(len(self.imports()), 2)
        self.assertFalse(process_gone(server))
        self.assertEqual(follower.close(), (0, []))
        self.assertEqual(replacement.close(), (0, []))
        wait_for(lambda: process_gone(server), "the fork server to exit")
        self.assertTrue(process_gone(child))
        # Gone with it: the socket. A late worker discovers on its own.
        self.assertFalse(os.path.exists(os.path.join(self.shared, "discovery.sock")))
        late = self.start(2)
        self.assertEqual(late.read_listing()[0], SHARED_IDS)
        self.assertEqual(late.close(), (0, []))
        self.assertEqual(len(self.imports()), 4)

    def test_a_follower_fails_when_the_server_dies(self):
        leader, (follower,) = self.leader_and_followers(1)
        child, _, _ = self.who(follower)
        os.kill(self.server_pid(), signal.SIGKILL)
        self.assertEqual(follower.proc.wait(follower.timeout), 1)
        self.assertIn(b"the fork server ended", follower.stderr())
        wait_for(lambda: process_gone(child), "the follower's child to be stopped")
        self.assertEqual(leader.close(), (0, []))

    def test_followers_discover_when_the_leader_dies_first(self):
        hanging = os.path.join(self.dir, "hanging")
        leader = self.start(0, HANG_AT_IMPORT=hanging)
        wait_for(lambda: os.path.exists(hanging), "the leader to start discovering")
        follower = self.start(1)
        os.killpg(leader.proc.pid, signal.SIGKILL)
        self.assertEqual(follower.read_listing()[0], SHARED_IDS)
        self.assertIn(b"discovering on its own", follower.stderr())
        pid, _, _ = self.who(follower)
        self.assertEqual(pid, follower.proc.pid)
        self.assertEqual(follower.close(), (0, []))
        self.assertEqual(leader.proc.wait(leader.timeout), -signal.SIGKILL)
        # The leader's import of test_one, then the follower's two.
        self.assertEqual(len(self.imports()), 3)

    def test_a_follower_the_server_cannot_serve_discovers_on_its_own(self):
        leader = self.start(0)
        leader.read_listing()
        # Its child could not join its process group (another session).
        elsewhere = self.start(1, new_session=True)
        # Another command: the leader's discovery is not what it asks for.
        other = self.start(2, args=["--pattern", "test_one.py"])
        self.assertEqual(elsewhere.read_listing()[0], SHARED_IDS)
        self.assertIn(b"cannot join the worker's process group", elsewhere.stderr())
        self.assertEqual(other.read_listing()[0], SHARED_IDS[:5])
        self.assertIn(b"differs from the leader's", other.stderr())
        for worker in (elsewhere, other):
            self.assertEqual(self.who(worker)[0], worker.proc.pid)
            self.assertEqual(worker.close(), (0, []))
        self.assertEqual(leader.close(), (0, []))
        self.assertEqual(len(self.imports()), 5)

    def test_without_a_shared_dir_each_worker_discovers(self):
        workers = [self.start(slot, shared=False) for slot in range(2)]
        for worker in workers:
            self.assertEqual(worker.read_listing()[0], SHARED_IDS)
            self.assertEqual(self.who(worker)[0], worker.proc.pid)
            self.assertEqual(worker.close(), (0, []))
        self.assertEqual(len(self.imports()), 4)


if __name__ == "__main__":
    unittest.main()
