//! Storing a run in one IMMEDIATE transaction (`load`, `import`): a
//! reader sees it whole or not at all. The rows a result becomes, which a
//! run stored as it goes (`live.rs`) writes the same way, are kept here.

use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{Error, Repository, tags_key};
use crate::model::{Attachment, Profile, RunCounts, RunId, SegmentRun, TestResult};

/// How many test ids a writer remembers before it asks the database again.
const MAX_CACHED_TESTS: usize = 200_000;

/// The set-wise updates a run makes to the failing set and the timing
/// history. Each takes the run (?1) and the first result (?2, a `seq`) it
/// applies to: a run written whole passes 0, a batch of a run stored as it
/// goes passes its own first result.
pub(super) mod sql {
    use std::sync::LazyLock;

    use crate::model::Status;
    use crate::repo::status_codes;
    use crate::repo::timing::MAX_SAMPLES;

    /// The failing state of every profile the run ?1 ran, but for what
    /// the run itself left failing: what a full run clears.
    pub const CLEAR_FAILING_OF_RUN_PROFILES: &str = "DELETE FROM failing WHERE run_id != ?1
         AND profile_id IN (SELECT DISTINCT profile_id FROM result WHERE run_id = ?1)";

    /// Every (test, profile) with a final result in run ?1 from result ?2 on
    /// (`exists` and `inprogress` are not final); the ones it leaves
    /// failing are marked again afterwards.
    pub static CLEAR_FAILING_OF_RUN_TESTS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "DELETE FROM failing WHERE (test_id, profile_id) IN
             (SELECT test_id, profile_id FROM result
              WHERE run_id = ?1 AND seq >= ?2 AND status IN {})",
            status_codes(Status::is_final)
        )
    });

    /// The results whose duration joins the timing history: finished, with
    /// both timestamps in order. A skip is decided before the test's body
    /// runs, so its time says nothing and is not recorded.
    pub static TIMED_RESULT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "status IN {} AND started_at IS NOT NULL AND stopped_at >= started_at",
            status_codes(|status| status.is_final() && status != Status::Skip),
        )
    });

    /// Appends each timed result's duration (run ?1, from result ?2 on) to
    /// its history, keeping the newest [`MAX_SAMPLES`]; results are read in
    /// primary-key (stream) order, so a test run twice appends in order.
    /// Each sample is 16 hex digits, the width `timing` reads.
    pub static RECORD_TIMING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO timing (test_id, profile_id, samples)
             SELECT test_id, profile_id, printf('%016x', stopped_at - started_at) FROM result
             WHERE run_id = ?1 AND seq >= ?2 AND {}
             ON CONFLICT (test_id, profile_id) DO UPDATE
             SET samples = substr(samples || excluded.samples, -{})",
            *TIMED_RESULT,
            MAX_SAMPLES * 16
        )
    });

    /// The summary counts (?2, ?3, ?4) and time span (?5, ?6) of run ?1.
    pub const SET_COUNTS: &str = "UPDATE run SET tests_run = ?2, failures = ?3, skips = ?4,
         first_timestamp = ?5, last_timestamp = ?6 WHERE id = ?1";
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

/// Where results go: a run written in one transaction ([`RunWriter`]), or
/// one batch of a run stored as it goes ([`super::LiveBatch`]).
pub trait ResultSink {
    /// Stores one result under `profile`.
    fn add_result(&mut self, result: &TestResult, profile: &Profile) -> Result<(), Error>;
    /// Stores output that belongs to no test, in stream order.
    fn add_output(&mut self, output: &Attachment) -> Result<(), Error>;
}

/// A run being written. Dropping it without [`RunWriter::commit`] stores
/// nothing.
pub struct RunWriter<'conn> {
    tx: Transaction<'conn>,
    db_path: PathBuf,
    partial: bool,
    rows: ResultRows,
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
        let partial = meta.partial || meta.interrupted;
        let run = insert_run(
            &tx,
            meta.command.as_deref(),
            partial,
            meta.interrupted,
            true,
        )
        .map_err(sqlite)?;
        insert_segments(&tx, run, &meta.segments).map_err(sqlite)?;
        let rows = ResultRows::new(&tx, run).map_err(sqlite)?;
        Ok(RunWriter {
            tx,
            db_path,
            partial,
            rows,
        })
    }
}

