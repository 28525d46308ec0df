"""Tests of testr_worker_protocol.py, what the two shipped workers share
(standard library only).

Run with:  python3 -m unittest discover -s python -p 'test_*.py'

The packets are decoded by test_testr_subunit.py's strict decoder. The
encoder's bytes themselves are checked there, against python-subunit's,
through the name testr_subunit.py still gives it.
"""

import io
import os
import subprocess
import sys
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import testr_pytest  # noqa: E402 - imports without pytest
import testr_subunit  # noqa: E402
import testr_worker_protocol as protocol  # noqa: E402
from test_testr_subunit import by_test, decode  # noqa: E402

FAKE_WORKER = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "fake_worker.py")

WORKERS = (testr_subunit, testr_pytest)


class TestStandardLibraryOnly(unittest.TestCase):
    """The workers run in the project's interpreter, which may have nothing
    installed: what they share must import from the standard library."""

    def import_bare(self, module):
        """Import ``module`` with no site-packages (-S), no PYTHONPATH and no
        user site (-I), only this directory on the path; returns the names
        of the modules then loaded from this directory."""
        script = textwrap.dedent("""\
            import sys
            sys.path.insert(0, %r)
            import %s
            print(" ".join(sorted(
                name for name, module in sys.modules.items()
                if (getattr(module, "__file__", None) or "").startswith(%r))))
            """) % (HERE, module, HERE + os.sep)
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", script],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode("utf-8", "replace"))
        return proc.stdout.decode().split()

    def test_the_shared_module_needs_nothing_else(self):
        self.assertEqual(self.import_bare("testr_worker_protocol"), ["testr_worker_protocol"])

    def test_each_worker_needs_only_the_shared_module(self):
        self.assertEqual(self.import_bare("testr_subunit"),
                         ["testr_subunit", "testr_worker_protocol"])
        # pytest is imported only once the worker runs, to say it is missing.
        self.assertEqual(self.import_bare("testr_pytest"),
                         ["testr_pytest", "testr_worker_protocol"])


