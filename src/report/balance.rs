//! The line on worker balance after a run: how long each worker sat idle
//! between its last test and the end of the run.

use std::io::{self, Write};

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
    writeln!(
        out,
        "Worker balance: {} workers, idle at the end {least:.3}s to {most:.3}s ({each})",
        workers.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
    }
}
