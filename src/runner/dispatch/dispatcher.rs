//! The dispatcher's state and its loop: it waits for output from the
//! processes, deadlines and signals, and hands each to the part that deals
//! with it; at the end it reports how the run went.

use std::sync::mpsc::Sender;

use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, sleep_until};

use super::events::EventBatch;
use super::files::RunFiles;
use super::interruption::Interrupt;
use super::profiles::ProfileState;
use super::registry::Registry;
use super::segments::Segments;
use super::slots::Slots;
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, RunReport, StopSignal};
use crate::runner::schedule::Scheduler;
use crate::runner::spec::{PerProfile, RunSpec};
use crate::runner::startup::StartupCosts;

/// Whether the dispatcher runs the tests or only lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    List,
}

/// What a dispatch gives back: the report, and in list mode the selected
/// tests of each profile.
pub struct Dispatched {
    pub report: RunReport,
    pub listed: Vec<Vec<String>>,
}

pub async fn dispatch(
    spec: RunSpec,
    mode: Mode,
    events: Sender<Vec<RunEvent>>,
) -> Result<Dispatched, RunError> {
    let mut dispatcher = Dispatcher::new(spec, mode, events)?;
    let outcome = dispatcher.run().await;
    // After an error, nothing may outlive the run; after a signal, nothing
    // a process left running when it exited in the grace period.
    dispatcher.processes.kill_all();
    outcome
}

/// Everything a dispatch knows while it runs: the parts that own state of
/// their own are types of their own (below this file), and its methods are
/// grouped by concern in the files above it: `starting` processes, their
/// `output`, the `handout` of tests, following the `plan`, `stopping` them
/// (timeouts and signals), and their `ending`.
pub(super) struct Dispatcher {
    pub(super) spec: RunSpec,
    pub(super) mode: Mode,
    pub(super) events: EventBatch,
    pub(super) scheduler: Scheduler,
    pub(super) startups: StartupCosts,
    pub(super) profiles: PerProfile<ProfileState>,
    pub(super) slots: Slots,
    pub(super) processes: Registry,
    pub(super) files: RunFiles,
    /// Whether any test result came: a process that fails before one did
    /// is a command that does not work, not a failing test.
    pub(super) any_results: bool,
    /// The signal stopping the run, once one came.
    pub(super) interrupt: Option<Interrupt>,
    pub(super) segments: Segments,
}

impl Dispatcher {
    fn new(
        spec: RunSpec,
        mode: Mode,
        events: Sender<Vec<RunEvent>>,
    ) -> Result<Dispatcher, RunError> {
        let files = RunFiles::new(&spec)?;
        let profile_count = spec.profiles.len();
        let slot_count = match mode {
            Mode::Run => spec.concurrency.max(1),
            Mode::List => 0,
        };
        let segments = Segments::new(spec.plan.as_ref());
        let mut scheduler = Scheduler::with_segments(profile_count, &segments.limits());
        scheduler.set_order(spec.order.clone());
        Ok(Dispatcher {
            scheduler,
            startups: StartupCosts::new(&spec.profiles.map(|p| p.history.startup)),
            segments,
            profiles: spec.profiles.map(|_| ProfileState::new()),
            slots: Slots::new(slot_count),
            processes: Registry::new().map_err(|source| RunError::Spawn {
                command: "the watchdog `/bin/sh -c ...` that ends the workers if testr dies"
                    .to_owned(),
                source,
            })?,
            files,
            any_results: false,
            interrupt: None,
            spec,
            mode,
            events: EventBatch::new(events),
        })
    }

    async fn run(&mut self) -> Result<Dispatched, RunError> {
        let mut interrupts = signal(SignalKind::interrupt())?;
        let mut terminations = signal(SignalKind::terminate())?;
        let mut hangups = signal(SignalKind::hangup())?;
        self.start()?;
        while !self.processes.is_empty() {
            // Events go to the consumer in batches: one message (and one
            // wake-up of its thread) for many results.
            let wake = self
                .next_deadline()
                .into_iter()
                .chain(self.events.due())
                .min();
            tokio::select! {
                Some(envelope) = self.processes.recv() => self.handle(envelope)?,
                () = sleep_until_some(wake) => self.deadlines_passed()?,
                _ = interrupts.recv() => self.interrupted(StopSignal::Interrupt),
                _ = terminations.recv() => self.interrupted(StopSignal::Terminate),
                _ = hangups.recv() => self.interrupted(StopSignal::Hangup),
            }
            while let Some(envelope) = self.processes.try_recv() {
                self.handle(envelope)?;
            }
            self.events.flush_if_due();
            if let Some(pause) = self.coalesce_for() {
                // Every worker has work queued: let their output pile up in
                // the pipes and read it in one go. The sleep blocks the
                // runtime's thread on purpose: an async sleep would still
                // wake the thread for every packet a worker writes.
                std::thread::sleep(pause);
            }
        }
        self.events.flush();
        Ok(Dispatched {
            report: self.report(),
            listed: self
                .profiles
                .iter_mut()
                .map(|p| std::mem::take(&mut p.selected))
                .collect(),
        })
    }

    fn report(&mut self) -> RunReport {
        if self.spec.plan.is_some() && self.interrupt.is_none() {
            self.close_segment();
        }
        RunReport {
            interrupted: self.interrupt.is_some(),
            stopped_by: self.interrupt.as_ref().map(Interrupt::signal),
            workers: self.slots.balance(),
            segments: self.segments.take_reports(),
            startups: self.startups.measured(),
        }
    }

    pub(super) fn emit(&mut self, event: RunEvent) {
        self.events.push(event);
    }
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
