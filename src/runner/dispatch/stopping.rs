//! Timeouts and Ctrl-C.

use super::*;

impl Dispatcher {
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let timeouts = self.processes.values().filter_map(|p| self.deadline_of(p));
        let grace = self
            .interrupt
            .as_ref()
            .filter(|i| !i.killed)
            .map(|i| i.grace_until);
        timeouts.chain(grace).min()
    }

    pub(super) fn deadline_of(&self, process: &Process) -> Option<Instant> {
        let timeout = self.spec.profiles[process.profile].settings.timeout?;
        if process.killed.is_some() || process.assigned.is_empty() {
            return None;
        }
        process.clock.map(|since| since + timeout)
    }

    pub(super) fn deadlines_passed(&mut self) {
        let now = Instant::now();
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
            process.killed = Some(Kill::Timeout { after });
            process::kill(process.pid);
            let name = process.worker_name();
            self.emit(RunEvent::Notice(format!(
                "{name} made no progress for {} s: killed it",
                after.as_secs_f64()
            )));
        }
        if let Some(interrupt) = &mut self.interrupt {
            if !interrupt.killed && interrupt.grace_until <= now {
                interrupt.killed = true;
                for process in self.processes.values() {
                    process::kill(process.pid);
                }
            }
        }
    }

    pub(super) fn interrupted(&mut self) {
        match &mut self.interrupt {
            None => {
                self.emit(RunEvent::Notice(
                    "interrupted: stopping the tests (Ctrl-C again to kill them at once)".into(),
                ));
                self.scheduler.clear();
                for process in self.processes.values_mut() {
                    process.stdin = None;
                    process.killed = Some(Kill::Interrupt);
                    process::terminate(process.pid);
                }
                self.interrupt = Some(Interrupt {
                    grace_until: Instant::now() + GRACE,
                    killed: false,
                });
            }
            Some(interrupt) if !interrupt.killed => {
                interrupt.killed = true;
                self.emit(RunEvent::Notice(
                    "interrupted again: killing the tests".into(),
                ));
                for process in self.processes.values() {
                    process::kill(process.pid);
                }
            }
            Some(_) => {}
        }
    }
}
