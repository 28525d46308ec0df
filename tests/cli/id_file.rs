//! `$IDFILE` holds one id a line: an id with a line break in it cannot go
//! there, and is refused with a message that names it and points at
//! `$IDLIST`, which can carry it.

use crate::harness::{Project, fake_worker};

/// A classic project listing `fake.pass_a`, an id holding a newline, and
/// one holding a carriage return; `id_option` passes the ids to a batch.
fn project_with_line_breaks(id_option: &str) -> Project {
    Project::with_config(format!(
        "[DEFAULT]\ntest_command=python3 {} $LISTOPT $IDOPTION\n\
         test_list_option=--list fake.pass_a \"$(printf 'fake.pass_b\\nsecond')\" \
         \"$(printf 'fake.pass_c\\rthird')\"\n\
         test_id_option={id_option}\n",
        fake_worker().display()
    ))
}

#[test]
fn an_id_with_a_line_break_is_refused_for_idfile() {
    let project = project_with_line_breaks("--run --load-list $IDFILE");
    project
        .testr(["run", "--concurrency", "1"])
        .run()
        .status(3)
        .error_line(&[
            r"test id `fake.pass_b\nsecond` holds a line break",
            "$IDLIST",
        ]);
    assert_eq!(project.testr(["stats"]).run().stdout(), "runs=0\n");
    project
        .testr(["run", "--concurrency", "1", "fake.pass_c"])
        .run()
        .status(3)
        .error_line(&[r"test id `fake.pass_c\rthird` holds a line break"]);
}

#[test]
fn idlist_carries_an_id_with_a_line_break() {
    let project = project_with_line_breaks("--run $IDLIST");
    project.testr(["run", "--concurrency", "1"]).run().success();
    assert_eq!(
        project.statuses(),
        [
            ("fake.pass_a".to_owned(), "success".to_owned()),
            ("fake.pass_b\nsecond".to_owned(), "success".to_owned()),
            ("fake.pass_c\rthird".to_owned(), "success".to_owned()),
        ]
    );
}
