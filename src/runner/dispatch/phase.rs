//! A process as the dispatcher follows it: what kind it is, the phase of
//! its life it is in, what it was handed, and, once it has ended, the
//! verdict on how it ended.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

use crate::collect::Collector;
use crate::runner::assigned::Assignments;
use crate::runner::event::StopSignal;
use crate::runner::listing::Listing;
use crate::runner::spec::ProfileIndex;
use crate::subunit::Decoder;

/// What a process is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A long-lived worker (docs/worker-protocol.md).
    Worker,
    /// A classic command running a batch of ids (or everything).
    Batch,
    /// A classic command listing the tests.
    Lister,
}

/// Where a worker's test ids go: dropping it closes the worker's stdin,
/// which tells the worker to finish.
pub(super) type Stdin = UnboundedSender<Vec<u8>>;

/// Where a process is in its life, as testr sees it. Its exit status and
/// the end of its output arrive apart, in any order, while it is in one
/// of these; the verdict on its end is taken from the phase it ended in.
///
/// A worker goes `Listing` → `Running` → `Finishing`; a classic lister is
/// `Listing` until it exits; a batch is `Finishing` from its start. Any of
/// them may be moved to `Stopping`.
pub(super) enum Phase {
    /// Sending its listing: a worker before its end-of-listing marker, or
    /// a classic command listing the tests.
    Listing(Listening),
    /// A worker taking tests on its stdin.
    Running(Stdin),
    /// It has every test it will get, and is to exit by itself when they
    /// are done: a batch from its start, a worker once its stdin is closed.
    Finishing,
    /// testr stopped it: killed after a timeout, or asked to stop by a
    /// signal to testr.
    Stopping {
        kill: Kill,
        /// What it had listed, if it was listing: its `exists` packets are
        /// still a listing, not results.
        listing: Option<Listening>,
    },
}

/// A listing as it arrives.
#[derive(Default)]
pub(super) struct Listening {
    /// What it listed so far.
    pub(super) listing: Listing,
    /// Text a classic lister wrote: a plain list of ids, if no packets came.
    pub(super) text: Vec<u8>,
    /// A worker's stdin, for the tests it is given once it has listed.
    pub(super) stdin: Option<Stdin>,
}

/// Why testr stopped a process.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kill {
    /// It made no progress for this long: killed.
    Timeout { after: Duration },
    /// A signal stops the run: asked to stop, killed after the grace period.
    Signal(StopSignal),
}

/// How a process that ran tests (a worker or a batch) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// It was told it had every test, and exited with success.
    Finished,
    /// It exited by itself: before it was told to finish, or with a
    /// failing status.
    Died,
    /// testr killed it after a test's timeout.
    TimedOut,
    /// A signal stopped the run: what finished is all it gives.
    Stopped,
    /// It exited before it finished listing its tests.
    Unlisted,
}

pub(super) struct Process {
    pub(super) kind: Kind,
    pub(super) profile: ProfileIndex,
    pub(super) slot: Option<usize>,
    pub(super) command: String,
    pub(super) pid: i32,
    pub(super) phase: Phase,
    pub(super) decoder: Decoder,
    pub(super) collector: Collector,
    pub(super) assigned: Assignments,
    /// Since when the process has owed us progress (a test starting or
    /// finishing): the timeout runs from here.
    pub(super) clock: Option<Instant>,
    /// When its last test finished, by its own timestamp (ns since the
    /// epoch): the gap to the next start is the worker's overhead.
    pub(super) last_stop: Option<i64>,
    pub(super) spawned_at: Instant,
    /// Whether a batch has yet to report its first test: the time until
    /// then is what starting it cost.
    pub(super) awaiting_first_test: bool,
    /// Whether the worker tears fixtures down by the test it runs next
    /// (its listing's marker said so): it is kept a test queued behind the
    /// one it runs.
    pub(super) wants_next: bool,
    pub(super) stderr: Vec<u8>,
    /// Its exit status, once it has exited.
    pub(super) exit: Option<ExitStatus>,
    /// How many of stdout and stderr are still open.
    pub(super) open_pipes: u8,
    pub(super) results: usize,
    pub(super) failures: usize,
    /// The `$IDFILE` of a batch, deleted with the process.
    pub(super) _id_file: Option<tempfile::TempPath>,
}

impl Process {
    /// Whether it has exited and closed its output: nothing more will come.
    pub(super) fn is_done(&self) -> bool {
        self.exit.is_some() && self.open_pipes == 0
    }

    /// Whether it is still sending its listing.
    pub(super) fn is_listing(&self) -> bool {
        matches!(self.phase, Phase::Listing(_))
    }

    /// Whether it is a worker taking tests.
    pub(super) fn is_running(&self) -> bool {
        matches!(self.phase, Phase::Running(_))
    }

    /// Whether its stdin is open: a worker listing, or taking tests.
    pub(super) fn takes_ids(&self) -> bool {
        match &self.phase {
            Phase::Listing(listening) => listening.stdin.is_some(),
            Phase::Running(_) => true,
            Phase::Finishing | Phase::Stopping { .. } => false,
        }
    }

    /// Why testr stopped it, if it did.
    pub(super) fn kill(&self) -> Option<Kill> {
        match &self.phase {
            Phase::Stopping { kill, .. } => Some(*kill),
            _ => None,
        }
    }

    /// The listing it is sending, if it is listing (stopped or not).
    pub(super) fn listening(&mut self) -> Option<&mut Listening> {
        match &mut self.phase {
            Phase::Listing(listening) => Some(listening),
            Phase::Stopping { listing, .. } => listing.as_mut(),
            Phase::Running(_) | Phase::Finishing => None,
        }
    }

