//! stestr's options of `testr run`, on the scriptable fake worker (and the
//! unittest fixture project for `.stestr.conf`): selection by regex lists,
//! order, adding to the latest run, the repeat modes, and the global
//! options over `.stestr.conf`'s keys.

use crate::existing_projects::test_python;
use crate::harness::{Project, fake_project, statuses_of, tests_of};
use crate::lifecycle::Running;

/// How many runs the repository holds.
fn runs(project: &Project) -> u64 {
    project.json(["stats", "--json"])["runs"]
        .as_u64()
        .expect("stats --json has runs")
}

/// The ids of the latest run, in the order they were stored.
fn stored_order(project: &Project) -> Vec<String> {
    tests_of(&project.json(["last", "--json"]))
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn include_and_exclude_lists_select_as_stestr_does() {
    let project = fake_project(
        &[
            "fake.api.pass_1",
            "fake.api.pass_2",
            "fake.db.pass_1",
            "fake.db.slow.pass_2",
            "fake.ui.pass_1",
        ],
        "",
    );
    let include = project.write(
        "include.txt",
        "# the layers to run\nfake\\.api\nfake\\.db  # and the database\n\n",
    );
    let exclude = project.write("exclude.txt", "\\.slow\\.   # too slow for CI\n");
    project
        .testr(["run", "--include-list"])
        .arg(include)
        .arg("-e")
        .arg(exclude)
        .arg("-E")
        .arg("api.pass_2")
        .arg("fake.ui")
        .run()
        .success();
    assert_eq!(
        project.statuses(),
        statuses_of(&[
            ("fake.api.pass_1", "success"),
            ("fake.db.pass_1", "success"),
            ("fake.ui.pass_1", "success"),
        ])
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["partial"], true, "an excluding run is partial");
}

#[test]
fn a_list_or_regex_that_cannot_be_used_is_named_and_nothing_is_stored() {
    let project = fake_project(&["fake.pass_1"], "");
    let bad = project.write("bad.txt", "fine\n# a comment\nfake(\n");
    let bad = bad.to_str().unwrap();
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--exclude-list", "nope.txt"],
            &["failed to read --exclude-list nope.txt:"],
        ),
        (
            &["-i", "nope.txt"],
            &["failed to read --include-list nope.txt:"],
        ),
        (&["-E", "fake("], &["bad --exclude-regex `fake(`:"]),
        (
            &["-e", bad],
            &[
                "bad regular expression `fake(` at line 3 of --exclude-list",
                "bad.txt:",
            ],
        ),
    ];
    for (args, fragments) in cases {
        let run = project
            .testr(["run"].iter().chain(args))
            .arg("-j1")
            .run()
            .status(3);
        let run = run.error_line(fragments);
        assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
    }
    assert_eq!(runs(&project), 0, "nothing is stored");
}

#[test]
fn serial_runs_every_test_on_one_worker() {
    let ids: Vec<String> = (0..6).map(|i| format!("fake.pass_{i}")).collect();
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let project = fake_project(&all, "");
    project
        .testr(["run", "--serial", "--concurrency", "4"])
        .run()
        .success();
    let workers = project.workers();
    assert_eq!(workers.len(), 6);
    assert!(workers.values().all(|w| w == "worker-0"), "{workers:?}");
}

#[test]
fn random_hands_the_tests_out_shuffled() {
    let ids: Vec<String> = (0..40).map(|i| format!("fake.pass_{i:02}")).collect();
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let project = fake_project(&all, "");
    // Without history and without --random, one worker runs them in the
    // order they were listed.
    project.testr(["run", "--serial"]).run().success();
    assert_eq!(stored_order(&project), ids);
    project
        .testr(["run", "--serial", "--random"])
        .run()
        .success();
    let shuffled = stored_order(&project);
    assert_ne!(shuffled, ids, "40 tests shuffled stay in order once in 40!");
    let mut sorted = shuffled.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "every test ran once");
}

