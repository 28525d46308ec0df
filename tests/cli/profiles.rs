//! Profiles: results kept apart per configuration by profile tags.

use testr::model::Status;

use crate::harness::{Project, Stream};

const ERROR: i32 = 3;

fn project_with_profile_tags(tags: &str) -> Project {
    Project::with_config(format!("[DEFAULT]\nprofile_tags = {tags}\n"))
}

/// x fails on py311 and passes on py312, loaded one after the other.
fn python_versions() -> Project {
    let project = project_with_profile_tags("py3*");
    let py311 = Stream::new()
        .test_with_tags("x", Status::Fail, 1, &["py311"])
        .test_with_tags("y", Status::Success, 1, &["py311"])
        .bytes();
    let out = project.load(&py311, 1).stdout();
    assert!(
        out.contains("FAIL: x\ntags: py311 worker-0\nprofile: py311\n"),
        "{out}"
    );
    let py312 = Stream::new()
        .test_with_tags("x", Status::Success, 1, &["py312"])
        .test_with_tags("y", Status::Success, 1, &["py312"])
        .bytes();
    project.load(&py312, 0);
    project
}

#[test]
fn a_failure_in_one_profile_survives_a_pass_in_another() {
    let project = python_versions();
    let failing = project
        .testr(["failing", "--profile", "py311", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(failing, "x\n");
    project
        .testr(["failing", "--profile", "py312", "--list"])
        .run()
        .success();
}

#[test]
fn flat_lists_refuse_several_profiles_and_name_them() {
    let project = python_versions();
    project
        .testr(["failing", "--list"])
        .run()
        .status(ERROR)
        .one_line_error(&["several profiles", "py311, py312", "--profile"]);
    let profiles = project
        .testr(["failing", "--profiles"])
        .run()
        .success()
        .stdout();
    assert_eq!(profiles, "py311\npy312\n");
    // The latest run holds py312 only: `last` and `slowest` speak of it.
    let last = project.testr(["last"]).run().success().stdout();
    assert!(last.ends_with("PASSED (id=1)\n"), "{last}");
    let slowest = project
        .testr(["slowest", "--profiles"])
        .run()
        .success()
        .stdout();
    assert_eq!(slowest, "py312\n");
}

#[test]
fn load_profile_tags_a_stream_that_does_not_carry_them() {
    let project = project_with_profile_tags("py311 py312");
    let plain = Stream::new().test("x", Status::Fail, 1).bytes();
    project
        .testr(["load", "--profile", "py311"])
        .stdin(&plain)
        .run()
        .status(1);
    let plain_pass = Stream::new().test("x", Status::Success, 1).bytes();
    project
        .testr(["load", "--profile", "py312"])
        .stdin(&plain_pass)
        .run()
        .success();
    let failing = project
        .testr(["failing", "--profile", "py311", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(failing, "x\n");
}

#[test]
fn a_matrix_profile_is_named_by_its_tags_in_any_order() {
    let project = project_with_profile_tags("py311 py312 sqlite postgres");
    let mut stream = Stream::new();
    for (py, db) in [
        ("py311", "sqlite"),
        ("py311", "postgres"),
        ("py312", "sqlite"),
        ("py312", "postgres"),
    ] {
        let status = if (py, db) == ("py312", "postgres") {
            Status::Fail
        } else {
            Status::Success
        };
        stream = stream.test_with_tags("t", status, 1, &[py, db, "worker-1"]);
    }
    let out = project.load(&stream.bytes(), 1).stdout();
    assert!(
        out.contains("  profile postgres,py312: 1 tests, failures=1, skips=0\n"),
        "{out}"
    );
    assert!(
        out.contains("  profile py311,sqlite: 1 tests, failures=0, skips=0\n"),
        "{out}"
    );
    let profiles = project
        .testr(["last", "--profiles"])
        .run()
        .success()
        .stdout();
    assert_eq!(
        profiles,
        "postgres,py311\npostgres,py312\npy311,sqlite\npy312,sqlite\n"
    );
    for name in ["py312,postgres", "postgres,py312"] {
        let failing = project
            .testr(["failing", "--profile", name, "--list"])
            .run()
            .status(1)
            .stdout();
        assert_eq!(failing, "t\n");
    }
    let last = project
        .testr(["last", "--profile", "py312,postgres"])
        .run()
        .status(1)
        .stdout();
    assert!(last.contains("profile: postgres,py312\n"), "{last}");
    assert!(
        last.ends_with("Ran 1 tests in 0.001s\nFAILED (id=0, failures=1)\n"),
        "{last}"
    );
    project
        .testr(["last", "--profile", "py311,sqlite"])
        .run()
        .success();
}

#[test]
fn a_partial_load_touches_only_its_profile_and_tests() {
    let project = project_with_profile_tags("py311 py312");
    let both_fail = Stream::new()
        .test_with_tags("a", Status::Fail, 1, &["py311"])
        .test_with_tags("b", Status::Fail, 1, &["py311"])
        .test_with_tags("a", Status::Fail, 1, &["py312"])
        .bytes();
    project.load(&both_fail, 1);
    let a_passes = Stream::new()
        .test_with_tags("a", Status::Success, 1, &["py311"])
        .bytes();
    project
        .testr(["load", "--partial"])
        .stdin(&a_passes)
        .run()
        .success();
    let py311 = project
        .testr(["failing", "--profile", "py311", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(py311, "b\n");
    let py312 = project
        .testr(["failing", "--profile", "py312", "--list"])
        .run()
        .status(1)
        .stdout();
    assert_eq!(py312, "a\n");
}

#[test]
fn an_unknown_profile_lists_the_known_ones() {
    let project = python_versions();
    project
        .testr(["failing", "--profile", "py313"])
        .run()
        .status(ERROR)
        .one_line_error(&["py313", "py311, py312"]);
}

#[test]
fn a_malformed_profile_tags_pattern_is_named() {
    let project = project_with_profile_tags("py[3");
    project
        .testr(["load"])
        .stdin(&Stream::new().test("x", Status::Success, 1).bytes())
        .run()
        .status(ERROR)
        .one_line_error(&[".testr.conf", "py[3", "unclosed"]);
    assert_eq!(
        project.testr(["stats"]).run().success().stdout(),
        "runs=0\n"
    );
}

#[test]
fn a_profile_without_profile_tags_is_refused() {
    let project = Project::new();
    project
        .testr(["load", "--profile", "py311"])
        .stdin(&Stream::new().test("x", Status::Success, 1).bytes())
        .run()
        .status(ERROR)
        .one_line_error(&["--profile py311", "no profile_tags"]);
    project.load(&Stream::new().test("x", Status::Success, 1).bytes(), 0);
    project
        .testr(["failing", "--profile", "py311"])
        .run()
        .status(ERROR)
        .one_line_error(&["no profile_tags"]);
}

#[test]
fn a_profile_tag_must_be_one_the_config_names() {
    let project = project_with_profile_tags("py311 py312");
    project
        .testr(["load", "--profile", "py311,worker-3"])
        .stdin(&Stream::new().test("x", Status::Success, 1).bytes())
        .run()
        .status(ERROR)
        .one_line_error(&["worker-3", "not a profile tag"]);
}

#[test]
fn without_profile_tags_nothing_changes() {
    let project = Project::new();
    let stream = Stream::new()
        .test_with_tags("x", Status::Fail, 1, &["py311"])
        .test_with_tags("x", Status::Success, 1, &["py312"])
        .bytes();
    // Without profile tags, py311 and py312 are one profile: x's pass, the
    // last result, clears its failure.
    project.load(&stream, 1);
    project.testr(["failing", "--list"]).run().success();
    let profiles = project
        .testr(["failing", "--profiles"])
        .run()
        .success()
        .stdout();
    assert_eq!(profiles, "(none)\n");
}
