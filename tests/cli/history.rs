//! `testr history list|show|remove` and the retention keys: what each
//! shows and removes, what `last` and the failing set say afterwards, and
//! bad input.

use testr::model::Status;

use crate::harness::{Project, Stream};

fn stream(results: &[(&str, Status)]) -> Vec<u8> {
    results
        .iter()
        .fold(Stream::new(), |stream, (id, status)| {
            stream.test(id, *status, 10)
        })
        .bytes()
}

/// Three runs: 0 fails a, 1 (partial) passes a and fails b, 2 passes a and b.
fn three_runs(project: &Project) {
    project.load(&stream(&[("a", Status::Fail), ("b", Status::Success)]), 1);
    project
        .testr(["load", "--partial"])
        .stdin(&stream(&[("a", Status::Success), ("b", Status::Fail)]))
        .run()
        .status(1);
    project.load(
        &stream(&[("a", Status::Success), ("b", Status::Success)]),
        0,
    );
}

fn listed_ids(project: &Project) -> Vec<i64> {
    let doc = project.json(["history", "list", "--json"]);
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| run["id"].as_i64().unwrap())
        .collect()
}

fn failing_list(project: &Project) -> String {
    project.testr(["failing", "--list"]).run().stdout()
}

#[test]
fn list_shows_a_line_per_run() {
    let project = Project::new();
    let empty = project.testr(["history", "list"]).run().success();
    assert_eq!(empty.stdout(), "");
    three_runs(&project);
    let out = project.testr(["history", "list"]).run().success().stdout();
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "YYYY-MM-DD HH:MM:SS"),
    ]}, {
        insta::assert_snapshot!("history_list", out);
    });
}

#[test]
fn show_prints_a_run_as_last_does() {
    let project = Project::new();
    three_runs(&project);
    let shown = project
        .testr(["history", "show", "2"])
        .run()
        .success()
        .stdout();
    assert_eq!(shown, project.testr(["last"]).run().success().stdout());
    let first = project
        .testr(["history", "show", "0"])
        .run()
        .status(1)
        .stdout();
    assert!(first.starts_with(&"=".repeat(70)), "{first}");
    assert!(first.contains("FAIL: a\n"), "{first}");
    assert!(first.ends_with("FAILED (id=0, failures=1)\n"), "{first}");
    let subunit = project
        .testr(["history", "show", "1", "--subunit"])
        .run()
        .status(1);
    let reloaded = Project::new();
    reloaded.load(&subunit.output.stdout, 1);
    assert_eq!(
        reloaded.statuses(),
        [("a".into(), "success".into()), ("b".into(), "fail".into())]
    );
    let doc = project.json(["history", "show", "1", "--json"]);
    assert_eq!(doc["run"]["id"], 1);
    assert_eq!(doc["run"]["partial"], true);
}

#[test]
fn show_and_remove_refuse_an_unknown_or_malformed_id() {
    let project = Project::new();
    three_runs(&project);
    for args in [["history", "show", "9"], ["history", "remove", "9"]] {
        project
            .testr(args)
            .run()
            .status(3)
            .one_line_error(&["testr: error: no run with id 9"]);
    }
    for args in [["history", "show", "x"], ["history", "remove", "1x"]] {
        project
            .testr(args)
            .run()
            .status(3)
            .one_line_error(&["bad run id", "expected a whole number"]);
    }
    assert_eq!(listed_ids(&project), [0, 1, 2]);
}

#[test]
fn removing_the_last_run_makes_the_one_before_last() {
    let project = Project::new();
    three_runs(&project);
    assert_eq!(failing_list(&project), "");
    project
        .testr(["history", "remove", "2"])
        .run()
        .success()
        .stdout_has(&["Removed run 2.\n"]);
    assert_eq!(listed_ids(&project), [0, 1]);
    let last = project.testr(["last"]).run().status(1).stdout();
    assert!(last.ends_with("FAILED (id=1, failures=1)\n"), "{last}");
    // Run 1 failed b (and passed a, which run 0 failed).
    assert_eq!(failing_list(&project), "b\n");
    // A new run takes a new id, not the removed one.
    project.load(&stream(&[("a", Status::Success)]), 0);
    assert_eq!(listed_ids(&project), [0, 1, 3]);
}

