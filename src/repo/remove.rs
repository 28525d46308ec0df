//! Removing stored runs (`history remove`, the retention settings), in one
//! IMMEDIATE transaction: their results go, and the failing set and the
//! timing history are left as if the removed runs had never been stored
//! (docs/repository.md, "Removing runs").

use rusqlite::{Connection, TransactionBehavior, params};
use rustc_hash::FxHashMap as HashMap;

use super::write::sql::TIMED_RESULT;
use super::{Error, Repository, status_codes, timing};
use crate::model::{RunId, Status};

/// The runs to remove, as the JSON array `json_each` reads.
struct Removed(String);

impl Removed {
    fn new(runs: &[RunId]) -> Removed {
        let ids: Vec<i64> = runs.iter().map(|run| run.0).collect();
        Removed(serde_json::to_string(&ids).expect("a list of numbers serializes"))
    }
}

/// Where a query finds the removed runs' ids (?1 is their JSON array).
const REMOVED: &str = "(SELECT value FROM json_each(?1))";

impl Repository {
    /// Removes `runs` with everything stored of them; an id that is not
    /// stored removes nothing and is an error. The failing set and the
    /// timing history then hold only what the remaining runs say.
    pub fn remove_runs(&mut self, runs: &[RunId]) -> Result<(), Error> {
        let db_path = self.db_path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::from_sqlite(&db_path, e))?;
        for run in runs {
            let stored: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM run WHERE id = ?1)",
                    [run.0],
                    |row| row.get(0),
                )
                .map_err(|e| Error::from_sqlite(&db_path, e))?;
            if !stored {
                return Err(Error::NoSuchRun(run.0));
            }
        }
        let Some(highest) = runs.iter().max() else {
            return Ok(());
        };
        let removed = Removed::new(runs);
        let remove = || -> rusqlite::Result<()> {
            let samples = remaining_samples(&tx, &removed)?;
            tx.execute(
                &format!(
                    "DELETE FROM timing WHERE (test_id, profile_id) IN
                     (SELECT test_id, profile_id FROM result
                      WHERE run_id IN {REMOVED} AND {})",
                    *TIMED_RESULT
                ),
                [&removed.0],
            )?;
            let mut insert = tx
                .prepare("INSERT INTO timing (test_id, profile_id, samples) VALUES (?1, ?2, ?3)")?;
            for ((test_id, profile_id), durations) in samples {
                insert.execute(params![test_id, profile_id, timing::pack(&durations)])?;
            }
            // The failing set refers to results: its rows go first.
            tx.execute(
                &format!("DELETE FROM failing WHERE run_id IN {REMOVED}"),
                [&removed.0],
            )?;
            for table in ["attachment", "result", "run_output", "segment"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE run_id IN {REMOVED}"),
                    [&removed.0],
                )?;
            }
            tx.execute(
                &format!("DELETE FROM run WHERE id IN {REMOVED}"),
                [&removed.0],
            )?;
            // Removing the oldest runs takes away only what they alone
            // said; a run removed from between others may have hidden what
            // an earlier one said, so the set is made again from them all.
            let earlier_remain: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM run WHERE id < ?1)",
                [highest.0],
                |row| row.get(0),
            )?;
            if earlier_remain {
                rebuild_failing(&tx)?;
            }
            tx.execute(
                "INSERT INTO highest_removed_run (only_row, id) VALUES (0, ?1)
                 ON CONFLICT (only_row) DO UPDATE SET id = max(id, excluded.id)",
                [highest.0],
            )?;
            Ok(())
        };
        remove()
            .and_then(|()| tx.commit())
            .map_err(|e| Error::from_sqlite(&db_path, e))
    }
}

/// The timing history that the remaining runs give each (test, profile)
/// the removed runs timed: the newest [`timing::MAX_SAMPLES`] durations,
/// oldest first. A pair that no remaining run timed is not in it.
fn remaining_samples(
    conn: &Connection,
    removed: &Removed,
) -> rusqlite::Result<HashMap<(i64, i64), Vec<i64>>> {
    let timed = &*TIMED_RESULT;
    let sql = format!(
        "WITH affected AS (
             SELECT DISTINCT test_id, profile_id FROM result
             WHERE run_id IN {REMOVED} AND {timed}),
         ranked AS (
             SELECT r.test_id, r.profile_id, r.run_id, r.seq,
                    r.stopped_at - r.started_at AS took,
                    row_number() OVER (PARTITION BY r.test_id, r.profile_id
                                       ORDER BY r.run_id DESC, r.seq DESC) AS newest
             FROM result r
             JOIN affected a ON a.test_id = r.test_id AND a.profile_id = r.profile_id
             WHERE r.run_id NOT IN {REMOVED} AND {timed})
         SELECT test_id, profile_id, took FROM ranked WHERE newest <= ?2
         ORDER BY test_id, profile_id, run_id, seq"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![removed.0, timing::MAX_SAMPLES as i64])?;
    let mut samples: HashMap<(i64, i64), Vec<i64>> = HashMap::default();
    while let Some(row) = rows.next()? {
        samples
            .entry((row.get(0)?, row.get(1)?))
            .or_default()
            .push(row.get(2)?);
    }
    Ok(samples)
}

