//! Processes ending: listings taken, crashes explained, unstarted tests
//! handed back, and the errors that stop a run.

use std::process::ExitStatus;

use super::dispatcher::Dispatcher;
use super::phase::{Kill, Kind, Phase, Process, Verdict};
use super::profiles::{ListingState, grouping};
use crate::collect::Collected;
use crate::model::{Attachment, Status, TestId, TestResult};
use crate::runner::error::RunError;
use crate::runner::event::{RunEvent, StopSignal};
use crate::runner::listing::Listing;
use crate::runner::process;
use crate::runner::unit::make_units;

/// The attachment that says why testr failed a test itself.
const EXPLANATION: &str = "testr";

/// How a process ended, for the explanations of the failures it caused.
pub(super) struct Ending {
    headline: String,
    stderr: String,
}

impl Ending {
    pub(super) fn text(&self, when: &str) -> String {
        let mut text = format!("{} {when}.\n", self.headline);
        if !self.stderr.is_empty() {
            text.push_str("\nThe end of its stderr:\n");
            text.push_str(&self.stderr);
            text.push('\n');
        }
        text
    }
}

pub(super) fn explanation(text: String) -> Attachment {
    Attachment {
        name: EXPLANATION.to_owned(),
        mime_type: Some("text/plain;charset=utf8".to_owned()),
        content: text.into_bytes(),
    }
}

impl Dispatcher {
    pub(super) fn finished(&mut self, mut process: Process) -> Result<(), RunError> {
        process.decoder.finish();
        let mut listed = None;
        while let Some(item) = process.decoder.next_item() {
            if let Some(ids) = self.take_item(&mut process, item)? {
                listed = Some(ids);
            }
        }
        let status = process.exit.expect("a finished process has exited");
        let profile = process.profile;
        if let Some(ids) = listed {
            if !self.profiles[profile].listing.is_done() {
                self.listed(profile, ids)?;
            }
        }
        match process.kind {
            Kind::Lister => self.lister_finished(process, status)?,
            Kind::Worker | Kind::Batch => self.runner_finished(process, status)?,
        }
        self.maybe_advance()?;
        self.fill_slots()
    }

