"""Tests of testr_subunit.py (standard library only).

Run with:  python3 -m unittest discover -s python -p 'test_*.py'

The encoder is checked against bytes written by python-subunit's
StreamResultToBytes for the same fields; the command line is checked by
running small generated test projects in a subprocess and decoding the
output with the strict decoder below (every byte must belong to a packet
with a valid CRC).
"""

import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import textwrap
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
        for test_id, test in tests.items():
            with self.subTest(test_id=test_id):
                self.assertEqual(test["statuses"][0], "inprogress")
                self.assertEqual(len(test["statuses"]), 2)
                self.assertEqual(len(test["timestamps"]), 2)

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


if __name__ == "__main__":
    unittest.main()
