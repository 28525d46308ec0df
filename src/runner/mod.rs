//! The meta-runner: runs the selected tests of every selected profile on
//! long-lived workers (or batches of a classic `test_command`), handing out
//! tests as workers are about to run out. The only async code of testr; it
//! owns its tokio runtime, emits [`RunEvent`]s, and never prints or touches
//! the repository.

mod assigned;
mod command;
mod dispatch;
mod error;
mod event;
mod listing;
mod process;
mod python_worker;
mod schedule;
mod spec;
mod startup;
mod unix;

pub use dispatch::LISTING_DONE;
pub use error::RunError;
pub use event::{RunEvent, RunReport, StopSignal, WorkerBalance};
pub use spec::{
    IdSet, PerProfile, PlannedRun, ProfileHistory, ProfileIndex, ProfileRun, RunSpec, Selection,
};

use std::sync::mpsc::Sender;

use dispatch::{Mode, dispatch};

/// Runs the tests; events arrive on `events` as they happen, in batches.
pub fn run(spec: RunSpec, events: Sender<Vec<RunEvent>>) -> Result<RunReport, RunError> {
    let runtime = runtime()?;
    let dispatched = runtime.block_on(dispatch(spec, Mode::Run, events))?;
    Ok(dispatched.report)
}

/// Lists the selected tests of each profile of `spec`, in its order.
pub fn list(spec: RunSpec, events: Sender<Vec<RunEvent>>) -> Result<Vec<Vec<String>>, RunError> {
    let runtime = runtime()?;
    let dispatched = runtime.block_on(dispatch(spec, Mode::List, events))?;
    Ok(dispatched.listed)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
