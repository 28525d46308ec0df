//! The line on worker balance after a run: how long each worker sat idle
//! between its last test and the end of the run.

use std::io::{self, Write};

use crate::model::SegmentRun;
use crate::runner::WorkerBalance;

/// `Worker balance: 4 workers, idle at the end 0.000s to 0.031s (worker-0 0.031s, ...)`.
pub fn write_balance(out: &mut dyn Write, workers: &[WorkerBalance]) -> io::Result<()> {
    let idle = |w: &WorkerBalance| w.idle_at_end.as_secs_f64();
    let (Some(least), Some(most)) = (
        workers.iter().map(idle).min_by(f64::total_cmp),
        workers.iter().map(idle).max_by(f64::total_cmp),
    ) else {
        return Ok(());
    };
    let each = workers
        .iter()
        .map(|w| format!("worker-{} {:.3}s", w.slot, idle(w)))
        .collect::<Vec<_>>()
        .join(", ");
    let count = match workers.len() {
        1 => "1 worker".to_owned(),
        n => format!("{n} workers"),
    };
    writeln!(
        out,
        "Worker balance: {count}, idle at the end {least:.3}s to {most:.3}s ({each})"
    )
}

/// A line per segment of a planned run:
/// `Segment 0 (exclusive): 1 test in 0.512s`.
pub fn write_segments(out: &mut dyn Write, segments: &[SegmentRun]) -> io::Result<()> {
    for segment in segments {
        let name = match segment.plan_index {
            Some(index) => format!("Segment {index}"),
            None => "Tests no segment names".to_owned(),
        };
        let how = match (segment.exclusive, segment.max_workers) {
            (true, _) => " (exclusive)".to_owned(),
            (false, Some(n)) => format!(" (at most {n} at once)"),
            (false, None) => String::new(),
        };
        let plural = if segment.tests == 1 { "" } else { "s" };
        writeln!(
            out,
            "{name}{how}: {} test{plural} in {:.3}s",
            segment.tests,
            segment.duration.as_secs_f64()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_line_per_segment() {
        let segment = |plan_index, exclusive, max_workers, tests, millis| SegmentRun {
            plan_index,
            exclusive,
            max_workers,
            tests,
            duration: Duration::from_millis(millis),
        };
        let mut out = Vec::new();
        write_segments(
            &mut out,
            &[
                segment(Some(0), true, None, 1, 512),
                segment(Some(1), false, Some(2), 30, 1203),
                segment(None, false, None, 2, 5),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Segment 0 (exclusive): 1 test in 0.512s\n\
             Segment 1 (at most 2 at once): 30 tests in 1.203s\n\
             Tests no segment names: 2 tests in 0.005s\n"
        );
    }

    #[test]
    fn names_each_worker_and_the_spread() {
        let workers = [
            WorkerBalance {
                slot: 0,
                tests: 3,
                idle_at_end: Duration::from_millis(31),
            },
            WorkerBalance {
                slot: 1,
                tests: 4,
                idle_at_end: Duration::ZERO,
            },
        ];
        let mut out = Vec::new();
        write_balance(&mut out, &workers).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Worker balance: 2 workers, idle at the end 0.000s to 0.031s \
             (worker-0 0.031s, worker-1 0.000s)\n"
        );
        let mut out = Vec::new();
        write_balance(&mut out, &workers[1..]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Worker balance: 1 worker, idle at the end 0.000s to 0.000s (worker-1 0.000s)\n"
        );
    }
}
