//! A real pytest project (tests/fixtures/pytest_project: fixtures of every
//! scope, parametrized ids with a space and non-ASCII text, a failure, a
//! skip, an xfail, a setup error, a `serial` test and an `xdist_group`)
//! run end to end through the pytest worker shipped inside testr, on the
//! pytest of `TESTR_TEST_PYTHON` (`.ci/run` installs it).

use std::collections::BTreeMap;

use testr::model::Status;

use crate::harness::{Project, statuses_of};

fn test_python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the test interpreter has pytest; the tests say so and pass
/// when it has not (a developer's machine without the venv).
fn has_pytest() -> bool {
    let found = std::process::Command::new(test_python())
        .args(["-c", "import pytest"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("skipped: {} has no pytest", test_python());
    }
    found
}

/// A copy of the fixture project, configured by `testr init --pytest`.
fn project() -> Project {
    let project = Project::fixture("pytest_project");
    let init = project.testr(["init", "--pytest"]).run().success();
    assert!(
        init.stdout()
            .contains("worker_command=${PYTHON:-python3} $PYTEST_WORKER --worker\n"),
        "{}",
        init.stdout()
    );
    project
}

const STATUSES: [(&str, &str); 15] = [
    (
        "tests/test_scopes.py::TestWithClassFixture::test_first",
        "success",
    ),
    (
        "tests/test_scopes.py::TestWithClassFixture::test_second",
        "success",
    ),
    ("tests/test_scopes.py::test_function_fixture", "success"),
    ("tests/test_scopes.py::test_module_fixture", "success"),
    ("tests/test_statuses.py::test_expected_failure", "xfail"),
    ("tests/test_statuses.py::test_fails", "fail"),
    ("tests/test_statuses.py::test_group_first", "success"),
    ("tests/test_statuses.py::test_group_second", "success"),
    ("tests/test_statuses.py::test_param[1-2]", "success"),
    ("tests/test_statuses.py::test_param[with space]", "success"),
    ("tests/test_statuses.py::test_param[ünïcode]", "success"),
    ("tests/test_statuses.py::test_prints", "success"),
    ("tests/test_statuses.py::test_serial", "success"),
    ("tests/test_statuses.py::test_setup_error", "fail"),
    ("tests/test_statuses.py::test_skipped", "skip"),
];

#[test]
fn the_pytest_worker_runs_a_pytest_project_with_its_fixtures_and_markers() {
    if !has_pytest() {
        return;
    }
    let project = project();
    let log = project.path().join("fixtures.log");
    let run = project
        .testr(["run", "--concurrency", "2"])
        .command_env("PYTHON", test_python())
        .command_env("PYTEST_PROJECT_LOG", &log)
        .run()
        .status(1);
    let stdout = run.stdout();
    assert!(
        stdout.contains("testr_pytest_worker.py --worker\n"),
        "{stdout}"
    );
    assert!(stdout.contains("Ran 15 tests"), "{stdout}");
    assert!(
        stdout.contains("FAILED (id=0, failures=2, skips=1)"),
        "{stdout}"
    );
    assert_eq!(project.statuses(), statuses_of(&STATUSES));

    let results = project.results();
    let prints = &results["tests/test_statuses.py::test_prints"].attachments;
    assert_eq!(prints["stdout"], "hello from test_prints\n");
    assert_eq!(prints["stderr"], "complaint from test_prints\n");
    let skipped = &results["tests/test_statuses.py::test_skipped"].attachments;
    assert_eq!(skipped["reason"], "deliberately skipped");
    let setup = &results["tests/test_statuses.py::test_setup_error"].attachments["traceback"];
    assert!(
        setup.starts_with("error in setup of tests/test_statuses.py::test_setup_error:")
            && setup.contains("RuntimeError: deliberate error in setup"),
        "{setup}"
    );
    let failed = &results["tests/test_statuses.py::test_fails"];
    assert_eq!(failed.status, Some(Status::Fail));
    assert!(failed.attachments["traceback"].contains("AssertionError: deliberate failure"));

    // `serial` ran with nothing else running.
    let spans = project.spans();
    let serial = spans["tests/test_statuses.py::test_serial"];
    for (id, span) in &spans {
        if !id.ends_with("::test_serial") {
            assert!(
                span.1 <= serial.0 || span.0 >= serial.1,
                "{id} {span:?} overlaps test_serial {serial:?}"
            );
        }
    }
    // The `xdist_group` ran on one worker, in order.
    let workers = project.workers();
    let first = "tests/test_statuses.py::test_group_first";
    let second = "tests/test_statuses.py::test_group_second";
    assert_eq!(workers[first], workers[second]);
    assert!(spans[first].1 <= spans[second].0);

    // Every worker that used the session fixture set it up once and tore
    // it down once, last.
    let log = std::fs::read_to_string(&log).unwrap();
    let mut by_worker: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for line in log.lines() {
        let (pid, event) = line.split_once(' ').unwrap();
        by_worker.entry(pid).or_default().push(event);
    }
    for (pid, events) in &by_worker {
        let setups = events.iter().filter(|e| **e == "setup session").count();
        if setups > 0 {
            assert_eq!(setups, 1, "{pid}: {events:?}");
            assert_eq!(
                events.last(),
                Some(&"teardown session"),
                "{pid}: {events:?}"
            );
        }
    }
}

#[test]
fn node_ids_round_trip_through_failing_and_load_lists() {
    if !has_pytest() {
        return;
    }
    let project = project();
    let python = test_python();
    let listed = project
        .testr(["list-tests"])
        .command_env("PYTHON", &python)
        .run()
        .success()
        .stdout();
    let mut listed: Vec<&str> = listed.lines().collect();
    listed.sort_unstable();
    let ids: Vec<&str> = STATUSES.iter().map(|(id, _)| *id).collect();
    assert_eq!(listed, ids);

    project
        .testr(["run"])
        .command_env("PYTHON", &python)
        .run()
        .status(1);
    let failing = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(
        failing,
        "tests/test_statuses.py::test_fails\ntests/test_statuses.py::test_setup_error\n"
    );
    project
        .testr(["run", "--failing"])
        .command_env("PYTHON", &python)
        .run()
        .status(1);
    let again: Vec<String> = project.statuses().into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        again,
        [
            "tests/test_statuses.py::test_fails",
            "tests/test_statuses.py::test_setup_error"
        ]
    );

    let list = project.write(
        "ids.txt",
        "tests/test_statuses.py::test_param[with space]\ntests/test_statuses.py::test_param[ünïcode]\n",
    );
    project
        .testr(["run", "--load-list"])
        .arg(&list)
        .command_env("PYTHON", &python)
        .run()
        .success();
    assert_eq!(
        project.statuses(),
        [
            (
                "tests/test_statuses.py::test_param[with space]".to_owned(),
                "success".to_owned()
            ),
            (
                "tests/test_statuses.py::test_param[ünïcode]".to_owned(),
                "success".to_owned()
            ),
        ]
    );
}

