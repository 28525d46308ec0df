//! `testr run` and `list-tests` against a scriptable fake worker
//! (tests/fixtures/fake_worker.py): each test id says what the test does
//! (pass, fail, crash its worker, hang, ...), so every way a run can go
//! wrong is reproducible.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;

use serde_json::{Value, json};

use crate::harness::{Project, Stream, fake_project, fake_worker};
use testr::model::Status;

/// (id, status) pairs, sorted, as [`Project::statuses`] gives them.
fn expected(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn every_test_runs_once_on_a_worker_and_the_run_is_stored_whole() {
    let ids: Vec<String> = (0..12).map(|i| format!("fake.pass_{i}")).collect();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.extend(["fake.fail_x", "fake.skip_y"]);
    let project = fake_project(&all, "");
    let run = project.testr(["run", "--concurrency", "3"]).run().status(1);
    let stdout = run.stdout();
    assert!(
        stdout.contains("FAIL: fake.fail_x\ntags: worker-"),
        "{stdout}"
    );
    assert!(stdout.contains("Ran 14 tests"), "{stdout}");
    assert!(
        stdout.contains("FAILED (id=0, failures=1, skips=1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Worker balance: 3 workers, idle at the end"),
        "{stdout}"
    );
    let mut want: Vec<(&str, &str)> = ids.iter().map(|i| (i.as_str(), "success")).collect();
    want.extend([("fake.fail_x", "fail"), ("fake.skip_y", "skip")]);
    assert_eq!(project.statuses(), expected(&want));
    let failing = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(failing.stdout(), "fake.fail_x\n");
}

#[test]
fn two_long_tests_with_no_history_run_side_by_side_even_at_the_end() {
    // Tiny tests first: the run learns that its tests take no time, and a
    // worker could queue both long ones behind each other. The last tests
    // with no history go one at a time to a worker that holds nothing, so
    // the second long test waits for the other worker instead.
    let mut ids: Vec<String> = (0..40).map(|i| format!("fake.pass_{i}")).collect();
    ids.push("fake.sleep-0.4_a".into());
    ids.push("fake.sleep-0.4_b".into());
    ids.extend((40..50).map(|i| format!("fake.pass_{i}")));
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let project = fake_project(&ids, "");
    project.testr(["run", "--concurrency", "2"]).run().success();
    let spans = project.spans();
    let (a, b) = (spans["fake.sleep-0.4_a"], spans["fake.sleep-0.4_b"]);
    assert!(
        a.0 < b.1 && b.0 < a.1,
        "the long tests ran one after the other: {a:?} {b:?}"
    );
}

#[test]
fn a_worker_that_dies_mid_test_fails_that_test_and_the_others_still_run() {
    for (crash, says) in [
        ("fake.exit-3_x", "exited with status 3"),
        ("fake.kill-9_x", "killed by signal 9 (SIGKILL)"),
        ("fake.segv_x", "killed by signal 11 (SIGSEGV)"),
    ] {
        // One worker, so that the tests after the crash can only run on a
        // replacement.
        let passes: Vec<String> = (0..20).map(|i| format!("fake.pass_{i:02}")).collect();
        let mut ids: Vec<&str> = passes[..5].iter().map(String::as_str).collect();
        ids.push(crash);
        ids.extend(passes[5..].iter().map(String::as_str));
        let project = fake_project(&ids, "");
        let run = project.testr(["run", "--concurrency", "1"]).run().status(1);
        let stdout = run.stdout();
        assert!(stdout.contains(&format!("FAIL: {crash}")), "{stdout}");
        assert!(stdout.contains(says), "{crash}: {stdout}");
        // The tail of the worker's stderr says what it was doing.
        assert!(
            stdout.contains("The end of its stderr:\nfake worker: "),
            "{stdout}"
        );
        assert!(stdout.contains("Ran 21 tests"), "{stdout}");
        let mut want: Vec<(&str, &str)> = passes.iter().map(|p| (p.as_str(), "success")).collect();
        want.push((crash, "fail"));
        assert_eq!(project.statuses(), expected(&want), "{crash}");
    }
}

#[test]
fn a_test_over_the_timeout_fails_and_a_replacement_goes_on() {
    for hang in ["fake.hang_x", "fake.hangterm_x"] {
        let project = fake_project(&[hang, "fake.pass_1", "fake.pass_2", "fake.pass_3"], "");
        let run = project
            .testr(["run", "--concurrency", "1", "--timeout", "0.5"])
            .run()
            .status(1);
        let stdout = run.stdout();
        assert!(stdout.contains(&format!("FAIL: {hang}")), "{stdout}");
        assert!(
            stdout.contains("Timed out: testr killed worker-0"),
            "{stdout}"
        );
        assert!(
            run.stderr().contains("made no progress for 0.5 s"),
            "{}",
            run.stderr()
        );
        let want = [
            (hang, "fail"),
            ("fake.pass_1", "success"),
            ("fake.pass_2", "success"),
            ("fake.pass_3", "success"),
        ];
        assert_eq!(project.statuses(), expected(&want));
    }
}

#[test]
fn the_timeout_key_applies_too() {
    let project = fake_project(&["fake.hang_x", "fake.pass_1"], "timeout = 0.3\n");
    project.testr(["run"]).run().status(1);
    assert_eq!(
        project.statuses(),
        expected(&[("fake.hang_x", "fail"), ("fake.pass_1", "success")])
    );
}

#[test]
fn output_that_is_not_subunit_is_kept() {
    let project = fake_project(&["fake.garbage_x", "fake.stdout_y"], "");
    project.testr(["run"]).run().success();
    let last = project.testr(["last", "--subunit"]).run().success();
    let bytes = &last.output.stdout;
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("this is not subunit"));
    assert!(has("hello from fake.stdout_y"));
}

