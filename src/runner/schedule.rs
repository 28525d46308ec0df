//! The online scheduler: each profile's selected tests, longest expected
//! first, handed out a unit at a time as workers are about to run out.
//!
//! A unit is one test, or a group (by `group_regex`, or named by the
//! worker: `testr-group:NAME`) that must run on one worker
//! in order. Its expected duration is the median of its recent durations
//! (`repo::timing::estimate`), so one noisy run does not mislead. Units with
//! no history at all come first, in the order the tests were listed: a new
//! test may be long, and a long test started last is what leaves workers
//! idle at the end of a run.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use rustc_hash::FxHashMap as HashMap;

use super::order;
use super::spec::{Order, PerProfile, ProfileIndex};
use super::unit::{Grouping, Unit, make_units};

/// How much work, by [`weight`], a streaming worker is given ahead: enough
/// that a worker running short tests never waits for its next id (and that
/// the dispatcher can read its output a millisecond at a time), and so
/// little that a test expected to take a few milliseconds has nothing queued
/// behind it. A worker is refilled when it holds less than half of this.
pub const LOOKAHEAD: Duration = Duration::from_millis(8);

/// Tests expected to take less than this are tiny: even a hundred times
/// slower than expected, they hold nothing back for long.
pub const TINY: Duration = Duration::from_micros(100);

/// How a test's expected nanoseconds count against [`LOOKAHEAD`]: a tiny
/// test by its time, any other four times over, so that the queue behind a
/// test that may turn out long stays short (2 ms of expected work).
pub fn weight(expected_nanos: i64) -> i64 {
    if expected_nanos < TINY.as_nanos() as i64 {
        expected_nanos
    } else {
        expected_nanos.saturating_mul(4)
    }
}

/// What the tests handed to a worker are expected to cost it beyond the
/// estimates of those with a history: the time of a test with none, and
/// the worker's overhead around every test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCost {
    pub unknown_nanos: i64,
    pub overhead: i64,
}

impl TestCost {
    /// The [`weight`] of a test with this estimate (or none), overhead
    /// included.
    pub fn weight(self, estimate: Option<i64>) -> i64 {
        weight(estimate.unwrap_or(self.unknown_nanos)) + self.overhead
    }
}

/// The most units a streaming worker holds that it has not started.
pub const MAX_AHEAD: usize = 512;

/// Per worker, how many of the last tests with no history are handed out
/// one at a time, each to a worker that holds nothing.
pub const UNKNOWN_TAIL_PER_WORKER: usize = 32;

/// What a test with no history is expected to take before any test of its
/// profile has finished in this run.
const UNKNOWN_GUESS: Duration = Duration::from_millis(100);

/// A batch is split off the remaining work only when it would still take
/// this many start-ups of its process: start-up then costs it at most an
/// eighth of its time.
pub const STARTUPS_PER_BATCH: i64 = 8;

/// Once its first processes run, a profile starts no more processes than
/// give each at least this many start-ups of work: start-up never takes
/// more than a third of such a batch's time.
const STARTUPS_PER_DEALT_BATCH: i64 = 2;

/// How the next batch is cut from the remaining work: see
/// [`Scheduler::batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Share {
    /// Dealt out with the workers' processes, each ending as the others do.
    Dealt,
    /// This many nanoseconds of the longest units (guided self-scheduling).
    Part(i64),
}

fn batch_share(remaining: i64, free: usize, workers: usize, startup: Option<Duration>) -> Share {
    let Some(startup) = startup else {
        return Share::Dealt;
    };
    let free = free.max(1) as i64;
    let even = (remaining + free - 1) / free;
    let shortest = STARTUPS_PER_BATCH.saturating_mul(nanos(startup));
    if even < shortest.saturating_mul(2) {
        Share::Dealt
    } else {
        Share::Part((remaining / (2 * workers.max(1) as i64)).max(shortest))
    }
}

/// A duration in the scheduler's nanoseconds, saturating.
pub fn nanos(duration: Duration) -> i64 {
    duration.as_nanos().min(i64::MAX as u128) as i64
}

/// The longest gap between two tests on a worker that counts towards its
/// per-test overhead: a longer one is the worker waiting for work.
const MAX_GAP: Duration = Duration::from_millis(1);

/// What this run has seen of one profile: the durations of its finished
/// tests (for the tests with no history), and the gaps its workers leave
/// between tests.
#[derive(Debug, Default, Clone, Copy)]
struct Learned {
    finished: u64,
    nanos: i64,
    gaps: u64,
    gap_nanos: i64,
}

