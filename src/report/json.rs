//! The `--json` documents: one object per command, with a `version`, for
//! scripts and `jq`. Documented in docs/json.md, with JSON Schemas under
//! docs/schema/.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Profile, RunCounts, SegmentRun, Status};

/// The version of every `--json` document; bumped on incompatible changes.
pub const VERSION: u32 = 1;

/// `--profiles --json`.
#[derive(Debug, Serialize)]
pub struct ProfilesDoc {
    pub version: u32,
    pub profiles: Vec<Vec<String>>,
}

/// `failing --json`: each failing (test, profile) and the run it failed in.
#[derive(Debug, Serialize)]
pub struct FailingDoc {
    pub version: u32,
    pub profiles: Vec<Vec<String>>,
    pub tests: Vec<FailingTest>,
}

#[derive(Debug, Serialize)]
pub struct FailingTest {
    pub id: String,
    pub profile: Vec<String>,
    pub status: Status,
    pub run: i64,
}

/// `last --json`: the run and each of its tests.
#[derive(Debug, Serialize)]
pub struct LastDoc {
    pub version: u32,
    pub run: RunDoc,
    pub tests: Vec<RunTest>,
}

#[derive(Debug, Serialize)]
pub struct RunDoc {
    #[serde(flatten)]
    pub header: RunHeader,
    pub profiles: Vec<ProfileCounts>,
    /// The segments of a planned run, in the order they ran.
    pub segments: Vec<SegmentDoc>,
}

/// One segment of a planned run.
#[derive(Debug, Serialize)]
pub struct SegmentDoc {
    /// Its position in the plan (from 0); null for the tests the plan did not name.
    pub segment: Option<usize>,
    pub exclusive: bool,
    pub max_workers: Option<usize>,
    pub tests: usize,
    /// Seconds, from its first test handed out to its last test finished.
    pub duration: f64,
}

impl From<&SegmentRun> for SegmentDoc {
    fn from(segment: &SegmentRun) -> SegmentDoc {
        SegmentDoc {
            segment: segment.plan_index,
            exclusive: segment.exclusive,
            max_workers: segment.max_workers,
            tests: segment.tests,
            duration: segment.duration.as_secs_f64(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProfileCounts {
    pub profile: Vec<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    pub tests_run: i64,
    pub failures: i64,
    pub skips: i64,
}

impl From<RunCounts> for Counts {
    fn from(counts: RunCounts) -> Counts {
        Counts {
            tests_run: counts.tests_run,
            failures: counts.failures,
            skips: counts.skips,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RunTest {
    pub id: String,
    pub profile: Vec<String>,
    pub status: Status,
    /// Seconds; absent when the stream did not time the test.
    pub duration: Option<f64>,
}

/// What `last --json` and `history list --json` say of every run.
#[derive(Debug, Serialize)]
pub struct RunHeader {
    pub id: i64,
    /// Unix seconds when the run was stored.
    pub recorded_at: i64,
    pub partial: bool,
    /// Ctrl-C stopped the run: it holds what finished.
    pub interrupted: bool,
    /// The run reached its end; a run testr was killed during is not
    /// finished, and holds the tests stored until then.
    pub finished: bool,
    pub command: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Seconds, by the stream's clock.
    pub duration: Option<f64>,
}

/// `history list --json`: every stored run, oldest first.
#[derive(Debug, Serialize)]
pub struct HistoryDoc {
    pub version: u32,
    pub runs: Vec<RunHeader>,
}

/// `slowest --json`.
#[derive(Debug, Serialize)]
pub struct SlowestDoc {
    pub version: u32,
    pub run: i64,
    pub tests: Vec<SlowTest>,
}

#[derive(Debug, Serialize)]
pub struct SlowTest {
    pub id: String,
    pub profile: Vec<String>,
    pub duration: f64,
}

/// `stats --json`.
#[derive(Debug, Serialize)]
pub struct StatsDoc {
    pub version: u32,
    pub runs: i64,
    pub profiles: Vec<Vec<String>>,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// A profile as JSON: the sorted array of its tags.
pub fn profile_tags(profile: &Profile) -> Vec<String> {
    profile.tags().to_vec()
}

/// Nanoseconds as JSON seconds.
pub fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

/// Writes a document as one line of JSON.
pub fn write_json(out: &mut dyn Write, doc: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, doc)?;
    writeln!(out)
}