#[test]
fn a_worker_that_cannot_start_is_an_error_and_stores_nothing() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nworker_command=FAKE_WORKER_START_FAIL=4 python3 {} --worker fake.pass_1\n",
        fake_worker().display()
    ));
    project.testr(["run"]).run().status(3).error_line(&[
        "failed to list the tests with",
        "exited with status 4",
        "fake worker: cannot start",
    ]);
    project
        .testr(["last"])
        .run()
        .status(3)
        .one_line_error(&["no tests in repository"]);

    project.write(".testr.conf", "[DEFAULT]\nworker_command=/no/such/worker\n");
    project
        .testr(["run"])
        .run()
        .status(3)
        .error_line(&["exited with status 127", "/no/such/worker"]);
    project.testr(["stats"]).run().success();
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

/// A classic `test_command` project: the fake worker in batch mode.
fn classic_project(ids: &[&str], more: &str) -> Project {
    Project::with_config(format!(
        "[DEFAULT]\ntest_command=python3 {} $LISTOPT $IDOPTION\n\
         test_list_option=--list {}\ntest_id_option=--run --load-list $IDFILE\n{more}",
        fake_worker().display(),
        ids.join(" ")
    ))
}

#[test]
fn a_classic_test_command_runs_in_batches_and_survives_a_crash() {
    let passes: Vec<String> = (0..30).map(|i| format!("fake.pass_{i:02}")).collect();
    let mut ids: Vec<&str> = passes.iter().map(String::as_str).collect();
    ids.insert(10, "fake.exit-2_x");
    ids.insert(0, "fake.fail_y");
    let project = classic_project(&ids, "");
    let run = project.testr(["run", "--concurrency", "2"]).run().status(1);
    let stdout = run.stdout();
    assert!(stdout.contains("running=python3 "), "{stdout}");
    assert!(stdout.contains("exited with status 2"), "{stdout}");
    let mut want: Vec<(&str, &str)> = passes.iter().map(|p| (p.as_str(), "success")).collect();
    want.extend([("fake.exit-2_x", "fail"), ("fake.fail_y", "fail")]);
    assert_eq!(project.statuses(), expected(&want));
}

