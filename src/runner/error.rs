//! Why a run could not go on. A run that stored no test before one of these
//! stores nothing; one that did keeps its tests, marked as not finished.

use std::path::PathBuf;

use crate::model::Profile;
use crate::report::escape_controls;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("failed to start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("failed to run `{command}`: it {status} and reported no results{}", stderr_tail(.stderr))]
    NoResults {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("failed to list the tests with `{command}`: it {status}{}", stderr_tail(.stderr))]
    Listing {
        command: String,
        status: String,
        stderr: String,
    },
    #[error(
        "failed to list the tests with `{command}`: it had not listed them after {seconds} s \
         (list_timeout, or --list-timeout), so testr killed it"
    )]
    ListTimeout { command: String, seconds: f64 },
    #[error(
        "failed to list the tests with `{command}`: its end-of-listing marker says `{marker}`, \
         but it listed {listed} test(s) (docs/worker-protocol.md)"
    )]
    ListingCount {
        command: String,
        marker: String,
        listed: usize,
    },
    #[error(
        "failed to select tests: {count} id(s) of {origin} are not among the tests listed{}: {}",
        profile_suffix(.profile), shown(.ids)
    )]
    UnknownIds {
        origin: String,
        profile: Profile,
        count: usize,
        ids: Vec<String>,
    },
    #[error(
        "failed to select tests of profile `{profile}`: test_command can only run everything; \
         selecting tests needs test_list_option and test_id_option in .testr.conf"
    )]
    CannotSelect { profile: String },
    #[error(
        "failed to follow the plan: {count} selected test(s) are in no segment of {plan} \
         (--plan-strict): {}",
        shown(.ids)
    )]
    Unplanned {
        plan: String,
        count: usize,
        ids: Vec<String>,
    },
    #[error(
        "failed to write the ids of a batch: test id `{}` holds a line break, which \
         $IDFILE (one id a line) cannot carry; pass the ids with $IDLIST instead",
        escape_controls(.id)
    )]
    IdFileLineBreak { id: String },
    #[error(
        "failed to create the run's temporary files in {}: {source} \
         (TMPDIR chooses where they go)",
        .dir.display()
    )]
    TempDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to write the ids of a batch ($IDFILE) to {}: {source}", .path.display())]
    IdFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "failed to install the Python workers ($PYTHON_WORKER, $PYTEST_WORKER) at {}: {source}",
        .path.display()
    )]
    WorkerInstall {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Plan(#[from] crate::plan::PlanError),
    #[error("failed to prepare the run: {0}")]
    Io(#[from] std::io::Error),
}

/// Text for the end of a one-line message: what stderr said last.
fn stderr_tail(stderr: &str) -> String {
    let last = stderr.trim().lines().rev().find(|l| !l.trim().is_empty());
    match last {
        Some(line) => format!("; its stderr ends: {}", line.trim()),
        None => String::new(),
    }
}

fn profile_suffix(profile: &Profile) -> String {
    if profile.is_empty() {
        String::new()
    } else {
        format!(" for profile {profile}")
    }
}

/// The first few ids, escaped, for a one-line message.
fn shown(ids: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .map(|id| escape_controls(id))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(", ... ({} more)", ids.len() - SHOWN));
    }
    text
}
