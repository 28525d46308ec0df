//! Repository round trips on an in-memory database.

use rusqlite::OptionalExtension;

use super::open::DATABASE_FILE;
use super::*;
use crate::model::{Attachment, Profile, RunCounts, RunId, Status, TestId, TestResult};

pub(super) fn result(id: &str, status: Status, start: i64, stop: i64) -> TestResult {
    TestResult {
        id: TestId(id.into()),
        status,
        started_at: Some(start),
        stopped_at: Some(stop),
        tags: vec!["tag with space".into(), "worker-0".into()],
        route_code: None,
        attachments: vec![],
    }
}

pub(super) fn store(
    repo: &mut Repository,
    partial: bool,
    results: &[(TestResult, Profile)],
) -> RunId {
    let mut writer = repo
        .begin_run(&RunMeta {
            partial,
            command: Some("testr load".into()),
            interrupted: false,
            segments: Vec::new(),
        })
        .unwrap();
    let mut counts = RunCounts::default();
    for (result, profile) in results {
        counts.add(result.status, false);
        writer.add_result(result, profile).unwrap();
    }
    writer.commit(counts, Some((0, 10))).unwrap()
}

/// The recent durations (ns, oldest first) of a test under a profile.
pub(super) fn timing_samples(repo: &Repository, test: &str, profile: &Profile) -> Vec<i64> {
    let samples: Option<String> = repo
        .conn
        .query_row(
            "SELECT samples FROM timing m
             JOIN test t ON t.id = m.test_id JOIN profile p ON p.id = m.profile_id
             WHERE t.name = ?1 AND p.tags = ?2",
            rusqlite::params![test, tags_key(profile.tags())],
            |row| row.get(0),
        )
        .optional()
        .unwrap();
    samples.map(|s| timing::unpack(&s)).unwrap_or_default()
}

pub(super) fn failing(repo: &Repository) -> Vec<(String, String)> {
    repo.failing_ids()
        .unwrap()
        .into_iter()
        .map(|(id, profile)| (id.0, profile.to_string()))
        .collect()
}