#[test]
fn classic_batches_pay_for_their_start_up_one_process_per_worker() {
    // 40 tests of 2 ms: less work per worker than 16 start-ups of Python,
    // so each of the 2 workers runs one process (after the listing one),
    // on the first run (the listing measured the start-up) and the next
    // (it is kept in the repository).
    let ids: Vec<String> = (0..40)
        .map(|i| format!("fake.sleep-0.002_{i:02}"))
        .collect();
    let project = Project::with_config(format!(
        "[DEFAULT]\ntest_command=echo started >> processes.log; python3 {} $LISTOPT $IDOPTION\n\
         test_list_option=--list {}\ntest_id_option=--run --load-list $IDFILE\n",
        fake_worker().display(),
        ids.join(" ")
    ));
    for run in 1..=2 {
        std::fs::remove_file(project.path().join("processes.log")).ok();
        project.testr(["run", "--concurrency", "2"]).run().success();
        let log = std::fs::read_to_string(project.path().join("processes.log")).unwrap();
        assert_eq!(log.lines().count(), 3, "run {run}: a listing and 2 batches");
        assert_eq!(project.statuses().len(), 40);
    }
}

#[test]
fn a_classic_process_that_exits_non_zero_without_failures_adds_process_returncode() {
    let project = Project::with_config(format!(
        "[DEFAULT]\ntest_command=python3 {} $LISTOPT $IDOPTION; exit 5\n\
         test_list_option=--list fake.pass_1 fake.pass_2\n\
         test_id_option=--run --load-list $IDFILE\n",
        fake_worker().display()
    ));
    let run = project
        .testr(["run", "--concurrency", "1"])
        .run()
        .status(1)
        .stdout_has(&["FAIL: process-returncode", "exited with status 5"]);
    assert!(
        run.stderr()
            .contains("the listing command exited with status 5")
    );
}

#[test]
fn a_classic_command_that_reports_nothing_is_an_error() {
    let project = Project::with_config("[DEFAULT]\ntest_command=echo broken >&2; exit 2\n");
    project.testr(["run"]).run().status(3).error_line(&[
        "reported no results",
        "exited with status 2",
        "broken",
    ]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn ids_are_quoted_for_the_shell_whatever_they_hold() {
    let project = Project::with_config(format!(
        "[DEFAULT]\ntest_command=python3 {} $LISTOPT $IDOPTION\n\
         test_list_option=--list 'fake.pass_a b' \"fake.pass_it's\" 'fake.pass_$HOME;`x`'\n\
         test_id_option=--run $IDLIST\n",
        fake_worker().display()
    ));
    project.testr(["run", "--concurrency", "1"]).run().success();
    assert_eq!(
        project.statuses(),
        expected(&[
            ("fake.pass_a b", "success"),
            ("fake.pass_it's", "success"),
            ("fake.pass_$HOME;`x`", "success"),
        ])
    );
}

#[test]
fn a_group_runs_on_one_worker_in_order() {
    let ids = [
        "fake.g1.fail_1",
        "fake.g2.fail_1",
        "fake.g1.fail_2",
        "fake.g2.fail_2",
        "fake.g1.fail_3",
        "fake.g3.fail_1",
    ];
    let project = fake_project(&ids, "group_regex=fake\\.g\\d\\.\n");
    let run = project.testr(["run", "--concurrency", "3"]).run().status(1);
    let stdout = run.stdout();
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        if let Some(id) = line.strip_prefix("FAIL: ") {
            let tags = lines.next().unwrap().to_owned();
            blocks.push((id.to_owned(), tags));
        }
    }
    for group in ["fake.g1.", "fake.g2."] {
        let members: Vec<&(String, String)> = blocks
            .iter()
            .filter(|(id, _)| id.starts_with(group))
            .collect();
        assert!(members.len() >= 2, "{stdout}");
        assert!(
            members.iter().all(|(_, tags)| *tags == members[0].1),
            "{stdout}"
        );
        let order: Vec<&str> = members.iter().map(|(id, _)| id.as_str()).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "in listing order: {stdout}");
    }
}