#[test]
fn removing_a_run_gives_back_what_it_hid_and_takes_what_it_alone_said() {
    let project = Project::new();
    three_runs(&project);
    // Without run 2, run 1's failure of b stands again.
    project.testr(["history", "remove", "2"]).run().success();
    assert_eq!(failing_list(&project), "b\n");
    // Without run 1 too, run 0's failure of a stands again.
    project.testr(["history", "remove", "1"]).run().success();
    assert_eq!(failing_list(&project), "a\n");
    // Without run 0, nothing says a fails.
    project.testr(["history", "remove", "0"]).run().success();
    assert_eq!(failing_list(&project), "");
    project
        .testr(["last"])
        .run()
        .status(3)
        .one_line_error(&["no tests in repository"]);
}

#[test]
fn keep_and_all_remove_the_oldest_and_every_run() {
    let project = Project::new();
    three_runs(&project);
    project
        .testr(["history", "remove", "--keep", "2"])
        .run()
        .success()
        .stdout_has(&["Removed run 0.\n"]);
    assert_eq!(listed_ids(&project), [1, 2]);
    project
        .testr(["history", "remove", "--keep", "5"])
        .run()
        .success()
        .stdout_has(&["No run to remove.\n"]);
    project
        .testr(["history", "remove", "all"])
        .run()
        .success()
        .stdout_has(&["Removed 2 runs: 1, 2.\n"]);
    assert_eq!(listed_ids(&project), Vec::<i64>::new());
}

#[test]
fn older_than_removes_the_runs_stored_before_then() {
    let project = Project::new();
    three_runs(&project);
    let db = project.path().join(".testrepository/testr.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE run SET recorded_at = recorded_at - 40 * 86400 WHERE id < 2",
        [],
    )
    .unwrap();
    drop(conn);
    project
        .testr(["history", "remove", "--older-than", "41d"])
        .run()
        .success()
        .stdout_has(&["No run to remove.\n"]);
    project
        .testr(["history", "remove", "--older-than", "30d"])
        .run()
        .success()
        .stdout_has(&["Removed 2 runs: 0, 1.\n"]);
    assert_eq!(listed_ids(&project), [2]);
}

#[test]
fn bad_ages_counts_and_choices_are_refused() {
    let project = Project::new();
    three_runs(&project);
    for age in ["3x", "30", "0d", "soon"] {
        project
            .testr(["history", "remove", "--older-than", age])
            .run()
            .status(3)
            .one_line_error(&[&format!("bad --older-than `{age}`")]);
    }
    for args in [
        &["history", "remove", "--keep", "0"][..],
        &["history", "remove", "--keep", "-1"],
        &["history", "remove"],
        &["history", "remove", "1", "--keep", "1"],
        &["history", "remove", "--older-than", "1d", "--keep", "1"],
        &["history", "show"],
    ] {
        let finished = project.testr(args).run().status(2);
        assert!(finished.stderr().starts_with("error: "), "{args:?}");
    }
    assert_eq!(listed_ids(&project), [0, 1, 2]);
}

#[test]
fn history_keep_removes_the_oldest_after_each_stored_run() {
    let project = Project::with_config("[DEFAULT]\nhistory_keep = 2\n");
    three_runs(&project);
    assert_eq!(listed_ids(&project), [1, 2]);
    project.load(&stream(&[("a", Status::Success)]), 0);
    assert_eq!(listed_ids(&project), [2, 3]);
}

#[test]
fn history_max_age_keeps_fresh_runs() {
    let project = Project::with_config("[DEFAULT]\nhistory_max_age = 30d\n");
    three_runs(&project);
    assert_eq!(listed_ids(&project), [0, 1, 2]);
}

#[test]
fn bad_retention_keys_are_errors_that_store_nothing() {
    for (key, expected) in [
        (
            "history_keep = 0",
            "bad history_keep `0` in [DEFAULT]: expected a whole number of runs, at least 1",
        ),
        ("history_keep = lots", "bad history_keep `lots`"),
        (
            "history_max_age = 0s",
            "bad history_max_age `0s` in [DEFAULT]: expected a time above zero",
        ),
        ("history_max_age = 30", "bad history_max_age `30`"),
    ] {
        let project = Project::with_config(format!("[DEFAULT]\n{key}\n"));
        project
            .testr(["load"])
            .stdin(&stream(&[("a", Status::Success)]))
            .run()
            .status(3)
            .one_line_error(&[".testr.conf", expected]);
        assert_eq!(listed_ids(&project), Vec::<i64>::new(), "{key}");
    }
}
