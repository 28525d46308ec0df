//! Queries: runs, their results with attachments, the failing set.

use std::iter::Peekable;

use rusqlite::{OptionalExtension, Row, params};
use rustc_hash::FxHashMap as HashMap;

use super::{Error, Repository, parse_tags, status_codes, tags_key, timing};
use crate::model::{Attachment, Profile, RunCounts, RunId, SegmentRun, Status, TestId, TestResult};

/// A stored run without its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub id: RunId,
    /// Unix seconds when the run was stored.
    pub recorded_at: i64,
    pub partial: bool,
    /// Ctrl-C stopped the run.
    pub interrupted: bool,
    /// The run reached its end. A run stored as it goes (`testr run`) is
    /// not finished while it runs, nor after testr was killed during it:
    /// it then holds the tests stored until then.
    pub finished: bool,
    pub command: Option<String>,
    /// The first and last timestamps of the run's stream, in nanoseconds.
    pub span: Option<(i64, i64)>,
    pub counts: RunCounts,
}

impl RunSummary {
    /// The run's time by its own stream's clock.
    pub fn duration_nanos(&self) -> Option<i64> {
        self.span.map(|(first, last)| last - first)
    }
}

/// A result as stored: where it is, under which profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    pub run: RunId,
    pub seq: i64,
    pub profile: Profile,
    pub result: TestResult,
}

const RESULT_COLUMNS: &str = "r.run_id, r.seq, t.name, p.tags, r.status, r.started_at,
     r.stopped_at, s.tags, r.route_code
     FROM result r
     JOIN test t ON t.id = r.test_id
     JOIN profile p ON p.id = r.profile_id
     JOIN tag_set s ON s.id = r.tag_set_id";

impl Repository {
    fn sqlite(&self, source: rusqlite::Error) -> Error {
        Error::from_sqlite(&self.db_path, source)
    }

    /// How many runs are stored.
    pub fn run_count(&self) -> Result<i64, Error> {
        self.conn
            .query_row("SELECT count(*) FROM run", [], |row| row.get(0))
            .map_err(|e| self.sqlite(e))
    }

    /// The newest run, if any.
    pub fn latest_run(&self) -> Result<Option<RunSummary>, Error> {
        self.run_where("ORDER BY id DESC LIMIT 1", params![])
    }

    /// The run stored just before `run`, if any: what deltas compare with.
    pub fn run_before(&self, run: RunId) -> Result<Option<RunSummary>, Error> {
        self.run_where("WHERE id < ?1 ORDER BY id DESC LIMIT 1", params![run.0])
    }

    /// The run with this id.
    pub fn run(&self, run: RunId) -> Result<RunSummary, Error> {
        self.run_where("WHERE id = ?1", params![run.0])?
            .ok_or(Error::NoSuchRun(run.0))
    }