#[test]
fn failing_runs_the_failures_of_each_profile_and_says_when_there_are_none() {
    let project = fake_project(&["fake.pass_1", "fake.fail_2"], "");
    project.testr(["run"]).run().status(1);
    let again = project.testr(["run", "--failing"]).run().status(1);
    assert!(
        again.stdout().contains("Ran 1 (-1) tests"),
        "{}",
        again.stdout()
    );
    assert_eq!(
        project.json(["last", "--json"])["run"]["partial"],
        json!(true)
    );

    let clean = fake_project(&["fake.pass_1"], "");
    clean.testr(["run"]).run().success();
    let none = clean.testr(["run", "--failing"]).run().success();
    assert_eq!(none.stdout(), "No failing tests: nothing to run.\n");
    assert_eq!(clean.testr(["stats"]).run().stdout(), "runs=1\n");
}

#[test]
fn filters_and_load_lists_select_tests_and_leave_other_failures_alone() {
    let project = fake_project(&["fake.fail_1", "fake.pass_2", "fake.pass_3"], "");
    project.testr(["run"]).run().status(1);
    project.testr(["run", "pass_2$"]).run().success();
    assert_eq!(project.statuses(), expected(&[("fake.pass_2", "success")]));
    // A filtered run is partial: the unrelated failure stays.
    project.testr(["failing", "--list"]).run().status(1);

    let list = project.write("ids.txt", "fake.pass_3\n\nfake.fail_1\n");
    let listed = project
        .testr(["run", "--load-list"])
        .arg(&list)
        .run()
        .status(1);
    assert!(
        listed.stdout().contains("Ran 2 (+1) tests"),
        "{}",
        listed.stdout()
    );

    // The JSON of failing --json round-trips through --load-list-json.
    let failing = project
        .testr(["failing", "--json"])
        .run()
        .status(1)
        .stdout();
    let selection = project.write("failing.json", failing);
    let rerun = project
        .testr(["run", "--load-list-json", "--load-list"])
        .arg(&selection)
        .run()
        .status(1);
    assert!(
        rerun.stdout().contains("Ran 1 (-1) tests"),
        "{}",
        rerun.stdout()
    );

    let unknown = project.write("unknown.txt", "fake.pass_3\nno.such.test\n");
    project
        .testr(["run", "--load-list"])
        .arg(&unknown)
        .run()
        .status(3)
        .one_line_error(&["1 id(s) of --load-list", "no.such.test"]);
    let broken = project.write("broken.json", "{\"tests\": [\n  {\"id\": 1}\n]}");
    project
        .testr(["run", "--load-list-json", "--load-list"])
        .arg(&broken)
        .run()
        .status(3)
        .one_line_error(&["tests[0] has no string `id`"]);
    let malformed = project.write("malformed.json", "{\"tests\": [\n  {\"id\": \"x\",}\n]}");
    project
        .testr(["run", "--load-list-json", "--load-list"])
        .arg(&malformed)
        .run()
        .status(3)
        .one_line_error(&["line 2 column"]);
    project
        .testr(["run", "no-such-test-matches"])
        .run()
        .status(3)
        .one_line_error(&["no tests to run", "nothing was stored"]);
    project
        .testr(["run", "("])
        .run()
        .status(3)
        .one_line_error(&["bad filter `(`"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=4\n");
}

#[test]
fn configured_profiles_run_as_one_run_with_their_tags() {
    let fake = fake_worker();
    let project = Project::with_config(format!(
        "[DEFAULT]\nprofiles = py311 py312\n\
             worker_command=python3 {fake} --worker fake.pass_1 fake.skip_$PROFILE\n\
             [profile py312]\nworker_command=python3 {fake} --worker fake.pass_1 fake.fail_2\n",
        fake = fake.display()
    ));
    let run = project.testr(["run", "--concurrency", "2"]).run().status(1);
    assert!(
        run.stdout()
            .contains("FAIL: fake.fail_2\ntags: py312 worker-"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stdout()
            .contains("  profile py311: 2 tests, failures=0, skips=1")
    );
    let last = project.json(["last", "--json"]);
    let mut tests: Vec<(String, Value)> = last["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_owned(), t["profile"].clone()))
        .collect();
    tests.sort_by_key(|(id, p)| (id.clone(), p.to_string()));
    assert_eq!(
        tests,
        [
            ("fake.fail_2".to_owned(), json!(["py312"])),
            ("fake.pass_1".to_owned(), json!(["py311"])),
            ("fake.pass_1".to_owned(), json!(["py312"])),
            ("fake.skip_py311".to_owned(), json!(["py311"])),
        ]
    );
    // A run of py311 alone leaves py312's failure standing.
    project.testr(["run", "--profile", "py311"]).run().success();
    let failing = project.json(["failing", "--json"]);
    assert_eq!(failing["tests"][0]["id"], json!("fake.fail_2"));
    project
        .testr(["run", "--profile", "py313"])
        .run()
        .status(3)
        .one_line_error(&["no configured profile `py313`", "py311, py312"]);
}

#[test]
fn list_tests_is_flat_for_one_profile_and_json_for_several() {
    let fake = fake_worker();
    let project = Project::with_config(format!(
        "[DEFAULT]\nprofiles = py311 py312\n\
             worker_command=python3 {fake} --worker fake.pass_1 fake.pass_2 fake.skip_3\n",
        fake = fake.display()
    ));
    project
        .testr(["list-tests"])
        .run()
        .status(3)
        .one_line_error(&[
            "several profiles are configured (py311, py312)",
            "--profile",
        ]);
    let flat = project
        .testr(["list-tests", "--profile", "py312", "pass"])
        .run()
        .success();
    assert_eq!(flat.stdout(), "fake.pass_1\nfake.pass_2\n");
    let doc = project.json(["list-tests", "--json", "skip"]);
    assert_eq!(
        doc,
        json!({"version": 1, "tests": [
            {"id": "fake.skip_3", "profile": ["py311"]},
            {"id": "fake.skip_3", "profile": ["py312"]},
        ]})
    );
    assert_eq!(
        project.testr(["list-tests", "--profiles"]).run().stdout(),
        "py311\npy312\n"
    );
    // Listing runs nothing.
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn list_tests_reads_a_classic_listing_even_as_plain_text() {
    let project = Project::with_config(
        "[DEFAULT]\ntest_command=printf 'a.one\\na.two\\n' $LISTOPT\ntest_list_option=\n",
    );
    assert_eq!(
        project.testr(["list-tests"]).run().success().stdout(),
        "a.one\na.two\n"
    );
}

#[test]
fn init_can_write_a_unittest_configuration_once() {
    let project = Project::empty();
    let init = project
        .testr(["init", "--unittest", "tests"])
        .run()
        .success();
    assert!(
        init.stdout()
            .contains("worker_command=python3 $PYTHON_WORKER --worker --start-dir tests"),
        "{}",
        init.stdout()
    );
    let conf = std::fs::read_to_string(project.path().join(".testr.conf")).unwrap();
    assert!(conf.contains("--start-dir tests"), "{conf}");
    project
        .testr(["init", "--unittest"])
        .run()
        .status(3)
        .one_line_error(&[".testr.conf already exists"]);
}

/// Waits for a line of the child's stderr containing `wanted`.
fn wait_for_stderr(lines: &mpsc::Receiver<String>, wanted: &str) {
    for line in lines.iter() {
        if line.contains(wanted) {
            return;
        }
    }
    panic!("stderr ended without {wanted:?}");
}

fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stores_what_finished_as_an_interrupted_partial_run() {
    for (hang, presses) in [("fake.hang_x", 1), ("fake.hangterm_x", 2)] {
        let project = fake_project(&["fake.pass_1", "fake.pass_2", hang], "");
        // An earlier run that must survive untouched.
        project.load(
            &Stream::new().test("old.failure", Status::Fail, 5).bytes(),
            1,
        );
        let mut child = project.testr(["run", "--concurrency", "1"]).spawn();
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let line = line.unwrap();
                if sender.send(line.clone()).is_err() {
                    break;
                }
            }
        });
        wait_for_stderr(&lines, "fake worker: hanging in");
        interrupt(&child);
        if presses == 2 {
            wait_for_stderr(&lines, "fake worker: ignoring SIGTERM");
            interrupt(&child);
            wait_for_stderr(&lines, "interrupted again: killing the tests");
        }
        let status = child.wait().unwrap();
        drop(lines);
        reader.join().unwrap();
        assert_eq!(status.code(), Some(130), "{hang}");
        let last = project.json(["last", "--json"]);
        assert_eq!(last["run"]["interrupted"], json!(true));
        assert_eq!(last["run"]["partial"], json!(true));
        assert_eq!(
            project.statuses(),
            expected(&[("fake.pass_1", "success"), ("fake.pass_2", "success")])
        );
        let failing = project.testr(["failing", "--list"]).run().status(1);
        assert_eq!(failing.stdout(), "old.failure\n");
    }
}

#[test]
fn subunit_output_is_nothing_but_subunit_and_exits_truthfully() {
    let project = fake_project(&["fake.pass_1", "fake.fail_2", "fake.garbage_3"], "");
    let run = project.testr(["run", "--subunit"]).run().status(1);
    let mut ids = Vec::new();
    for item in testr::subunit::Items::new(run.output.stdout.as_slice()) {
        match item.unwrap() {
            testr::subunit::Item::Packet(packet) => {
                if let (Some(id), Some(status)) = (packet.test_id, packet.status) {
                    if status.is_final() {
                        ids.push(id);
                    }
                }
            }
            other => panic!("not a packet: {other:?}"),
        }
    }
    ids.sort();
    assert_eq!(ids, ["fake.fail_2", "fake.garbage_3", "fake.pass_1"]);
}

#[test]
fn test_run_concurrency_sets_the_default_number_of_workers() {
    // As many tests as workers: no more workers start than there are tests.
    let ids = ["fake.pass_1", "fake.pass_2", "fake.pass_3"];
    let project = fake_project(&ids, "test_run_concurrency=echo 3\n");
    let run = project.testr(["run"]).run().success();
    assert!(
        run.stdout().contains("Worker balance: 3 workers"),
        "{}",
        run.stdout()
    );
    let project = fake_project(&["fake.pass_1"], "test_run_concurrency=echo many\n");
    project
        .testr(["run"])
        .run()
        .status(3)
        .one_line_error(&["test_run_concurrency `echo many`", "printed `many`"]);
}

#[test]
fn a_command_that_lists_no_tests_stores_nothing() {
    let project = fake_project(&[], "");
    project
        .testr(["run"])
        .run()
        .status(3)
        .one_line_error(&["the test command listed none"]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
}

#[test]
fn a_worker_that_exits_non_zero_at_the_end_adds_process_returncode() {
    let project = Project::with_config(format!(
        "[DEFAULT]\nworker_command=python3 {} --worker fake.pass_1; exit 4\n",
        fake_worker().display()
    ));
    project
        .testr(["run", "--concurrency", "1"])
        .run()
        .status(1)
        .stdout_has(&["FAIL: process-returncode", "exited with status 4"]);
    assert_eq!(
        project.statuses(),
        expected(&[("fake.pass_1", "success"), ("process-returncode", "fail")])
    );
}

#[test]
fn no_more_workers_start_at_once_than_there_are_cpus() {
    // Starting a worker is CPU-bound: more at once than CPUs only delays
    // them all. Each logs its start, then that it is about to list.
    let ids: Vec<String> = (0..8).map(|i| format!("fake.pass_{i}")).collect();
    let project = Project::with_config(format!(
        "[DEFAULT]\nworker_command=echo start >> starts.log; sleep 0.2; \
         echo listed >> starts.log; exec python3 {} --worker {}\n",
        fake_worker().display(),
        ids.join(" ")
    ));
    project.testr(["run", "--concurrency", "8"]).run().success();
    let log = std::fs::read_to_string(project.path().join("starts.log")).unwrap();
    let (mut starting, mut most) = (0_i32, 0_i32);
    for line in log.lines() {
        starting += if line == "start" { 1 } else { -1 };
        most = most.max(starting);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    assert!(
        most <= cpus,
        "{most} starting at once on {cpus} CPUs:\n{log}"
    );
    assert!(log.lines().filter(|l| *l == "start").count() > 1, "{log}");
}
