//! Projects as users bring them: a `.stestr.conf` and no `.testr.conf`, a
//! classic `.testr.conf` with a unittest runner testr recognises, suites
//! that a loader expands, and the mistakes such files hold.

use std::io::{BufRead, BufReader};

use crate::end_to_end::STATUSES;
use crate::harness::{Project, fake_worker, statuses_of};

/// The Python of the interoperability tests: it has python-subunit and
/// testscenarios (`.ci/run` installs them).
pub(crate) fn test_python() -> String {
    std::env::var("TESTR_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The unittest fixture project with only a `.stestr.conf`, and no
/// repository yet.
fn stestr_project(conf: &str) -> Project {
    let project = Project::fixture("unittest_project");
    project.write(".stestr.conf", conf);
    project
}

#[test]
fn a_stestr_conf_runs_on_the_shipped_worker_and_the_first_run_makes_the_repository() {
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\ntop_dir=./\n");
    let first = project
        .testr(["run"])
        .command_env("PYTHON", test_python())
        .run()
        .status(1);
    let created = format!(
        "testr: created the repository {}/.testrepository",
        project.path().display()
    );
    assert!(first.stderr().contains(&created), "{}", first.stderr());
    let shown = first.stdout();
    let running = shown.lines().next().unwrap();
    assert!(
        running.starts_with(&format!("running={} ", test_python()))
            && running.ends_with("testr_worker.py --worker discover -t ./ ./fixtureproj/tests"),
        "the first line, with $PYTHON expanded: {shown}"
    );
    assert!(shown.contains("Ran 10 tests"), "{shown}");
    let again = project.testr(["run", "FixtureTest"]).run().success();
    assert!(!again.stderr().contains("created"), "{}", again.stderr());
}

#[test]
fn python_in_the_environment_wraps_the_interpreter_as_stestr_has_it() {
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    let wrapper = project.write(
        "wrap.sh",
        "#!/bin/sh\necho \"wrapped $1\" >> \"$(dirname \"$0\")/wrapped.log\"\nshift\nexec python3 \"$@\"\n",
    );
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .unwrap();
    assert!(status.success());
    // A value of several words, as OpenStack's coverage jobs set it.
    let python = format!("{} --measured", wrapper.display());
    project
        .testr(["run", "--concurrency", "2", "PlainTest"])
        .command_env("PYTHON", &python)
        .run()
        .success();
    let log = std::fs::read_to_string(project.path().join("wrapped.log")).unwrap();
    assert!(!log.is_empty());
    assert!(
        log.lines().all(|line| line == "wrapped --measured"),
        "{log}"
    );
}

#[test]
fn init_in_a_stestr_project_says_it_will_use_it_and_writes_nothing_more() {
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    for args in [&["init"][..], &["init", "--unittest", "fixtureproj"]] {
        let init = project.testr(args).run();
        std::fs::remove_dir_all(project.path().join(".testrepository")).unwrap();
        let init = init.success();
        assert!(
            init.stdout()
                .contains(".stestr.conf, on testr's own worker"),
            "{}",
            init.stdout()
        );
        assert!(!project.path().join(".testr.conf").exists());
    }
}

#[test]
fn testr_conf_wins_over_stestr_conf() {
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    project.write(
        ".testr.conf",
        format!(
            "[DEFAULT]\nworker_command=python3 {} --worker fake.pass_1\n",
            fake_worker().display()
        ),
    );
    let run = project.testr(["run"]).run().success();
    assert!(
        run.stdout().contains("fake_worker.py --worker fake.pass_1"),
        "{}",
        run.stdout()
    );
    assert_eq!(project.statuses().len(), 1);
}

#[test]
fn a_broken_stestr_conf_is_named_and_stores_nothing() {
    for (conf, fragment) in [
        (
            "[DEFAULT]\ntop_dir=./\n",
            ".stestr.conf: [DEFAULT] sets no test_path",
        ),
        (
            "[DEFAULT]\ntest_path=./nope\n",
            ".stestr.conf: test_path `./nope` is not a directory of the project",
        ),
        ("test_path=x\n", ".stestr.conf: line 1"),
    ] {
        let project = stestr_project(conf);
        project
            .testr(["run"])
            .run()
            .status(3)
            .one_line_error(&[fragment]);
        assert!(!project.path().join(".testrepository").exists(), "{conf}");
    }
}

#[test]
fn a_project_with_no_configuration_is_told_which_files_are_missing() {
    let project = Project::new();
    project.testr(["run"]).run().status(3).one_line_error(&[
        "found no .testr.conf or .stestr.conf in",
        "testr init --unittest",
    ]);
}

#[test]
fn unknown_keys_are_warned_of_naming_the_key_meant() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nworker_command=python3 {} --worker fake.pass_1\ntimout=3\n",
        fake_worker().display()
    ));
    let run = project.testr(["run"]).run().success();
    let warning = format!(
        "testr: warning: {}/.testr.conf: [DEFAULT] has an unknown key `timout`, \
         which does nothing (did you mean `timeout`?)",
        project.path().display()
    );
    assert!(
        run.stderr().lines().any(|line| line == warning),
        "{}",
        run.stderr()
    );
}

