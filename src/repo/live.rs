//! Storing a run as it goes (`testr run`): the run is created at once,
//! marked not finished; its results commit in batches of whole tests, each
//! in an IMMEDIATE transaction of its own, so that the write lock is held
//! for one batch at a time and a killed testr loses only what had not been
//! committed yet. Each batch updates the failing set and timing history as
//! a partial run would; the end of the run adds what a full run clears and
//! marks it finished (docs/repository.md).

use std::path::Path;

use rusqlite::{Transaction, TransactionBehavior, params};

use super::write::{
    ResultRows, ResultSink, insert_run, insert_segments, set_counts, sql, unix_now,
};
use super::{Error, Repository, RunMeta};
use crate::model::{Attachment, Profile, RunCounts, RunId, SegmentRun, TestResult};

/// A run being stored as it goes. Dropping it leaves what was committed,
/// marked not finished: what `kill -9` leaves.
pub struct LiveRun {
    repo: Repository,
    rows: ResultRows,
    partial: bool,
    /// What the run held before this part of it: nothing for a new run,
    /// the earlier results of a run added to (`run --combine`).
    before: Earlier,
    /// Where a run added to was resumed: its next result then, and
    /// whether it was finished.
    resumed_at: Option<(i64, bool)>,
}

/// What a run added to held before: its counts, span and ending.
#[derive(Debug, Clone, Copy, Default)]
struct Earlier {
    counts: RunCounts,
    span: Option<(i64, i64)>,
    interrupted: bool,
}

impl Earlier {
    /// The whole run's counts and span, with `counts` and `span` of this part.
    fn with(&self, counts: RunCounts, span: Option<(i64, i64)>) -> (RunCounts, Option<(i64, i64)>) {
        let total = RunCounts {
            tests_run: self.counts.tests_run + counts.tests_run,
            failures: self.counts.failures + counts.failures,
            skips: self.counts.skips + counts.skips,
        };
        let span = match (self.span, span) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (one, other) => one.or(other),
        };
        (total, span)
    }
}

/// How a run stored as it goes ended.
#[derive(Debug, Clone, Default)]
pub struct RunEnd {
    /// The summary counts of the whole run.
    pub counts: RunCounts,
    /// The first and last timestamps of its results.
    pub span: Option<(i64, i64)>,
    /// A signal stopped the run; it holds what finished (and is partial).
    pub interrupted: bool,
    /// The segments of a planned run, in the order they ran.
    pub segments: Vec<SegmentRun>,
}

impl Repository {
    /// Starts a run stored as it goes: it is committed at once, without
    /// results, marked not finished (and partial, as it has reset nothing).
    /// `meta.interrupted` and `meta.segments` are known at its end: they
    /// come with [`LiveRun::finish`].
    pub fn begin_live_run(mut self, meta: &RunMeta) -> Result<LiveRun, Error> {
        let sqlite = |e| Error::from_sqlite(&self.db_path, e);
        let begin = |conn: &mut rusqlite::Connection| -> rusqlite::Result<ResultRows> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let run = insert_run(&tx, meta.command.as_deref(), true, false, false)?;
            let rows = ResultRows::new(&tx, run)?;
            tx.commit()?;
            Ok(rows)
        };
        let rows = begin(&mut self.conn).map_err(sqlite)?;
        Ok(LiveRun {
            repo: self,
            rows,
            partial: meta.partial,
            before: Earlier::default(),
            resumed_at: None,
        })
    }

    /// Goes on storing `run` as it goes (`run --combine`): it is marked not
    /// finished until this part of it ends, and its results follow those
    /// it held. The whole run is partial when both its earlier part and
    /// this one are (`meta.partial`): together they may be the suite.
    pub fn resume_live_run(mut self, run: RunId, meta: &RunMeta) -> Result<LiveRun, Error> {
        let earlier = self.run(run)?;
        let sqlite = |e| Error::from_sqlite(&self.db_path, e);
        let resume = |conn: &mut rusqlite::Connection| -> rusqlite::Result<ResultRows> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("UPDATE run SET finished = 0 WHERE id = ?1", [run.0])?;
            let rows = ResultRows::resume(&tx, run)?;
            tx.commit()?;
            Ok(rows)
        };
        let rows = resume(&mut self.conn).map_err(sqlite)?;
        Ok(LiveRun {
            resumed_at: Some((rows.next_seq, earlier.finished)),
            repo: self,
            rows,
            partial: earlier.partial && meta.partial,
            before: Earlier {
                counts: earlier.counts,
                span: earlier.span,
                interrupted: earlier.interrupted,
            },
        })
    }
}

impl LiveRun {
    /// Starts a batch of results, taking the write lock until it commits.
    pub fn batch(&mut self) -> Result<LiveBatch<'_>, Error> {
        let Repository { conn, db_path } = &mut self.repo;
        let db_path: &Path = db_path;
        let sqlite = |e| Error::from_sqlite(db_path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        ensure_stored(&tx, self.rows.run, db_path)?;
        self.rows.catch_up(&tx).map_err(sqlite)?;
        Ok(LiveBatch {
            before: self.before,
            from_seq: self.rows.next_seq,
            from_output: self.rows.next_output,
            tx: Some(tx),
            rows: &mut self.rows,
            db_path,
        })
    }

