//! A real unittest project (tests/fixtures/unittest_project: module and
//! class fixtures, a failure, a skip, an expected failure, a test that
//! prints) run end to end: through the Python worker shipped inside testr
//! (configured by hand, and as `testr init --unittest` writes it), and through the classic `python -m subunit.run` with python-subunit
//! (`TESTR_TEST_PYTHON`, as in the interop tests).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use crate::harness::{Project, StoredTest, statuses_of};

/// A repository in a copy of the fixture project, with this `.testr.conf`.
fn project_with(conf: &str) -> Project {
    let project = Project::fixture("unittest_project");
    project.testr(["init"]).run().success();
    project.write(".testr.conf", conf);
    project
}

/// What a full run of the fixture project stores.
pub const STATUSES: [(&str, &str); 10] = [
    (
        "fixtureproj.tests.test_fixtures.FixtureTest.test_one",
        "success",
    ),
    (
        "fixtureproj.tests.test_fixtures.FixtureTest.test_three",
        "success",
    ),
    (
        "fixtureproj.tests.test_fixtures.FixtureTest.test_two",
        "success",
    ),
    (
        "fixtureproj.tests.test_plain.PlainTest.test_alpha",
        "success",
    ),
    (
        "fixtureproj.tests.test_plain.PlainTest.test_beta",
        "success",
    ),
    (
        "fixtureproj.tests.test_plain.PlainTest.test_gamma",
        "success",
    ),
    (
        "fixtureproj.tests.test_statuses.StatusTest.test_expected_failure",
        "xfail",
    ),
    (
        "fixtureproj.tests.test_statuses.StatusTest.test_fails",
        "fail",
    ),
    (
        "fixtureproj.tests.test_statuses.StatusTest.test_prints",
        "success",
    ),
    (
        "fixtureproj.tests.test_statuses.StatusTest.test_skipped",
        "skip",
    ),
];

/// Runs the whole project and checks what was stored.
pub fn check_full_run(project: &Project) {
    let run = project.testr(["run", "--concurrency", "2"]).run().status(1);
    let stdout = run.stdout();
    assert!(stdout.contains("FAIL: fixtureproj.tests.test_statuses.StatusTest.test_fails"));
    assert!(stdout.contains("AssertionError: 1 != 2 : deliberate failure in test_fails"));
    assert!(stdout.contains("Ran 10 tests"), "{stdout}");
    assert!(
        stdout.contains("FAILED (id=0, failures=1, skips=1)"),
        "{stdout}"
    );
    assert_eq!(project.statuses(), statuses_of(&STATUSES));
    // The printed line is kept, whichever way the command captured it.
    let subunit = project.testr(["last", "--subunit"]).run().status(1);
    let needle = b"hello from test_prints";
    assert!(
        subunit
            .output
            .stdout
            .windows(needle.len())
            .any(|w| w == needle)
    );
    assert_eq!(
        project
            .testr(["failing", "--list"])
            .run()
            .status(1)
            .stdout(),
        "fixtureproj.tests.test_statuses.StatusTest.test_fails\n"
    );
}

#[test]
fn the_shipped_worker_runs_a_unittest_project_with_its_fixtures() {
    let project = project_with(
        "[DEFAULT]\nworker_command=python3 $PYTHON_WORKER --worker --start-dir . --top-level-dir .\n",
    );
    check_full_run(&project);

    // Consecutive tests of a class on one worker share its fixtures: each
    // runs once, and is torn down at the end.
    let log = project.path().join("fixture.log");
    project
        .testr(["run", "--concurrency", "1", "FixtureTest"])
        .command_env("FIXTURE_LOG", &log)
        .run()
        .success();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "setUpModule test_fixtures\nsetUpClass FixtureTest\n\
         tearDownClass FixtureTest\ntearDownModule test_fixtures\n"
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["tests_run"], json!(3));
    assert_eq!(last["run"]["partial"], json!(true));
}

