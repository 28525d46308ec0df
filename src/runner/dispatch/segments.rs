//! The segments a run's tests go through one after the other, as a plan
//! gives them (one unlimited segment without a plan), and how far the run
//! has come through them.

use tokio::time::Instant;

use crate::model::SegmentRun;
use crate::runner::spec::PlannedRun;

/// A segment of the scheduler, as the plan gave it.
struct SegmentInfo {
    plan_index: Option<usize>,
    exclusive: bool,
    max_workers: Option<usize>,
}

/// The segment running now: since when, and how many tests finished in it.
#[derive(Default)]
struct SegmentProgress {
    since: Option<Instant>,
    tests: usize,
}

/// The segments the tests run in, and how far the run has come through
/// them: the plan's segments, then the tests it names not, then the tests
/// a worker said must run alone. Without a plan, the last two.
pub(super) struct Segments {
    infos: Vec<SegmentInfo>,
    current: SegmentProgress,
    /// The segments that ended, for the report.
    reports: Vec<SegmentRun>,
}

impl Segments {
    pub(super) fn new(plan: Option<&PlannedRun>) -> Segments {
        let planned = plan.into_iter().flat_map(|planned| {
            planned
                .plan
                .segments
                .iter()
                .enumerate()
                .map(|(index, s)| SegmentInfo {
                    plan_index: Some(index),
                    exclusive: s.exclusive,
                    max_workers: s.max_workers,
                })
        });
        let unplanned = SegmentInfo {
            plan_index: None,
            exclusive: false,
            max_workers: None,
        };
        let alone = SegmentInfo {
            plan_index: None,
            exclusive: true,
            max_workers: None,
        };
        Segments {
            infos: planned.chain([unplanned, alone]).collect(),
            current: SegmentProgress::default(),
            reports: Vec::new(),
        }
    }

    /// How many tests may run at once in each segment.
    pub(super) fn limits(&self) -> Vec<Option<usize>> {
        self.infos
            .iter()
            .map(|s| if s.exclusive { Some(1) } else { s.max_workers })
            .collect()
    }

    /// The last segment: the tests a worker said must run with nothing
    /// else running (`testr-exclusive`), one at a time, after the rest.
    pub(super) fn alone(&self) -> usize {
        self.infos.len() - 1
    }

    /// A test of the current segment was handed out: it runs from now, if
    /// it was not running yet.
    pub(super) fn started(&mut self) {
        self.current.since.get_or_insert_with(Instant::now);
    }

    /// A test of the current segment finished.
    pub(super) fn test_finished(&mut self) {
        self.current.tests += 1;
    }

    /// The segments that ended, in the order they ran.
    pub(super) fn take_reports(&mut self) -> Vec<SegmentRun> {
        std::mem::take(&mut self.reports)
    }

    /// Records the segment at `position` as ended, if tests ran in it, and
    /// if it is a segment of the plan (`planned`): the segment of tests that
    /// run alone is no plan's.
    pub(super) fn close(&mut self, position: usize, planned: bool) {
        let progress = std::mem::take(&mut self.current);
        let Some(since) = progress.since else {
            return;
        };
        if !planned || position == self.alone() {
            return;
        }
        let info = &self.infos[position];
        self.reports.push(SegmentRun {
            plan_index: info.plan_index,
            exclusive: info.exclusive,
            max_workers: info.max_workers,
            tests: progress.tests,
            duration: since.elapsed(),
        });
    }
}
