//! The per-test output (`--trace`, stestr's subunit-trace): whole outputs of
//! `load`, `last`, `run` and `history show`, durations redacted where they
//! come from a real clock; and its flags, good and bad.

use testr::model::Status;

use crate::harness::{Project, Stream, fake_project};

/// Two workers' streams: worker 0 passes, fails and skips, and prints
/// between packets; worker 1 has an expected failure and an unexpected
/// success.
fn two_workers(project: &Project) -> [std::path::PathBuf; 2] {
    let first = Stream::new()
        .test("pkg.T.test_ok", Status::Success, 12)
        .text("printed between tests\n")
        .test("pkg.T.test_broken[id-1,smoke]", Status::Fail, 40)
        .test("pkg.T.test_skipped", Status::Skip, 0)
        .bytes();
    let second = Stream::new()
        .test("pkg.U.test_xfail", Status::XFail, 3)
        .test("pkg.U.test_uxsuccess", Status::UxSuccess, 250)
        .bytes();
    [
        project.write("worker0.subunit", first),
        project.write("worker1.subunit", second),
    ]
}

fn load_traced(project: &Project, flags: &[&str]) -> String {
    let files = two_workers(project);
    let mut args: Vec<std::ffi::OsString> = vec!["load".into()];
    args.extend(flags.iter().map(Into::into));
    args.extend(files.iter().map(Into::into));
    project.testr(args).run().status(1).stdout()
}

#[test]
fn load_prints_a_line_per_test_then_the_failures_totals_and_balance() {
    let project = Project::new();
    insta::assert_snapshot!("load_trace", load_traced(&project, &["--trace"]));
}

#[test]
fn last_and_history_show_print_the_stored_run_the_same_way() {
    let project = Project::new();
    let loaded = load_traced(&project, &["--trace"]);
    let last = project.testr(["last", "--trace"]).run().status(1).stdout();
    assert_eq!(last, loaded);
    let shown = project
        .testr(["history", "show", "0", "--trace"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(shown, loaded);
}

#[test]
fn stestr_spellings_ask_for_the_same_output() {
    let project = Project::new();
    let traced = load_traced(&project, &["--trace"]);
    assert_eq!(load_traced(&project, &["--subunit-trace"]), traced);
    assert_eq!(load_traced(&project, &["--force-subunit-trace"]), traced);
    for flags in [["last", "--force-subunit-trace"], ["last", "--trace"]] {
        let out = project.testr(flags).run().status(1).stdout();
        assert_eq!(out, traced, "{flags:?}");
    }
    // --no-subunit-trace is testr's summary, which is the default anyway.
    let summary = project.testr(["last"]).run().status(1).stdout();
    let asked = project
        .testr(["last", "--no-subunit-trace"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(asked, summary);
    assert!(
        summary.contains("FAIL: pkg.T.test_broken[id-1,smoke]"),
        "{summary}"
    );
}

#[test]
fn abbreviated_coloured_and_attachment_choices() {
    let project = Project::new();
    insta::assert_snapshot!("load_abbreviate", load_traced(&project, &["--abbreviate"]));
    let coloured = project
        .testr(["last", "--color=always"])
        .run()
        .status(1)
        .stdout();
    assert!(
        coloured.starts_with("{0} pkg.T.test_ok [0.012000s] ... \x1b[32;1mok\x1b[0m\n"),
        "{coloured}"
    );
    assert!(
        coloured.contains("... \x1b[31;1mFAILED\x1b[0m\n"),
        "{coloured}"
    );
    assert!(
        coloured.contains("... \x1b[34;1mSKIPPED\x1b[0m\n"),
        "{coloured}"
    );
    // --color alone colours a terminal only; this stdout is a pipe.
    let auto = project.testr(["last", "--color"]).run().status(1).stdout();
    assert_eq!(auto, project.testr(["last", "--trace"]).run().stdout());
    for flag in ["--suppress-attachments", "--all-attachments"] {
        let out = project.testr(["last", flag]).run().status(1).stdout();
        assert!(
            out.starts_with("{0} pkg.T.test_ok [0.012000s] ... ok\n"),
            "{flag}: {out}"
        );
    }
}

#[test]
fn bad_combinations_are_refused() {
    let project = Project::new();
    load_traced(&project, &[]);
    for args in [
        &["last", "--trace", "--subunit"][..],
        &["last", "--trace", "--json"],
        &["last", "--abbreviate", "--json"],
        &["last", "--color=sometimes"],
        &["last", "--suppress-attachments", "--all-attachments"],
        &["last", "--no-subunit-trace", "--trace"],
        &["load", "--trace", "--subunit"],
        &["run", "--trace", "--subunit"],
    ] {
        let finished = project.testr(args).run().status(2);
        assert!(
            finished.stderr().starts_with("error: "),
            "{args:?}: {}",
            finished.stderr()
        );
    }
}

#[test]
fn run_prints_a_line_per_test_as_it_finishes() {
    let project = fake_project(
        &["fake.pass_1", "fake.fail_2", "fake.skip_3", "fake.stdout_4"],
        "",
    );
    let out = project
        .testr(["run", "--trace", "-j", "1"])
        .run()
        .status(1)
        .stdout();
    insta::with_settings!({filters => vec![
        (r"\[\d+\.\d{6}s\]", "[DURATION]"),
        (r"\d+\.\d{4} sec\.", "SECONDS sec."),
        (r"=> \d+:\d\d:\d\d(\.\d{6})?", "=> CLOCK"),
    ]}, {
        insta::assert_snapshot!("run_trace", out);
    });
    // The run is stored, and testr's summary is not printed.
    assert!(!out.contains("Ran 4 tests"), "{out}");
    project.testr(["last"]).run().status(1);
}
