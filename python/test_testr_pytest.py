"""Tests of testr_pytest.py, the pytest worker (standard library only).

Run with:  python3 -m unittest discover -s python -p 'test_*.py'

Each test writes a small pytest project into a temporary directory and
drives the worker there as testr does: started the way testr's launcher
starts it, ids written to its stdin, its packets read as they come and
decoded by test_testr_subunit.py's strict decoder (every byte must belong
to a packet with a valid CRC). Most tests need pytest for the interpreter
running them, and are skipped without it.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_testr_subunit import FINAL, WorkerProcess, by_test, decode  # noqa: E402

try:
    import pytest
except ImportError:
    pytest = None

try:
    import xdist
except ImportError:
    xdist = None

needs_pytest = unittest.skipIf(
    pytest is None, "pytest is not installed for %s" % (sys.executable,))

# What testr's launcher does, with this directory instead of the launcher's.
LAUNCHER = ("import sys; sys.path.insert(0, %r); import testr_pytest; "
            "raise SystemExit(testr_pytest.main())" % (HERE,))

PROJECT_DIR = os.path.join(os.path.dirname(HERE), "tests", "fixtures", "pytest_project")


def worker_env(**extra):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **extra)
    # The project's configuration only, not the environment's.
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    return env


class PytestWorker(WorkerProcess):
    """test_testr_subunit's WorkerProcess, started as testr starts the
    pytest worker."""

    def __init__(self, case, args, env, python_args=()):
        super().__init__(case, args, env,
                         command=[sys.executable] + list(python_args) + ["-c", LAUNCHER])

    def read_listing_with_tags(self):
        """The listing as {id: tags} in order, checking that nothing but
        exists packets comes before the marker."""
        listed = {}
        while True:
            event = self.read_packet()
            if event is None:
                self.case.fail("the worker ended before its listing was done; stderr: %r"
                               % (self.stderr(),))
            if event["test_id"] is None and event["file_name"] == "testr-listing-done":
                self.case.assertEqual(event["file_bytes"], str(len(listed)).encode())
                self.case.assertTrue(event["eof"])
                self.case.assertEqual(event["mime"], "text/plain;charset=utf8")
                return listed
            self.case.assertEqual(event["status"], "exists", event)
            self.case.assertNotIn(event["test_id"], listed)
            listed[event["test_id"]] = sorted(event["tags"] or [])


class PytestTestCase(unittest.TestCase):

    project = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="testr_pytest_")
        self.addCleanup(shutil.rmtree, self.dir)
        files = dict(self.project)
        # Its own ini file pins the rootdir to the project, whatever lies above.
        files.setdefault("pytest.ini", "[pytest]\n")
        for path, text in files.items():
            full = os.path.join(self.dir, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w", encoding="utf-8") as handle:
                handle.write(textwrap.dedent(text))
        self.log = os.path.join(self.dir, "fixtures.log")
        self.flag = os.path.join(self.dir, "flag")

    def env(self):
        return worker_env(FIXTURE_LOG=self.log, FLAG=self.flag)

    def start(self, *args, **kwargs):
        return PytestWorker(self, args, self.env(), **kwargs)

    def run_worker(self, *args, ids=None):
        """Start a worker, send it ``ids`` and close its stdin, then read
        everything. Without ``ids``, send every id listed, once the listing
        is in. Returns (exit status, listing {id: tags}, results by test,
        stderr).

        Given ``ids`` are sent before the worker even reads stdin, so that
        it sees the end of stdin from the first test on: where the last
        test's teardown ends depends on that (TestSessionTeardownErrors).
        """
        worker = self.start("--worker", *args)
        if ids is not None:
            worker.send(*ids)
            worker.proc.stdin.close()
        listed = worker.read_listing_with_tags()
        if ids is None:
            worker.send(*listed)
        code, events = worker.close()
        return code, listed, by_test(events), worker.stderr()

    def run_command(self, *args, python_args=(), env=None):
        proc = subprocess.run(
            [sys.executable] + list(python_args) + ["-c", LAUNCHER] + list(args),
            cwd=self.dir, env=env or self.env(), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    def log_lines(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            return handle.read().splitlines()

    def assert_each_started_then_ended(self, tests):
        for test_id, test in tests.items():
            with self.subTest(test_id=test_id):
                self.assertEqual(len(test["statuses"]), 2, test["statuses"])
                self.assertEqual(test["statuses"][0], "inprogress")
                self.assertIn(test["statuses"][1], FINAL)
                self.assertEqual(len(test["timestamps"]), 2)
                self.assertLessEqual(test["timestamps"][0], test["timestamps"][1])

    def final(self, tests):
        return {test_id: test["statuses"][-1] for test_id, test in tests.items()}

    def text(self, tests, test_id, name):
        mime, data = tests[test_id]["files"][name]
        return mime, data.decode("utf-8")


# --------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------

OUTCOMES = {
    "test_outcomes.py": '''
        import logging
        import sys

        import pytest

        def test_pass():
            print("to stdout")
            sys.stderr.write("to stderr\\n")
            logging.getLogger("project").warning("a log record")

        def test_fail():
            assert 1 + 1 == 3

        @pytest.mark.skip(reason="not today")
        def test_skip_marked():
            pass

        def test_skip_inside():
            pytest.skip("decided at run time")

        @pytest.mark.xfail(reason="known bug")
        def test_xfail():
            assert False, "still broken"

        @pytest.mark.xfail(reason="maybe fixed")
        def test_xpass():
            pass

        @pytest.mark.xfail(reason="must fail", strict=True)
        def test_xpass_strict():
            pass

        @pytest.fixture
        def broken_setup():
            raise RuntimeError("setup went wrong")

        def test_setup_error(broken_setup):
            pass

        @pytest.fixture
        def broken_teardown():
            yield
            raise RuntimeError("teardown went wrong")

        def test_teardown_error(broken_teardown):
            pass

        def test_fail_and_teardown_error(broken_teardown):
            assert 0, "the call failed"

        def test_sys_exit():
            sys.exit(7)

        def test_after_exit():
            pass
    ''',
}

P = "test_outcomes.py::"


@needs_pytest
class TestOutcomes(PytestTestCase):

    project = OUTCOMES

    # One run serves every test of the class.
    outcome = None

    def setUp(self):
        super().setUp()
        if TestOutcomes.outcome is None:
            TestOutcomes.outcome = self.run_worker()
        self.code, self.listed, self.tests, self.stderr = TestOutcomes.outcome

    def test_every_listed_test_gets_its_status(self):
        self.assertEqual(self.code, 0)
        self.assertEqual(self.final(self.tests), {
            P + "test_pass": "success",
            P + "test_fail": "fail",
            P + "test_skip_marked": "skip",
            P + "test_skip_inside": "skip",
            P + "test_xfail": "xfail",
            P + "test_xpass": "uxsuccess",
            P + "test_xpass_strict": "fail",
            P + "test_setup_error": "fail",
            P + "test_teardown_error": "fail",
            P + "test_fail_and_teardown_error": "fail",
            P + "test_sys_exit": "fail",
            P + "test_after_exit": "success",
        })
        self.assertEqual(list(self.listed), list(self.tests))
        self.assert_each_started_then_ended(self.tests)

    def test_pytest_stays_quiet(self):
        # No header, dots or summary from pytest's terminal reporter.
        self.assertEqual(self.stderr, b"")

    def test_results_carry_no_tags(self):
        worker = self.start("--worker")
        worker.read_listing()
        worker.send(P + "test_pass", P + "test_fail")
        _, events = worker.close()
        self.assertTrue(events)
        for event in events:
            self.assertIsNone(event["tags"])
            self.assertIsNone(event["route_code"])

    def test_captured_output_and_log_records(self):
        files = self.tests[P + "test_pass"]["files"]
        self.assertEqual(files["stdout"], ("text/plain;charset=utf8", b"to stdout\n"))
        self.assertEqual(files["stderr"], ("text/plain;charset=utf8", b"to stderr\n"))
        mime, log = files["log"]
        self.assertEqual(mime, "text/plain;charset=utf8")
        self.assertIn(b"WARNING", log)
        self.assertIn(b"a log record", log)
        self.assertNotIn("traceback", files)

    def test_failure_text_is_pytests(self):
        mime, text = self.text(self.tests, P + "test_fail", "traceback")
        self.assertEqual(mime, "text/x-traceback;charset=utf8")
        # pytest's assertion rewriting explains the comparison.
        self.assertIn("assert (1 + 1) == 3", text)
        self.assertIn("test_outcomes.py:13: AssertionError", text)

    def test_skips_have_their_reason(self):
        self.assertEqual(self.text(self.tests, P + "test_skip_marked", "reason"),
                         ("text/plain;charset=utf8", "not today"))
        self.assertEqual(self.text(self.tests, P + "test_skip_inside", "reason")[1],
                         "decided at run time")

    def test_xfail_and_xpass(self):
        files = self.tests[P + "test_xfail"]["files"]
        self.assertEqual(files["reason"][1], b"known bug")
        self.assertIn(b"AssertionError: still broken", files["traceback"][1])
        self.assertEqual(self.tests[P + "test_xpass"]["files"]["reason"][1], b"maybe fixed")
        # As pytest says: a strict xfail that passes is a failure.
        self.assertIn("[XPASS(strict)] must fail",
                      self.text(self.tests, P + "test_xpass_strict", "traceback")[1])

    def test_errors_in_setup_and_teardown_say_which_phase(self):
        text = self.text(self.tests, P + "test_setup_error", "traceback")[1]
        self.assertTrue(text.startswith("error in setup of %stest_setup_error:\n" % P), text)
        self.assertIn("RuntimeError: setup went wrong", text)
        text = self.text(self.tests, P + "test_teardown_error", "traceback")[1]
        self.assertTrue(text.startswith("error in teardown of %stest_teardown_error:\n" % P),
                        text)
        self.assertIn("RuntimeError: teardown went wrong", text)
        # Both the call's failure and the teardown's error.
        text = self.text(self.tests, P + "test_fail_and_teardown_error", "traceback")[1]
        self.assertIn("AssertionError: the call failed", text)
        self.assertIn("error in teardown of %stest_fail_and_teardown_error:" % P, text)
        self.assertLess(text.index("the call failed"), text.index("error in teardown"))

    def test_sys_exit_fails_that_test_only(self):
        text = self.text(self.tests, P + "test_sys_exit", "traceback")[1]
        self.assertIn("SystemExit: 7", text)
        self.assertEqual(self.final(self.tests)[P + "test_after_exit"], "success")


@needs_pytest
class TestProtocol(PytestTestCase):

    project = dict(OUTCOMES, **{
        "test_stdio.py": '''
            import os
            import sys

            def test_reads_stdin():
                assert sys.stdin.read() == ""

            def test_prints_past_capture():
                print("printed with -s")
                os.write(1, b"written to fd 1\\n")
        ''',
    })

    def test_each_id_runs_as_it_arrives(self):
        worker = self.start("--worker")
        worker.read_listing()
        for name, status in [("test_fail", "fail"), ("test_pass", "success"),
                             ("test_xpass", "uxsuccess")]:
            # stdin stays open: each result comes without more input.
            tests = worker.run(P + name)
            self.assertEqual(self.final(tests), {P + name: status})
        code, events = worker.close()
        self.assertEqual((code, events), (0, []))

    def test_an_unknown_id_fails_and_the_worker_goes_on(self):
        code, _, tests, _ = self.run_worker(ids=["no/such.py::test_x", "", P + "test_pass"])
        self.assertEqual(code, 0)
        self.assertEqual(self.final(tests), {"no/such.py::test_x": "fail",
                                             P + "test_pass": "success"})
        self.assertIn("no test with node id no/such.py::test_x",
                      self.text(tests, "no/such.py::test_x", "traceback")[1])

    def test_ids_in_any_order_and_crlf(self):
        worker = self.start("--worker")
        worker.read_listing()
        worker.send_bytes(("%stest_after_exit\r\n%stest_pass\n" % (P, P)).encode())
        code, events = worker.close()
        self.assertEqual(code, 0)
        started = [e["test_id"] for e in events if e["status"] == "inprogress"]
        self.assertEqual(started, [P + "test_after_exit", P + "test_pass"])

    def test_list_mode_lists_and_exits(self):
        code, out, err = self.run_command("--list")
        self.assertEqual((code, err), (0, b""))
        events = decode(out)
        ids = [e["test_id"] for e in events if e["status"] == "exists"]
        self.assertEqual(len(ids), 14)
        self.assertEqual(ids[0], P + "test_pass")
        self.assertEqual(events[-1]["file_name"], "testr-listing-done")
        self.assertEqual(events[-1]["file_bytes"], b"14")

    def test_tests_cannot_read_the_ids_or_write_into_the_packets(self):
        # -s: pytest captures nothing, so the worker's own protection shows.
        code, _, tests, stderr = self.run_worker(
            "-s", ids=["test_stdio.py::test_reads_stdin", "test_stdio.py::test_prints_past_capture",
                       P + "test_pass"])
        self.assertEqual(code, 0)
        self.assertEqual(set(self.final(tests).values()), {"success"})
        self.assertEqual(len(tests), 3)
        # Text written to stdout outside pytest's capture lands on stderr.
        self.assertIn(b"printed with -s", stderr)
        self.assertIn(b"written to fd 1", stderr)

    def test_x_does_not_stop_a_worker(self):
        code, _, tests, _ = self.run_worker(
            "-x", ids=[P + "test_fail", P + "test_pass", P + "test_setup_error",
                       P + "test_after_exit"])
        self.assertEqual(code, 0)
        self.assertEqual(self.final(tests), {
            P + "test_fail": "fail", P + "test_pass": "success",
            P + "test_setup_error": "fail", P + "test_after_exit": "success"})


# --------------------------------------------------------------------------
# Listing: node ids, pytest's selection, markers
# --------------------------------------------------------------------------

@needs_pytest
class TestNodeIds(PytestTestCase):

    project = {
        "tests/test_params.py": '''
            import pytest

            @pytest.mark.parametrize("a, b", [(1, 2), ("x", "y")])
            def test_pair(a, b):
                pass

            # ids=, not pytest.param(id=...): pytest 7 escapes the latter
            # whatever its configuration says.
            @pytest.mark.parametrize("value", [1, 2, 3, 4],
                                     ids=["with space", "ünïcode", "a::b[c]", "tab\\there"])
            def test_named(value):
                pass

            class TestInClass:
                @pytest.mark.parametrize("n", [0, 1])
                def test_method(self, n):
                    pass
        ''',
    }

    expected = [
        "tests/test_params.py::test_pair[1-2]",
        "tests/test_params.py::test_pair[x-y]",
        "tests/test_params.py::test_named[with space]",
        "tests/test_params.py::test_named[\\xfcn\\xefcode]",
        "tests/test_params.py::test_named[a::b[c]]",
        "tests/test_params.py::test_named[tab\\there]",
        "tests/test_params.py::TestInClass::test_method[0]",
        "tests/test_params.py::TestInClass::test_method[1]",
    ]

    def test_ids_round_trip_exactly(self):
        code, listed, tests, _ = self.run_worker()
        self.assertEqual(code, 0)
        self.assertEqual(list(listed), self.expected)
        self.assertEqual(list(tests), self.expected)
        self.assertEqual(set(self.final(tests).values()), {"success"})

    def test_unicode_ids_when_pytest_does_not_escape_them(self):
        with open(os.path.join(self.dir, "pytest.ini"), "w") as handle:
            handle.write("[pytest]\ndisable_test_id_escaping_and_forfeit_all_rights_"
                         "to_community_support = true\n")
        code, listed, tests, _ = self.run_worker()
        self.assertEqual(code, 0)
        unicode_id = "tests/test_params.py::test_named[ünïcode]"
        self.assertIn(unicode_id, listed)
        self.assertEqual(self.final(tests)[unicode_id], "success")

    def test_pytest_selection_is_honoured(self):
        worker = self.start("--worker", "-k", "pair or method", "tests")
        self.assertEqual(list(worker.read_listing_with_tags()),
                         [i for i in self.expected if "pair" in i or "method" in i])


MARKERS = {
    "pytest.ini": '''
        [pytest]
        addopts = --strict-markers
        markers =
            alone: run by itself (the project's own name for it)
    ''',
    "test_markers.py": '''
        import pytest

        @pytest.mark.xdist_group("db")
        def test_group_positional():
            pass

        @pytest.mark.xdist_group(name="db")
        def test_group_keyword():
            pass

        @pytest.mark.serial
        def test_serial():
            pass

        @pytest.mark.alone
        def test_alone():
            pass

        @pytest.mark.serial
        @pytest.mark.xdist_group("db")
        def test_serial_in_group():
            pass

        @pytest.mark.xdist_group("cls")
        class TestGrouped:
            def test_one(self):
                pass

            def test_two(self):
                pass

        def test_plain():
            pass
    ''',
}


@needs_pytest
class TestMarkers(PytestTestCase):

    project = MARKERS

    def test_markers_become_tags_on_the_listing(self):
        worker = self.start("--worker")
        listed = worker.read_listing_with_tags()
        m = "test_markers.py::"
        self.assertEqual(listed, {
            m + "test_group_positional": ["testr-group:db"],
            m + "test_group_keyword": ["testr-group:db"],
            m + "test_serial": ["testr-exclusive"],
            m + "test_alone": [],
            m + "test_serial_in_group": ["testr-exclusive", "testr-group:db"],
            m + "TestGrouped::test_one": ["testr-group:cls"],
            m + "TestGrouped::test_two": ["testr-group:cls"],
            m + "test_plain": [],
        })
        # --strict-markers: serial and xdist_group are registered, so every
        # test runs.
        worker.send(*listed)
        code, events = worker.close()
        self.assertEqual(code, 0)
        self.assertEqual(set(self.final(by_test(events)).values()), {"success"})

    def test_serial_marker_can_be_renamed(self):
        # Without --strict-markers: "serial" is now a marker like any other,
        # which the project does not register.
        with open(os.path.join(self.dir, "pytest.ini"), "w") as handle:
            handle.write("[pytest]\nmarkers =\n    alone: run by itself\n")
        worker = self.start("--worker", "--serial-marker", "alone")
        listed = worker.read_listing_with_tags()
        self.assertEqual(len(listed), 8)
        self.assertEqual([i for i, tags in listed.items() if "testr-exclusive" in tags],
                         ["test_markers.py::test_alone"])

    def test_marker_selection(self):
        worker = self.start("--worker", "-m", "serial")
        self.assertEqual(list(worker.read_listing_with_tags()),
                         ["test_markers.py::test_serial", "test_markers.py::test_serial_in_group"])

    def test_tests_run_in_the_worker_despite_n_in_addopts(self):
        if xdist is None:
            self.skipTest("pytest-xdist is not installed")
        with open(os.path.join(self.dir, "pytest.ini"), "w") as handle:
            handle.write("[pytest]\naddopts = -n 2\n")
        with open(os.path.join(self.dir, "test_where.py"), "w") as handle:
            handle.write("import os\n\ndef test_where():\n"
                         "    print(os.environ.get('PYTEST_XDIST_WORKER', 'in the worker'))\n")
        code, listed, tests, _ = self.run_worker(ids=["test_where.py::test_where"])
        self.assertEqual(code, 0)
        self.assertEqual(len(listed), 9)
        self.assertEqual(tests["test_where.py::test_where"]["files"]["stdout"][1],
                         b"in the worker\n")


# --------------------------------------------------------------------------
# Fixtures: kept up across tests, torn down as pytest would
# --------------------------------------------------------------------------

FIXTURES = {
    "conftest.py": '''
        import os

        import pytest

        def log(text):
            with open(os.environ["FIXTURE_LOG"], "a") as handle:
                handle.write(text + "\\n")

        @pytest.fixture(scope="session")
        def session_fx():
            log("setup session")
            yield
            log("teardown session")

        @pytest.fixture(scope="session")
        def log_to():
            return log
    ''',
    "tests/test_m1.py": '''
        import os
        import time

        import pytest

        @pytest.fixture(scope="module")
        def module_fx(session_fx, log_to):
            log_to("setup module m1")
            yield
            log_to("teardown module m1")

        @pytest.fixture(scope="class")
        def class_fx(module_fx, log_to):
            log_to("setup class m1.C")
            yield
            log_to("teardown class m1.C")

        class TestC:
            def test_c1(self, class_fx, log_to):
                log_to("test m1.C.c1")

            def test_c2(self, class_fx, log_to):
                log_to("test m1.C.c2")

        @pytest.fixture
        def function_fx(module_fx, log_to):
            log_to("setup function")
            yield
            log_to("teardown function")

        def test_a(function_fx, log_to):
            log_to("test m1.a")

        def test_waits_for_the_flag(module_fx, log_to):
            deadline = time.time() + 20
            while not os.path.exists(os.environ["FLAG"]) and time.time() < deadline:
                time.sleep(0.01)
            log_to("test m1.waits")

        def test_b(module_fx, log_to):
            log_to("test m1.b")
    ''',
    "tests/test_m2.py": '''
        import pytest

        @pytest.fixture(scope="module")
        def module_fx(session_fx, log_to):
            log_to("setup module m2")
            yield
            log_to("teardown module m2")

        def test_a(module_fx, log_to):
            log_to("test m2.a")

        def test_b(module_fx, log_to):
            log_to("test m2.b")
    ''',
}

M1 = "tests/test_m1.py::"
M2 = "tests/test_m2.py::"


@needs_pytest
class TestFixtures(PytestTestCase):

    project = FIXTURES

    def setUp(self):
        super().setUp()
        # test_waits_for_the_flag waits only when a test wants it to.
        open(self.flag, "w").close()

    def test_queued_ids_tear_down_as_a_pytest_run_does(self):
        # The order and number of set ups and teardowns of plain pytest...
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                              cwd=self.dir, env=self.env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        expected = self.log_lines()
        os.unlink(self.log)
        self.assertEqual(expected, [
            "setup session", "setup module m1", "setup class m1.C", "test m1.C.c1",
            "test m1.C.c2", "teardown class m1.C", "setup function", "test m1.a",
            "teardown function", "test m1.waits", "test m1.b", "teardown module m1",
            "setup module m2", "test m2.a", "test m2.b", "teardown module m2",
            "teardown session"])
        # ...are the worker's when it gets every id ahead.
        code, _, tests, _ = self.run_worker()
        self.assertEqual(code, 0)
        self.assertEqual(set(self.final(tests).values()), {"success"})
        self.assertEqual(self.log_lines(), expected)

    def test_the_next_id_received_decides_what_is_torn_down(self):
        code, _, tests, _ = self.run_worker(
            ids=[M2 + "test_a", M1 + "test_b", M1 + "test_a", M2 + "test_b"])
        self.assertEqual(code, 0)
        self.assertEqual(self.log_lines(), [
            "setup session", "setup module m2", "test m2.a", "teardown module m2",
            "setup module m1", "test m1.b", "setup function", "test m1.a",
            "teardown function", "teardown module m1", "setup module m2", "test m2.b",
            "teardown module m2", "teardown session"])

    def test_ids_sent_one_at_a_time_keep_the_session_until_stdin_ends(self):
        worker = self.start("--worker")
        worker.read_listing()
        for test_id in [M1 + "test_a", M1 + "test_b", M2 + "test_a"]:
            # Each id only once the previous result is in: the worker never
            # knows its next test, so it keeps only the session's fixtures.
            self.assertEqual(self.final(worker.run(test_id)), {test_id: "success"})
        self.assertEqual(self.log_lines(), [
            "setup session", "setup module m1", "setup function", "test m1.a",
            "teardown function", "teardown module m1", "setup module m1", "test m1.b",
            "teardown module m1", "setup module m2", "test m2.a", "teardown module m2"])
        code, events = worker.close()
        self.assertEqual((code, events), (0, []))
        self.assertEqual(self.log_lines()[-1], "teardown session")
        self.assertEqual(self.log_lines().count("setup session"), 1)

    def test_an_id_that_arrives_during_a_test_keeps_its_fixtures(self):
        os.unlink(self.flag)
        worker = self.start("--worker")
        worker.read_listing()
        worker.send(M1 + "test_waits_for_the_flag")
        started = worker.read_packet()
        self.assertEqual((started["test_id"], started["status"]),
                         (M1 + "test_waits_for_the_flag", "inprogress"))
        # The test started with no next id in sight; the next one comes
        # before its teardown.
        worker.send(M1 + "test_b")
        open(self.flag, "w").close()
        events = worker.read_until_final(M1 + "test_b")
        self.assertEqual(self.final(by_test(events)),
                         {M1 + "test_waits_for_the_flag": "success", M1 + "test_b": "success"})
        # One module set up for both; after test_b, with nothing queued,
        # only the session's fixtures stay.
        self.assertEqual(self.log_lines(), [
            "setup session", "setup module m1", "test m1.waits", "test m1.b",
            "teardown module m1"])
        self.assertEqual(worker.close()[0], 0)
        self.assertEqual(self.log_lines()[-1], "teardown session")

    def test_the_same_id_twice_in_a_row(self):
        code, _, _, _ = self.run_worker(ids=[M1 + "test_a", M1 + "test_a", M1 + "test_b"])
        self.assertEqual(code, 0)
        self.assertEqual(self.log_lines(), [
            "setup session", "setup module m1", "setup function", "test m1.a",
            "teardown function", "setup function", "test m1.a", "teardown function",
            "test m1.b", "teardown module m1", "teardown session"])


@needs_pytest
class TestSessionTeardownErrors(PytestTestCase):

    project = {
        "conftest.py": '''
            import pytest

            @pytest.fixture(scope="session")
            def fragile():
                yield
                raise RuntimeError("session teardown failed")
        ''',
        "test_s.py": '''
            def test_one(fragile):
                pass

            def test_two(fragile):
                pass
        ''',
    }

    def test_the_last_test_when_stdin_ended_before_it_started(self):
        # As in a pytest run: the last test's teardown is the session's.
        code, _, tests, _ = self.run_worker(ids=["test_s.py::test_one", "test_s.py::test_two"])
        self.assertEqual(code, 0)
        self.assertEqual(self.final(tests), {"test_s.py::test_one": "success",
                                             "test_s.py::test_two": "fail"})
        self.assertIn("session teardown failed",
                      self.text(tests, "test_s.py::test_two", "traceback")[1])

    def test_as_a_result_of_its_own_after_the_last_test(self):
        worker = self.start("--worker")
        worker.read_listing()
        for test_id in ["test_s.py::test_one", "test_s.py::test_two"]:
            self.assertEqual(self.final(worker.run(test_id)), {test_id: "success"})
        code, events = worker.close()
        self.assertEqual(code, 0)
        tests = by_test(events)
        self.assertEqual(self.final(tests), {"pytest session teardown": "fail"})
        self.assertIn("RuntimeError: session teardown failed",
                      self.text(tests, "pytest session teardown", "traceback")[1])


# --------------------------------------------------------------------------
# Collection errors
# --------------------------------------------------------------------------

@needs_pytest
class TestCollectionErrors(PytestTestCase):

    project = {
        "tests/test_ok.py": "def test_ok():\n    pass\n",
        "tests/test_broken.py": "import os\n\n1 / 0\n",
        "tests/test_skipped_module.py": '''
            import pytest

            pytest.skip("not on this platform", allow_module_level=True)
        ''',
    }

    def test_broken_files_are_failing_tests_and_the_rest_runs(self):
        code, listed, tests, _ = self.run_worker()
        self.assertEqual(code, 0)
        self.assertEqual(list(listed), [
            "tests/test_ok.py::test_ok", "tests/test_broken.py", "tests/test_skipped_module.py"])
        self.assertEqual(self.final(tests), {
            "tests/test_ok.py::test_ok": "success",
            "tests/test_broken.py": "fail",
            "tests/test_skipped_module.py": "skip",
        })
        self.assert_each_started_then_ended(tests)
        text = self.text(tests, "tests/test_broken.py", "traceback")[1]
        self.assertTrue(text.startswith("error collecting tests/test_broken.py:\n"), text)
        self.assertIn("ZeroDivisionError", text)
        self.assertEqual(self.text(tests, "tests/test_skipped_module.py", "reason")[1],
                         "not on this platform")


@needs_pytest
class TestConftestErrorBelowTheRoot(PytestTestCase):

    project = {
        "tests/test_ok.py": "def test_ok():\n    pass\n",
        "tests/sub/conftest.py": "raise ValueError('broken sub conftest')\n",
        "tests/sub/test_under.py": "def test_under():\n    pass\n",
    }

    def test_a_failing_test_named_after_the_conftest(self):
        code, listed, tests, _ = self.run_worker()
        self.assertEqual(code, 0)
        if int(pytest.__version__.split(".")[0]) >= 8:
            expected = {"tests/test_ok.py::test_ok": "success", "tests/sub/conftest.py": "fail"}
        else:
            # pytest 7 stops collecting at such a conftest: nothing else is
            # collected, by plain pytest either.
            expected = {"tests/sub/conftest.py": "fail"}
        self.assertEqual(list(listed), list(expected))
        self.assertEqual(self.final(tests), expected)
        text = self.text(tests, "tests/sub/conftest.py", "traceback")[1]
        self.assertTrue(text.startswith("error importing tests/sub/conftest.py:\n"), text)
        self.assertIn("ValueError: broken sub conftest", text)


@needs_pytest
class TestRootConftestError(PytestTestCase):

    project = {
        "conftest.py": "import os\n\nraise RuntimeError('the root conftest is broken')\n",
        "tests/test_ok.py": "def test_ok():\n    pass\n",
    }

    def test_reported_as_a_failing_test_named_after_it(self):
        code, listed, tests, stderr = self.run_worker(ids=["conftest.py", "tests/test_ok.py::test_ok"])
        self.assertEqual(code, 0)
        self.assertEqual(listed, {"conftest.py": []})
        self.assertEqual(self.final(tests), {"conftest.py": "fail",
                                             "tests/test_ok.py::test_ok": "fail"})
        text = self.text(tests, "conftest.py", "traceback")[1]
        self.assertIn("RuntimeError: the root conftest is broken", text)
        # From the conftest's own frame, not pytest's import machinery.
        self.assertIn('conftest.py", line 3, in <module>', text.splitlines()[2])
        self.assertIn("pytest stopped at conftest.py",
                      self.text(tests, "tests/test_ok.py::test_ok", "traceback")[1])
        # pytest's own message stays on stderr.
        self.assertIn(b"the root conftest is broken", stderr)

    def test_list_mode(self):
        code, out, _ = self.run_command("--list")
        self.assertEqual(code, 0)
        self.assertEqual([e["test_id"] for e in decode(out)], ["conftest.py", None])


# --------------------------------------------------------------------------
# Leaving early, and bad command lines
# --------------------------------------------------------------------------

@needs_pytest
class TestExits(PytestTestCase):

    project = {
        "test_exits.py": '''
            import os

            import pytest

            def test_first():
                pass

            def test_pytest_exit():
                pytest.exit("enough")

            def test_after():
                pass

            def test_dies():
                os._exit(9)
        ''',
    }

    def test_os_exit_loses_no_earlier_result(self):
        worker = self.start("--worker")
        worker.read_listing()
        worker.send("test_exits.py::test_first", "test_exits.py::test_dies",
                    "test_exits.py::test_after")
        events = worker.read_until_eof()
        self.assertEqual(worker.proc.wait(30), 9)
        tests = by_test(events)
        self.assertEqual(tests["test_exits.py::test_first"]["statuses"],
                         ["inprogress", "success"])
        # Dead in the middle: testr fails the test that was running.
        self.assertEqual(tests["test_exits.py::test_dies"]["statuses"], ["inprogress"])
        self.assertNotIn("test_exits.py::test_after", tests)

    def test_pytest_exit_fails_that_test_and_the_worker_goes_on(self):
        code, _, tests, _ = self.run_worker(ids=[
            "test_exits.py::test_first", "test_exits.py::test_pytest_exit",
            "test_exits.py::test_after"])
        self.assertEqual(code, 0)
        self.assertEqual(self.final(tests), {"test_exits.py::test_first": "success",
                                             "test_exits.py::test_pytest_exit": "fail",
                                             "test_exits.py::test_after": "success"})
        self.assertIn("pytest.exit() was called: enough",
                      self.text(tests, "test_exits.py::test_pytest_exit", "traceback")[1])

    def test_usage_errors(self):
        code, out, err = self.run_command()
        self.assertEqual((code, out), (2, b""))
        self.assertIn(b"--worker or --list", err)
        code, out, err = self.run_command("--worker", "--serial-marker")
        self.assertEqual((code, out), (2, b""))
        self.assertIn(b"--serial-marker needs a marker name", err)
        # pytest's help (on stderr: stdout is for packets) is no listing.
        code, out, err = self.run_command("--worker", "--help")
        self.assertEqual((code, out), (2, b""))
        self.assertIn(b"usage:", err)
        self.assertIn(b"pytest ended without collecting tests", err)

    def test_pytest_usage_errors_end_the_worker_before_its_listing(self):
        for args in (["--no-such-pytest-option"], ["no/such/path"]):
            with self.subTest(args=args):
                code, out, err = self.run_command("--worker", *args)
                self.assertEqual((code, out), (4, b""))
                self.assertIn(b"ERROR", err)


class TestWithoutPytest(PytestTestCase):
    """Runs with an interpreter that cannot import the pytest installed
    for this one (-S: no site-packages; -I: no PYTHONPATH)."""

    bare = ["-I", "-S"]

    def setUp(self):
        super().setUp()
        probe = subprocess.run([sys.executable] + self.bare + ["-c", "import pytest"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode == 0:
            self.skipTest("%s imports pytest even with -I -S" % (sys.executable,))

    def test_missing_pytest_is_one_line_with_the_fix(self):
        code, out, err = self.run_command("--worker", python_args=self.bare)
        self.assertEqual((code, out), (3, b""))
        text = err.decode()
        self.assertEqual(text.count("\n"), 1, text)
        self.assertIn("pytest is not installed for %s" % (sys.executable,), text)
        self.assertIn("%s -m pip install 'pytest>=7.0'" % (sys.executable,), text)

    def test_too_old_pytest_says_which_version_is_needed(self):
        fake = os.path.join(self.dir, "old", "pytest")
        os.makedirs(fake)
        with open(os.path.join(fake, "__init__.py"), "w") as handle:
            handle.write("__version__ = '6.2.5'\n")
        launcher = ("import sys; sys.path.insert(0, %r); " % (os.path.dirname(fake),)) + LAUNCHER
        proc = subprocess.run([sys.executable] + self.bare + ["-c", launcher, "--worker"],
                              cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual((proc.returncode, proc.stdout), (3, b""))
        text = proc.stderr.decode()
        self.assertEqual(text.count("\n"), 1, text)
        self.assertIn("has pytest 6.2.5, but the testr worker needs pytest 7.0 or later", text)
        self.assertIn("-m pip install 'pytest>=7.0'", text)


# --------------------------------------------------------------------------
# The fixture project that testr's end-to-end test runs
# --------------------------------------------------------------------------

@needs_pytest
class TestFixtureProject(unittest.TestCase):
    """tests/fixtures/pytest_project reports what its README says."""

    def setUp(self):
        work = tempfile.mkdtemp(prefix="testr_pytest_project_")
        self.addCleanup(shutil.rmtree, work)
        self.dir = os.path.join(work, "project")
        shutil.copytree(PROJECT_DIR, self.dir)
        self.log = os.path.join(work, "fixtures.log")

    def log_events(self):
        """The log's events, without the pid in front; then empty it."""
        with open(self.log, encoding="utf-8") as handle:
            lines = [line.split(" ", 1)[1] for line in handle.read().splitlines()]
        os.unlink(self.log)
        return lines

    def test_counts_per_status_and_fixtures_as_pytest_runs_them(self):
        env = worker_env(PYTEST_PROJECT_LOG=self.log)
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                              cwd=self.dir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        summary = proc.stdout.splitlines()[-1]
        for part in (b"1 failed", b"11 passed", b"1 skipped", b"1 xfailed", b"1 error"):
            self.assertIn(part, summary)
        pytest_log = self.log_events()

        worker = PytestWorker(self, ["--worker"], env)
        listed = worker.read_listing_with_tags()
        worker.send(*listed)
        code, events = worker.close()
        self.assertEqual(code, 0, worker.stderr())
        tests = by_test(events)
        self.assertEqual(list(tests), list(listed))
        final = [t["statuses"][-1] for t in tests.values()]
        counts = {status: final.count(status) for status in set(final)}
        self.assertEqual(counts, {"success": 11, "fail": 2, "skip": 1, "xfail": 1})
        self.assertIn("tests/test_statuses.py::test_param[ünïcode]", listed)
        self.assertIn("tests/test_statuses.py::test_param[with space]", listed)
        s = "tests/test_statuses.py::"
        self.assertEqual({i: tags for i, tags in listed.items() if tags}, {
            s + "test_serial": ["testr-exclusive"],
            s + "test_group_first": ["testr-group:pair"],
            s + "test_group_second": ["testr-group:pair"]})
        self.assertEqual(self.log_events(), pytest_log)
        self.assertEqual((pytest_log[0], pytest_log[-1]), ("setup session", "teardown session"))


if __name__ == "__main__":
    unittest.main()
