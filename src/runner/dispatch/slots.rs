//! The worker slots (`worker-N`): which process holds each, and how each
//! spent the run, for the balance at its end.

use std::time::Duration;

use tokio::time::Instant;

use crate::runner::event::WorkerBalance;
use crate::runner::process::ProcessId;

/// A place for one process at a time.
#[derive(Default)]
struct Slot {
    process: Option<ProcessId>,
    /// Whether a process ever ran in it (the balance leaves out the rest).
    used: bool,
    tests: usize,
    last_finish: Option<Instant>,
}

pub(super) struct Slots {
    slots: Vec<Slot>,
    /// When the run started: a slot that finished no test idled since.
    started: Instant,
}

impl Slots {
    pub(super) fn new(count: usize) -> Slots {
        Slots {
            slots: (0..count).map(|_| Slot::default()).collect(),
            started: Instant::now(),
        }
    }

    /// How many slots there are: how many processes may run at once.
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn is_free(&self, slot: usize) -> bool {
        self.slots[slot].process.is_none()
    }

    /// A process starts in `slot`.
    pub(super) fn occupy(&mut self, slot: usize, process: ProcessId) {
        self.slots[slot].process = Some(process);
        self.slots[slot].used = true;
    }

    /// The process in `slot` ended.
    pub(super) fn free(&mut self, slot: usize) {
        self.slots[slot].process = None;
    }

    /// A test finished in `slot`, at `now`.
    pub(super) fn test_finished(&mut self, slot: usize, now: Instant) {
        self.slots[slot].tests += 1;
        self.slots[slot].last_finish = Some(now);
    }

    /// How each slot that ran a process spent the run.
    pub(super) fn balance(&self) -> Vec<WorkerBalance> {
        let end = self.slots.iter().filter_map(|s| s.last_finish).max();
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.used)
            .map(|(slot, s)| WorkerBalance {
                slot,
                tests: s.tests,
                idle_at_end: end.map_or(Duration::ZERO, |end| {
                    end.duration_since(s.last_finish.unwrap_or(self.started))
                }),
            })
            .collect()
    }
}