    /// Every stored run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, Error> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM run ORDER BY id");
        self.conn
            .prepare(&sql)
            .and_then(|mut stmt| stmt.query_map([], run_summary)?.collect())
            .map_err(|e| self.sqlite(e))
    }

    fn run_where(
        &self,
        clause: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Option<RunSummary>, Error> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM run {clause}");
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row(params, run_summary).optional())
            .map_err(|e| self.sqlite(e))
    }

    /// Calls `each` with the results of `run` in stream order, with their
    /// attachments; only the failures when `failures_only`. Streams: memory
    /// does not grow with the run.
    pub fn for_each_result<E: From<Error>>(
        &self,
        run: RunId,
        failures_only: bool,
        mut each: impl FnMut(StoredResult) -> Result<(), E>,
    ) -> Result<(), E> {
        let filter = if failures_only {
            format!("AND r.status IN {}", status_codes(Status::is_failure))
        } else {
            String::new()
        };
        let sql = format!("SELECT {RESULT_COLUMNS} WHERE r.run_id = ?1 {filter} ORDER BY r.seq");
        let attachment_sql = format!(
            "SELECT a.seq, a.name, a.mime_type, a.content FROM attachment a
             JOIN result r ON r.run_id = a.run_id AND r.seq = a.seq
             WHERE a.run_id = ?1 {filter} ORDER BY a.seq, a.position"
        );
        let mut results = self.conn.prepare(&sql).map_err(|e| self.sqlite(e))?;
        let mut attachments = self
            .conn
            .prepare(&attachment_sql)
            .map_err(|e| self.sqlite(e))?;
        let mut attachments = attachments
            .query_map([run.0], |row| {
                Ok((row.get::<_, i64>(0)?, attachment(row, 1)?))
            })
            .map_err(|e| self.sqlite(e))?
            .peekable();
        let mut rows = results.query([run.0]).map_err(|e| self.sqlite(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let mut stored = stored_result(row).map_err(|e| self.sqlite(e))?;
            stored.result.attachments =
                take_attachments(&mut attachments, stored.seq).map_err(|e| self.sqlite(e))?;
            each(stored)?;
        }
        Ok(())
    }

    /// The failing set: for each failing (test, profile), the result that
    /// made it fail, sorted by test id then profile; with its attachments
    /// when `with_attachments` (tracebacks can be most of a repository).
    pub fn failing(&self, with_attachments: bool) -> Result<Vec<StoredResult>, Error> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS}
             JOIN failing f ON f.run_id = r.run_id AND f.seq = r.seq
             ORDER BY t.name, p.tags"
        );
        let query = || -> rusqlite::Result<Vec<StoredResult>> {
            let mut stmt = self.conn.prepare(&sql)?;
            let mut failing = stmt
                .query_map([], stored_result)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if !with_attachments {
                return Ok(failing);
            }
            let mut attachments = self.conn.prepare(
                "SELECT name, mime_type, content FROM attachment
                 WHERE run_id = ?1 AND seq = ?2 ORDER BY position",
            )?;
            for stored in &mut failing {
                stored.result.attachments = attachments
                    .query_map(params![stored.run.0, stored.seq], |row| attachment(row, 0))?
                    .collect::<rusqlite::Result<_>>()?;
            }
            Ok(failing)
        };
        query().map_err(|e| self.sqlite(e))
    }

    /// The ids of the failing tests with their profiles, without details.
    pub fn failing_ids(&self) -> Result<Vec<(TestId, Profile)>, Error> {
        let query = || -> rusqlite::Result<Vec<(TestId, Profile)>> {
            let mut stmt = self.conn.prepare(
                "SELECT t.name, p.tags FROM failing f
                 JOIN test t ON t.id = f.test_id JOIN profile p ON p.id = f.profile_id
                 ORDER BY t.name, p.tags",
            )?;
            stmt.query_map([], |row| {
                Ok((TestId(row.get(0)?), profile(&row.get::<_, String>(1)?)))
            })?
            .collect()
        };
        query().map_err(|e| self.sqlite(e))
    }

    /// Every profile the repository holds results for, sorted.
    pub fn profiles(&self) -> Result<Vec<Profile>, Error> {
        // A profile row is only ever committed together with a result using it.
        self.profile_query("SELECT tags FROM profile", [])
    }

    /// The profiles of the results of `run`, sorted.
    pub fn run_profiles(&self, run: RunId) -> Result<Vec<Profile>, Error> {
        self.profile_query(
            "SELECT tags FROM profile WHERE id IN
             (SELECT DISTINCT profile_id FROM result WHERE run_id = ?1)",
            [run.0],
        )
    }

    fn profile_query(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Profile>, Error> {
        let query = || -> rusqlite::Result<Vec<Profile>> {
            let mut stmt = self.conn.prepare(sql)?;
            stmt.query_map(params, |row| Ok(profile(&row.get::<_, String>(0)?)))?
                .collect()
        };
        let mut profiles = query().map_err(|e| self.sqlite(e))?;
        profiles.sort();
        Ok(profiles)
    }

    /// Output of `run` that belongs to no test, with the result number it
    /// came before.
    pub fn run_outputs(&self, run: RunId) -> Result<Vec<(i64, Attachment)>, Error> {
        let query = || -> rusqlite::Result<Vec<(i64, Attachment)>> {
            let mut stmt = self.conn.prepare(
                "SELECT before_seq, name, mime_type, content FROM run_output
                 WHERE run_id = ?1 ORDER BY position",
            )?;
            stmt.query_map([run.0], |row| Ok((row.get(0)?, attachment(row, 1)?)))?
                .collect()
        };
        query().map_err(|e| self.sqlite(e))
    }

    /// The durations (ns) of the tests of `run` that have both timestamps,
    /// longest first.
    pub fn durations(&self, run: RunId) -> Result<Vec<(TestId, Profile, i64)>, Error> {
        let query = || -> rusqlite::Result<Vec<(TestId, Profile, i64)>> {
            let mut stmt = self.conn.prepare(
                "SELECT t.name, p.tags, r.stopped_at - r.started_at AS took
                 FROM result r JOIN test t ON t.id = r.test_id
                 JOIN profile p ON p.id = r.profile_id
                 WHERE r.run_id = ?1 AND r.started_at IS NOT NULL AND r.stopped_at IS NOT NULL
                 ORDER BY took DESC, t.name",
            )?;
            stmt.query_map([run.0], |row| {
                Ok((
                    TestId(row.get(0)?),
                    profile(&row.get::<_, String>(1)?),
                    row.get(2)?,
                ))
            })?
            .collect()
        };
        query().map_err(|e| self.sqlite(e))
    }

    /// The segments of a planned run, in the order they ran (none for a run
    /// without a plan).
    pub fn run_segments(&self, run: RunId) -> Result<Vec<SegmentRun>, Error> {
        let query = || -> rusqlite::Result<Vec<SegmentRun>> {
            let mut stmt = self.conn.prepare(
                "SELECT plan_index, exclusive, max_workers, tests, duration_nanos
                 FROM segment WHERE run_id = ?1 ORDER BY position",
            )?;
            stmt.query_map([run.0], |row| {
                Ok(SegmentRun {
                    plan_index: row.get::<_, Option<i64>>(0)?.map(|i| i as usize),
                    exclusive: row.get(1)?,
                    max_workers: row.get::<_, Option<i64>>(2)?.map(|n| n as usize),
                    tests: row.get::<_, i64>(3)? as usize,
                    duration: std::time::Duration::from_nanos(row.get::<_, i64>(4)?.max(0) as u64),
                })
            })?
            .collect()
        };
        query().map_err(|e| self.sqlite(e))
    }

    /// The expected duration (ns) of every test with a timing history under
    /// `profile`, by test id.
    pub fn estimates(&self, profile: &Profile) -> Result<HashMap<String, i64>, Error> {
        let query = || -> rusqlite::Result<HashMap<String, i64>> {
            let mut stmt = self.conn.prepare(
                "SELECT t.name, m.samples FROM timing m
                 JOIN test t ON t.id = m.test_id JOIN profile p ON p.id = m.profile_id
                 WHERE p.tags = ?1",
            )?;
            let mut estimates = HashMap::default();
            let mut rows = stmt.query([tags_key(profile.tags())])?;
            while let Some(row) = rows.next()? {
                let samples: String = row.get(1)?;
                if let Some(estimate) = timing::estimate(&timing::unpack(&samples)) {
                    estimates.insert(row.get(0)?, estimate);
                }
            }
            Ok(estimates)
        };
        query().map_err(|e| self.sqlite(e))
    }
}