/// Makes the failing set again from every stored run, in id order: a
/// (test, profile) is failing when the last run that spoke of it left it
/// failing. A run speaks of a pair with its last result for it (but an
/// `exists`, which is a listing); a full run also speaks of every pair of
/// the profiles it ran, clearing the ones it did not run.
fn rebuild_failing(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM failing", [])?;
    let sql = format!(
        "WITH word AS (
             SELECT test_id, profile_id, run_id, max(seq) AS seq FROM result
             WHERE status IN {spoken} GROUP BY test_id, profile_id, run_id),
         latest AS (
             SELECT test_id, profile_id, max(run_id) AS run_id FROM word
             GROUP BY test_id, profile_id),
         cleared AS (
             SELECT r.profile_id, max(r.run_id) AS run_id FROM result r
             JOIN run ON run.id = r.run_id WHERE run.partial = 0
             GROUP BY r.profile_id)
         INSERT INTO failing (test_id, profile_id, run_id, seq)
         SELECT w.test_id, w.profile_id, w.run_id, w.seq FROM latest l
         JOIN word w ON w.test_id = l.test_id AND w.profile_id = l.profile_id
                    AND w.run_id = l.run_id
         JOIN result r ON r.run_id = w.run_id AND r.seq = w.seq
         LEFT JOIN cleared c ON c.profile_id = w.profile_id
         WHERE r.status IN {failed} AND (c.run_id IS NULL OR w.run_id >= c.run_id)",
        spoken = status_codes(|status| status != Status::Exists),
        failed = status_codes(Status::is_failure),
    );
    conn.execute(&sql, [])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Profile, RunCounts, TestResult};
    use crate::repo::RunEnd;
    use crate::repo::tests::{failing, live_run, result, store, store_batch, timing_samples};

    fn pass(id: &str, took: i64) -> (TestResult, Profile) {
        (result(id, Status::Success, 0, took), Profile::default())
    }

    fn fail(id: &str) -> (TestResult, Profile) {
        (result(id, Status::Fail, 0, 1), Profile::default())
    }

    fn failing_ids(repo: &Repository) -> Vec<String> {
        failing(repo).into_iter().map(|(id, _)| id).collect()
    }

    /// The failing table as stored, pointers included.
    fn failing_rows(repo: &Repository) -> Vec<(i64, i64, i64, i64)> {
        let mut stmt = repo
            .conn
            .prepare("SELECT test_id, profile_id, run_id, seq FROM failing ORDER BY 1, 2")
            .unwrap();
        stmt.query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn removing_the_last_run_takes_back_what_it_said() {
        let mut repo = Repository::in_memory().unwrap();
        store(&mut repo, false, &[fail("a"), pass("b", 100)]);
        // The last run clears a's failure and fails b.
        let last = store(&mut repo, false, &[pass("a", 5), fail("b")]);
        assert_eq!(failing_ids(&repo), ["b"]);
        repo.remove_runs(&[last]).unwrap();
        assert_eq!(failing_ids(&repo), ["a"]);
        assert_eq!(timing_samples(&repo, "a", &Profile::default()), [1]);
        assert_eq!(timing_samples(&repo, "b", &Profile::default()), [100]);
        assert_eq!(repo.latest_run().unwrap().unwrap().id, RunId(0));
        assert_eq!(repo.run_count().unwrap(), 1);
    }

    #[test]
    fn removing_the_oldest_runs_keeps_only_what_later_runs_say() {
        let mut repo = Repository::in_memory().unwrap();
        let first = store(&mut repo, false, &[fail("a"), fail("b"), pass("c", 7)]);
        // A partial run that passes b and says nothing of a.
        store(&mut repo, true, &[pass("b", 3), fail("d")]);
        assert_eq!(failing_ids(&repo), ["a", "d"]);
        repo.remove_runs(&[first]).unwrap();
        // a's failure was the first run's word alone; d's is the second's.
        assert_eq!(failing_ids(&repo), ["d"]);
        let dropped = failing_rows(&repo);
        // What dropping the first run's word left is what the remaining
        // runs, replayed, say.
        rebuild_failing(&repo.conn).unwrap();
        assert_eq!(failing_rows(&repo), dropped);
        assert_eq!(
            timing_samples(&repo, "c", &Profile::default()),
            Vec::<i64>::new()
        );
        assert_eq!(timing_samples(&repo, "b", &Profile::default()), [3]);
    }

    #[test]
    fn a_run_removed_from_between_others_gives_back_what_it_hid() {
        let mut repo = Repository::in_memory().unwrap();
        store(&mut repo, false, &[fail("a"), pass("b", 1)]);
        // A full run that passes a, then a partial one that fails b.
        let middle = store(&mut repo, false, &[pass("a", 1), pass("b", 1)]);
        store(&mut repo, true, &[fail("b")]);
        assert_eq!(failing_ids(&repo), ["b"]);
        repo.remove_runs(&[middle]).unwrap();
        assert_eq!(failing_ids(&repo), ["a", "b"]);
    }

    #[test]
    fn the_failing_set_made_again_is_the_one_the_runs_left() {
        let mut repo = Repository::in_memory().unwrap();
        let py311 = Profile::new(["py311".to_owned()]);
        let py312 = Profile::new(["py312".to_owned()]);
        let on = |(result, _): (TestResult, Profile), profile: &Profile| (result, profile.clone());
        store(
            &mut repo,
            false,
            &[on(fail("a"), &py311), on(fail("a"), &py312)],
        );
        store(
            &mut repo,
            false,
            &[on(pass("a", 1), &py312), on(fail("b"), &py312)],
        );
        store(
            &mut repo,
            true,
            &[on(fail("c"), &py311), on(pass("b", 1), &py312)],
        );
        store(
            &mut repo,
            true,
            &[on(fail("d"), &py311), on(pass("d", 1), &py311)],
        );
        let kept = failing_rows(&repo);
        rebuild_failing(&repo.conn).unwrap();
        assert_eq!(failing_rows(&repo), kept);
        assert_eq!(
            failing(&repo),
            [("a".into(), "py311".into()), ("c".into(), "py311".into())]
        );
    }

    #[test]
    fn the_timing_history_is_made_again_from_the_remaining_runs() {
        let mut repo = Repository::in_memory().unwrap();
        let runs: Vec<RunId> = (1..=10)
            .map(|took| store(&mut repo, false, &[pass("t", took)]))
            .collect();
        let none = Profile::default();
        assert_eq!(
            timing_samples(&repo, "t", &none),
            (3..=10).collect::<Vec<_>>()
        );
        repo.remove_runs(&runs[8..]).unwrap();
        // The two oldest durations come back: the newest 8 that remain.
        assert_eq!(
            timing_samples(&repo, "t", &none),
            (1..=8).collect::<Vec<_>>()
        );
        repo.remove_runs(&runs[..7]).unwrap();
        assert_eq!(timing_samples(&repo, "t", &none), [8]);
    }

    #[test]
    fn an_unknown_id_removes_nothing() {
        let mut repo = Repository::in_memory().unwrap();
        let run = store(&mut repo, false, &[fail("a")]);
        let err = repo.remove_runs(&[run, RunId(7)]).unwrap_err();
        assert_eq!(err.to_string(), "no run with id 7");
        assert_eq!(repo.run_count().unwrap(), 1);
        assert_eq!(failing_ids(&repo), ["a"]);
    }

    #[test]
    fn a_removed_id_is_never_given_again() {
        let mut repo = Repository::in_memory().unwrap();
        store(&mut repo, false, &[pass("a", 1)]);
        let second = store(&mut repo, false, &[pass("a", 1)]);
        repo.remove_runs(&[second]).unwrap();
        assert_eq!(store(&mut repo, false, &[pass("a", 1)]), RunId(2));
        let every: Vec<RunId> = repo.runs().unwrap().iter().map(|r| r.id).collect();
        repo.remove_runs(&every).unwrap();
        assert_eq!(store(&mut repo, false, &[pass("a", 1)]), RunId(3));
    }

    #[test]
    fn a_run_removed_while_it_is_stored_stops_storing() {
        let project = tempfile::tempdir().unwrap();
        Repository::init(project.path()).unwrap();
        let mut live = live_run(project.path(), false);
        let mut counts = RunCounts::default();
        store_batch(
            &mut live,
            &[result("a", Status::Success, 0, 1)],
            &mut counts,
        );
        let mut other = Repository::open(project.path()).unwrap();
        let run = other.latest_run().unwrap().unwrap().id;
        other.remove_runs(&[run]).unwrap();
        let err = live.batch().err().expect("the run is gone");
        assert_eq!(
            err.to_string(),
            format!("run {run} was removed (`testr history remove`) while it was being stored")
        );
        let err = live.finish(RunEnd::default()).unwrap_err();
        assert!(matches!(err, Error::RunRemoved(id) if id == run.0), "{err}");
        assert_eq!(other.run_count().unwrap(), 0);
    }
}