impl ResultSink for RunWriter<'_> {
    /// Stores one result under `profile`. The failing state and timing
    /// history follow when the run commits.
    fn add_result(&mut self, result: &TestResult, profile: &Profile) -> Result<(), Error> {
        self.rows
            .add_result(&self.tx, result, profile)
            .map_err(|e| Error::from_sqlite(&self.db_path, e))
    }

    fn add_output(&mut self, output: &Attachment) -> Result<(), Error> {
        self.rows
            .add_output(&self.tx, output)
            .map_err(|e| Error::from_sqlite(&self.db_path, e))
    }
}

impl RunWriter<'_> {
    /// How many results have been added.
    pub fn result_count(&self) -> i64 {
        self.rows.next_seq
    }

    /// Commits the run with its summary counts and the stream's time span,
    /// updating the failing state and timing history of what it ran: a
    /// full run first clears the profiles it ran (and only those), a
    /// partial run the pairs it ran; then each pair whose last result in
    /// the run failed is marked.
    pub fn commit(mut self, counts: RunCounts, span: Option<(i64, i64)>) -> Result<RunId, Error> {
        let run = self.rows.run;
        let mut finish = || -> rusqlite::Result<()> {
            self.rows.flush(&self.tx)?;
            if self.partial {
                self.tx
                    .execute(&sql::CLEAR_FAILING_OF_RUN_TESTS, [run.0, 0])?;
                self.rows.mark_failing(&self.tx)?;
            } else {
                // What the run leaves failing is marked first, so that the
                // clearing can keep it: the statement a run stored as it
                // goes ends with.
                self.rows.mark_failing(&self.tx)?;
                self.tx
                    .execute(sql::CLEAR_FAILING_OF_RUN_PROFILES, [run.0])?;
            }
            self.tx.execute(&sql::RECORD_TIMING, [run.0, 0])?;
            set_counts(&self.tx, run, counts, span)?;
            Ok(())
        };
        let outcome = finish().and_then(|()| self.tx.commit());
        outcome.map_err(|e| Error::from_sqlite(&self.db_path, e))?;
        Ok(run)
    }
}

/// Adds a run with the next id, without results; it is `finished` unless
/// it is stored as it goes.
pub(super) fn insert_run(
    conn: &Connection,
    command: Option<&str>,
    partial: bool,
    interrupted: bool,
    finished: bool,
) -> rusqlite::Result<RunId> {
    // Past every stored run and every removed one: an id is never reused.
    let id: i64 = conn.query_row(
        "SELECT max(coalesce((SELECT max(id) FROM run), -1),
                    coalesce((SELECT id FROM highest_removed_run), -1)) + 1",
        [],
        |row| row.get(0),
    )?;
    conn.execute(
        "INSERT INTO run (id, recorded_at, partial, interrupted, command,
                          tests_run, failures, skips, finished)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, ?6)",
        params![id, unix_now(), partial, interrupted, command, finished],
    )?;
    Ok(RunId(id))
}

/// Seconds since the epoch, as `run.recorded_at` holds them.
pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Stores the segments of a planned run, in the order they ran, after
/// those it has (a run added to holds the segments of its earlier parts).
pub(super) fn insert_segments(
    conn: &Connection,
    run: RunId,
    segments: &[SegmentRun],
) -> rusqlite::Result<()> {
    if segments.is_empty() {
        return Ok(());
    }
    let first: i64 = conn.query_row(
        "SELECT coalesce(max(position) + 1, 0) FROM segment WHERE run_id = ?1",
        [run.0],
        |row| row.get(0),
    )?;
    for (offset, segment) in segments.iter().enumerate() {
        let position = first + offset as i64;
        conn.execute(
            "INSERT INTO segment (run_id, position, plan_index, exclusive, max_workers,
                                  tests, duration_nanos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                run.0,
                position,
                segment.plan_index.map(|i| i as i64),
                segment.exclusive,
                segment.max_workers.map(|n| n as i64),
                segment.tests as i64,
                segment.duration.as_nanos() as i64,
            ],
        )?;
    }
    Ok(())
}

