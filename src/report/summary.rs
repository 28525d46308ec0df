//! The two summary lines: `Ran N tests in T` and `PASSED|FAILED (id=…)`,
//! with deltas against the previous run, as the Python testr prints them.

use std::io::{self, Write};

use crate::model::{RunCounts, RunId};

/// What the summary lines say of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub id: RunId,
    pub counts: RunCounts,
    /// The run's time by its stream's clock, in nanoseconds.
    pub duration: Option<i64>,
    /// The previous run's counts and time, for the deltas.
    pub previous: Option<(RunCounts, Option<i64>)>,
}

/// Writes the two lines. A delta is left out when zero or unknown; the time
/// when zero or unknown; skips never have a delta.
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let counts = summary.counts;
    let previous = summary.previous;
    let mut ran = String::new();
    if counts.tests_run != 0 {
        ran.push_str(&format!("Ran {}", counts.tests_run));
        if let Some((before, _)) = previous {
            ran.push_str(&signed_count(counts.tests_run - before.tests_run));
        }
        ran.push_str(" tests");
    }
    if let Some(nanos) = summary.duration.filter(|n| *n != 0) {
        if ran.is_empty() {
            ran.push_str("Ran tests");
        }
        ran.push_str(&format!(" in {:.3}s", seconds(nanos)));
        if let Some(before) = previous.and_then(|(_, d)| d).filter(|d| *d != 0) {
            let delta = nanos - before;
            if delta != 0 {
                ran.push_str(&format!(" ({:+.3}s)", seconds(delta)));
            }
        }
    }
    if !ran.is_empty() {
        writeln!(out, "{ran}")?;
    }
    let mut values = vec![format!("id={}", summary.id)];
    if counts.failures != 0 {
        let mut failures = format!("failures={}", counts.failures);
        if let Some((before, _)) = previous {
            failures.push_str(&signed_count(counts.failures - before.failures));
        }
        values.push(failures);
    }
    if counts.skips != 0 {
        values.push(format!("skips={}", counts.skips));
    }
    let verdict = if counts.failures == 0 {
        "PASSED"
    } else {
        "FAILED"
    };
    writeln!(out, "{verdict} ({})", values.join(", "))
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

fn signed_count(delta: i64) -> String {
    if delta == 0 {
        String::new()
    } else {
        format!(" ({delta:+})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(summary: Summary) -> String {
        let mut out = Vec::new();
        write_summary(&mut out, &summary).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn counts(tests_run: i64, failures: i64, skips: i64) -> RunCounts {
        RunCounts {
            tests_run,
            failures,
            skips,
        }
    }

    #[test]
    fn first_run_has_no_deltas() {
        let text = render(Summary {
            id: RunId(0),
            counts: counts(5, 1, 1),
            duration: Some(12_000_000),
            previous: None,
        });
        assert_eq!(
            text,
            "Ran 5 tests in 0.012s\nFAILED (id=0, failures=1, skips=1)\n"
        );
    }

    #[test]
    fn deltas_against_the_previous_run() {
        let text = render(Summary {
            id: RunId(1),
            counts: counts(1, 0, 0),
            duration: Some(1_000_000),
            previous: Some((counts(5, 0, 0), Some(7_000_000))),
        });
        assert_eq!(
            text,
            "Ran 1 (-4) tests in 0.001s (-0.006s)\nPASSED (id=1)\n"
        );
        let text = render(Summary {
            id: RunId(10),
            counts: counts(11, 2, 2),
            duration: Some(1_819_000_000),
            previous: Some((counts(5, 0, 0), None)),
        });
        assert_eq!(
            text,
            "Ran 11 (+6) tests in 1.819s\nFAILED (id=10, failures=2 (+2), skips=2)\n"
        );
    }

    #[test]
    fn zero_time_and_zero_tests_are_left_out() {
        let text = render(Summary {
            id: RunId(3),
            counts: counts(0, 0, 0),
            duration: Some(0),
            previous: None,
        });
        assert_eq!(text, "PASSED (id=3)\n");
    }
}
