//! Bad input: each gets one clear line naming the problem, a documented exit
//! status, and stored runs survive.

use testr::model::Status;

use crate::harness::{Project, Stream};

const ERROR: i32 = 3;

/// A project holding one good run, to check that bad input loses nothing.
fn with_one_run() -> Project {
    let project = Project::new();
    project.load(&Stream::new().test("good", Status::Success, 1).bytes(), 0);
    project
}

fn assert_first_run_intact(project: &Project) {
    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=1\n"
    );
    let last = project.testr(["last"]).run().success().stdout();
    assert!(last.ends_with("PASSED (id=0)\n"), "{last}");
}

#[test]
fn a_truncated_stream_keeps_what_came_before_and_reports_the_cut() {
    let project = with_one_run();
    let mut stream = Stream::new()
        .test("a", Status::Success, 1)
        .test("b", Status::Success, 1)
        .bytes();
    stream.truncate(stream.len() - 5);
    let load = project.testr(["load"]).stdin(&stream).run().status(1);
    let out = load.stdout();
    assert!(out.contains("FAIL: subunit.parser"), "{out}");
    assert!(out.contains("truncated"), "{out}");
    assert!(load.stderr().contains("corrupt"), "{}", load.stderr());
    // `b` never finished: the cut left it in progress.
    let failing = project
        .testr(["failing", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(failing, "b\nsubunit.parser\n");
}

#[test]
fn a_bad_crc_is_recorded_as_python_subunit_does_and_decoding_goes_on() {
    let project = with_one_run();
    let first = Stream::new().test("a", Status::Success, 1).bytes();
    let mut corrupt = Stream::new().test("b", Status::Success, 1).bytes();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    let third = Stream::new().test("c", Status::Success, 1).bytes();
    let stream = [first, corrupt, third].concat();
    let out = project.load(&stream, 1).stdout();
    assert!(out.contains("FAIL: subunit.parser"), "{out}");
    assert!(out.contains("Parser Error"), "{out}");
    let replay = project
        .testr(["last", "--subunit"])
        .run()
        .status(1)
        .output
        .stdout;
    let replay = String::from_utf8_lossy(&replay);
    assert!(
        replay.contains('c'),
        "the packet after the bad one was read"
    );
}

#[test]
fn random_bytes_store_nothing() {
    let project = with_one_run();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    project
        .testr(["load"])
        .stdin(&noise)
        .run()
        .status(ERROR)
        .one_line_error(&["standard input", "no subunit v2", "nothing was stored"]);
    assert_first_run_intact(&project);
}

#[test]
fn an_oversized_length_is_not_a_packet() {
    let project = with_one_run();
    // Signature, version-2 flags with a test id, then a 4-byte length
    // varint far over the 4 MiB packet limit.
    let bogus = [0xb3, 0x28, 0x00, 0xff, 0xff, 0xff, 0xff, b'x'];
    let stream = [
        bogus.to_vec(),
        Stream::new().test("after", Status::Success, 1).bytes(),
    ]
    .concat();
    let out = project.load(&stream, 0).stdout();
    assert!(out.contains("Ran 1 tests"), "{out}");
}

#[test]
fn a_v1_stream_is_named_and_never_passes() {
    let project = with_one_run();
    let v1 = "test: pkg.T.test_a\nsuccess: pkg.T.test_a\ntest: pkg.T.test_b\nfailure: pkg.T.test_b [\nboom\n]\n";
    let result = project
        .testr(["load"])
        .stdin(v1.as_bytes())
        .run()
        .status(ERROR);
    assert!(!result.stdout().contains("PASSED"));
    result.one_line_error(&["subunit v1", "subunit-1to2", "nothing was stored"]);
    assert_first_run_intact(&project);
}

#[test]
fn an_empty_stream_stores_nothing() {
    let project = with_one_run();
    project
        .testr(["load"])
        .run()
        .status(ERROR)
        .one_line_error(&["standard input", "nothing was stored"]);
    assert_first_run_intact(&project);
}

#[test]
fn a_missing_file_stores_nothing() {
    let project = with_one_run();
    let good = project.write(
        "good.subunit",
        Stream::new().test("x", Status::Fail, 1).bytes(),
    );
    let missing = project.path().join("missing.subunit");
    project
        .testr(["load".as_ref(), good.as_os_str(), missing.as_os_str()])
        .run()
        .status(ERROR)
        .one_line_error(&["missing.subunit"]);
    assert_first_run_intact(&project);
}

#[test]
fn a_corrupt_database_is_named() {
    let project = with_one_run();
    let db = project.path().join(".testrepository/testr.sqlite");
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{extra}", db.display()));
    }
    std::fs::write(
        &db,
        b"this is not a database at all, just text padding it out".repeat(100),
    )
    .unwrap();
    project
        .testr(["last"])
        .run()
        .status(ERROR)
        .one_line_error(&["testr.sqlite", "corrupt or not a testr database"]);
    // Loading into it must not overwrite what is there.
    project
        .testr(["load"])
        .stdin(&Stream::new().test("a", Status::Success, 1).bytes())
        .run()
        .status(ERROR);
    assert!(
        std::fs::read(&db)
            .unwrap()
            .starts_with(b"this is not a database")
    );
}

#[test]
fn an_unopenable_database_is_named() {
    let project = with_one_run();
    let db = project.path().join(".testrepository/testr.sqlite");
    let aside = project.path().join("aside.sqlite");
    std::fs::rename(&db, &aside).unwrap();
    std::fs::create_dir(&db).unwrap();
    project
        .testr(["load"])
        .stdin(&Stream::new().test("a", Status::Success, 1).bytes())
        .run()
        .status(ERROR)
        .one_line_error(&["testr.sqlite"]);
    std::fs::remove_dir(&db).unwrap();
    std::fs::rename(&aside, &db).unwrap();
    assert_first_run_intact(&project);
}

#[test]
fn a_read_only_repository_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let project = with_one_run();
    let dir = project.path().join(".testrepository");
    let db = dir.join("testr.sqlite");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores file modes; this case means something only for others.
    let enforced = std::fs::OpenOptions::new().write(true).open(&db).is_err();
    if enforced {
        project
            .testr(["load"])
            .stdin(&Stream::new().test("a", Status::Success, 1).bytes())
            .run()
            .status(ERROR)
            .one_line_error(&["testr.sqlite"]);
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_first_run_intact(&project);
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let project = with_one_run();
    let db = project.path().join(".testrepository/testr.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    project
        .testr(["last"])
        .run()
        .status(ERROR)
        .one_line_error(&["schema version 99", "upgrade testr"]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

#[test]
fn init_twice_is_an_error() {
    let project = with_one_run();
    project
        .testr(["init"])
        .run()
        .status(ERROR)
        .one_line_error(&["already exists"]);
    assert_first_run_intact(&project);
}

#[test]
fn a_python_testr_repository_is_detected_and_left_alone() {
    let project = Project::empty();
    let dir = project.path().join(".testrepository");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("format"), "1\n").unwrap();
    std::fs::write(dir.join("0"), b"old run").unwrap();
    for args in [&["last"][..], &["load", "--force-init"][..], &["init"][..]] {
        project
            .testr(args)
            .stdin(&Stream::new().test("a", Status::Success, 1).bytes())
            .run()
            .status(ERROR);
    }
    project
        .testr(["last"])
        .run()
        .one_line_error(&["Python testrepository (format 1)"]);
    assert_eq!(std::fs::read(dir.join("0")).unwrap(), b"old run");
    assert_eq!(std::fs::read(dir.join("format")).unwrap(), b"1\n");
}

#[test]
fn a_missing_repository_says_how_to_make_one() {
    Project::empty()
        .testr(["failing"])
        .run()
        .status(ERROR)
        .one_line_error(&["no repository", "testr init"]);
}

#[test]
fn garbage_config_is_named_with_its_line() {
    let project = with_one_run();
    project.write(
        ".testr.conf",
        "[DEFAULT]\nfilter_tags = a\nnot a key value line\n",
    );
    project
        .testr(["load"])
        .stdin(&Stream::new().test("a", Status::Success, 1).bytes())
        .run()
        .status(ERROR)
        .one_line_error(&[".testr.conf", "line 3"]);
    std::fs::remove_file(project.path().join(".testr.conf")).unwrap();
    assert_first_run_intact(&project);
}

#[test]
fn a_bad_command_line_exits_2() {
    Project::new()
        .testr(["load", "--no-such-flag"])
        .run()
        .status(2);
    Project::new().testr(["no-such-command"]).run().status(2);
}