    pub(super) fn lister_finished(
        &mut self,
        mut process: Process,
        status: ExitStatus,
    ) -> Result<(), RunError> {
        let Phase::Listing(listening) = std::mem::replace(&mut process.phase, Phase::Finishing)
        else {
            // Stopped by a signal: the run needs its listing no more.
            return Ok(());
        };
        self.startups
            .observe_listing(process.profile, process.spawned_at.elapsed());
        let mut listing = listening.listing;
        if listing.is_empty() {
            // A plain list of ids, one a line, is a listing too.
            listing = Listing::of_ids(
                String::from_utf8_lossy(&listening.text)
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect(),
            );
        }
        if !status.success() {
            if listing.is_empty() {
                return Err(RunError::Listing {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            self.emit(RunEvent::Notice(format!(
                "the listing command {}; running the {} tests it listed",
                process::describe(status),
                listing.ids.len()
            )));
        }
        self.listed(process.profile, listing)
    }

    pub(super) fn runner_finished(
        &mut self,
        mut process: Process,
        status: ExitStatus,
    ) -> Result<(), RunError> {
        if let Some(slot) = process.slot {
            self.slots.free(slot);
        }
        let verdict = process.verdict(status);
        let stopped = match verdict {
            Verdict::Unlisted => {
                // It never finished listing: the command itself is broken.
                return Err(RunError::Listing {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            Verdict::Stopped => true,
            Verdict::Finished | Verdict::Died | Verdict::TimedOut => false,
        };
        let ending = self.ending(&process, status);
        let mut blamed = false;
        let mut collected = Vec::new();
        process.collector.finish(&mut |c| collected.push(c));
        for mut c in collected {
            if let Collected::Test(result) = &mut c {
                if result.status == Status::InProgress {
                    if stopped {
                        // It did not finish: a stopped run keeps only what did.
                        continue;
                    }
                    result.status = Status::Fail;
                    result
                        .attachments
                        .push(explanation(ending.text("while this test was running")));
                    blamed = true;
                }
            }
            self.collected(&mut process, c);
        }
        if stopped {
            return Ok(());
        }
        let profile = &mut self.profiles[process.profile];
        if let ListingState::RunningAhead(ahead) = &mut profile.listing {
            if verdict != Verdict::Finished || !process.assigned.is_empty() {
                ahead.ended.push((process, status, blamed));
                return Ok(());
            }
        }
        self.account_for_end(process, status, blamed)
    }

    /// Judges how a process that ran tests ended, given what it reported:
    /// fails the test it was about to start if it died, hands its unstarted
    /// tests to another, and fails the run's `process-returncode` if it
    /// exited with a failing status though none of its tests failed.
    pub(super) fn account_for_end(
        &mut self,
        mut process: Process,
        status: ExitStatus,
        mut blamed: bool,
    ) -> Result<(), RunError> {
        let verdict = process.verdict(status);
        let ending = self.ending(&process, status);
        let gone = &self.profiles[process.profile].gone;
        let (gone, unstarted): (Vec<_>, Vec<_>) = process
            .assigned
            .take_unstarted()
            .into_iter()
            .partition(|a| gone.contains(&a.id));
        if verdict == Verdict::Died && !gone.is_empty() {
            // It was given tests that were gone from the project: that, not
            // a test, is what it failed on. The rest run again.
            self.emit(RunEvent::Notice(format!(
                "{} {} when given tests its listing no longer has (first: {}); \
                 its {} other unstarted test(s) run again",
                process.worker_name(),
                process::describe(status),
                gone[0].id,
                unstarted.len()
            )));
            let ids = unstarted.into_iter().map(|a| a.id).collect();
            self.requeue(&process, ids);
            return Ok(());
        }
        if verdict != Verdict::Finished && !unstarted.is_empty() {
            if !self.any_results && verdict == Verdict::Died {
                return Err(RunError::NoResults {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            let mut rest = unstarted.into_iter();
            if !blamed {
                // Nothing was running, so the test it was about to start
                // (or hung before starting) is the one to fail; the run
                // still moves on if a test kills every worker that tries it.
                if let Some(first) = rest.next() {
                    let text = ending.text("before this test (the next it had been given) started");
                    let result = self.synthetic_failure(&process, first.id, text);
                    self.collected(&mut process, Collected::Test(result));
                    blamed = true;
                }
            }
            let rest: Vec<String> = rest.map(|a| a.id).collect();
            if !rest.is_empty() {
                self.emit(RunEvent::Notice(format!(
                    "{} {}; its {} unstarted test(s) go to another worker",
                    process.worker_name(),
                    process::describe(status),
                    rest.len()
                )));
                self.requeue(&process, rest);
            }
        } else if !unstarted.is_empty() {
            self.emit(RunEvent::Notice(format!(
                "{} exited without reporting {} of the tests it was given (first: {})",
                process.worker_name(),
                unstarted.len(),
                unstarted[0].id
            )));
        }
        let failed = verdict == Verdict::Died && !status.success();
        if failed && !blamed && process.failures == 0 {
            if !self.any_results {
                return Err(RunError::NoResults {
                    command: process.command.clone(),
                    status: process::describe(status),
                    stderr: process.stderr_tail(),
                });
            }
            let result = self.synthetic_failure(
                &process,
                "process-returncode".to_owned(),
                ending.text("though none of its tests failed"),
            );
            self.collected(&mut process, Collected::Test(result));
        }
        Ok(())
    }

    /// Puts tests a process did not start back in the queue, to run next.
    fn requeue(&mut self, process: &Process, ids: Vec<String>) {
        let run = &self.spec.profiles[process.profile];
        let grouping = grouping(run, &self.profiles[process.profile]);
        let units = make_units(ids, grouping, Some(&run.history.estimates));
        self.scheduler.requeue(process.profile, units);
    }

    /// Why a process ended, to explain the failures testr gives its tests.
    pub(super) fn ending(&self, process: &Process, status: ExitStatus) -> Ending {
        let name = process.worker_name();
        let headline = match process.kill() {
            Some(Kill::Timeout { after }) => format!(
                "Timed out: testr killed {name} (`{}`) after {} s without progress",
                process.command,
                after.as_secs_f64()
            ),
            Some(Kill::Signal(StopSignal::Interrupt)) => format!("{name} was stopped by Ctrl-C"),
            Some(Kill::Signal(signal)) => format!("{name} was stopped by {}", signal.name()),
            None => format!(
                "{name} (`{}`) {}",
                process.command,
                process::describe(status)
            ),
        };
        Ending {
            headline,
            stderr: process.stderr_tail(),
        }
    }

    pub(super) fn synthetic_failure(
        &self,
        process: &Process,
        id: String,
        text: String,
    ) -> TestResult {
        let mut tags = self.spec.profiles[process.profile].tags.tags().to_vec();
        if let Some(slot) = process.slot {
            tags.push(format!("worker-{slot}"));
        }
        tags.sort();
        TestResult {
            id: TestId(id),
            status: Status::Fail,
            started_at: None,
            stopped_at: None,
            tags,
            route_code: None,
            attachments: vec![explanation(text)],
        }
    }
}