#[test]
fn combine_adds_the_results_to_the_latest_run() {
    let project = fake_project(
        &["fake.unit.pass_1", "fake.unit.fail_2", "fake.serial.fail_1"],
        "",
    );
    project
        .testr(["run", "--exclude-regex", "serial"])
        .run()
        .status(1);
    let combined = project
        .testr(["run", "--combine", "--concurrency", "1", "serial"])
        .run()
        .status(1);
    assert!(
        combined.stdout().contains("Ran 3 tests"),
        "the summary is the whole run's: {}",
        combined.stdout()
    );
    assert_eq!(runs(&project), 1, "no new run");
    assert_eq!(
        project.statuses(),
        statuses_of(&[
            ("fake.serial.fail_1", "fail"),
            ("fake.unit.fail_2", "fail"),
            ("fake.unit.pass_1", "success"),
        ])
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["tests_run"], 3);
    assert_eq!(last["run"]["failures"], 2);
    assert_eq!(last["run"]["finished"], true);
    let failing = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(failing.stdout(), "fake.serial.fail_1\nfake.unit.fail_2\n");
    // The timing history has the added tests too.
    let slowest = project.json(["slowest", "--all", "--json"]);
    assert_eq!(slowest["tests"].as_array().unwrap().len(), 3, "{slowest}");
}

#[test]
fn combine_with_no_earlier_run_is_an_error_that_stores_nothing() {
    let project = fake_project(&["fake.pass_1"], "");
    project
        .testr(["run", "--combine"])
        .run()
        .status(3)
        .error_line(&["--combine adds to the latest run, but the repository has no run yet"]);
    assert_eq!(runs(&project), 0);
}

#[test]
fn until_failure_repeats_until_a_run_fails_and_stores_each() {
    // The test fails the third time it runs.
    let project = fake_project(&["fake.pass_1", "fake.nth-3_a"], "");
    let run = project.testr(["run", "--until-failure"]).run().status(1);
    assert!(
        run.stderr()
            .contains("testr: --until-failure: run 3 failed; 3 runs stored"),
        "{}",
        run.stderr()
    );
    assert_eq!(runs(&project), 3);
    let failing = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(failing.stdout(), "fake.nth-3_a\n");
}

#[test]
fn until_failure_on_a_passing_suite_runs_until_a_signal_and_keeps_every_run() {
    let project = fake_project(&["fake.pass_1", "fake.pass_2"], "");
    let mut run = Running::start(&project, &["run", "--until-failure"]);
    // Each summary comes once its run is stored.
    run.wait_for(true, "PASSED (id=", 3);
    run.signal("TERM");
    let (status, output) = run.finish();
    assert_eq!(status.code(), Some(143), "{output}");
    let stored = runs(&project);
    assert!(stored >= 3, "{stored} runs: {output}");
    assert!(
        output.contains(&format!("was stopped; {stored} runs stored")),
        "{output}"
    );
    let last = project.json(["last", "--json"]);
    let whole = last["run"]["tests_run"] == 2 && last["run"]["interrupted"] == false;
    let stopped = last["run"]["interrupted"] == true;
    assert!(
        whole || stopped,
        "the latest run is whole or marked stopped: {last}"
    );
}

#[test]
fn isolated_runs_each_test_in_a_fresh_worker_as_one_run() {
    // In one process the check trips on the mark the set leaves.
    let ids = ["fake.set-a_1", "fake.check-a_1", "fake.pass_1"];
    let project = fake_project(&ids, "");
    project.testr(["run", "--serial"]).run().status(1);
    let isolated = project.testr(["run", "--isolated"]).run().success();
    assert!(
        isolated.stdout().contains("Ran 3 tests"),
        "{}",
        isolated.stdout()
    );
    assert_eq!(runs(&project), 2, "one run for the isolated pass");
    assert_eq!(
        project.statuses(),
        statuses_of(&[
            ("fake.check-a_1", "success"),
            ("fake.pass_1", "success"),
            ("fake.set-a_1", "success"),
        ])
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["partial"], false, "the pass ran every test");
    project.testr(["failing", "--list"]).run().success();
}