/// The units of one segment, per profile, and how many may run at once.
#[derive(Debug)]
struct Segment {
    queues: PerProfile<Queue>,
    limit: Option<usize>,
}

/// The units of one profile in one segment, in dispatch order, counting
/// those with no history.
#[derive(Debug, Default)]
struct Queue {
    units: VecDeque<Unit>,
    unknown: usize,
}

impl Queue {
    fn new(units: Vec<Unit>) -> Queue {
        let unknown = units.iter().filter(|u| u.estimate.is_none()).count();
        Queue {
            units: units.into(),
            unknown,
        }
    }

    fn pop_front(&mut self) -> Option<Unit> {
        let unit = self.units.pop_front()?;
        self.unknown -= usize::from(unit.estimate.is_none());
        Some(unit)
    }

    fn push_front(&mut self, unit: Unit) {
        self.unknown += usize::from(unit.estimate.is_none());
        self.units.push_front(unit);
    }

    fn clear(&mut self) {
        *self = Queue::default();
    }
}

/// The units of every profile of a run, in
/// segments that run one after the other (one segment when there is no
/// plan). Only the current segment hands out units.
#[derive(Debug)]
pub struct Scheduler {
    segments: Vec<Segment>,
    current: usize,
    learned: PerProfile<Learned>,
    order: Order,
}

impl Scheduler {
    /// Segments with these limits on the tests running at once.
    pub fn with_segments(profiles: usize, limits: &[Option<usize>]) -> Scheduler {
        Scheduler {
            segments: limits
                .iter()
                .map(|&limit| Segment {
                    queues: PerProfile::from_fn(profiles, |_| Queue::default()),
                    limit,
                })
                .collect(),
            current: 0,
            learned: PerProfile::from_fn(profiles, |_| Learned::default()),
            order: Order::default(),
        }
    }

    /// Hands out the units queued from now on in `order`.
    pub fn set_order(&mut self, order: Order) {
        self.order = order;
    }

    /// Queues tests of a profile in `segment`, grouped by `grouping` and
    /// ordered for dispatch.
    pub fn add(
        &mut self,
        segment: usize,
        profile: ProfileIndex,
        ids: Vec<String>,
        estimates: Option<&HashMap<String, i64>>,
        grouping: Grouping<'_>,
    ) {
        let units = order::ordered(make_units(ids, grouping, estimates), &self.order);
        self.segments[segment].queues[profile] = Queue::new(units);
    }

    fn queue(&mut self, profile: ProfileIndex) -> &mut Queue {
        &mut self.segments[self.current].queues[profile]
    }

    /// The next unit of the current segment for a worker of `profile`.
    pub fn next(&mut self, profile: ProfileIndex) -> Option<Unit> {
        self.queue(profile).pop_front()
    }

    /// The unit [`next`](Self::next) would give, if any.
    pub fn peek(&self, profile: ProfileIndex) -> Option<&Unit> {
        self.segments[self.current].queues[profile].units.front()
    }

    /// How many units of `profile` with no history the current segment
    /// has left.
    pub fn unknown_left(&self, profile: ProfileIndex) -> usize {
        self.segments[self.current].queues[profile].unknown
    }

    /// The next batch for a classic command's process, from the current
    /// segment. Of the `workers` that may run this profile, `busy` are
    /// running a process of it, each expected to take that many more
    /// nanoseconds; starting a process costs `startup`.
    ///
    /// While each worker's share of what is left is short against the
    /// start-up (under twice [`STARTUPS_PER_BATCH`] start-ups), or no
    /// start-up is known, or tests with no history are left, the work is
    /// dealt out longest first, each unit to the process expected to end
    /// first (a busy worker's next process after its start-up), and this
    /// batch is what falls to the new process: the workers end together,
    /// and a busy worker gets more only where that saves more idle time
    /// than its start-up costs; once the profile has processes running, a
    /// new one needs [`STARTUPS_PER_DEALT_BATCH`] start-ups of work. With
    /// no history that is one process per
    /// worker, each dealt every so many tests in turn, as the Python testr
    /// does. With much more work per worker than start-up, a batch takes
    /// half its share of the longest units (guided self-scheduling), so
    /// that the last batches even out the workers; but none is split off
    /// that would be shorter than [`STARTUPS_PER_BATCH`] start-ups.
    pub fn batch(
        &mut self,
        profile: ProfileIndex,
        busy: &[i64],
        workers: usize,
        startup: Option<Duration>,
    ) -> Vec<Unit> {
        let free = workers.saturating_sub(busy.len()).max(1);
        let remaining: i64 = self.segments[self.current].queues[profile]
            .units
            .iter()
            .map(|u| self.expected(profile, u.estimate))
            .sum();
        // Tests with no history take a guess, not a measure: splitting by
        // it saves no idle time, so a start-up is not worth paying for it.
        let startup = startup.filter(|_| self.unknown_left(profile) == 0);
        match batch_share(remaining, free, workers, startup) {
            Share::Dealt => {
                let startup = startup.map_or(0, nanos);
                // Each worker starts one process, as with the Python testr;
                // after that, only processes with work worth starting.
                let worth = match STARTUPS_PER_DEALT_BATCH.saturating_mul(startup) {
                    least if least > 0 && !busy.is_empty() => {
                        usize::try_from(remaining / least).unwrap_or(usize::MAX)
                    }
                    _ => free,
                };
                self.deal(profile, free.min(worth).max(1), busy, startup)
            }
            Share::Part(share) => self.take_longest(profile, share),
        }
    }