/// Sets the summary counts and time span of `run`.
pub(super) fn set_counts(
    conn: &Connection,
    run: RunId,
    counts: RunCounts,
    span: Option<(i64, i64)>,
) -> rusqlite::Result<()> {
    let (first, last) = span.unzip();
    conn.execute(
        sql::SET_COUNTS,
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
}

/// What a writer keeps while a run's results go in: where the next result
/// and output go, the ids it has interned, the result rows waiting for
/// their statement, and the (test, profile) pairs left failing.
pub(super) struct ResultRows {
    pub(super) run: RunId,
    pub(super) next_seq: i64,
    pub(super) next_output: i64,
    tests: TestIds,
    tag_sets: HashMap<Vec<String>, i64>,
    profiles: HashMap<Profile, i64>,
    /// The (test, profile) pairs left failing since they were last marked,
    /// with the result that failed: a later pass takes a pair out again.
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
    /// The highest id in `ids`: a test added by another writer since has
    /// a higher one.
    max_id: i64,
}

impl ResultRows {
    /// The rows of `run`, its first result and output to come next.
    pub(super) fn new(conn: &Connection, run: RunId) -> rusqlite::Result<ResultRows> {
        Ok(ResultRows::resuming(run, 0, 0, TestIds::load(conn)?))
    }

    /// The rows of `run` going on after the results and output it holds.
    pub(super) fn resume(conn: &Connection, run: RunId) -> rusqlite::Result<ResultRows> {
        let next = |sql: &str| conn.query_row(sql, [run.0], |row| row.get::<_, i64>(0));
        let next_seq = next("SELECT coalesce(max(seq) + 1, 0) FROM result WHERE run_id = ?1")?;
        let next_output =
            next("SELECT coalesce(max(position) + 1, 0) FROM run_output WHERE run_id = ?1")?;
        Ok(ResultRows::resuming(
            run,
            next_seq,
            next_output,
            TestIds::load(conn)?,
        ))
    }

    fn resuming(run: RunId, next_seq: i64, next_output: i64, tests: TestIds) -> ResultRows {
        ResultRows {
            run,
            next_seq,
            next_output,
            tests,
            tag_sets: HashMap::default(),
            profiles: HashMap::default(),
            failed: HashMap::default(),
            pending: Vec::with_capacity(RESULT_BATCH),
        }
    }

    /// Forgets what a rolled-back transaction added (its ids and rows),
    /// so that the run goes on from `next_seq` and `next_output`; test ids
    /// are looked up in the database from then on.
    pub(super) fn roll_back_to(&mut self, next_seq: i64, next_output: i64) {
        *self = ResultRows::resuming(self.run, next_seq, next_output, TestIds::unknown());
    }

    /// Learns the tests other writers added since this one last held the
    /// write lock (a run stored as it goes lets go of it between batches).
    pub(super) fn catch_up(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let tests = &mut self.tests;
        if !tests.complete {
            return Ok(());
        }
        let mut stmt = conn.prepare_cached("SELECT name, id FROM test WHERE id > ?1")?;
        let mut rows = stmt.query([tests.max_id])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(1)?;
            tests.ids.insert(row.get(0)?, id);
            tests.max_id = tests.max_id.max(id);
        }
        if tests.ids.len() > MAX_CACHED_TESTS {
            tests.ids.clear();
            tests.complete = false;
        }
        Ok(())
    }

    pub(super) fn add_result(
        &mut self,
        conn: &Connection,
        result: &TestResult,
        profile: &Profile,
    ) -> rusqlite::Result<()> {
        let test_id = self.test_id(conn, result.id.as_str())?;
        let profile_id = self.profile_id(conn, profile)?;
        let tag_set_id = self.tag_set_id(conn, &result.tags)?;
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
            self.flush(conn)?;
        }
        for (position, attachment) in result.attachments.iter().enumerate() {
            conn.prepare_cached(
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

    pub(super) fn add_output(
        &mut self,
        conn: &Connection,
        output: &Attachment,
    ) -> rusqlite::Result<()> {
        let position = self.next_output;
        self.next_output += 1;
        conn.prepare_cached(
            "INSERT INTO run_output (run_id, position, before_seq, name, mime_type, content)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            self.run.0,
            position,
            self.next_seq,
            output.name,
            output.mime_type,
            output.content,
        ])?;
        Ok(())
    }

    /// Inserts the pending result rows with one statement.
    pub(super) fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let placeholders = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; self.pending.len()].join(", ");
        let sql = format!(
            "INSERT INTO result (run_id, seq, test_id, profile_id, status, started_at,
                                 stopped_at, tag_set_id, route_code) VALUES {placeholders}"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
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

    /// Marks each pair whose last result since the last marking failed,
    /// pointing at that result (which must have been flushed), and starts
    /// afresh.
    pub(super) fn mark_failing(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let mut mark = conn.prepare_cached(
            "INSERT OR REPLACE INTO failing (test_id, profile_id, run_id, seq)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for ((test_id, profile_id), seq) in self.failed.drain() {
            mark.execute(params![test_id, profile_id, self.run.0, seq])?;
        }
        Ok(())
    }

    fn test_id(&mut self, conn: &Connection, name: &str) -> rusqlite::Result<i64> {
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
            insert(conn, "test", "name", name)?
        } else {
            intern(conn, "test", "name", name)?
        };
        tests.ids.insert(name.to_owned(), id);
        tests.max_id = tests.max_id.max(id);
        Ok(id)
    }

    fn tag_set_id(&mut self, conn: &Connection, tags: &[String]) -> rusqlite::Result<i64> {
        if let Some(&id) = self.tag_sets.get(tags) {
            return Ok(id);
        }
        let id = intern(conn, "tag_set", "tags", &tags_key(tags))?;
        self.tag_sets.insert(tags.to_vec(), id);
        Ok(id)
    }

    fn profile_id(&mut self, conn: &Connection, profile: &Profile) -> rusqlite::Result<i64> {
        if let Some(&id) = self.profiles.get(profile) {
            return Ok(id);
        }
        let id = intern(conn, "profile", "tags", &tags_key(profile.tags()))?;
        self.profiles.insert(profile.clone(), id);
        Ok(id)
    }
}

