//! A signal stopping the run: which came first, and the grace period the
//! processes get before they are killed.

use std::time::Duration;

use tokio::time::Instant;

use crate::runner::event::StopSignal;

/// How long workers get to stop after the first signal before they are
/// killed.
const GRACE: Duration = Duration::from_secs(5);

pub(super) struct Interrupt {
    signal: StopSignal,
    grace_until: Instant,
    /// Whether every process was killed (the grace period is over, or a
    /// second signal came).
    killed: bool,
}

impl Interrupt {
    /// `signal` came: the grace period starts now.
    pub(super) fn new(signal: StopSignal) -> Interrupt {
        Interrupt {
            signal,
            grace_until: Instant::now() + GRACE,
            killed: false,
        }
    }

    /// The signal that stopped the run.
    pub(super) fn signal(&self) -> StopSignal {
        self.signal
    }

    /// When the grace period ends, while it runs.
    pub(super) fn grace_deadline(&self) -> Option<Instant> {
        (!self.killed).then_some(self.grace_until)
    }

    /// Whether the processes are to be killed now, the grace period being
    /// over at `now`: true once.
    pub(super) fn grace_over(&mut self, now: Instant) -> bool {
        let over = !self.killed && self.grace_until <= now;
        self.killed |= over;
        over
    }

    /// Another signal came: whether the processes are to be killed now
    /// (true once).
    pub(super) fn again(&mut self) -> bool {
        let kill = !self.killed;
        self.killed = true;
        kill
    }
}