    /// Deals the queued units of `profile` out longest first, each to the
    /// process expected to end first, over `free` new processes and one
    /// more after each of the `busy` ones (each starting after
    /// `startup`), and takes the first new process's units; the others
    /// stay queued in order, to be dealt again as workers free up.
    fn deal(
        &mut self,
        profile: ProfileIndex,
        free: usize,
        busy: &[i64],
        startup: i64,
    ) -> Vec<Unit> {
        let queued = std::mem::take(self.queue(profile));
        // Ends expected, with the bin's position: at equal ends the new
        // processes come first, this one before the others.
        let mut ends: BinaryHeap<Reverse<(i64, usize)>> = (0..free)
            .map(|bin| (startup, bin))
            .chain(
                busy.iter()
                    .enumerate()
                    .map(|(i, left)| (left.saturating_add(startup), free + i)),
            )
            .map(Reverse)
            .collect();
        let mut batch = Vec::new();
        let mut rest = Vec::new();
        for unit in queued.units {
            let Reverse((end, bin)) = ends.pop().expect("there is at least one process");
            ends.push(Reverse((
                end.saturating_add(self.expected(profile, unit.estimate)),
                bin,
            )));
            if bin == 0 {
                batch.push(unit);
            } else {
                rest.push(unit);
            }
        }
        *self.queue(profile) = Queue::new(rest);
        batch
    }

    /// About `share` nanoseconds of the units queued first (the longest).
    fn take_longest(&mut self, profile: ProfileIndex, share: i64) -> Vec<Unit> {
        let mut batch = Vec::new();
        let mut taken = 0;
        while let Some(unit) = self.peek(profile) {
            let expected = self.expected(profile, unit.estimate);
            // The unit goes where it brings the batch nearer its share.
            if !batch.is_empty() && taken + expected / 2 > share {
                break;
            }
            taken += expected;
            batch.extend(self.queue(profile).pop_front());
        }
        batch
    }

    /// Takes out the units of `profile` still queued in `segment`.
    pub fn take_queued(&mut self, segment: usize, profile: ProfileIndex) -> Vec<Unit> {
        std::mem::take(&mut self.segments[segment].queues[profile])
            .units
            .into()
    }

    /// Puts units back at the front of the current segment, to run next (a
    /// crashed worker's).
    pub fn requeue(&mut self, profile: ProfileIndex, units: Vec<Unit>) {
        let queue = self.queue(profile);
        for unit in units.into_iter().rev() {
            queue.push_front(unit);
        }
    }

    /// Records a test of `profile` that took `nanos` in this run.
    pub fn observe(&mut self, profile: ProfileIndex, nanos: i64) {
        let learned = &mut self.learned[profile];
        learned.finished += 1;
        learned.nanos += nanos.max(0);
    }

    /// Records the time a worker of `profile` took from finishing a test
    /// to starting the next: reporting, reading the next id, whatever the
    /// worker does around a test that no test's duration counts.
    pub fn observe_gap(&mut self, profile: ProfileIndex, nanos: i64) {
        let learned = &mut self.learned[profile];
        learned.gaps += 1;
        learned.gap_nanos += nanos.clamp(0, MAX_GAP.as_nanos() as i64);
    }

    /// What the tests of `profile` are expected to cost a worker beyond
    /// their history.
    pub fn cost(&self, profile: ProfileIndex) -> TestCost {
        TestCost {
            unknown_nanos: self.expected(profile, None),
            overhead: self.overhead(profile),
        }
    }