    /// Its end-of-listing marker came: a worker starts taking tests,
    /// unless `finish` (only listing) tells it to finish at once.
    pub(super) fn listing_done(&mut self, finish: bool) -> Listing {
        match std::mem::replace(&mut self.phase, Phase::Finishing) {
            Phase::Listing(listening) => {
                self.phase = match listening.stdin {
                    Some(stdin) if !finish => Phase::Running(stdin),
                    _ => Phase::Finishing,
                };
                listening.listing
            }
            Phase::Stopping { kill, listing } => {
                self.phase = Phase::Stopping {
                    kill,
                    listing: None,
                };
                listing.map(|l| l.listing).unwrap_or_default()
            }
            other => {
                self.phase = other;
                Listing::default()
            }
        }
    }

    /// Closes a worker's stdin: it has nothing more to run.
    pub(super) fn tell_to_finish(&mut self) {
        if self.is_running() {
            self.phase = Phase::Finishing;
        }
    }

    /// Stops it for `kill`; a listing it was sending stays one.
    pub(super) fn stop(&mut self, kill: Kill) {
        let listing = match std::mem::replace(&mut self.phase, Phase::Finishing) {
            Phase::Listing(mut listening) => {
                listening.stdin = None;
                Some(listening)
            }
            Phase::Stopping { listing, .. } => listing,
            Phase::Running(_) | Phase::Finishing => None,
        };
        self.phase = Phase::Stopping { kill, listing };
    }

    /// How it ended, from the phase it ended in and its exit `status`.
    pub(super) fn verdict(&self, status: ExitStatus) -> Verdict {
        match &self.phase {
            Phase::Stopping {
                kill: Kill::Signal(_),
                ..
            } => Verdict::Stopped,
            Phase::Stopping {
                kill: Kill::Timeout { .. },
                ..
            } => Verdict::TimedOut,
            Phase::Listing(_) => Verdict::Unlisted,
            Phase::Finishing if status.success() => Verdict::Finished,
            Phase::Finishing | Phase::Running(_) => Verdict::Died,
        }
    }

    pub(super) fn worker_name(&self) -> String {
        match self.slot {
            Some(slot) => format!("worker-{slot}"),
            None => "the test command".to_owned(),
        }
    }

    /// The last lines of its stderr, for a message.
    pub(super) fn stderr_tail(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use tokio::sync::mpsc::unbounded_channel;

    use super::*;
    use crate::runner::spec::ProfileIndex;

    fn process(kind: Kind, phase: Phase) -> Process {
        Process {
            kind,
            profile: ProfileIndex::nth(0),
            slot: Some(0),
            command: "worker".to_owned(),
            pid: 0,
            phase,
            decoder: Decoder::new(),
            collector: Collector::new(Vec::new()),
            assigned: Assignments::default(),
            clock: None,
            last_stop: None,
            spawned_at: Instant::now(),
            awaiting_first_test: false,
            wants_next: false,
            stderr: Vec::new(),
            exit: None,
            open_pipes: 2,
            results: 0,
            failures: 0,
            _id_file: None,
        }
    }

    fn worker() -> Process {
        let (stdin, _) = unbounded_channel();
        let listening = Listening {
            stdin: Some(stdin),
            ..Listening::default()
        };
        process(Kind::Worker, Phase::Listing(listening))
    }

    const SUCCESS: i32 = 0;
    const STATUS_1: i32 = 1 << 8;

    fn verdict(process: &Process, raw: i32) -> Verdict {
        process.verdict(ExitStatus::from_raw(raw))
    }

    #[test]
    fn a_worker_lists_runs_and_is_told_to_finish() {
        let mut worker = worker();
        assert!(worker.takes_ids() && !worker.is_running());
        assert_eq!(verdict(&worker, SUCCESS), Verdict::Unlisted);
        worker.listening().unwrap().listing.push("a".into(), &[]);
        assert_eq!(worker.listing_done(false).ids, ["a"]);
        assert!(worker.is_running() && worker.takes_ids());
        assert_eq!(
            verdict(&worker, SUCCESS),
            Verdict::Died,
            "it exited while it could take more tests"
        );
        worker.tell_to_finish();
        assert!(!worker.takes_ids());
        assert_eq!(verdict(&worker, SUCCESS), Verdict::Finished);
        assert_eq!(verdict(&worker, STATUS_1), Verdict::Died);
    }

    #[test]
    fn a_worker_only_listing_finishes_once_listed() {
        let mut worker = worker();
        worker.listing_done(true);
        assert!(matches!(worker.phase, Phase::Finishing));
    }

    #[test]
    fn a_stopped_process_keeps_the_listing_it_was_sending() {
        let mut worker = worker();
        worker.stop(Kill::Signal(StopSignal::Terminate));
        assert!(!worker.takes_ids(), "a signal closes its stdin");
        worker.listening().unwrap().listing.push("a".into(), &[]);
        assert_eq!(worker.listing_done(false).ids, ["a"]);
        assert!(worker.listening().is_none());
        assert_eq!(verdict(&worker, STATUS_1), Verdict::Stopped);

        let mut batch = process(Kind::Batch, Phase::Finishing);
        assert_eq!(verdict(&batch, SUCCESS), Verdict::Finished);
        let after = Duration::from_secs(1);
        batch.stop(Kill::Timeout { after });
        assert!(matches!(batch.kill(), Some(Kill::Timeout { .. })));
        assert_eq!(verdict(&batch, SUCCESS), Verdict::TimedOut);
        batch.stop(Kill::Signal(StopSignal::Interrupt));
        assert_eq!(verdict(&batch, SUCCESS), Verdict::Stopped);
    }
}
