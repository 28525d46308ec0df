//! The query commands: last, failing, stats, slowest.

use testr::model::Status;

use crate::harness::{Project, Stream, TRACEBACK};

fn loaded() -> Project {
    let project = Project::new();
    let stream = Stream::new()
        .test("pkg.T.test_fast", Status::Success, 1)
        .test("pkg.T.test_broken", Status::Fail, 40)
        .test("pkg.T.test_slow", Status::Success, 250)
        .test("pkg.T.test_skipped", Status::Skip, 0)
        .bytes();
    project.load(&stream, 1);
    project
}

#[test]
fn last_shows_the_latest_run_again() {
    let project = loaded();
    let out = project.testr(["last"]).run().status(1).stdout();
    assert!(out.starts_with(&"=".repeat(70)), "{out}");
    assert!(out.contains(&format!(
        "FAIL: pkg.T.test_broken\ntags: worker-0\n{}\n{TRACEBACK}",
        "-".repeat(70)
    )));
    assert!(
        out.ends_with("Ran 4 tests in 0.291s\nFAILED (id=0, failures=1, skips=1)\n"),
        "{out}"
    );
}

#[test]
fn last_on_an_empty_repository_is_an_error() {
    let project = Project::new();
    project
        .testr(["last"])
        .run()
        .status(3)
        .one_line_error(&["no tests in repository"]);
}

#[test]
fn failing_shows_blocks_list_and_summary() {
    let project = loaded();
    let out = project.testr(["failing"]).run().status(1).stdout();
    assert!(out.contains("FAIL: pkg.T.test_broken"), "{out}");
    assert!(
        out.ends_with("Ran 1 tests in 0.040s\nFAILED (id=0, failures=1)\n"),
        "{out}"
    );
    let list = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(list, "pkg.T.test_broken\n");
}

#[test]
fn nothing_failing_exits_zero() {
    let project = Project::new();
    project.load(&Stream::new().test("a", Status::Success, 1).bytes(), 0);
    let out = project.testr(["failing"]).run().success().stdout();
    assert_eq!(out, "PASSED (id=0)\n");
    assert_eq!(
        project
            .testr(["failing", "--list"])
            .run()
            .success()
            .stdout(),
        ""
    );
}

#[test]
fn stats_counts_runs() {
    let project = loaded();
    project.load(&Stream::new().test("a", Status::Success, 1).bytes(), 0);
    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=2\n"
    );
}

#[test]
fn slowest_lists_the_latest_run_longest_first() {
    let project = loaded();
    let out = project.testr(["slowest"]).run().success().stdout();
    let expected = "Test id             Runtime (s)\n\
                    ------------------  -----------\n\
                    pkg.T.test_slow     0.250\n\
                    pkg.T.test_broken   0.040\n\
                    pkg.T.test_fast     0.001\n\
                    pkg.T.test_skipped  0.000\n";
    assert_eq!(out, expected);
}

#[test]
fn slowest_shows_ten_unless_all() {
    let project = Project::new();
    let mut stream = Stream::new();
    for i in 0..15 {
        stream = stream.test(&format!("t{i:02}"), Status::Success, i);
    }
    project.load(&stream.bytes(), 0);
    let ten = project.testr(["slowest"]).run().success().stdout();
    assert_eq!(ten.lines().count(), 12);
    assert!(ten.contains("t14") && !ten.contains("t04"), "{ten}");
    let all = project.testr(["slowest", "--all"]).run().success().stdout();
    assert_eq!(all.lines().count(), 17);
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    use std::process::{Command, Stdio};
    let project = Project::new();
    let mut stream = Stream::new();
    for i in 0..20_000 {
        stream = stream.test(&format!("pkg.tests.T.test_{i:05}"), Status::Fail, 0);
    }
    project.load(&stream.bytes(), 1);
    let mut child = Command::new(crate::harness::testr_bin())
        .arg("-d")
        .arg(project.path())
        .args(["failing", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe as `head -1` would.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert_eq!(output.status.code(), Some(0));
}