    /// What a worker of `profile` spends per test besides the test itself,
    /// in nanoseconds: the mean gap seen so far (0 before any). It matters
    /// for tiny tests, where it can be most of a worker's time.
    fn overhead(&self, profile: ProfileIndex) -> i64 {
        let learned = self.learned[profile];
        if learned.gaps == 0 {
            0
        } else {
            learned.gap_nanos / learned.gaps as i64
        }
    }

    /// What a unit is expected to take, in nanoseconds: its estimate, or for
    /// a unit with no history the mean of the tests finished so far.
    fn expected(&self, profile: ProfileIndex, estimate: Option<i64>) -> i64 {
        estimate.unwrap_or_else(|| {
            let learned = self.learned[profile];
            if learned.finished == 0 {
                UNKNOWN_GUESS.as_nanos() as i64
            } else {
                learned.nanos / learned.finished as i64
            }
        })
    }

    /// The units left for `profile`, in this segment and the ones after it,
    /// and the nanoseconds they are expected to take.
    pub fn remaining(&self, profile: ProfileIndex) -> (usize, i64) {
        self.segments[self.current..]
            .iter()
            .flat_map(|s| s.queues[profile].units.iter())
            .fold((0, 0), |(units, nanos), u| {
                (units + 1, nanos + self.expected(profile, u.estimate))
            })
    }

    /// Whether the current segment is the last.
    pub fn is_last(&self) -> bool {
        self.current + 1 == self.segments.len()
    }

    /// Whether `profile` has units left, in this segment or a later one.
    pub fn has_work(&self, profile: ProfileIndex) -> bool {
        self.segments[self.current..]
            .iter()
            .any(|s| !s.queues[profile].units.is_empty())
    }

    /// Whether the current segment has handed out all its units.
    pub fn segment_handed_out(&self) -> bool {
        self.segments[self.current]
            .queues
            .iter()
            .all(|q| q.units.is_empty())
    }

    /// How many units of the current segment may run at once.
    pub fn limit(&self) -> Option<usize> {
        self.segments[self.current].limit
    }

    /// The current segment's position.
    pub fn current(&self) -> usize {
        self.current
    }

    /// Moves on to the next segment that has units; false when none has.
    pub fn advance(&mut self) -> bool {
        while self.current + 1 < self.segments.len() {
            self.current += 1;
            if !self.segment_handed_out() {
                return true;
            }
        }
        false
    }

