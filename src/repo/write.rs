//! Storing a run: results stream in, and the whole run commits in one
//! IMMEDIATE transaction, so a reader sees it whole or not at all.

use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Error, Repository, tags_key};
use crate::model::{Attachment, Profile, RunCounts, RunId, SegmentRun, TestResult};

/// How many test ids a writer remembers before it asks the database again.
const MAX_CACHED_TESTS: usize = 200_000;

/// The set-wise updates a run makes when it commits.
mod sql {
    use std::sync::LazyLock;

    use crate::model::Status;
    use crate::repo::status_codes;
    use crate::repo::timing::MAX_SAMPLES;

    pub const CLEAR_FAILING_OF_RUN_PROFILES: &str = "DELETE FROM failing WHERE profile_id IN
         (SELECT DISTINCT profile_id FROM result WHERE run_id = ?1)";

    /// Every (test, profile) with a final result in run ?1 (`exists` and
    /// `inprogress` are not final); the ones it leaves failing are marked
    /// again afterwards.
    pub static CLEAR_FAILING_OF_RUN_TESTS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "DELETE FROM failing WHERE (test_id, profile_id) IN
             (SELECT test_id, profile_id FROM result WHERE run_id = ?1 AND status IN {})",
            status_codes(Status::is_final)
        )
    });

    /// Appends each timed result's duration to its history, keeping the
    /// newest [`MAX_SAMPLES`]; results are read in primary-key (stream)
    /// order, so a test run twice appends in order. A skip is decided
    /// before the test's body runs, so its time says nothing and is not
    /// recorded. Each sample is 16 hex digits, the width `timing` reads.
    pub static RECORD_TIMING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO timing (test_id, profile_id, samples)
             SELECT test_id, profile_id, printf('%016x', stopped_at - started_at) FROM result
             WHERE run_id = ?1 AND status IN {}
               AND started_at IS NOT NULL AND stopped_at >= started_at
             ON CONFLICT (test_id, profile_id) DO UPDATE
             SET samples = substr(samples || excluded.samples, -{})",
            status_codes(|status| status.is_final() && status != Status::Skip),
            MAX_SAMPLES * 16
        )
    });
}

/// What is known of a run before its results arrive.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// A partial run leaves the failing state of tests it did not run alone.
    pub partial: bool,
    /// The command line that produced the run, shown by `last --json`.
    pub command: Option<String>,
    /// Ctrl-C stopped the run; it holds what finished (and is partial).
    pub interrupted: bool,
    /// The segments of a planned run, in the order they ran.
    pub segments: Vec<SegmentRun>,
}

/// A run being written. Dropping it without [`RunWriter::commit`] stores
/// nothing.
pub struct RunWriter<'conn> {
    tx: Transaction<'conn>,
    db_path: PathBuf,
    run: RunId,
    partial: bool,
    next_seq: i64,
    next_output: i64,
    tests: TestIds,
    tag_sets: HashMap<Vec<String>, i64>,
    profiles: HashMap<Profile, i64>,
    /// The (test, profile) pairs this run leaves failing, with the result
    /// that failed: a later pass in the same run takes a pair out again.
    failed: HashMap<(i64, i64), i64>,
    /// Results not yet inserted: they go in [`RESULT_BATCH`] rows a
    /// statement, which halves the cost of a statement a row.
    pending: Vec<ResultRow>,
}

/// How many result rows one INSERT statement carries.
const RESULT_BATCH: usize = 64;
const RESULT_COLUMNS: usize = 9;

/// One row of the `result` table, waiting for its batch.
struct ResultRow {
    seq: i64,
    test_id: i64,
    profile_id: i64,
    status: u8,
    started_at: Option<i64>,
    stopped_at: Option<i64>,
    tag_set_id: i64,
    route_code: Option<String>,
}

/// The ids of test names, read from the database once when there are not
/// too many, so that a name missing here is known to be new.
struct TestIds {
    ids: HashMap<String, i64>,
    /// Whether `ids` holds every test in the database.
    complete: bool,
}

