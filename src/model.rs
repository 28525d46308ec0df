//! Domain types shared by every layer: ids, statuses and test results.

use std::fmt;
use std::time::Duration;

/// The id of a stored run, as users see it (`FAILED (id=3, ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A test id such as `pkg.tests.test_mod.TestX.test_y`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TestId(pub String);

impl TestId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A test status, as carried by subunit v2 (the wire value 0, "no status", is
/// represented by `Option<Status>::None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Exists,
    InProgress,
    Success,
    UxSuccess,
    Skip,
    Fail,
    XFail,
}

impl Status {
    /// All statuses, in wire order.
    pub const ALL: [Status; 7] = [
        Status::Exists,
        Status::InProgress,
        Status::Success,
        Status::UxSuccess,
        Status::Skip,
        Status::Fail,
        Status::XFail,
    ];

    /// The 3-bit value of this status on the wire.
    pub fn wire_code(self) -> u8 {
        match self {
            Status::Exists => 1,
            Status::InProgress => 2,
            Status::Success => 3,
            Status::UxSuccess => 4,
            Status::Skip => 5,
            Status::Fail => 6,
            Status::XFail => 7,
        }
    }

    /// The status for a 3-bit wire value; 0 ("no status") gives `None`.
    pub fn from_wire_code(code: u8) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.wire_code() == code)
    }

    /// The name python-subunit and testtools use (`success`, `fail`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Status::Exists => "exists",
            Status::InProgress => "inprogress",
            Status::Success => "success",
            Status::UxSuccess => "uxsuccess",
            Status::Skip => "skip",
            Status::Fail => "fail",
            Status::XFail => "xfail",
        }
    }

    /// Whether a test that ended with this status counts as a failure.
    /// A test left in progress (it never finished) counts as one too.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Fail | Status::InProgress)
    }

    /// Whether this status ends a test (as opposed to announcing it).
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Exists | Status::InProgress)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A file attached to a test (a traceback, captured output) or to the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub mime_type: Option<String>,
    pub content: Vec<u8>,
}

impl Attachment {
    /// Whether the attachment is text to show a person: its MIME type is
    /// `text/*` (without one, subunit consumers take it as bytes).
    pub fn is_text(&self) -> bool {
        self.mime_type
            .as_deref()
            .is_some_and(|mime| mime.trim_start().to_ascii_lowercase().starts_with("text/"))
    }
}

/// The outcome of one test in one run, as the stream told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    pub id: TestId,
    pub status: Status,
    /// Nanoseconds since the epoch, from the stream's own timestamps.
    pub started_at: Option<i64>,
    pub stopped_at: Option<i64>,
    /// Every tag the test carried, sorted.
    pub tags: Vec<String>,
    pub route_code: Option<String>,
    pub attachments: Vec<Attachment>,
}

impl TestResult {
    /// The stream's timestamps of the test: its start and stop, where known.
    pub fn timestamps(&self) -> impl Iterator<Item = i64> {
        [self.started_at, self.stopped_at].into_iter().flatten()
    }

    /// How long the test ran, when the stream says when it started and stopped.
    pub fn duration_nanos(&self) -> Option<i64> {
        match (self.started_at, self.stopped_at) {
            (Some(start), Some(stop)) if stop >= start => Some(stop - start),
            _ => None,
        }
    }
}

/// A configuration a test ran under: the set of its profile tags, sorted.
/// The empty profile is the one a repository without profile tags uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Profile(Vec<String>);

impl Profile {
    /// The profile made of these tags (order and duplicates do not matter).
    pub fn new(tags: impl IntoIterator<Item = String>) -> Profile {
        let mut tags: Vec<String> = tags.into_iter().collect();
        tags.sort();
        tags.dedup();
        Profile(tags)
    }

    pub fn tags(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Profiles are named on the command line by their tags joined with commas.
impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// The counts of a run's summary line (`Ran N tests`, `failures=F, skips=S`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub tests_run: i64,
    pub failures: i64,
    pub skips: i64,
}

impl RunCounts {
    /// Counts one result. An `exists` result (a listing) is not a test run,
    /// and neither is a `filtered` one (it carries one of `filter_tags`)
    /// unless it failed: a failure is always counted and shown.
    pub fn add(&mut self, status: Status, filtered: bool) {
        if status == Status::Exists || (filtered && !status.is_failure()) {
            return;
        }
        self.tests_run += 1;
        if status.is_failure() {
            self.failures += 1;
        } else if status == Status::Skip {
            self.skips += 1;
        }
    }
}

/// The first and last of some timestamps (nanoseconds), as a run's time is
/// the span of its stream's own clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeSpan(Option<(i64, i64)>);

impl TimeSpan {
    /// Widens the span to hold `at`.
    pub fn include(&mut self, at: i64) {
        self.0 = Some(self.0.map_or((at, at), |(lo, hi)| (lo.min(at), hi.max(at))));
    }

    /// Widens the span to hold another.
    pub fn merge(&mut self, other: TimeSpan) {
        if let Some((first, last)) = other.0 {
            self.include(first);
            self.include(last);
        }
    }

    /// The first and last timestamps, if any.
    pub fn bounds(self) -> Option<(i64, i64)> {
        self.0
    }

    /// Last minus first, if any.
    pub fn duration(self) -> Option<i64> {
        self.0.map(|(first, last)| last - first)
    }
}

/// How a stored run stands: whether it reset the failing set of what it
/// ran, and whether it reached its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// It ran to its end, and cleared the failing state of its profiles.
    Full,
    /// It ran to its end but was narrowed (`--failing`, filters,
    /// `--partial`): tests it did not run kept their failing state.
    Partial,
    /// A signal stopped it; it holds the tests that finished (and is partial).
    Interrupted,
    /// testr was stopped before its end (or is still running it).
    NotFinished,
}

impl RunState {
    /// The state of a run stored with these marks.
    pub fn of(partial: bool, interrupted: bool, finished: bool) -> RunState {
        match (finished, interrupted, partial) {
            (false, _, _) => RunState::NotFinished,
            (true, true, _) => RunState::Interrupted,
            (true, false, true) => RunState::Partial,
            (true, false, false) => RunState::Full,
        }
    }

    /// How `history list` names it.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Full => "full",
            RunState::Partial => "partial",
            RunState::Interrupted => "interrupted",
            RunState::NotFinished => "not finished",
        }
    }
}

/// How one segment of a planned run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRun {
    /// Its position in the plan; None for the tests the plan did not name.
    pub plan_index: Option<usize>,
    pub exclusive: bool,
    pub max_workers: Option<usize>,
    /// How many tests finished in it.
    pub tests: usize,
    /// From its first test handed out to its last test finished.
    pub duration: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_did_not_finish_says_so_first() {
        assert_eq!(RunState::of(false, false, true), RunState::Full);
        assert_eq!(RunState::of(true, false, true), RunState::Partial);
        // An interrupted run is stored as partial too.
        assert_eq!(RunState::of(true, true, true), RunState::Interrupted);
        // A run stored as it goes is partial until its end.
        assert_eq!(RunState::of(true, false, false), RunState::NotFinished);
        assert_eq!(RunState::of(true, true, false), RunState::NotFinished);
    }
}