#[test]
fn the_configuration_init_writes_runs_it_and_python_caches_the_worker() {
    let project = Project::fixture("unittest_project");
    project.testr(["init", "--unittest", "."]).run().success();
    check_full_run(&project);

    // The worker is kept in the repository, where Python caches its
    // bytecode for the next runs.
    let run = project
        .testr(["run", "FixtureTest"])
        .command_env_remove("PYTHONDONTWRITEBYTECODE")
        .run()
        .success();
    let cache = project.path().join(".testrepository/cache");
    let kept: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let launcher = kept[0].join("testr_worker.py");
    assert!(
        run.stdout()
            .contains(&format!("running=python3 {}", launcher.display())),
        "{}",
        run.stdout()
    );
    let compiled = std::fs::read_dir(kept[0].join("__pycache__"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(
        compiled
            .iter()
            .any(|name| name.starts_with("testr_subunit.")),
        "{compiled:?}"
    );
}

/// The classic `python -m subunit.run discover` configuration, as most
/// `.testr.conf` files have it, with python-subunit (`TESTR_TEST_PYTHON`).
fn classic_conf(more: &str) -> String {
    let python = std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    format!(
        "[DEFAULT]\ntest_command=PYTHON=unused {python} -m subunit.run discover $LISTOPT $IDOPTION\n\
         test_id_option=--load-list $IDFILE\ntest_list_option=--list\n{more}"
    )
}

#[test]
fn the_classic_subunit_run_command_runs_in_batches_when_told_to() {
    let project = project_with(&classic_conf("stream = no\n"));
    check_full_run(&project);
    let run = project.testr(["run", "FixtureTest"]).run().success();
    assert!(
        run.stdout()
            .contains("-m subunit.run discover  --load-list"),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_recognised_classic_command_streams_with_the_same_results() {
    let classic = project_with(&classic_conf("stream = no\n"));
    classic.testr(["run"]).run().status(1);
    let streamed = project_with(&classic_conf(""));
    check_full_run(&streamed);
    let run = streamed.testr(["run", "FixtureTest"]).run().success();
    assert!(
        run.stdout().contains("testr_worker.py --worker discover\n"),
        "the shipped worker runs, with the command's own arguments: {}",
        run.stdout()
    );
    streamed.testr(["run"]).run().status(1);
    let (classic, streamed) = (results(&classic), results(&streamed));
    assert_eq!(
        classic.keys().collect::<Vec<_>>(),
        streamed.keys().collect::<Vec<_>>()
    );
    let differ: Vec<_> = classic
        .iter()
        .filter(|(id, expected)| &streamed[*id] != *expected)
        .map(|(id, expected)| format!("{id}:\n classic {expected:?}\n streamed {:?}", streamed[id]))
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// The stored results of the latest run, with the project's path in
/// tracebacks written as `PROJECT`, and the two differences the shipped
/// worker makes on purpose (docs/differences.md) taken out: it leaves
/// unittest's own frames out of tracebacks, as unittest's runner does, and
/// it attaches what a test prints to that test (checked here) where
/// `subunit.run` leaves it between the packets (`check_full_run` checks
/// it is kept).
fn results(project: &Project) -> BTreeMap<String, StoredTest> {
    let path = project.path().display().to_string();
    let mut results = project.results();
    for (id, test) in results.iter_mut() {
        if let Some(printed) = test.attachments.remove("stdout") {
            assert!(id.ends_with("test_prints"), "{id} printed {printed:?}");
            assert_eq!(printed, "hello from test_prints\n");
        }
        for content in test.attachments.values_mut() {
            *content = without_unittest_frames(&content.replace(&path, "PROJECT"));
        }
    }
    results
}

/// A traceback without the frames of unittest's own modules (a frame is
/// its `File` line and the source line under it).
fn without_unittest_frames(traceback: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = traceback.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("File ") && line.contains("/unittest/") {
            lines.next();
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}
