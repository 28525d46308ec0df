//! What the runner tells its consumers (the run's store, the reporters)
//! while it runs, and what it returns at the end.

use std::time::Duration;

use super::spec::PerProfile;
use crate::collect::Collected;
use crate::model::{Profile, SegmentRun};

/// Something that happened during a run, in order.
#[derive(Debug)]
pub enum RunEvent {
    /// The first process of the profile with these tags started with this
    /// command line.
    Started { tags: Profile, command: String },
    /// The tests of the profile with these tags are listed: this many
    /// will run.
    Planned { tags: Profile, tests: usize },
    /// A test finished (tagged with its profile's tags and `worker-N`), or
    /// output that belongs to no test.
    Collected(Collected),
    /// Text a process wrote to its stderr, forwarded as it came.
    Stderr(Vec<u8>),
    /// Something the user should know that is not a test result: a worker
    /// that died and was replaced, a timeout, an interruption.
    Notice(String),
}

/// The signals that stop a run the way Ctrl-C does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT: Ctrl-C at the terminal.
    Interrupt,
    /// SIGTERM: what `timeout`, `kill` and a CI job being cancelled send.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

impl StopSignal {
    /// Its name, as users know it: `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// A signal stopped the run: what finished is all there is.
    pub interrupted: bool,
    /// Which signal stopped it (set exactly when `interrupted` is).
    pub stopped_by: Option<StopSignal>,
    /// One entry per worker slot (`worker-N`).
    pub workers: Vec<WorkerBalance>,
    /// The segments of a planned run that had tests, in the order they ran.
    pub segments: Vec<SegmentRun>,
    /// What starting a classic command's process cost, per profile, where
    /// this run measured it: for the next run.
    pub startups: PerProfile<Option<Duration>>,
}

/// How one worker slot spent the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerBalance {
    pub slot: usize,
    /// How many tests it finished.
    pub tests: usize,
    /// How long it sat idle between its last test and the end of the run.
    pub idle_at_end: Duration,
}
