//! The table of stored runs that `history list` prints, oldest first.

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use crate::model::{RunCounts, RunId, RunState};

/// One stored run, as a line of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: RunId,
    /// Unix seconds when the run was stored.
    pub recorded_at: i64,
    pub counts: RunCounts,
    /// The run's time by its stream's clock, in nanoseconds.
    pub duration: Option<i64>,
    pub state: RunState,
}

const HEADINGS: [&str; 7] = [
    "id",
    "stored (UTC)",
    "tests",
    "failures",
    "skips",
    "time",
    "state",
];

/// Writes a heading and a line per run, columns aligned: numbers to the
/// right, words to the left. Nothing at all when there is no run.
pub fn write_history(out: &mut dyn Write, rows: &[HistoryRow]) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|row| {
            [
                row.id.to_string(),
                stored_at(row.recorded_at),
                row.counts.tests_run.to_string(),
                row.counts.failures.to_string(),
                row.counts.skips.to_string(),
                row.duration
                    .map_or_else(|| "-".to_owned(), |n| format!("{:.3}s", n as f64 / 1e9)),
                row.state.name().to_owned(),
            ]
        })
        .collect();
    let mut widths = HEADINGS.map(str::len);
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let heading = HEADINGS.map(str::to_owned);
    for line in std::iter::once(&heading).chain(&cells) {
        let mut text = String::new();
        for (column, (cell, width)) in line.iter().zip(widths).enumerate() {
            let numeric = matches!(column, 0 | 2 | 3 | 4 | 5);
            if column > 0 {
                text.push_str("  ");
            }
            if numeric {
                text.push_str(&format!("{cell:>width$}"));
            } else {
                text.push_str(&format!("{cell:<width$}"));
            }
        }
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

/// Unix seconds as `2026-01-01 00:00:00`, in UTC.
fn stored_at(unix_seconds: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(unix_seconds.max(0) as u64);
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .trim_end_matches('Z')
        .replacen('T', " ", 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_run_under_aligned_headings() {
        let row = |id, failures, duration, state| HistoryRow {
            id: RunId(id),
            recorded_at: 1_767_225_600 + id * 3_600,
            counts: RunCounts {
                tests_run: 120,
                failures,
                skips: 3,
            },
            duration,
            state,
        };
        let mut out = Vec::new();
        write_history(
            &mut out,
            &[
                row(0, 0, Some(1_500_000_000), RunState::Full),
                row(12, 4, None, RunState::NotFinished),
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\
id  stored (UTC)         tests  failures  skips    time  state
 0  2026-01-01 00:00:00    120         0      3  1.500s  full
12  2026-01-01 12:00:00    120         4      3       -  not finished
"
        );
        let mut none = Vec::new();
        write_history(&mut none, &[]).unwrap();
        assert!(none.is_empty());
    }
}