#[test]
fn results_come_back_whole_in_order() {
    let mut repo = Repository::in_memory().unwrap();
    let mut failed = result("b", Status::Fail, 3, 9);
    failed.attachments.push(Attachment {
        name: "traceback".into(),
        mime_type: Some("text/x-traceback".into()),
        content: b"boom".to_vec(),
    });
    failed.route_code = Some("0/1".into());
    let run = store(
        &mut repo,
        false,
        &[
            (result("a", Status::Success, 1, 2), Profile::default()),
            (failed.clone(), Profile::default()),
        ],
    );
    let mut seen = Vec::new();
    repo.for_each_result(run, false, |stored| {
        seen.push(stored.result);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(seen, [result("a", Status::Success, 1, 2), failed.clone()]);
    let mut failures = Vec::new();
    repo.for_each_result(run, true, |stored| {
        failures.push(stored.result);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(failures, [failed.clone()]);
    let failing: Vec<TestResult> = repo
        .failing(true)
        .unwrap()
        .into_iter()
        .map(|stored| stored.result)
        .collect();
    assert_eq!(failing, [failed.clone()]);
    let bare = repo.failing(false).unwrap();
    assert_eq!(bare.len(), 1);
    assert!(bare[0].result.attachments.is_empty());
    assert_eq!(bare[0].result.id, failed.id);
    let summary = repo.latest_run().unwrap().unwrap();
    assert_eq!(summary.id, RunId(0));
    assert_eq!(summary.counts.failures, 1);
    assert_eq!(summary.duration_nanos(), Some(10));
}

#[test]
fn a_full_run_resets_only_the_profiles_it_ran() {
    let mut repo = Repository::in_memory().unwrap();
    let py311 = Profile::new(["py311".to_owned()]);
    let py312 = Profile::new(["py312".to_owned()]);
    store(
        &mut repo,
        false,
        &[
            (result("x", Status::Fail, 0, 1), py311.clone()),
            (result("y", Status::Fail, 0, 1), py312.clone()),
        ],
    );
    // A full py312 run where x passes: py311's failure of x stays.
    store(
        &mut repo,
        false,
        &[(result("x", Status::Success, 0, 1), py312.clone())],
    );
    assert_eq!(failing(&repo), [("x".into(), "py311".into())]);
}

#[test]
fn a_partial_run_only_touches_what_it_ran() {
    let mut repo = Repository::in_memory().unwrap();
    let none = Profile::default();
    store(
        &mut repo,
        false,
        &[
            (result("a", Status::Fail, 0, 1), none.clone()),
            (result("b", Status::Fail, 0, 1), none.clone()),
        ],
    );
    store(
        &mut repo,
        true,
        &[(result("a", Status::Success, 0, 1), none.clone())],
    );
    assert_eq!(failing(&repo), [("b".into(), String::new())]);
    // The last result of a test in a run wins.
    store(
        &mut repo,
        true,
        &[
            (result("c", Status::Success, 0, 1), none.clone()),
            (result("c", Status::Fail, 0, 1), none.clone()),
        ],
    );
    assert_eq!(
        failing(&repo),
        [("b".into(), String::new()), ("c".into(), String::new())]
    );
}

#[test]
fn timing_history_keeps_recent_durations_but_not_skips() {
    let mut repo = Repository::in_memory().unwrap();
    let none = Profile::default();
    for took in [100, 120, 5] {
        store(
            &mut repo,
            false,
            &[(result("t", Status::Success, 0, took), none.clone())],
        );
    }
    store(
        &mut repo,
        false,
        &[(result("t", Status::Skip, 0, 9_999), none.clone())],
    );
    let samples = timing_samples(&repo, "t", &none);
    assert_eq!(samples, [100, 120, 5]);
    assert_eq!(timing::estimate(&samples), Some(100));
    // Only the newest timing::MAX_SAMPLES stay, even when one run holds a test twice.
    let results: Vec<_> = (1..=12)
        .map(|took| (result("t", Status::Success, 0, took), none.clone()))
        .collect();
    store(&mut repo, true, &results);
    let samples = timing_samples(&repo, "t", &none);
    assert_eq!(samples, (5..=12).collect::<Vec<_>>());
}

#[test]
fn dropping_a_writer_stores_nothing() {
    let mut repo = Repository::in_memory().unwrap();
    {
        let mut writer = repo.begin_run(&RunMeta::default()).unwrap();
        writer
            .add_result(&result("a", Status::Fail, 0, 1), &Profile::default())
            .unwrap();
    }
    assert_eq!(repo.run_count().unwrap(), 0);
    assert!(failing(&repo).is_empty());
}

#[test]
fn a_repository_opened_read_only_is_read_but_never_written() {
    let project = tempfile::tempdir().unwrap();
    let mut repo = Repository::init(project.path()).unwrap();
    store(
        &mut repo,
        false,
        &[(result("a", Status::Fail, 0, 1), Profile::default())],
    );
    drop(repo);
    let mut reader = Repository::open_read_only(project.path()).unwrap();
    assert!(reader.conn.is_readonly(rusqlite::MAIN_DB).unwrap());
    assert_eq!(reader.run_count().unwrap(), 1);
    assert_eq!(failing(&reader), [("a".into(), String::new())]);
    let refused = reader.begin_run(&RunMeta::default()).map(drop).unwrap_err();
    assert!(
        matches!(&refused, Error::Unwritable { source, .. }
            if source.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly)),
        "{refused}"
    );
    assert_eq!(reader.run_count().unwrap(), 1);
}

/// A repository written by an older testr, at schema `version`, with one run.
fn repository_at_version(version: i64) -> tempfile::TempDir {
    let project = tempfile::tempdir().unwrap();
    drop(Repository::init(project.path()).unwrap());
    let db_path = project.path().join(DIR_NAME).join(DATABASE_FILE);
    std::fs::remove_file(&db_path).unwrap();
    let conn = rusqlite::Connection::open(&db_path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    schema::create_at(&conn, version).unwrap();
    conn.execute(
        "INSERT INTO run (id, recorded_at, partial, command, tests_run, failures, skips)
         VALUES (0, 1, 0, 'testr load', 3, 1, 0)",
        [],
    )
    .unwrap();
    project
}

fn file_version(project: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(project.join(DIR_NAME).join(DATABASE_FILE)).unwrap();
    schema::version(&conn).unwrap()
}

#[test]
fn an_older_schema_is_read_read_only_and_left_as_it_is() {
    let project = repository_at_version(1);
    let reader = Repository::open_read_only(project.path()).unwrap();
    let run = reader.latest_run().unwrap().unwrap();
    assert_eq!((run.id, run.counts.tests_run), (RunId(0), 3));
    assert!(!run.interrupted);
    assert!(reader.run_segments(run.id).unwrap().is_empty());
    drop(reader);
    assert_eq!(file_version(project.path()), 1);
    // A writer upgrades it.
    drop(Repository::open(project.path()).unwrap());
    assert_eq!(file_version(project.path()), schema::LATEST);
}

#[test]
fn a_newer_schema_is_refused_read_only_too() {
    let project = repository_at_version(schema::LATEST);
    let db_path = project.path().join(DIR_NAME).join(DATABASE_FILE);
    rusqlite::Connection::open(&db_path)
        .unwrap()
        .pragma_update(None, "user_version", schema::LATEST + 1)
        .unwrap();
    let refused = Repository::open_read_only(project.path()).unwrap_err();
    assert!(matches!(refused, Error::NewerSchema { .. }), "{refused}");
}

#[test]
fn an_older_schema_that_cannot_be_read_read_only_says_it_needs_writing() {
    let project = repository_at_version(1);
    let db_path = project.path().join(DIR_NAME).join(DATABASE_FILE);
    rusqlite::Connection::open(&db_path)
        .unwrap()
        .execute_batch("DROP TABLE timing")
        .unwrap();
    let refused = Repository::open_read_only(project.path()).unwrap_err();
    assert!(
        matches!(refused, Error::OldSchemaReadOnly { found: 1, .. }),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("needs a writable repository to upgrade"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn status_lists_come_from_the_statuses() {
    assert_eq!(status_codes(Status::is_failure), "(2, 6)");
    assert_eq!(status_codes(Status::is_final), "(3, 4, 5, 6, 7)");
}

/// A run stored as it goes, in a repository on disk, so that other
/// connections can look at it meanwhile.
pub(super) fn live_run(project: &std::path::Path, partial: bool) -> LiveRun {
    let meta = RunMeta {
        partial,
        command: Some("testr run".into()),
        ..RunMeta::default()
    };
    Repository::open(project)
        .unwrap()
        .begin_live_run(&meta)
        .unwrap()
}

pub(super) fn store_batch(live: &mut LiveRun, results: &[TestResult], counts: &mut RunCounts) {
    let mut batch = live.batch().unwrap();
    for result in results {
        counts.add(result.status, false);
        batch.add_result(result, &Profile::default()).unwrap();
    }
    batch.commit(*counts, Some((0, 10))).unwrap();
}

#[test]
fn a_run_stored_as_it_goes_shows_each_batch_and_does_not_hold_the_lock() {
    let project = tempfile::tempdir().unwrap();
    let mut other = Repository::init(project.path()).unwrap();
    store(
        &mut other,
        false,
        &[
            (result("old", Status::Fail, 0, 1), Profile::default()),
            (result("a", Status::Fail, 0, 1), Profile::default()),
        ],
    );
    let mut live = live_run(project.path(), false);
    let mut counts = RunCounts::default();
    store_batch(
        &mut live,
        &[
            result("a", Status::Success, 0, 7),
            result("b", Status::Fail, 0, 3),
        ],
        &mut counts,
    );
    // Another writer gets the lock between batches, and a test it adds
    // is known to the run's next batch.
    store(
        &mut other,
        true,
        &[(result("c", Status::Success, 0, 1), Profile::default())],
    );
    let reader = Repository::open_read_only(project.path()).unwrap();
    let unfinished = reader.run(RunId(1)).unwrap();
    assert!(!unfinished.finished && unfinished.partial);
    assert_eq!(unfinished.counts.tests_run, 2);
    // The stored tests count as a partial run would: `old` stays failing.
    assert_eq!(
        failing(&reader),
        [("b".into(), String::new()), ("old".into(), String::new())]
    );
    assert_eq!(timing_samples(&reader, "a", &Profile::default()), [1, 7]);
    store_batch(&mut live, &[result("c", Status::Fail, 0, 2)], &mut counts);
    let (repo, run) = live
        .finish(RunEnd {
            counts,
            span: Some((0, 10)),
            ..RunEnd::default()
        })
        .unwrap();
    assert_eq!(run, RunId(1));
    let finished = repo.run(run).unwrap();
    assert!(finished.finished && !finished.partial && !finished.interrupted);
    assert_eq!(finished.counts.tests_run, 3);
    // A full run clears what it did not leave failing, as if stored whole.
    assert_eq!(
        failing(&repo),
        [("b".into(), String::new()), ("c".into(), String::new())]
    );
    let mut seen = Vec::new();
    repo.for_each_result(run, false, |stored| {
        seen.push((stored.seq, stored.result.id.0));
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(seen, [(0, "a".into()), (1, "b".into()), (2, "c".into())]);
    assert!(reader.run(RunId(2)).unwrap().finished);
}

#[test]
fn a_dropped_batch_stores_nothing_and_the_run_goes_on() {
    let project = tempfile::tempdir().unwrap();
    drop(Repository::init(project.path()).unwrap());
    let mut live = live_run(project.path(), true);
    {
        let mut batch = live.batch().unwrap();
        batch
            .add_result(&result("lost", Status::Fail, 0, 1), &Profile::default())
            .unwrap();
    }
    let mut counts = RunCounts::default();
    store_batch(
        &mut live,
        &[result("kept", Status::Fail, 0, 1)],
        &mut counts,
    );
    let (repo, run) = live
        .finish(RunEnd {
            counts,
            interrupted: true,
            ..RunEnd::default()
        })
        .unwrap();
    assert_eq!(failing(&repo), [("kept".into(), String::new())]);
    let summary = repo.run(run).unwrap();
    assert!(summary.finished && summary.partial && summary.interrupted);
    let mut seqs = Vec::new();
    repo.for_each_result(run, false, |stored| {
        seqs.push(stored.seq);
        Ok::<_, Error>(())
    })
    .unwrap();
    assert_eq!(seqs, [0]);
}

#[test]
fn an_abandoned_run_without_tests_is_gone_and_one_with_tests_stays_unfinished() {
    let project = tempfile::tempdir().unwrap();
    drop(Repository::init(project.path()).unwrap());
    let mut live = live_run(project.path(), false);
    let mut batch = live.batch().unwrap();
    batch
        .add_output(&Attachment {
            name: "stdout".into(),
            mime_type: None,
            content: b"listing".to_vec(),
        })
        .unwrap();
    batch.commit(RunCounts::default(), None).unwrap();
    live.abandon().unwrap();
    let reader = Repository::open_read_only(project.path()).unwrap();
    assert_eq!(reader.run_count().unwrap(), 0);
    let mut live = live_run(project.path(), false);
    store_batch(
        &mut live,
        &[result("a", Status::Fail, 0, 1)],
        &mut RunCounts::default(),
    );
    live.abandon().unwrap();
    let left = reader.latest_run().unwrap().unwrap();
    assert!(!left.finished);
    assert_eq!(failing(&reader), [("a".into(), String::new())]);
}

#[test]
fn a_run_added_to_goes_on_after_what_it_held() {
    let project = tempfile::tempdir().unwrap();
    Repository::init(project.path()).unwrap();
    let mut first = live_run(project.path(), true);
    let mut counts = RunCounts::default();
    store_batch(&mut first, &[result("a", Status::Fail, 0, 1)], &mut counts);
    let (repo, run) = first
        .finish(RunEnd {
            counts,
            span: Some((0, 10)),
            ..RunEnd::default()
        })
        .unwrap();
    // A part that adds nothing leaves the run as it was.
    let meta = RunMeta {
        partial: true,
        ..RunMeta::default()
    };
    repo.resume_live_run(run, &meta).unwrap().abandon().unwrap();
    let repo = Repository::open(project.path()).unwrap();
    assert!(repo.run(run).unwrap().finished);

    let mut added = repo.resume_live_run(run, &meta).unwrap();
    let mut counts = RunCounts::default();
    store_batch(
        &mut added,
        &[
            result("b", Status::Success, 0, 2),
            result("a", Status::Success, 0, 3),
        ],
        &mut counts,
    );
    let (repo, same) = added
        .finish(RunEnd {
            counts,
            span: Some((5, 20)),
            ..RunEnd::default()
        })
        .unwrap();
    assert_eq!(same, run);
    let whole = repo.run(run).unwrap();
    assert_eq!(whole.counts.tests_run, 3);
    assert_eq!(whole.counts.failures, 1);
    assert_eq!(whole.span, Some((0, 20)));
    assert!(whole.finished && whole.partial);
    let mut ids = Vec::new();
    repo.for_each_result(run, false, |stored| -> Result<(), Error> {
        ids.push((stored.seq, stored.result.id.0));
        Ok(())
    })
    .unwrap();
    assert_eq!(
        ids,
        [
            (0, "a".to_owned()),
            (1, "b".to_owned()),
            (2, "a".to_owned())
        ]
    );
    assert!(failing(&repo).is_empty(), "a passed when added");
    assert_eq!(timing_samples(&repo, "a", &Profile::default()), [1, 3]);
}
