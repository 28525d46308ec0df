//! Live progress of a run on a terminal: tests done out of tests planned,
//! and failures so far. Drawn on stderr, and only when it is a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    failures: u64,
}

impl Progress {
    /// A bar on stderr, drawn only when stderr is a terminal.
    pub fn on_stderr() -> Progress {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} tests {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        Progress { bar, failures: 0 }
    }

    /// More tests will run.
    pub fn planned(&self, tests: usize) {
        self.bar.inc_length(tests as u64);
    }

    /// A test finished.
    pub fn finished(&mut self, failed: bool) {
        if failed {
            self.failures += 1;
            self.bar.set_message(format!("({} failed)", self.failures));
        }
        self.bar.inc(1);
    }

    /// Runs `write` with the bar out of the way, so that text printed to
    /// the terminal does not mix with it.
    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        self.bar.suspend(write)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