impl Repository {
    /// Starts a run; it takes the write lock until it commits or is dropped.
    pub fn begin_run(&mut self, meta: &RunMeta) -> Result<RunWriter<'_>, Error> {
        let db_path = self.db_path.clone();
        let sqlite = |e| Error::from_sqlite(&db_path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite)?;
        let id: i64 = tx
            .query_row("SELECT coalesce(max(id) + 1, 0) FROM run", [], |row| {
                row.get(0)
            })
            .map_err(sqlite)?;
        let recorded_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        tx.execute(
            "INSERT INTO run (id, recorded_at, partial, interrupted, command,
                              tests_run, failures, skips)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0)",
            params![
                id,
                recorded_at,
                meta.partial || meta.interrupted,
                meta.interrupted,
                meta.command
            ],
        )
        .map_err(sqlite)?;
        for (position, segment) in meta.segments.iter().enumerate() {
            tx.execute(
                "INSERT INTO segment (run_id, position, plan_index, exclusive, max_workers,
                                      tests, duration_nanos)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    position as i64,
                    segment.plan_index.map(|i| i as i64),
                    segment.exclusive,
                    segment.max_workers.map(|n| n as i64),
                    segment.tests as i64,
                    segment.duration.as_nanos() as i64,
                ],
            )
            .map_err(sqlite)?;
        }
        let tests = TestIds::load(&tx).map_err(sqlite)?;
        Ok(RunWriter {
            tx,
            db_path,
            run: RunId(id),
            partial: meta.partial || meta.interrupted,
            next_seq: 0,
            next_output: 0,
            tests,
            tag_sets: HashMap::default(),
            profiles: HashMap::default(),
            failed: HashMap::default(),
            pending: Vec::with_capacity(RESULT_BATCH),
        })
    }
}

impl RunWriter<'_> {
    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::from_sqlite(&self.db_path, source)
    }

    /// Stores one result under `profile`. The failing state and timing
    /// history follow when the run commits.
    pub fn add_result(&mut self, result: &TestResult, profile: &Profile) -> Result<(), Error> {
        self.add_result_inner(result, profile)
            .map_err(|e| self.sqlite(e))
    }

    fn add_result_inner(&mut self, result: &TestResult, profile: &Profile) -> rusqlite::Result<()> {
        let test_id = self.test_id(result.id.as_str())?;
        let profile_id = self.profile_id(profile)?;
        let tag_set_id = self.tag_set_id(&result.tags)?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push(ResultRow {
            seq,
            test_id,
            profile_id,
            status: result.status.wire_code(),
            started_at: result.started_at,
            stopped_at: result.stopped_at,
            tag_set_id,
            route_code: result.route_code.clone(),
        });
        if self.pending.len() == RESULT_BATCH {
            self.flush_results()?;
        }
        for (position, attachment) in result.attachments.iter().enumerate() {
            self.tx
                .prepare_cached(
                    "INSERT INTO attachment (run_id, seq, position, name, mime_type, content)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    self.run.0,
                    seq,
                    position as i64,
                    attachment.name,
                    attachment.mime_type,
                    attachment.content,
                ])?;
        }
        let key = (test_id, profile_id);
        if result.status.is_failure() {
            self.failed.insert(key, seq);
        } else if result.status.is_final() {
            self.failed.remove(&key);
        }
        Ok(())
    }

    /// Stores output that belongs to no test, in stream order.
    pub fn add_output(&mut self, output: &Attachment) -> Result<(), Error> {
        let position = self.next_output;
        self.next_output += 1;
        self.tx
            .prepare_cached(
                "INSERT INTO run_output (run_id, position, before_seq, name, mime_type, content)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    self.run.0,
                    position,
                    self.next_seq,
                    output.name,
                    output.mime_type,
                    output.content,
                ])
            })
            .map(drop)
            .map_err(|e| self.sqlite(e))
    }

    /// How many results have been added.
    pub fn result_count(&self) -> i64 {
        self.next_seq
    }

    /// Commits the run with its summary counts and the stream's time span,
    /// updating the failing state and timing history of what it ran.
    pub fn commit(mut self, counts: RunCounts, span: Option<(i64, i64)>) -> Result<RunId, Error> {
        let (first, last) = span.unzip();
        let db_path = self.db_path.clone();
        let run = self.run;
        let mut finish = || -> rusqlite::Result<()> {
            self.flush_results()?;
            self.update_failing()?;
            self.tx.execute(&sql::RECORD_TIMING, [run.0])?;
            self.tx.execute(
                "UPDATE run SET tests_run = ?2, failures = ?3, skips = ?4,
                                first_timestamp = ?5, last_timestamp = ?6
                 WHERE id = ?1",
                params![
                    run.0,
                    counts.tests_run,
                    counts.failures,
                    counts.skips,
                    first,
                    last
                ],
            )?;
            Ok(())
        };
        let outcome = finish().and_then(|()| self.tx.commit());
        outcome.map_err(|e| Error::from_sqlite(&db_path, e))?;
        Ok(run)
    }

    /// Inserts the pending result rows with one statement.
    fn flush_results(&mut self) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let placeholders = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; self.pending.len()].join(", ");
        let sql = format!(
            "INSERT INTO result (run_id, seq, test_id, profile_id, status, started_at,
                                 stopped_at, tag_set_id, route_code) VALUES {placeholders}"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        for (row_index, row) in self.pending.iter().enumerate() {
            let at = row_index * RESULT_COLUMNS;
            stmt.raw_bind_parameter(at + 1, self.run.0)?;
            stmt.raw_bind_parameter(at + 2, row.seq)?;
            stmt.raw_bind_parameter(at + 3, row.test_id)?;
            stmt.raw_bind_parameter(at + 4, row.profile_id)?;
            stmt.raw_bind_parameter(at + 5, row.status)?;
            stmt.raw_bind_parameter(at + 6, row.started_at)?;
            stmt.raw_bind_parameter(at + 7, row.stopped_at)?;
            stmt.raw_bind_parameter(at + 8, row.tag_set_id)?;
            stmt.raw_bind_parameter(at + 9, &row.route_code)?;
        }
        stmt.raw_execute()?;
        self.pending.clear();
        Ok(())
    }

    /// Applies the run to the failing set: a full run first clears the
    /// profiles it ran (and only those), a partial run the pairs it ran;
    /// then each pair whose last result in the run failed is marked.
    fn update_failing(&self) -> rusqlite::Result<()> {
        let clear = if self.partial {
            sql::CLEAR_FAILING_OF_RUN_TESTS.as_str()
        } else {
            sql::CLEAR_FAILING_OF_RUN_PROFILES
        };
        self.tx.execute(clear, [self.run.0])?;
        let mut mark = self.tx.prepare(
            "INSERT OR REPLACE INTO failing (test_id, profile_id, run_id, seq)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (&(test_id, profile_id), &seq) in &self.failed {
            mark.execute(params![test_id, profile_id, self.run.0, seq])?;
        }
        Ok(())
    }

    fn test_id(&mut self, name: &str) -> rusqlite::Result<i64> {
        let tests = &mut self.tests;
        if let Some(&id) = tests.ids.get(name) {
            return Ok(id);
        }
        if tests.ids.len() >= MAX_CACHED_TESTS {
            // Memory must not grow with the stream: start the cache afresh.
            tests.ids.clear();
            tests.complete = false;
        }
        let id = if tests.complete {
            insert(&self.tx, "test", "name", name)?
        } else {
            intern(&self.tx, "test", "name", name)?
        };
        tests.ids.insert(name.to_owned(), id);
        Ok(id)
    }

    fn tag_set_id(&mut self, tags: &[String]) -> rusqlite::Result<i64> {
        if let Some(&id) = self.tag_sets.get(tags) {
            return Ok(id);
        }
        let id = intern(&self.tx, "tag_set", "tags", &tags_key(tags))?;
        self.tag_sets.insert(tags.to_vec(), id);
        Ok(id)
    }

    fn profile_id(&mut self, profile: &Profile) -> rusqlite::Result<i64> {
        if let Some(&id) = self.profiles.get(profile) {
            return Ok(id);
        }
        let id = intern(&self.tx, "profile", "tags", &tags_key(profile.tags()))?;
        self.profiles.insert(profile.clone(), id);
        Ok(id)
    }
}