class TestOneCopy(unittest.TestCase):
    """Each worker uses the shared module's writer, reader and results, and
    keeps no copy of its own."""

    def test_both_workers_write_with_the_shared_writer(self):
        for worker in WORKERS:
            with self.subTest(worker=worker.__name__):
                self.assertIs(worker.StreamWriter, protocol.StreamWriter)

    def test_a_shared_name_in_a_worker_is_the_shared_object(self):
        for worker in WORKERS:
            for name in protocol.__all__:
                if hasattr(worker, name):
                    with self.subTest(worker=worker.__name__, name=name):
                        self.assertIs(getattr(worker, name), getattr(protocol, name))

    def test_no_worker_defines_a_writer_or_an_id_reader(self):
        for worker in WORKERS:
            own = [value for value in vars(worker).values()
                   if isinstance(value, type) and value.__module__ == worker.__name__]
            for cls in own:
                with self.subTest(worker=worker.__name__, cls=cls.__name__):
                    for method in ("encode_packet", "encode_event", "write_file",
                                   "next_line", "arrived"):
                        self.assertFalse(hasattr(cls, method), method)

    def test_the_unittest_workers_names_stay_importable(self):
        # Code written against testr_subunit.py before the split imports
        # these from it (testr's fake worker imports StreamWriter).
        from testr_subunit import (  # noqa: F401
            LISTING_DONE, TEXT_MIME, TRACEBACK_MIME, StreamWriter, encode_varint)
        self.assertIs(encode_varint, protocol.encode_varint)
        self.assertEqual(LISTING_DONE, "testr-listing-done")

    def test_the_fake_worker_still_imports_its_writer(self):
        proc = subprocess.run(
            [sys.executable, FAKE_WORKER, "--worker", "fake.pass_1"],
            input=b"fake.pass_1\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        tests = by_test(decode(proc.stdout))
        self.assertEqual(tests["fake.pass_1"]["statuses"], ["exists", "inprogress", "success"])


class RecordingStream(io.BytesIO):
    """Bytes written, and how many of them each flush saw."""

    def __init__(self):
        super().__init__()
        self.flushed_at = []

    def flush(self):
        self.flushed_at.append(len(self.getvalue()))


class TestListing(unittest.TestCase):

    def test_exists_packets_files_then_the_marker(self):
        out = RecordingStream()
        protocol.write_listing(
            protocol.StreamWriter(out),
            [("a", None), ("b", {"testr-group:g", "testr-exclusive"}), ("c", set())],
            [("import errors", "oops \u00e9")])
        events = decode(out.getvalue())
        self.assertEqual([(e["test_id"], e["status"], e["tags"]) for e in events[:3]],
                         [("a", "exists", None),
                          ("b", "exists", ["testr-exclusive", "testr-group:g"]),
                          ("c", "exists", None)])
        errors, marker = events[3:]
        self.assertEqual((errors["test_id"], errors["file_name"], errors["file_bytes"],
                          errors["runnable"], errors["eof"]),
                         (None, "import errors", "oops \u00e9".encode(), False, True))
        self.assertEqual((marker["test_id"], marker["status"], marker["file_name"],
                          marker["file_bytes"], marker["eof"], marker["mime"],
                          marker["runnable"]),
                         (None, None, "testr-listing-done", b"3", True,
                          "text/plain;charset=utf8", False))
        self.assertEqual(out.flushed_at, [len(out.getvalue())])

    def test_an_empty_listing_is_the_marker_alone(self):
        out = RecordingStream()
        protocol.write_listing(protocol.StreamWriter(out), [])
        (marker,) = decode(out.getvalue())
        self.assertEqual(marker["file_bytes"], b"0")


class TestResults(unittest.TestCase):

    def test_attachments_in_order_then_the_final_status_flushed(self):
        out = RecordingStream()
        protocol.write_result(protocol.StreamWriter(out), "t", "fail", "Traceback...",
                              "why", [("stdout", "out"), ("stderr", ""), ("log", "records")])
        events = decode(out.getvalue())
        self.assertEqual([(e["file_name"], e["mime"]) for e in events[:-1]],
                         [("reason", "text/plain;charset=utf8"),
                          ("stdout", "text/plain;charset=utf8"),
                          ("log", "text/plain;charset=utf8"),
                          ("traceback", "text/x-traceback;charset=utf8")])
        final = events[-1]
        self.assertEqual((final["test_id"], final["status"]), ("t", "fail"))
        self.assertIsNotNone(final["timestamp"])
        self.assertEqual(out.flushed_at, [len(out.getvalue())])

    def test_an_empty_reason_is_written_but_no_empty_traceback(self):
        out = RecordingStream()
        protocol.write_result(protocol.StreamWriter(out), "t", "skip", "", "")
        events = decode(out.getvalue())
        self.assertEqual([e["file_name"] for e in events], ["reason", None])

    def test_a_standalone_result_starts_too(self):
        out = RecordingStream()
        protocol.write_standalone_result(protocol.StreamWriter(out), "x", "fail", "no such test")
        test = by_test(decode(out.getvalue()))["x"]
        self.assertEqual(test["statuses"], ["inprogress", "fail"])
        self.assertEqual(len(test["timestamps"]), 2)
        self.assertEqual(test["files"]["traceback"][1], b"no such test")


class TestIdReader(unittest.TestCase):

    def pipe(self):
        read_fd, write_fd = os.pipe()
        reader = os.fdopen(read_fd, "rb")
        self.addCleanup(reader.close)
        self.write_fd = write_fd
        self.addCleanup(self.close_writer)
        return reader

    def close_writer(self):
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None

    def test_an_id_comes_as_soon_as_its_line_is_complete(self):
        ids = iter(protocol.IdReader(self.pipe()))
        os.write(self.write_fd, b"first\nsec")
        # The pipe stays open and holds half a line: the first id must not
        # wait for it (testr may send nothing more until its result is in).
        self.assertEqual(next(ids), "first")
        os.write(self.write_fd, b"ond\r\n\n\xff last")
        self.close_writer()
        # A "\r" before the "\n" goes, empty lines are left out, bytes that
        # are not UTF-8 are replaced, and a last line without "\n" counts.
        self.assertEqual(list(ids), ["second", "\ufffd last"])

    def test_what_has_arrived_is_seen_without_waiting_or_taking_it(self):
        reader = protocol.IdReader(self.pipe())
        os.write(self.write_fd, b"a\nb\nc")
        self.assertEqual(reader.next_line(), b"a")
        self.assertEqual(list(reader.arrived()), [b"b"])
        self.assertEqual(reader.next_line(), b"b")
        self.assertEqual(list(reader.arrived()), [])  # "c" is not a line yet
        os.write(self.write_fd, b"\nd\n")
        self.assertEqual(list(reader.arrived()), [b"c", b"d"])
        self.assertFalse(reader.eof)
        self.close_writer()
        self.assertEqual([reader.next_line(), reader.next_line(), reader.next_line()],
                         [b"c", b"d", None])
        self.assertTrue(reader.eof)

    def test_a_stream_in_memory_is_read_a_line_at_a_time(self):
        reader = protocol.IdReader(io.BytesIO(b"a\r\n\nb\nc"))
        self.assertEqual(list(reader), ["a", "b", "c"])
        self.assertEqual(list(reader.arrived()), [])

    def test_many_ids_in_one_read(self):
        ids = ["pkg.test_%d[x y]" % number for number in range(3000)]
        data = "".join(test_id + "\n" for test_id in ids).encode()
        self.assertLess(len(data), 65536)  # what one read takes, and a pipe holds
        reader = protocol.IdReader(self.pipe())
        os.write(self.write_fd, data)
        # Past the point where the reader drops the lines taken.
        got = [reader.next_line().decode() for _ in range(2500)]
        self.assertEqual(got, ids[:2500])
        self.assertEqual([line.decode() for line in reader.arrived()], ids[2500:])
        self.close_writer()
        self.assertEqual(list(reader), ids[2500:])


if __name__ == "__main__":
    unittest.main()
