//! Timeouts (of a test, of a listing) and the signals that stop a run.

use std::time::Duration;

use tokio::time::Instant;

use super::dispatcher::Dispatcher;
use super::interruption::Interrupt;
use super::phase::{Kill, Phase, Process};
use crate::config::DEFAULT_LIST_TIMEOUT;
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, StopSignal};
use crate::runner::process::ProcessId;
use crate::runner::spec::ProfileIndex;

impl Dispatcher {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self.processes.values().filter_map(|p| self.deadline_of(p));
        let listings = self
            .processes
            .values()
            .filter_map(|p| self.listing_deadline_of(p));
        let grace = self.interrupt.as_ref().and_then(Interrupt::grace_deadline);
        timeouts.chain(listings).chain(grace).min()
    }

    pub(super) fn deadline_of(&self, process: &Process) -> Option<Instant> {
        let timeout = self.spec.profiles[process.profile].settings.timeout?;
        if process.kill().is_some() || process.assigned.is_empty() {
            return None;
        }
        process.clock.map(|since| since + timeout)
    }

    /// When a process that is still listing has taken too long.
    pub(super) fn listing_deadline_of(&self, process: &Process) -> Option<Instant> {
        if !matches!(process.phase, Phase::Listing(_)) {
            return None;
        }
        Some(process.spawned_at + self.list_timeout(process.profile))
    }

    fn list_timeout(&self, profile: ProfileIndex) -> Duration {
        self.spec.profiles[profile]
            .settings
            .list_timeout
            .unwrap_or(DEFAULT_LIST_TIMEOUT)
    }

    pub(super) fn deadlines_passed(&mut self) -> Result<(), RunError> {
        let now = Instant::now();
        let unlisted = self
            .processes
            .values()
            .find(|p| self.listing_deadline_of(p).is_some_and(|d| d <= now));
        if let Some(process) = unlisted {
            // The run cannot go on without the listing; `dispatch` kills
            // everything it started.
            return Err(RunError::ListTimeout {
                command: process.command.clone(),
                seconds: self.list_timeout(process.profile).as_secs_f64(),
            });
        }
        let late: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| self.deadline_of(p).is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in late {
            let process = self.processes.get_mut(&id).expect("a late process exists");
            let after = self.spec.profiles[process.profile]
                .settings
                .timeout
                .expect("only a process with a timeout is late");
            process.stop(Kill::Timeout { after });
            let pid = process.pid;
            let name = process.worker_name();
            self.processes.kill(pid);
            self.emit(RunEvent::Notice(format!(
                "{name} made no progress for {} s: killed it",
                after.as_secs_f64()
            )));
        }
        if let Some(interrupt) = &mut self.interrupt {
            if interrupt.grace_over(now) {
                self.processes.kill_each();
            }
        }
        Ok(())
    }

    /// SIGINT, SIGTERM or SIGHUP: the first stops handing out tests and
    /// asks every process to stop; the next (of any of them) kills them.
    pub(super) fn interrupted(&mut self, signal: StopSignal) {
        match &mut self.interrupt {
            None => {
                let notice = match signal {
                    StopSignal::Interrupt => {
                        "interrupted: stopping the tests (Ctrl-C again to kill them at once)"
                            .to_owned()
                    }
                    other => format!(
                        "{} received: stopping the tests (a second signal kills them at once)",
                        other.name()
                    ),
                };
                self.emit(RunEvent::Notice(notice));
                self.scheduler.clear();
                self.processes.stop_each(Kill::Signal(signal));
                self.interrupt = Some(Interrupt::new(signal));
            }
            Some(interrupt) => {
                if interrupt.again() {
                    self.emit(RunEvent::Notice(
                        "interrupted again: killing the tests".into(),
                    ));
                    self.processes.kill_each();
                }
            }
        }
    }
}