impl TestIds {
    /// Reads every test id when there are at most [`MAX_CACHED_TESTS`].
    fn load(conn: &Connection) -> rusqlite::Result<TestIds> {
        let count: i64 = conn.query_row("SELECT count(*) FROM test", [], |row| row.get(0))?;
        if count as usize > MAX_CACHED_TESTS {
            return Ok(TestIds::unknown());
        }
        let mut stmt = conn.prepare("SELECT name, id FROM test")?;
        let ids: HashMap<String, i64> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let max_id = ids.values().copied().max().unwrap_or(0);
        Ok(TestIds {
            ids,
            complete: true,
            max_id,
        })
    }

    /// No ids known: each is looked up.
    fn unknown() -> TestIds {
        TestIds {
            ids: HashMap::default(),
            complete: false,
            max_id: 0,
        }
    }
}

/// Adds `value` to an interning table that does not hold it yet.
fn insert(conn: &Connection, table: &str, column: &str, value: &str) -> rusqlite::Result<i64> {
    let insert = format!("INSERT INTO {table} ({column}) VALUES (?1)");
    conn.prepare_cached(&insert)?.execute([value])?;
    Ok(conn.last_insert_rowid())
}

/// The id of `value` in an interning table, adding it when new.
fn intern(conn: &Connection, table: &str, column: &str, value: &str) -> rusqlite::Result<i64> {
    let select = format!("SELECT id FROM {table} WHERE {column} = ?1");
    if let Some(id) = conn
        .prepare_cached(&select)?
        .query_row([value], |row| row.get(0))
        .optional()?
    {
        return Ok(id);
    }
    insert(conn, table, column, value)
}
