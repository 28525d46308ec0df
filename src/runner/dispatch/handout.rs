//! Handing out tests: topping up streaming workers as they are about to
//! run out, and planning a profile once its tests are listed.

use std::time::Duration;

use rustc_hash::FxHashSet as HashSet;
use tokio::time::Instant;

use super::dispatcher::{Dispatcher, Mode};
use super::phase::{Kind, Phase, Process};
use super::profiles::{Ahead, ListingState, grouping};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::listing::Listing;
use crate::runner::process::ProcessId;
use crate::runner::schedule::{LOOKAHEAD, MAX_AHEAD, UNKNOWN_TAIL_PER_WORKER};
use crate::runner::spec::ProfileIndex;

/// The longest the dispatcher leaves output unread, when no worker can run
/// out of work meanwhile (it pauses for a third of the least work queued: a
/// timer may oversleep).
const COALESCE: Duration = Duration::from_millis(1);

/// A shorter pause than this saves too few wake-ups to be worth taking.
const MIN_COALESCE: Duration = Duration::from_micros(200);

impl Dispatcher {
    /// Whether as many workers hold tests as the current segment allows.
    pub(super) fn at_limit(&self) -> bool {
        self.scheduler
            .limit()
            .is_some_and(|limit| self.processes.busy() >= limit)
    }

    /// How long the workers' output may be left to pile up in the pipes,
    /// to be read in one go: a third of the least work that a running
    /// worker has queued, so that none runs out meanwhile, and at most
    /// [`COALESCE`]. `None` when that is too short to be worth a sleep.
    pub(super) fn coalesce_for(&self) -> Option<Duration> {
        if self.interrupt.is_some() {
            return None;
        }
        let least_queued = self
            .processes
            .values()
            .filter(|p| p.is_running())
            .map(|p| p.assigned.ahead().nanos(self.scheduler.cost(p.profile)))
            .min();
        coalesce_pause(least_queued)
    }

    /// Gives a streaming worker tests until it holds [`LOOKAHEAD`] of
    /// expected work; closes its stdin when there is nothing left for it.
    pub(super) fn top_up(&mut self, id: ProcessId) {
        let Some(mut process) = self.processes.remove(&id) else {
            return;
        };
        self.top_up_process(&mut process);
        self.processes.insert(id, process);
    }

    pub(super) fn top_up_process(&mut self, process: &mut Process) {
        let profile = process.profile;
        // A worker gets tests once it has listed its own: until then it
        // could not start them, while another worker could.
        if !process.is_running() || !self.profiles[profile].listing.is_done() {
            return;
        }
        if process.assigned.is_empty() && self.at_limit() {
            // The segment allows no more tests at once; this worker waits.
            return;
        }
        let lookahead = LOOKAHEAD.as_nanos() as i64;
        let cost = self.scheduler.cost(profile);
        let mut outstanding = process.assigned.held().weight(cost);
        let mut unstarted = process.assigned.unstarted();
        // A worker that tears fixtures down by its next test knows it
        // before the test it runs ends: its fixtures live as long as in a
        // serial run. That next test waits behind the running one, whatever
        // either is expected to take, unless another worker is free to
        // start it sooner (at the start of a run, while workers list).
        let keeps_next =
            process.wants_next && unstarted == 0 && self.processes.waiting_workers_of(profile) == 0;
        let next_owed = |unstarted: usize| keeps_next && unstarted == 0;
        // Refilled below half the lookahead, up to all of it: a worker on
        // tiny tests gets its ids in a few writes, not one per test.
        let refill =
            process.assigned.is_empty() || outstanding < lookahead / 2 || next_owed(unstarted);
        let unknown_tail = UNKNOWN_TAIL_PER_WORKER * (self.processes.workers_of(profile) + 1);
        let mut lines = Vec::new();
        while refill && unstarted < MAX_AHEAD {
            let busy = !process.assigned.is_empty();
            if busy && outstanding >= lookahead && !next_owed(unstarted) {
                break;
            }
            // Near the end of the tests with no history, one of them goes
            // only to a worker that holds nothing: any may turn out long,
            // and two queued one behind the other would end the run on one
            // worker while the others idle.
            let unknown_next = self
                .scheduler
                .peek(profile)
                .is_some_and(|u| u.estimate.is_none());
            if busy
                && unknown_next
                && self.scheduler.unknown_left(profile) <= unknown_tail
                && !next_owed(unstarted)
            {
                break;
            }
            let Some(unit) = self.scheduler.next(profile) else {
                break;
            };
            if process.assigned.is_empty() {
                process.clock = Some(Instant::now());
            }
            self.segments.started();
            let estimates = &self.spec.profiles[profile].history.estimates;
            for test in unit.ids {
                let estimate = estimates.get(&test).copied();
                outstanding += cost.weight(estimate);
                unstarted += 1;
                lines.extend_from_slice(test.as_bytes());
                lines.push(b'\n');
                process.assigned.push(test, estimate);
            }
        }
        if let (Phase::Running(stdin), false) = (&process.phase, lines.is_empty()) {
            let _ = stdin.send(lines);
        }
        if process.assigned.is_empty() && !self.scheduler.has_work(profile) {
            // Closing stdin is how a worker is told to finish.
            process.tell_to_finish();
        }
    }

