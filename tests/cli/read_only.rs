//! A repository that cannot be written (a read-only mount, a checkout
//! without write permission) can still be queried; storing into it fails
//! with one line naming the database.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use testr::model::Status;

use crate::harness::{Finished, Project, Stream, testr_bin};

/// The uid and gid testr runs as when the tests run as root, whom file
/// permissions do not stop: the conventional `nobody`.
const UNPRIVILEGED: u32 = 65534;

/// Takes write permission away from `.testrepository/` and everything in
/// it for as long as it lives, as `chmod -R a-w` would.
struct WithoutWrite {
    paths: Vec<PathBuf>,
}

impl WithoutWrite {
    fn new(repository: &Path) -> WithoutWrite {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(repository)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.push(repository.to_owned());
        for path in &paths {
            set_mode(path, |mode| mode & !0o222);
        }
        WithoutWrite { paths }
    }
}

impl Drop for WithoutWrite {
    fn drop(&mut self) {
        for path in self.paths.iter().rev() {
            set_mode(path, |mode| mode | 0o200);
        }
    }
}

fn set_mode(path: &Path, change: impl Fn(u32) -> u32) {
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(change(mode))).unwrap();
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `testr -d PROJECT ARGS...` as a user the permissions apply to.
fn testr_as_reader(project: &Project, args: &[&str]) -> Finished {
    let mut command = Command::new(testr_bin());
    command.arg("-d").arg(project.path()).args(args);
    if is_root() {
        command.uid(UNPRIVILEGED).gid(UNPRIVILEGED);
    }
    Finished {
        output: command.output().expect("testr runs"),
    }
}

#[test]
fn a_repository_that_cannot_be_written_can_be_queried() {
    let project = Project::new();
    let stream = Stream::new()
        .test("pkg.T.test_ok", Status::Success, 5)
        .test("pkg.T.test_broken", Status::Fail, 30)
        .bytes();
    project.load(&stream, 1);
    let input = project.write("more.subunit", &stream);
    // The unprivileged user must reach the project (a temporary directory
    // is private to its owner).
    set_mode(project.path(), |mode| mode | 0o555);
    let repository = project.path().join(".testrepository");
    let _without_write = WithoutWrite::new(&repository);

    // Permissions really stop this process from writing: storing fails.
    testr_as_reader(&project, &["load", input.to_str().unwrap()])
        .status(3)
        .one_line_error(&["testr.sqlite", "cannot be written"]);

    let stats = testr_as_reader(&project, &["stats"]).success();
    assert_eq!(stats.stdout(), "runs=1\n");
    testr_as_reader(&project, &["last"])
        .status(1)
        .stdout_has(&["FAIL: pkg.T.test_broken", "FAILED (id=0, failures=1)"]);
    let failing = testr_as_reader(&project, &["failing", "--list"]).status(1);
    assert_eq!(failing.stdout(), "pkg.T.test_broken\n");
    testr_as_reader(&project, &["slowest"])
        .success()
        .stdout_has(&["pkg.T.test_broken  0.030", "pkg.T.test_ok      0.005"]);
    let entries: Vec<_> = std::fs::read_dir(&repository)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        entries
            .iter()
            .all(|name| name == "format" || name == "testr.sqlite"),
        "{entries:?}"
    );
}

#[test]
fn a_log_that_only_a_writer_can_replay_is_refused_not_ignored() {
    // A copy taken while a writer was at work: the database file without
    // the run still in its write-ahead log, and no index to read it with.
    let source = Project::new();
    let db = source.path().join(".testrepository/testr.sqlite");
    let writer = rusqlite::Connection::open(&db).unwrap();
    writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    writer
        .execute(
            "INSERT INTO run (id, recorded_at, partial, command, tests_run, failures, skips)
             VALUES (0, 1, 0, 'testr load', 1, 0, 0)",
            [],
        )
        .unwrap();
    let copy = Project::new();
    let repository = copy.path().join(".testrepository");
    std::fs::copy(&db, repository.join("testr.sqlite")).unwrap();
    std::fs::copy(
        source.path().join(".testrepository/testr.sqlite-wal"),
        repository.join("testr.sqlite-wal"),
    )
    .unwrap();
    drop(writer);
    set_mode(copy.path(), |mode| mode | 0o555);
    let _without_write = WithoutWrite::new(&repository);
    testr_as_reader(&copy, &["stats"])
        .status(3)
        .one_line_error(&["testr.sqlite-wal", "copy the repository somewhere writable"]);
}