#[test]
fn analyze_isolation_names_the_smallest_set_that_makes_a_test_fail() {
    // Listed first, the check passes in listing order: it fails only in
    // a shuffled run where both sets ran before it, which the analysis
    // must replay in that order.
    let ids = [
        "fake.check-a-b_1",
        "fake.pass_1",
        "fake.set-a_1",
        "fake.pass_2",
        "fake.set-c_1",
        "fake.set-b_1",
        "fake.pass_3",
    ];
    let project = fake_project(&ids, "");
    project
        .testr(["run", "--serial", "--random", "--until-failure"])
        .run()
        .status(1);
    let ran = stored_order(&project);
    let at = ran.iter().position(|id| id == "fake.check-a-b_1").unwrap();
    let needed: Vec<&String> = ran[..at]
        .iter()
        .filter(|id| id.contains(".set-a_") || id.contains(".set-b_"))
        .collect();
    assert_eq!(
        needed.len(),
        2,
        "the failing run had both sets first: {ran:?}"
    );
    let stored = runs(&project);
    let analysis = project
        .testr(["run", "--analyze-isolation"])
        .run()
        .status(1);
    assert_eq!(
        analysis.stdout(),
        format!(
            "Analysing 1 failing test of run {}: each probe runs its tests on one worker, \
             in the order they ran.\n\
             fake.check-a-b_1: passes alone; fails after 2 of the {at} tests before it on worker-0:\n  \
             {}\n  {}\n",
            stored - 1,
            needed[0],
            needed[1]
        )
    );
    assert_eq!(runs(&project), stored, "the probes are not stored");
    let failing = project.testr(["failing", "--list"]).run().status(1);
    assert_eq!(failing.stdout(), "fake.check-a-b_1\n");
}

#[test]
fn analyze_isolation_of_a_test_that_fails_alone_says_so() {
    let project = fake_project(&["fake.pass_1", "fake.fail_1"], "");
    project.testr(["run", "--serial"]).run().status(1);
    let analysis = project
        .testr(["run", "--analyze-isolation"])
        .run()
        .status(1);
    assert!(
        analysis
            .stdout()
            .contains("fake.fail_1: fails alone too: not caused by the tests before it\n"),
        "{}",
        analysis.stdout()
    );
}

#[test]
fn slowest_follows_the_run() {
    let project = fake_project(&["fake.sleep-0.2_a", "fake.pass_1"], "");
    let run = project.testr(["run", "--slowest"]).run().success();
    let stdout = run.stdout();
    let summary = stdout.find("PASSED").expect("a summary");
    let slow = stdout.find("Test id").expect("the slowest tests");
    assert!(summary < slow, "{stdout}");
    let alone = project.testr(["slowest"]).run().success();
    assert!(stdout.ends_with(&alone.stdout()), "{stdout}");
}

#[test]
fn group_regex_on_the_command_line_keeps_a_group_on_one_worker() {
    let ids: Vec<String> = (0..8)
        .map(|i| format!("fake.g{}.pass_{i}", i % 2))
        .collect();
    let all: Vec<&str> = ids.iter().map(String::as_str).collect();
    let project = fake_project(&all, "");
    let grouped = |args: &[&str]| {
        project.testr(args).run().success();
        let workers = project.workers();
        for group in ["fake.g0.", "fake.g1."] {
            let on: std::collections::BTreeSet<&String> = workers
                .iter()
                .filter(|(id, _)| id.starts_with(group))
                .map(|(_, worker)| worker)
                .collect();
            assert_eq!(on.len(), 1, "{args:?}: {group} on {on:?}");
        }
    };
    grouped(&["--group-regex", r"fake\.g[01]\.", "run", "-j", "2"]);
    // The class is all but the last part of an id.
    grouped(&["run", "-j", "2", "--parallel-class"]);
}

#[test]
fn list_selects_as_run_does_and_concurrency_zero_is_the_default() {
    let project = fake_project(&["fake.a.pass_1", "fake.b.pass_1", "fake.c.pass_1"], "");
    let listed = project
        .testr(["list", "-E", "fake.b", "fake"])
        .run()
        .success();
    assert_eq!(listed.stdout(), "fake.a.pass_1\nfake.c.pass_1\n");
    let run = project.testr(["run", "--concurrency", "0"]).run().success();
    assert!(run.stdout().contains("Ran 3 tests"), "{}", run.stdout());
}

#[test]
fn test_path_and_top_dir_apply_only_to_stestr_projects() {
    let project = fake_project(&["fake.pass_1"], "");
    project
        .testr(["--test-path", "./tests", "run"])
        .run()
        .status(3)
        .error_line(&["--test-path sets a key of .stestr.conf, but the configuration is"]);
}

#[test]
fn tox_spelling_test_path_before_run_needs_no_stestr_conf() {
    let project = Project::fixture("unittest_project");
    let run = project
        .testr([
            "--test-path=./fixtureproj/tests",
            "--top-dir",
            "./",
            "run",
            "FixtureTest",
        ])
        .command_env("PYTHON", test_python())
        .run()
        .success();
    assert!(
        run.stdout()
            .contains("--worker discover -t ./ ./fixtureproj/tests\n"),
        "{}",
        run.stdout()
    );
}