    /// Tops up every worker of `profile` (its tests were just planned).
    pub(super) fn top_up_profile(&mut self, profile: ProfileIndex) {
        let ids: Vec<ProcessId> = self
            .processes
            .iter()
            .filter(|(_, p)| p.profile == profile && p.kind == Kind::Worker)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.top_up(id);
        }
    }

    /// A profile's tests are known: select, then plan or (listing only)
    /// keep. With a plan, wait for every profile's listing.
    pub(super) fn listed(
        &mut self,
        profile: ProfileIndex,
        listing: Listing,
    ) -> Result<(), RunError> {
        if self.spec.plan.is_some() && self.mode == Mode::Run {
            self.profiles[profile].held_listing = Some(listing);
            if self.profiles.iter().all(|p| p.held_listing.is_some()) {
                self.follow_plan()?;
            }
            return Ok(());
        }
        let tags = self.spec.profiles[profile].tags.clone();
        let Listing {
            ids,
            groups,
            exclusive,
        } = listing;
        let selected = self.spec.selection.select(&tags, ids)?;
        let state = std::mem::replace(&mut self.profiles[profile].listing, ListingState::Done);
        if self.mode == Mode::List {
            self.profiles[profile].selected = selected;
            return Ok(());
        }
        self.emit(RunEvent::Planned {
            tags,
            tests: selected.len(),
        });
        let (selected, ahead) = match state {
            ListingState::RunningAhead(ahead) => {
                (self.caught_up(profile, &ahead, selected), Some(ahead))
            }
            _ => (selected, None),
        };
        self.profiles[profile].groups = groups;
        let (alone, together): (Vec<String>, Vec<String>) =
            selected.into_iter().partition(|id| exclusive.contains(id));
        let alone_segment = self.segments.alone();
        let estimates = Some(&self.spec.profiles[profile].history.estimates);
        let grouping = grouping(&self.spec.profiles[profile], &self.profiles[profile]);
        self.scheduler
            .add(0, profile, together, estimates, grouping);
        self.scheduler
            .add(alone_segment, profile, alone, estimates, grouping);
        self.top_up_profile(profile);
        for (process, status, blamed) in ahead.map(|a| a.ended).unwrap_or_default() {
            self.account_for_end(process, status, blamed)?;
        }
        self.fill_slots()
    }

    /// The listing of a profile that ran ahead of it came: the tests it
    /// ran ahead that the listing lacks are gone, and of the listed tests,
    /// those left to queue are the new ones and those not handed out yet.
    fn caught_up(
        &mut self,
        profile: ProfileIndex,
        ahead: &Ahead,
        selected: Vec<String>,
    ) -> Vec<String> {
        let queued: HashSet<String> = self
            .scheduler
            .take_queued(0, profile)
            .into_iter()
            .flat_map(|unit| unit.ids)
            .collect();
        let listed: HashSet<&str> = selected.iter().map(String::as_str).collect();
        self.profiles[profile].gone = ahead
            .started
            .iter()
            .filter(|id| !listed.contains(id.as_str()))
            .cloned()
            .collect();
        selected
            .into_iter()
            .filter(|id| !ahead.started.contains(id) || queued.contains(id))
            .collect()
    }
}

/// The pause for workers that have at least `least_queued` nanoseconds of
/// work queued (`None`: no worker is running tests).
fn coalesce_pause(least_queued: Option<i64>) -> Option<Duration> {
    let pause = match least_queued {
        Some(nanos) => Duration::from_nanos((nanos / 3).max(0) as u64).min(COALESCE),
        None => COALESCE,
    };
    (pause >= MIN_COALESCE).then_some(pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_is_a_third_of_the_least_queued_work_up_to_a_limit() {
        let ms = |n: f64| (n * 1e6) as i64;
        assert_eq!(coalesce_pause(None), Some(COALESCE));
        assert_eq!(coalesce_pause(Some(ms(30.0))), Some(COALESCE));
        assert_eq!(
            coalesce_pause(Some(ms(1.5))),
            Some(Duration::from_micros(500))
        );
        assert_eq!(coalesce_pause(Some(ms(0.5))), None);
        assert_eq!(coalesce_pause(Some(-1)), None);
    }
}