#[test]
fn numbers_out_of_range_are_errors_not_panics() {
    let worker = format!(
        "[DEFAULT]\nworker_command=python3 {} --worker fake.pass_1\n",
        fake_worker().display()
    );
    for value in ["1e30", "18446744073709551615", "1e19", "-1", "0", "inf"] {
        let project = Project::with_config(format!("{worker}timeout={value}\n"));
        project
            .testr(["run"])
            .run()
            .status(3)
            .one_line_error(&[&format!("bad timeout `{value}` in [DEFAULT]")]);
        let project = Project::with_config(&worker);
        project
            .testr(["run", &format!("--timeout={value}")])
            .run()
            .status(3)
            .one_line_error(&[&format!("bad --timeout `{value}`")]);
    }
    let project = Project::with_config(format!("{worker}test_run_concurrency=echo 99999999999\n"));
    project
        .testr(["run"])
        .run()
        .status(3)
        .one_line_error(&["printed `99999999999`", "not a number from 1 to 1024"]);
    let project = Project::with_config(worker);
    project.testr(["run", "-j", "5000"]).run().status(2);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn a_runner_option_the_worker_does_not_take_keeps_the_batches_and_says_why() {
    let project = Project::fixture("unittest_project");
    project.write(
        ".testr.conf",
        format!(
            "[DEFAULT]\ntest_command={} -m subunit.run discover -v . $LISTOPT $IDOPTION\n\
             test_id_option=--load-list $IDFILE\ntest_list_option=--list\n",
            test_python()
        ),
    );
    let run = project.testr(["run", "PlainTest"]).run();
    assert!(
        run.stderr().contains(
            "running test_command in batches, one process each: test_command gives \
             subunit.run `-v`, which testr's worker does not take"
        ),
        "{}",
        run.stderr()
    );
    assert!(
        run.stdout().contains("-m subunit.run discover -v ."),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_missing_interpreter_is_one_line_naming_the_command() {
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    project
        .testr(["run"])
        .command_env("PYTHON", "/nonexistent/python")
        .run()
        .status(3)
        .error_line(&["failed to list the tests", "/nonexistent/python: not found"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

/// A project of a testscenarios suite (every test of the class runs once
/// per scenario), a `load_tests` module that runs a
/// test twice under two ids, and a module that fails to import, run as a
/// classic subunit.run command (streamed).
fn expanded_project() -> Project {
    let project = Project::empty();
    std::fs::create_dir(project.path().join("pkg")).unwrap();
    project.write("pkg/__init__.py", "");
    project.write(
        "pkg/test_scenarios.py",
        "import unittest\nimport testscenarios\n\n\
         class TestNames(testscenarios.WithScenarios, unittest.TestCase):\n\
         \x20   scenarios = [('simple', {'name': 'a'}), ('dash', {'name': 'a-b'})]\n\n\
         \x20   def test_name(self):\n\
         \x20       self.assertTrue(self.name.startswith('a'))\n\n\
         \x20   def test_plain(self):\n\
         \x20       pass\n",
    );
    project.write(
        "pkg/test_load_tests.py",
        "import unittest\n\n\
         class Twice(unittest.TestCase):\n\
         \x20   label = 'unset'\n\n\
         \x20   def id(self):\n\
         \x20       return super().id() + '(' + self.label + ')'\n\n\
         \x20   def test_it(self):\n\
         \x20       pass\n\n\
         def load_tests(loader, tests, pattern):\n\
         \x20   suite = unittest.TestSuite()\n\
         \x20   for label in ('one', 'two'):\n\
         \x20       test = Twice('test_it')\n\
         \x20       test.label = label\n\
         \x20       suite.addTest(test)\n\
         \x20   return suite\n",
    );
    project.write("pkg/test_broken.py", "import no_such_module_here\n");
    project.write(
        ".testr.conf",
        "[DEFAULT]\ntest_command=${PYTHON:-python3} -m subunit.run discover -t . pkg \
         $LISTOPT $IDOPTION\ntest_id_option=--load-list $IDFILE\ntest_list_option=--list\n",
    );
    project
}

#[test]
fn tests_a_loader_expands_are_listed_and_run_as_they_are_reported() {
    let project = expanded_project();
    let listed = project
        .testr(["list-tests"])
        .command_env("PYTHON", test_python())
        .run()
        .success()
        .stdout();
    let mut listed: Vec<&str> = listed.lines().collect();
    listed.sort_unstable();
    assert_eq!(
        listed,
        [
            "pkg.test_load_tests.Twice.test_it(one)",
            "pkg.test_load_tests.Twice.test_it(two)",
            "pkg.test_scenarios.TestNames.test_name(dash)",
            "pkg.test_scenarios.TestNames.test_name(simple)",
            "pkg.test_scenarios.TestNames.test_plain(dash)",
            "pkg.test_scenarios.TestNames.test_plain(simple)",
            "unittest.loader._FailedTest.pkg.test_broken",
        ]
    );
    let run = project
        .testr(["run"])
        .command_env("PYTHON", test_python())
        .run()
        .status(1);
    let stdout = run.stdout();
    assert!(stdout.contains("Ran 7 tests"), "{stdout}");
    assert!(
        stdout.contains("FAIL: unittest.loader._FailedTest.pkg.test_broken")
            && stdout.contains("No module named 'no_such_module_here'"),
        "the module that failed to import is named: {stdout}"
    );
    let statuses = project.statuses();
    let ids: Vec<&str> = statuses.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, listed, "what ran is what was listed");
    assert!(
        statuses
            .iter()
            .all(|(id, status)| status == "success" || id.contains("_FailedTest")),
        "{statuses:?}"
    );
}

#[test]
fn failures_show_as_they_happen_and_running_comes_first() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nworker_command=echo from the worker >&2; python3 {} --worker fake.fail_1 fake.hang_2\n",
        fake_worker().display()
    ));
    let mut child = project.testr(["run", "--concurrency", "1"]).spawn();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines().map(Result::unwrap);
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("running=echo from the worker")
    );
    let fail = lines.find(|l| l.starts_with("FAIL: ")).unwrap();
    assert_eq!(fail, "FAIL: fake.fail_1");
    // The FAIL block came while the second test still hangs.
    assert!(child.try_wait().unwrap().is_none());
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

#[test]
fn the_full_fixture_statuses_hold_through_a_stestr_conf_too() {
    // The same ten results the hand-written worker configuration gives.
    let project = stestr_project("[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    project.testr(["run"]).run().status(1);
    assert_eq!(project.statuses(), statuses_of(&STATUSES));
}

/// A project behind a script testr cannot look into: `tests.txt` holds its
/// tests (fake worker ids); `--list` prints them one a line, and a run
/// runs those of the id file that it holds. A strict script exits 2, naming
/// the first id it does not hold, before running anything. When the file
/// `list-waits` exists, the listing waits for a batch to start first (and
/// fails if none does in 60 s): a run whose batches wait for the listing
/// cannot pass.
fn opaque_project(tests: &[&str], strict: bool) -> Project {
    let project = Project::with_config(
        "[DEFAULT]\ntest_command=python3 run_tests.py $LISTOPT $IDOPTION\n\
         test_list_option=--list\ntest_id_option=--load-list $IDFILE\n",
    );
    project.write("tests.txt", tests.join("\n"));
    project.write(
        "run_tests.py",
        format!(
            r#"import os, subprocess, sys, time
tests = open("tests.txt").read().split()
with open("niceness-" + sys.argv[1].lstrip("-"), "a") as niceness:
    niceness.write("%d\n" % os.nice(0))
if sys.argv[1] == "--list":
    if os.path.exists("list-waits"):
        for _ in range(600):
            if os.path.exists("batch-started"):
                break
            time.sleep(0.1)
        else:
            sys.exit("no batch started while the tests were listed")
    print("\n".join(tests))
    sys.exit(0)
open("batch-started", "w").close()
given = open(sys.argv[2]).read().split()
unknown = [i for i in given if i not in tests]
if {strict} and unknown:
    sys.exit("unknown test id " + unknown[0])
ids = [i for i in given if i in tests]
sys.exit(subprocess.call([sys.executable, {worker:?}, "--run"] + ids))
"#,
            strict = if strict { "True" } else { "False" },
            worker = fake_worker().display().to_string(),
        ),
    );
    project
}

/// The statuses once `a.pass_3` went and `a.pass_4` came.
const AFTER_ONE_WENT_AND_ONE_CAME: [(&str, &str); 3] = [
    ("a.pass_1", "success"),
    ("a.pass_2", "success"),
    ("a.pass_4", "success"),
];

#[test]
fn batches_start_on_the_last_run_while_the_listing_runs_and_catch_up_with_it() {
    let project = opaque_project(&["a.pass_1", "a.pass_2", "a.pass_3"], false);
    project.testr(["run", "-j", "2"]).run().success();
    // A test goes, another comes; the listing waits for a batch to start.
    project.write("tests.txt", "a.pass_1 a.pass_2 a.pass_4");
    project.write("list-waits", "");
    std::fs::remove_file(project.path().join("batch-started")).unwrap();
    let run = project.testr(["run", "-j", "2"]).run().success();
    assert!(
        !run.stderr().contains("without reporting"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        project.statuses(),
        statuses_of(&AFTER_ONE_WENT_AND_ONE_CAME)
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["partial"], false, "{last}");
}

#[test]
fn a_batch_that_fails_on_a_test_gone_since_the_last_run_is_run_again_without_it() {
    let project = opaque_project(&["a.pass_1", "a.pass_2", "a.pass_3"], true);
    project.testr(["run", "-j", "1"]).run().success();
    project.write("tests.txt", "a.pass_1 a.pass_2 a.pass_4");
    let run = project.testr(["run", "-j", "1"]).run().success();
    let stderr = run.stderr();
    assert!(
        stderr.contains(
            "exited with status 1 when given tests its listing no longer has (first: a.pass_3)"
        ),
        "{stderr}"
    );
    assert_eq!(
        project.statuses(),
        statuses_of(&AFTER_ONE_WENT_AND_ONE_CAME)
    );
}

#[test]
fn a_narrowed_run_runs_ahead_on_what_it_selects_only() {
    let project = opaque_project(&["a.pass_1", "a.pass_2", "b.pass_3"], true);
    project.testr(["run", "-j", "1"]).run().success();
    project.write("list-waits", "");
    std::fs::remove_file(project.path().join("batch-started")).unwrap();
    project.testr(["run", "-j", "1", "^a\\."]).run().success();
    assert_eq!(
        project.statuses(),
        statuses_of(&[("a.pass_1", "success"), ("a.pass_2", "success")])
    );
}

#[test]
fn a_listing_beside_batches_running_ahead_yields_the_cpu_to_them() {
    let project = opaque_project(&["a.pass_1", "a.pass_2"], false);
    let niceness = |of: &str| -> Vec<i32> {
        let path = project.path().join(format!("niceness-{of}"));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        text.lines().map(|l| l.parse().unwrap()).collect()
    };
    // The first run waits for its listing: it runs as the batches do.
    project.testr(["run", "-j", "1"]).run().success();
    let (listing, batch) = (niceness("list"), niceness("load-list"));
    assert_eq!(listing, batch);
    // The next runs ahead of it: the listing only checks what the batch
    // runs, and gives way to it.
    project.testr(["run", "-j", "1"]).run().success();
    let (listing, batch) = (niceness("list"), niceness("load-list"));
    assert_eq!(listing, [(batch[0] + 10).min(19)], "batch {batch:?}");
}