impl TestIds {
    /// Reads every test id when there are at most [`MAX_CACHED_TESTS`].
    fn load(tx: &Transaction<'_>) -> rusqlite::Result<TestIds> {
        let count: i64 = tx.query_row("SELECT count(*) FROM test", [], |row| row.get(0))?;
        if count as usize > MAX_CACHED_TESTS {
            return Ok(TestIds {
                ids: HashMap::default(),
                complete: false,
            });
        }
        let mut stmt = tx.prepare("SELECT name, id FROM test")?;
        let ids = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(TestIds {
            ids,
            complete: true,
        })
    }
}

/// Adds `value` to an interning table that does not hold it yet.
fn insert(tx: &Transaction<'_>, table: &str, column: &str, value: &str) -> rusqlite::Result<i64> {
    let insert = format!("INSERT INTO {table} ({column}) VALUES (?1)");
    tx.prepare_cached(&insert)?.execute([value])?;
    Ok(tx.last_insert_rowid())
}

/// The id of `value` in an interning table, adding it when new.
fn intern(tx: &Transaction<'_>, table: &str, column: &str, value: &str) -> rusqlite::Result<i64> {
    let select = format!("SELECT id FROM {table} WHERE {column} = ?1");
    if let Some(id) = tx
        .prepare_cached(&select)?
        .query_row([value], |row| row.get(0))
        .optional()?
    {
        return Ok(id);
    }
    insert(tx, table, column, value)
}