    /// Drops every unit not handed out (the run was interrupted).
    pub fn clear(&mut self) {
        for segment in &mut self.segments {
            segment.queues.iter_mut().for_each(Queue::clear);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::unit::tests::{estimates, ids};

    const P0: ProfileIndex = ProfileIndex::nth(0);
    const P1: ProfileIndex = ProfileIndex::nth(1);

    #[test]
    fn unknown_first_then_longest_first() {
        let mut s = Scheduler::with_segments(1, &[None]);
        let e = estimates(&[("a", 10), ("b", 30), ("d", 20), ("e", 30)]);
        s.add(
            0,
            P0,
            ids(&["a", "b", "c", "d", "e", "f"]),
            Some(&e),
            Grouping::default(),
        );
        let order: Vec<String> = std::iter::from_fn(|| s.next(P0))
            .map(|u| u.ids.join("+"))
            .collect();
        assert_eq!(order, ["c", "f", "b", "e", "d", "a"]);
    }

    #[test]
    fn unknown_tests_are_expected_to_take_what_finished_tests_took() {
        let mut s = Scheduler::with_segments(1, &[None]);
        assert_eq!(s.expected(P0, None), UNKNOWN_GUESS.as_nanos() as i64);
        s.observe(P0, 10);
        s.observe(P0, 30);
        assert_eq!(s.expected(P0, None), 20);
        assert_eq!(s.expected(P0, Some(5)), 5);
    }

    #[test]
    fn the_overhead_is_the_mean_gap_with_waits_for_work_cut_short() {
        let mut s = Scheduler::with_segments(2, &[None]);
        assert_eq!(s.overhead(P0), 0);
        s.observe_gap(P0, 20_000);
        s.observe_gap(P0, 40_000);
        assert_eq!(s.overhead(P0), 30_000);
        // A worker that waited 5 s for its next test counts as MAX_GAP.
        s.observe_gap(P0, 5_000_000_000);
        assert_eq!(s.overhead(P0), (60_000 + MAX_GAP.as_nanos() as i64) / 3);
        // A clock stepping back counts as no time; profiles learn apart.
        s.observe_gap(P1, -7);
        assert_eq!(s.overhead(P1), 0);
    }

    /// A classic profile's run in simulation: `workers` workers run the
    /// tests of these estimates (ns, ids `t0000`...) in batches, each
    /// batch paying `startup` (none known to the scheduler when `None`),
    /// every worker asking for one as soon as it is free and the busy ones
    /// telling how long they have left. Gives the size of each batch, in
    /// the order they started, and when the last one ended (ns).
    fn simulate(estimates: &[i64], workers: usize, startup: Option<Duration>) -> (Vec<usize>, i64) {
        let mut s = Scheduler::with_segments(1, &[None]);
        let names: Vec<String> = (0..estimates.len()).map(|i| format!("t{i:04}")).collect();
        let e: HashMap<String, i64> = names
            .iter()
            .cloned()
            .zip(estimates.iter().copied())
            .collect();
        s.add(0, P0, names, Some(&e), Grouping::default());
        let paid = startup.map_or(0, nanos);
        let (mut now, mut ends, mut sizes) = (0, Vec::<i64>::new(), Vec::new());
        loop {
            while ends.len() < workers {
                let busy: Vec<i64> = ends.iter().map(|end| end - now).collect();
                let batch = s.batch(P0, &busy, workers, startup);
                if batch.is_empty() {
                    break;
                }
                let work: i64 = batch.iter().flat_map(|u| &u.ids).map(|id| e[id]).sum();
                sizes.push(batch.iter().map(|u| u.ids.len()).sum());
                ends.push(now + paid + work);
            }
            let Some((first, &end)) = ends.iter().enumerate().min_by_key(|(_, end)| **end) else {
                break;
            };
            if !s.has_work(P0) {
                return (sizes, *ends.iter().max().unwrap());
            }
            now = end;
            ends.remove(first);
        }
        (sizes, now)
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn with_no_start_up_known_each_worker_runs_one_process() {
        assert_eq!(simulate(&[MS; 64], 4, None).0, [16, 16, 16, 16]);
        let mut sizes = simulate(&[MS; 10], 4, None).0;
        sizes.sort_unstable();
        assert_eq!(sizes, [2, 2, 3, 3]);
    }

    #[test]
    fn tests_with_no_history_are_dealt_out_in_turn_whatever_the_start_up() {
        let mut s = Scheduler::with_segments(1, &[None]);
        let names: Vec<String> = (0..40).map(|i| format!("t{i:02}")).collect();
        s.add(0, P0, names, None, Grouping::default());
        let startup = Some(Duration::from_micros(1));
        // Each busy worker holds ten tests of the first guess.
        let held = 10 * UNKNOWN_GUESS.as_nanos() as i64;
        let batches: Vec<Vec<String>> = (0..4)
            .map(|busy| {
                let batch = s.batch(P0, &vec![held; busy], 4, startup);
                batch.into_iter().flat_map(|u| u.ids).collect()
            })
            .collect();
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [10; 4]);
        // Neighbours in the listing (a module's slow tests, often) go to
        // different workers, as the Python testr deals them.
        assert_eq!(batches[0][..3], ["t00", "t04", "t08"]);
        assert!(!s.has_work(P0));
    }

    #[test]
    fn a_costly_start_up_keeps_one_process_per_worker() {
        // 16 ms of work per worker, and a start-up of 1.5 ms: splitting a
        // share would make batches under 8 start-ups.
        let ms = Duration::from_millis(1);
        assert_eq!(simulate(&[MS; 64], 4, Some(ms * 3 / 2)).0, [16; 4]);
    }

    #[test]
    fn long_tests_are_dealt_so_that_the_workers_end_together() {
        // A few long tests among many short ones, as in most suites: the
        // longest alone made a batch of its own, whose worker then idled
        // while the others ran twice as long.
        let mut estimates = vec![1460 * MS, 1320 * MS, 780 * MS, 610 * MS];
        estimates.extend([10 * MS; 396]);
        let startup = Duration::from_millis(300);
        let (sizes, end) = simulate(&estimates, 4, Some(startup));
        assert_eq!(sizes.len(), 4, "one process per worker: {sizes:?}");
        let ideal = estimates.iter().sum::<i64>() / 4 + nanos(startup);
        assert!(
            end <= ideal + 10 * MS,
            "ends at {end}, ideal {ideal}: {sizes:?}"
        );
    }

    #[test]
    fn a_free_worker_takes_what_evens_it_out_with_the_busy_ones() {
        let startup = Some(Duration::from_millis(100));
        let queued = |s: &mut Scheduler| {
            let names: Vec<String> = (0..100).map(|i| format!("t{i:03}")).collect();
            let e: HashMap<String, i64> = names.iter().map(|n| (n.clone(), 10 * MS)).collect();
            s.add(0, P0, names, Some(&e), Grouping::default());
        };
        // The busy worker's process will run for 2 s yet: the free one
        // takes all that is left (1 s), rather than leave some to start
        // another process after it.
        let mut s = Scheduler::with_segments(1, &[None]);
        queued(&mut s);
        assert_eq!(s.batch(P0, &[2000 * MS], 2, startup).len(), 100);
        // It ends in 200 ms: its next process would start then, so the
        // free one takes 20 tests more than half (both then end 0.7 s
        // from now), and the rest waits for it.
        let mut s = Scheduler::with_segments(1, &[None]);
        queued(&mut s);
        assert_eq!(s.batch(P0, &[200 * MS], 2, startup).len(), 60);
        assert_eq!(s.remaining(P0).0, 40);
    }

    #[test]
    fn a_cheap_start_up_lets_batches_shrink_as_the_run_ends() {
        let startup = Duration::from_micros(500);
        let (sizes, end) = simulate(&[MS; 400], 4, Some(startup));
        assert_eq!(sizes.iter().sum::<usize>(), 400);
        assert_eq!(sizes[0], 50, "half a worker's share: {sizes:?}");
        assert!(
            sizes.iter().all(|&n| n >= 1),
            "no batch under 2 start-ups (1 ms): {sizes:?}"
        );
        assert!(sizes.len() < 40, "{sizes:?}");
        // Every start-up a worker paid costs the run a quarter of one.
        let paid = sizes.len() as i64 * nanos(startup) / 4;
        assert!(end <= 100 * MS + paid + 2 * MS, "ends at {end}: {sizes:?}");
    }

    #[test]
    fn segments_hand_out_their_units_in_turn() {
        let mut s = Scheduler::with_segments(2, &[Some(1), None, None]);
        s.add(0, P0, ids(&["x"]), None, Grouping::default());
        s.add(2, P1, ids(&["y", "z"]), None, Grouping::default());
        assert_eq!(s.limit(), Some(1));
        assert!(s.has_work(P1), "later segments count");
        assert_eq!(s.next(P1), None, "but only the current one hands out");
        assert_eq!(s.next(P0).unwrap().ids, ["x"]);
        assert!(s.segment_handed_out());
        assert!(s.advance(), "the empty middle segment is skipped");
        assert_eq!(s.current(), 2);
        assert_eq!(s.limit(), None);
        assert_eq!(s.remaining(P1).0, 2);
        assert_eq!(s.next(P1).unwrap().ids, ["y"]);
        assert_eq!(s.next(P1).unwrap().ids, ["z"]);
        assert!(!s.advance());
    }

    #[test]
    fn the_units_with_no_history_left_are_counted() {
        let mut s = Scheduler::with_segments(1, &[None]);
        let e = estimates(&[("known", 10)]);
        s.add(
            0,
            P0,
            ids(&["known", "a", "b"]),
            Some(&e),
            Grouping::default(),
        );
        assert_eq!(s.unknown_left(P0), 2);
        assert_eq!(s.peek(P0).unwrap().ids, ["a"]);
        let a = s.next(P0).unwrap();
        assert_eq!(s.unknown_left(P0), 1);
        s.requeue(P0, vec![a]);
        assert_eq!(s.unknown_left(P0), 2);
        s.next(P0);
        s.next(P0);
        assert_eq!(s.peek(P0).unwrap().estimate, Some(10));
        assert_eq!(s.unknown_left(P0), 0);
        s.add(0, P0, ids(&["c"]), None, Grouping::default());
        s.clear();
        assert_eq!((s.unknown_left(P0), s.peek(P0)), (0, None));
    }

    #[test]
    fn requeued_units_come_next() {
        let mut s = Scheduler::with_segments(2, &[None]);
        s.add(0, P1, ids(&["a", "b"]), None, Grouping::default());
        let a = s.next(P1).unwrap();
        s.requeue(P1, vec![a.clone()]);
        assert_eq!(s.next(P1), Some(a));
        assert!(s.has_work(P1));
        assert!(!s.has_work(P0));
        s.clear();
        assert!(!s.has_work(P1));
    }
}
