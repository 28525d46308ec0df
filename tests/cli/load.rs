//! `testr load`: the summary, the failing set, workers and filters.

use testr::model::Status;

use crate::harness::{Project, Stream, TRACEBACK};

fn five_tests() -> Vec<u8> {
    Stream::new()
        .test("pkg.T.test_a", Status::Success, 2)
        .test("pkg.T.test_b", Status::Fail, 3)
        .test("pkg.T.test_c", Status::Skip, 1)
        .test("pkg.T.test_d", Status::XFail, 1)
        .test("pkg.T.test_e", Status::UxSuccess, 5)
        .bytes()
}

#[test]
fn load_prints_fail_blocks_and_the_summary_by_the_stream_clock() {
    let project = Project::new();
    let out = project.load(&five_tests(), 1).stdout();
    let expected = format!(
        "{}\nFAIL: pkg.T.test_b\ntags: worker-0\n{}\n{TRACEBACK}\
         Ran 5 tests in 0.012s\nFAILED (id=0, failures=1, skips=1)\n",
        "=".repeat(70),
        "-".repeat(70),
    );
    assert_eq!(out, expected);
}

#[test]
fn deltas_compare_with_the_previous_run() {
    let project = Project::new();
    project.load(&five_tests(), 1);
    let second = Stream::new()
        .test("pkg.T.test_a", Status::Success, 1)
        .bytes();
    let out = project.load(&second, 0).stdout();
    assert_eq!(out, "Ran 1 (-4) tests in 0.001s (-0.011s)\nPASSED (id=1)\n");
}

#[test]
fn quiet_drops_only_the_summary_lines() {
    let project = Project::new();
    let out = project
        .testr(["-q", "load"])
        .stdin(&five_tests())
        .run()
        .status(1)
        .stdout();
    assert!(out.contains("FAIL: pkg.T.test_b"), "{out}");
    assert!(!out.contains("Ran "), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}

#[test]
fn each_file_is_one_worker() {
    let project = Project::new();
    let first = project.write(
        "w0.subunit",
        Stream::new().test("a", Status::Fail, 1).bytes(),
    );
    let second = project.write(
        "w1.subunit",
        Stream::new().test("b", Status::Fail, 1).bytes(),
    );
    let out = project
        .testr(["load".as_ref(), first.as_os_str(), second.as_os_str()])
        .run()
        .status(1)
        .stdout();
    assert!(out.contains("FAIL: a\ntags: worker-0\n"), "{out}");
    assert!(out.contains("FAIL: b\ntags: worker-1\n"), "{out}");
    assert!(out.contains("Ran 2 tests"), "{out}");
}

#[test]
fn a_full_run_resets_the_failing_set_and_a_partial_run_does_not() {
    let project = Project::new();
    let both_fail = Stream::new()
        .test("a", Status::Fail, 1)
        .test("b", Status::Fail, 1)
        .bytes();
    project.load(&both_fail, 1);
    // A partial run of `a` passing: `b` still fails.
    let a_passes = Stream::new().test("a", Status::Success, 1).bytes();
    project
        .testr(["load", "--partial"])
        .stdin(&a_passes)
        .run()
        .success();
    let list = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(list, "b\n");
    // A full run holding only `c`: nothing it did not run stays failing.
    let c_passes = Stream::new().test("c", Status::Success, 1).bytes();
    project.load(&c_passes, 0);
    project.testr(["failing", "--list"]).run().success();
}

#[test]
fn a_test_that_never_finished_counts_as_a_failure() {
    let project = Project::new();
    let stream = Stream::new()
        .test("a", Status::Success, 1)
        .unfinished("b")
        .bytes();
    let out = project.load(&stream, 1).stdout();
    assert!(out.contains("FAIL: b"), "{out}");
    assert!(out.ends_with("FAILED (id=0, failures=1)\n"), "{out}");
    assert_eq!(
        project
            .testr(["failing", "--list"])
            .run()
            .status(1)
            .stdout(),
        "b\n"
    );
}

#[test]
fn filter_tags_are_not_counted_unless_they_fail() {
    let project = Project::new();
    let stream = Stream::new()
        .test_with_tags("a", Status::Success, 1, &["noisy"])
        .test_with_tags("b", Status::Fail, 1, &["noisy"])
        .test("c", Status::Success, 1)
        .bytes();
    project.write(".testr.conf", "[DEFAULT]\nfilter_tags = noisy\n");
    let out = project.load(&stream, 1).stdout();
    assert!(out.contains("Ran 2 tests"), "{out}");
    assert!(out.contains("FAIL: b"), "{out}");
}

#[test]
fn load_subunit_echoes_the_stream_and_still_tells_the_truth() {
    let project = Project::new();
    let out = project
        .testr(["load", "--subunit"])
        .stdin(&five_tests())
        .run()
        .status(1);
    assert_eq!(out.output.stdout.first(), Some(&0xb3), "subunit only");
    assert!(!out.stdout().contains("Ran 5"));
}

#[test]
fn force_init_creates_the_repository() {
    let project = Project::empty();
    project
        .testr(["load", "--force-init"])
        .stdin(&five_tests())
        .run()
        .status(1);
    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=1\n"
    );
}

#[test]
fn text_between_packets_is_kept_and_loses_no_test() {
    let project = Project::new();
    let stream = Stream::new()
        .text("log: falló ünïcode\n")
        .test("a", Status::Success, 1)
        .text("\u{f3}")
        .test("b", Status::Fail, 1)
        .text("tail falló\n")
        .bytes();
    let out = project.load(&stream, 1).stdout();
    assert!(out.contains("Ran 2 tests"), "{out}");
    let replay = project.testr(["last", "--subunit"]).run().status(1);
    let text = String::from_utf8_lossy(&replay.output.stdout).into_owned();
    for fragment in ["log: falló ünïcode\n", "tail falló\n"] {
        assert!(text.contains(fragment), "{fragment:?} kept in the replay");
    }
}