#[test]
fn config_names_another_stestr_conf() {
    let project = Project::fixture("unittest_project");
    project.write("ci.conf", "[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    let conf = project.path().join("ci.conf");
    let run = project
        .testr([
            "-c".as_ref(),
            conf.as_os_str(),
            "run".as_ref(),
            "FixtureTest".as_ref(),
        ])
        .command_env("PYTHON", test_python())
        .run()
        .success();
    assert!(run.stdout().contains("Ran "), "{}", run.stdout());
    project
        .testr(["-c", "missing.conf", "run"])
        .run()
        .status(3)
        .error_line(&["failed to read missing.conf"]);
}

#[test]
fn no_discover_loads_one_test_by_name_without_discovery() {
    let project = Project::fixture("unittest_project");
    project.write(".stestr.conf", "[DEFAULT]\ntest_path=./fixtureproj/tests\n");
    let listed = project
        .testr(["list-tests"])
        .command_env("PYTHON", test_python())
        .run()
        .success();
    let first = listed
        .stdout()
        .lines()
        .find(|id| id.contains("test_plain"))
        .expect("a plain test")
        .to_owned();
    let run = project
        .testr(["run", "--no-discover", &first])
        .command_env("PYTHON", test_python())
        .run();
    let stdout = run.stdout();
    assert!(
        stdout.contains(&format!("--worker {first}\n")),
        "the worker loads only the test: {stdout}"
    );
    assert_eq!(stored_order(&project), [first]);
}

#[test]
fn no_discover_with_a_testr_conf_selects_the_id_and_what_is_below_it() {
    let project = fake_project(&["fake.a.pass_1", "fake.a.pass_2", "fake.ab.pass_1"], "");
    project
        .testr(["run", "--no-discover", "fake.a"])
        .run()
        .success();
    assert_eq!(
        project.statuses(),
        statuses_of(&[("fake.a.pass_1", "success"), ("fake.a.pass_2", "success")])
    );
    let last = project.json(["last", "--json"]);
    assert_eq!(last["run"]["partial"], true);
}

#[test]
fn until_failure_with_isolated_repeats_isolated_passes() {
    // Alone, the check passes every time; the counted test fails on the
    // second pass.
    let project = fake_project(&["fake.set-a_1", "fake.check-a_1", "fake.nth-2_x"], "");
    let run = project
        .testr(["run", "--isolated", "--until-failure"])
        .run()
        .status(1);
    assert!(
        run.stderr()
            .contains("testr: --until-failure: run 2 failed; 2 runs stored"),
        "{}",
        run.stderr()
    );
    assert_eq!(runs(&project), 2, "one run a pass");
    assert_eq!(
        project.statuses(),
        statuses_of(&[
            ("fake.check-a_1", "success"),
            ("fake.nth-2_x", "fail"),
            ("fake.set-a_1", "success"),
        ])
    );
}

#[test]
fn analyze_isolation_needs_a_run_and_says_when_nothing_fails() {
    let project = fake_project(&["fake.pass_1"], "");
    project
        .testr(["run", "--analyze-isolation"])
        .run()
        .status(3)
        .error_line(&["no tests in repository"]);
    project.testr(["run"]).run().success();
    let analysis = project
        .testr(["run", "--analyze-isolation"])
        .run()
        .success();
    assert_eq!(
        analysis.stdout(),
        "No test of run 0 is failing: nothing to analyse.\n"
    );
}

#[test]
fn isolated_with_trace_shows_the_whole_pass_once() {
    let project = fake_project(&["fake.pass_1", "fake.fail_2", "fake.pass_3"], "");
    let run = project
        .testr(["run", "--isolated", "--trace"])
        .run()
        .status(1);
    let stdout = run.stdout();
    for id in ["fake.pass_1", "fake.fail_2", "fake.pass_3"] {
        assert_eq!(stdout.matches(&format!(" {id} [")).count(), 1, "{stdout}");
    }
    assert_eq!(stdout.matches("Totals").count(), 1, "{stdout}");
    assert!(stdout.contains("Ran: 3 tests"), "{stdout}");
}