    /// Marks the run finished: its counts and time span, how it ended and
    /// its segments; a full run clears the failing state its profiles had
    /// from earlier runs. Every result must have been committed in a batch.
    pub fn finish(mut self, end: RunEnd) -> Result<(Repository, RunId), Error> {
        let run = self.rows.run;
        let interrupted = self.before.interrupted || end.interrupted;
        let partial = self.partial || interrupted;
        let (counts, span) = self.before.with(end.counts, end.span);
        let Repository { conn, db_path } = &mut self.repo;
        let sqlite = |e| Error::from_sqlite(db_path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        ensure_stored(&tx, run, db_path)?;
        let finish = || -> rusqlite::Result<()> {
            insert_segments(&tx, run, &end.segments)?;
            if !partial {
                tx.execute(sql::CLEAR_FAILING_OF_RUN_PROFILES, [run.0])?;
            }
            set_counts(&tx, run, counts, span)?;
            tx.execute(
                "UPDATE run SET recorded_at = ?2, partial = ?3, interrupted = ?4, finished = 1
                 WHERE id = ?1",
                params![run.0, unix_now(), partial, interrupted],
            )?;
            Ok(())
        };
        finish().and_then(|()| tx.commit()).map_err(sqlite)?;
        Ok((self.repo, run))
    }

    /// Ends the run without finishing it. A run that stored no test result
    /// (and was not added to) is removed, as if it never started (a run that listed nothing); one
    /// that did stays, marked not finished, since its results are already
    /// in the failing set and timing history.
    pub fn abandon(mut self) -> Result<(), Error> {
        if let Some((resumed_at, finished)) = self.resumed_at {
            // A run added to keeps what it held. When this part added
            // nothing, it is as it was; else it holds what was stored.
            if self.rows.next_seq > resumed_at {
                return Ok(());
            }
            let run = self.rows.run;
            return self
                .repo
                .conn
                .execute(
                    "UPDATE run SET finished = ?2 WHERE id = ?1",
                    params![run.0, finished],
                )
                .map(drop)
                .map_err(|e| Error::from_sqlite(&self.repo.db_path, e));
        }
        if self.rows.next_seq > 0 {
            return Ok(());
        }
        let run = self.rows.run;
        let remove = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM run_output WHERE run_id = ?1", [run.0])?;
            tx.execute("DELETE FROM run WHERE id = ?1", [run.0])?;
            tx.commit()
        };
        remove(&mut self.repo.conn).map_err(|e| Error::from_sqlite(&self.repo.db_path, e))
    }
}

/// Fails when `run` is no longer stored: it was removed while it ran, and
/// its results would belong to no run.
fn ensure_stored(tx: &Transaction<'_>, run: RunId, db_path: &Path) -> Result<(), Error> {
    let stored: bool = tx
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM run WHERE id = ?1)",
            [run.0],
            |row| row.get(0),
        )
        .map_err(|e| Error::from_sqlite(db_path, e))?;
    if stored {
        Ok(())
    } else {
        Err(Error::RunRemoved(run.0))
    }
}

/// One batch of a run stored as it goes: whole tests, committed together.
/// Dropped without [`LiveBatch::commit`], it stores nothing and the run
/// goes on from the batch before.
pub struct LiveBatch<'run> {
    /// Taken by the commit.
    tx: Option<Transaction<'run>>,
    rows: &'run mut ResultRows,
    db_path: &'run Path,
    from_seq: i64,
    from_output: i64,
    before: Earlier,
}

impl LiveBatch<'_> {
    /// Commits the batch's results with the failing state and timing
    /// history they change, as a partial run would (the end of a full run
    /// clears the rest), and the run's counts and time span so far.
    pub fn commit(mut self, counts: RunCounts, span: Option<(i64, i64)>) -> Result<(), Error> {
        let tx = self.tx.take().expect("a batch commits once");
        let (run, from) = (self.rows.run, self.from_seq);
        let mut commit = || -> rusqlite::Result<()> {
            self.rows.flush(&tx)?;
            tx.execute(&sql::CLEAR_FAILING_OF_RUN_TESTS, [run.0, from])?;
            self.rows.mark_failing(&tx)?;
            tx.execute(&sql::RECORD_TIMING, [run.0, from])?;
            let (counts, span) = self.before.with(counts, span);
            set_counts(&tx, run, counts, span)
        };
        let outcome = commit().and_then(|()| tx.commit());
        if outcome.is_err() {
            self.rows.roll_back_to(self.from_seq, self.from_output);
        }
        outcome.map_err(|e| Error::from_sqlite(self.db_path, e))
    }
}

impl ResultSink for LiveBatch<'_> {
    fn add_result(&mut self, result: &TestResult, profile: &Profile) -> Result<(), Error> {
        let tx = self.tx.as_ref().expect("a batch is used until it commits");
        self.rows
            .add_result(tx, result, profile)
            .map_err(|e| Error::from_sqlite(self.db_path, e))
    }

    fn add_output(&mut self, output: &Attachment) -> Result<(), Error> {
        let tx = self.tx.as_ref().expect("a batch is used until it commits");
        self.rows
            .add_output(tx, output)
            .map_err(|e| Error::from_sqlite(self.db_path, e))
    }
}

impl Drop for LiveBatch<'_> {
    fn drop(&mut self) {
        if self.tx.is_some() {
            // The transaction rolls back as it drops: forget its rows too.
            self.rows.roll_back_to(self.from_seq, self.from_output);
        }
    }
}