const RUN_COLUMNS: &str = "id, recorded_at, partial, command, first_timestamp, last_timestamp,
     tests_run, failures, skips, interrupted, finished";

fn run_summary(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    let first: Option<i64> = row.get(4)?;
    let last: Option<i64> = row.get(5)?;
    Ok(RunSummary {
        id: RunId(row.get(0)?),
        recorded_at: row.get(1)?,
        partial: row.get(2)?,
        interrupted: row.get(9)?,
        finished: row.get(10)?,
        command: row.get(3)?,
        span: first.zip(last),
        counts: RunCounts {
            tests_run: row.get(6)?,
            failures: row.get(7)?,
            skips: row.get(8)?,
        },
    })
}

fn profile(key: &str) -> Profile {
    Profile::new(parse_tags(key))
}

fn attachment(row: &Row<'_>, first: usize) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        name: row.get(first)?,
        mime_type: row.get(first + 1)?,
        content: row.get(first + 2)?,
    })
}

fn stored_result(row: &Row<'_>) -> rusqlite::Result<StoredResult> {
    let code: u8 = row.get(4)?;
    let status = Status::from_wire_code(code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            4,
            rusqlite::types::Type::Integer,
            format!("unknown status code {code}").into(),
        )
    })?;
    let tags: String = row.get(7)?;
    let tags = parse_tags(&tags);
    Ok(StoredResult {
        run: RunId(row.get(0)?),
        seq: row.get(1)?,
        profile: profile(&row.get::<_, String>(3)?),
        result: TestResult {
            id: TestId(row.get(2)?),
            status,
            started_at: row.get(5)?,
            stopped_at: row.get(6)?,
            tags,
            route_code: row.get(8)?,
            attachments: Vec::new(),
        },
    })
}

/// Takes the attachments of result `seq` from a cursor ordered by seq.
fn take_attachments(
    cursor: &mut Peekable<impl Iterator<Item = rusqlite::Result<(i64, Attachment)>>>,
    seq: i64,
) -> rusqlite::Result<Vec<Attachment>> {
    let mut taken = Vec::new();
    while let Some(next) = cursor.peek() {
        match next {
            Ok((at, _)) if *at < seq => {
                cursor.next();
            }
            Ok((at, _)) if *at == seq => {
                if let Some(Ok((_, attachment))) = cursor.next() {
                    taken.push(attachment);
                }
            }
            Ok(_) => break,
            Err(_) => {
                return Err(cursor
                    .next()
                    .and_then(Result::err)
                    .expect("peeked an error"));
            }
        }
    }
    Ok(taken)
}