#[test]
fn init_pytest_passes_its_arguments_to_pytest() {
    let project = Project::empty();
    let init = project
        .testr([
            "init",
            "--pytest",
            "-m",
            "not slow",
            "tests/unit",
            "-p",
            "no:cacheprovider",
        ])
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(project.path().join(".testr.conf")).unwrap(),
        "[DEFAULT]\nworker_command=${PYTHON:-python3} $PYTEST_WORKER --worker -m 'not slow' \
         tests/unit -p no:cacheprovider\n"
    );
    assert!(init.stdout().starts_with("Wrote "));
    project
        .testr(["init", "--pytest"])
        .run()
        .status(3)
        .one_line_error(&[".testr.conf already exists"]);
}

#[test]
fn pytest_missing_for_the_interpreter_is_one_line_saying_how_to_fix_it() {
    let project = Project::fixture("pytest_project");
    project.testr(["init", "--pytest"]).run().success();
    // The system's python3 runs in isolated mode, with no site-packages:
    // no pytest there.
    let run = project
        .testr(["run"])
        .command_env("PYTHON", "python3 -I -S")
        .run()
        .status(3);
    let stderr = run.stderr();
    assert!(stderr.contains("pip install"), "{stderr}");
    assert!(stderr.contains("pytest"), "{stderr}");
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn a_module_fixture_lives_while_the_next_test_needs_it_whatever_the_tests_take() {
    if !has_pytest() {
        return;
    }
    // Tests long enough that nothing would be queued behind them for their
    // speed alone; the worker must still know its next test before each
    // ends, or it tears the module's fixture down after every test.
    let project = Project::empty();
    project.write(
        "test_slow.py",
        "import os, time\n\
         import pytest\n\
         \n\
         @pytest.fixture(scope='module')\n\
         def resource():\n\
         \x20   with open(os.environ['SETUP_LOG'], 'a') as log:\n\
         \x20       log.write('setup %d\\n' % os.getpid())\n\
         \x20   yield\n\
         \n\
         def test_a(resource): time.sleep(0.2)\n\
         def test_b(resource): time.sleep(0.2)\n\
         def test_c(resource): time.sleep(0.2)\n",
    );
    project.testr(["init", "--pytest"]).run().success();
    let log = project.path().join("setups.log");
    // The first run has no history (tests go out one at a time near its
    // end); the second knows each test takes 0.2 s.
    for run in ["cold", "warm"] {
        std::fs::remove_file(&log).ok();
        project
            .testr(["run", "--concurrency", "1"])
            .command_env("PYTHON", test_python())
            .command_env("SETUP_LOG", &log)
            .run()
            .success();
        let setups = std::fs::read_to_string(&log).unwrap();
        assert_eq!(setups.lines().count(), 1, "{run} run: {setups}");
        assert_eq!(project.statuses().len(), 3, "{run} run");
    }
}

#[test]
fn a_long_test_is_not_held_behind_another_while_a_worker_is_still_collecting() {
    if !has_pytest() {
        return;
    }
    // worker-1 takes longer to collect: worker-0 starts the first test
    // while it lists. The second test must wait for worker-1, not queue
    // behind the first on worker-0.
    let project = Project::empty();
    project.write(
        "conftest.py",
        "import os, time\n\
         def pytest_collection_finish(session):\n\
         \x20   if os.environ.get('TESTR_WORKER') == '1':\n\
         \x20       time.sleep(0.5)\n",
    );
    project.write(
        "test_long.py",
        "import time\n\
         def test_one(): time.sleep(1.5)\n\
         def test_two(): time.sleep(1.5)\n",
    );
    project.testr(["init", "--pytest"]).run().success();
    project
        .testr(["run", "--concurrency", "2"])
        .command_env("PYTHON", test_python())
        .run()
        .success();
    let workers = project.workers();
    assert_ne!(
        workers["test_long.py::test_one"], workers["test_long.py::test_two"],
        "{workers:?}"
    );
}
