//! Every output meant for a person, pinned whole by a snapshot (under
//! `snapshots/`): the exit status, stdout and stderr of each command, its
//! errors and its warnings. Streams with fixed timestamps keep their exact
//! durations; runs of real processes have theirs redacted, and run on one
//! worker so that the order of what they print is fixed.
//!
//! `cargo insta review` (or `INSTA_UPDATE=always cargo test --test cli
//! snapshots`) updates them after a deliberate change of output.

use std::path::PathBuf;

use testr::model::Status;

use crate::harness::{Durations, Project, Stream, fake_project};

/// A stream written by python-subunit, from `tests/fixtures/streams`.
fn fixture_stream(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/streams")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Twelve tests of distinct durations, 100 ms to 1.2 s, one failing.
fn twelve_tests() -> Vec<u8> {
    (1..=12u32)
        .fold(Stream::new(), |stream, n| {
            let status = if n == 7 {
                Status::Fail
            } else {
                Status::Success
            };
            stream.test(&format!("pkg.test_mod.T.test_{n:02}"), status, n * 100)
        })
        .bytes()
}

/// The fake worker's ids: one of each outcome a person sees differently.
const FAKE_IDS: [&str; 4] = ["fake.pass_1", "fake.fail_2", "fake.skip_3", "fake.stdout_4"];

/// `assert_snapshot!` of a finished invocation's transcript, with the
/// project's redactions bound around it.
macro_rules! assert_shown {
    ($project:expr, $durations:expr, $finished:expr) => {{
        let _redacted = $project.redactions($durations).bind_to_scope();
        insta::assert_snapshot!($finished.transcript());
    }};
}

// init

#[test]
fn init() {
    let project = Project::empty();
    assert_shown!(project, Durations::Exact, project.testr(["init"]).run());
}

#[test]
fn init_unittest() {
    let project = Project::empty();
    let finished = project.testr(["init", "--unittest", "tests"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn init_pytest() {
    let project = Project::empty();
    let finished = project.testr(["init", "--pytest", "-m", "not slow"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn init_on_a_stestr_project() {
    let project = Project::empty();
    std::fs::create_dir(project.path().join("tests")).unwrap();
    project.write(".stestr.conf", "[DEFAULT]\ntest_path=./tests\n");
    assert_shown!(project, Durations::Exact, project.testr(["init"]).run());
}

#[test]
fn init_when_a_repository_exists() {
    let project = Project::new();
    assert_shown!(project, Durations::Exact, project.testr(["init"]).run());
}

// load

#[test]
fn load() {
    let project = Project::new();
    let finished = project
        .testr(["load"])
        .stdin(&fixture_stream("all_statuses.subunit"))
        .run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_with_text_between_packets() {
    let project = Project::new();
    let finished = project
        .testr(["load"])
        .stdin(&fixture_stream("with_stdout_noise.subunit"))
        .run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_a_second_run_shows_the_differences() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    let second = Stream::new()
        .test("pkg.test_mod.T.test_01", Status::Success, 2500)
        .test("pkg.test_mod.T.test_07", Status::Success, 700)
        .bytes();
    let finished = project.testr(["load"]).stdin(&second).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_a_test_that_never_finished() {
    let project = Project::new();
    let stream = Stream::new()
        .test("pkg.T.test_done", Status::Success, 10)
        .unfinished("pkg.T.test_cut_short")
        .bytes();
    let finished = project.testr(["load"]).stdin(&stream).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_quiet() {
    let project = Project::new();
    let finished = project.testr(["-q", "load"]).stdin(&twelve_tests()).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_a_corrupt_stream() {
    let project = Project::new();
    let mut corrupt = Stream::new()
        .test("pkg.T.test_corrupt", Status::Success, 10)
        .bytes();
    // A flipped byte in the last packet's timestamp: its checksum fails.
    let flipped = corrupt.len() - 6;
    corrupt[flipped] ^= 0xff;
    let stream = [
        Stream::new()
            .test("pkg.T.test_before", Status::Success, 10)
            .bytes(),
        corrupt,
        Stream::new()
            .test("pkg.T.test_after", Status::Success, 10)
            .bytes(),
    ]
    .concat();
    let finished = project.testr(["load"]).stdin(&stream).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_nothing() {
    let project = Project::new();
    let finished = project.testr(["load"]).stdin(b"").run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn load_without_a_repository() {
    let project = Project::empty();
    let finished = project.testr(["load"]).stdin(&twelve_tests()).run();
    assert_shown!(project, Durations::Exact, finished);
}

// last, failing, slowest, stats

#[test]
fn last() {
    let project = Project::new();
    project.load(&fixture_stream("all_statuses.subunit"), 1);
    assert_shown!(project, Durations::Exact, project.testr(["last"]).run());
}

#[test]
fn last_without_runs() {
    let project = Project::new();
    assert_shown!(project, Durations::Exact, project.testr(["last"]).run());
}

#[test]
fn last_without_a_repository() {
    let project = Project::empty();
    assert_shown!(project, Durations::Exact, project.testr(["last"]).run());
}

#[test]
fn failing() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    assert_shown!(project, Durations::Exact, project.testr(["failing"]).run());
}

#[test]
fn failing_list() {
    let project = Project::new();
    project.load(&fixture_stream("with_stdout_noise.subunit"), 1);
    let finished = project.testr(["failing", "--list"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn failing_when_nothing_fails() {
    let project = Project::new();
    project.load(&Stream::new().test("a", Status::Success, 1).bytes(), 0);
    assert_shown!(project, Durations::Exact, project.testr(["failing"]).run());
}

#[test]
fn slowest() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    assert_shown!(project, Durations::Exact, project.testr(["slowest"]).run());
}

#[test]
fn slowest_all() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    let finished = project.testr(["slowest", "--all"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn stats() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    project.load(&fixture_stream("all_statuses.subunit"), 1);
    assert_shown!(project, Durations::Exact, project.testr(["stats"]).run());
}

// run and list-tests

#[test]
fn run() {
    let project = fake_project(&FAKE_IDS, "");
    let finished = project.testr(["run", "--concurrency", "1"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_a_second_time_with_a_filter() {
    let project = fake_project(&FAKE_IDS, "");
    project.testr(["run", "--concurrency", "1"]).run().status(1);
    let finished = project.testr(["run", "--concurrency", "1", "pass"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_on_the_unittest_worker() {
    let project = Project::fixture("unittest_project");
    project.testr(["init", "--unittest", "."]).run().success();
    let finished = project.testr(["run", "--concurrency", "1"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_with_an_unknown_config_key() {
    let project = fake_project(&["fake.pass_1"], "timout=3\n");
    let finished = project.testr(["run", "--concurrency", "1"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_without_a_config() {
    let project = Project::new();
    let finished = project.testr(["run"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_whose_worker_cannot_start() {
    let project = fake_project(&FAKE_IDS, "");
    let finished = project
        .testr(["run", "--concurrency", "1"])
        .command_env("FAKE_WORKER_START_FAIL", "4")
        .run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_whose_worker_exits_mid_test() {
    let project = fake_project(&["fake.pass_1", "fake.exit-3_2", "fake.pass_3"], "");
    let finished = project.testr(["run", "--concurrency", "1"]).run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn run_with_a_test_that_times_out() {
    let project = fake_project(&["fake.hang_1"], "");
    let finished = project
        .testr(["run", "--concurrency", "1", "--timeout", "1"])
        .run();
    assert_shown!(project, Durations::Redacted, finished);
}

#[test]
fn list_tests() {
    let project = fake_project(&FAKE_IDS, "");
    assert_shown!(
        project,
        Durations::Exact,
        project.testr(["list-tests"]).run()
    );
}

#[test]
fn list_tests_with_a_filter() {
    let project = fake_project(&FAKE_IDS, "");
    let finished = project.testr(["list-tests", "fail|skip"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

// profiles

/// A project whose results are kept per Python version, with one run of
/// two tests on each: `test_a` fails on py311 only.
fn project_with_two_profiles() -> Project {
    let project = Project::with_config(PROFILE_TAGS);
    project.load(&two_profiles(), 1);
    project
}

const PROFILE_TAGS: &str = "[DEFAULT]\nprofile_tags = py311 py312\n";

fn two_profiles() -> Vec<u8> {
    Stream::new()
        .test_with_tags("pkg.T.test_a", Status::Fail, 300, &["py311"])
        .test_with_tags("pkg.T.test_b", Status::Success, 100, &["py311"])
        .test_with_tags("pkg.T.test_a", Status::Success, 200, &["py312"])
        .test_with_tags("pkg.T.test_b", Status::Success, 400, &["py312"])
        .bytes()
}

#[test]
fn load_with_profiles() {
    let project = Project::with_config(PROFILE_TAGS);
    let finished = project.testr(["load"]).stdin(&two_profiles()).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn last_of_one_profile() {
    let project = project_with_two_profiles();
    let finished = project.testr(["last", "--profile", "py311"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn last_with_several_profiles() {
    let project = project_with_two_profiles();
    assert_shown!(project, Durations::Exact, project.testr(["last"]).run());
}

#[test]
fn last_profiles() {
    let project = project_with_two_profiles();
    let finished = project.testr(["last", "--profiles"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn failing_of_one_profile() {
    let project = project_with_two_profiles();
    let finished = project.testr(["failing", "--profile", "py311"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn slowest_of_one_profile() {
    let project = project_with_two_profiles();
    let finished = project.testr(["slowest", "--profile", "py312"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn an_unknown_profile() {
    let project = project_with_two_profiles();
    let finished = project.testr(["failing", "--profile", "py39"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

// import

#[test]
fn import_with_damaged_runs() {
    let project = Project::fixture("import/damaged");
    let finished = project
        .testr(["import"])
        .arg(project.path().join(".stestr"))
        .run();
    assert_shown!(project, Durations::Exact, finished);
}

// the command line

#[test]
fn junit_to_a_path_that_cannot_be_written() {
    let project = Project::new();
    project.load(&twelve_tests(), 1);
    let finished = project
        .testr(["last", "--junit"])
        .arg(project.path().join("missing/junit.xml"))
        .run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn a_load_list_that_does_not_exist() {
    let project = fake_project(&FAKE_IDS, "");
    let finished = project
        .testr(["run", "--load-list"])
        .arg(project.path().join("missing.txt"))
        .run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn an_unknown_option() {
    let project = Project::new();
    let finished = project.testr(["last", "--bogus"]).run();
    assert_shown!(project, Durations::Exact, finished);
}

#[test]
fn a_filter_that_is_not_a_regex() {
    let project = fake_project(&FAKE_IDS, "");
    let finished = project.testr(["list-tests", "fake.(pass"]).run();
    assert_shown!(project, Durations::Exact, finished);
}
