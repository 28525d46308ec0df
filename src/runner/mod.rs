//! The meta-runner: runs the selected tests of every selected profile on
//! long-lived workers (or batches of a classic `test_command`), handing out
//! tests as workers are about to run out. The only async code of testr; it
//! owns its thread and its tokio runtime, hands [`RunEvent`]s to its caller,
//! and never prints or touches the repository.

mod assigned;
mod command;
mod dispatch;
mod error;
mod event;
mod listing;
mod order;
mod process;
mod python_worker;
mod schedule;
mod spec;
mod startup;
mod unit;
mod unix;

pub use dispatch::LISTING_DONE;
pub use error::RunError;
pub use event::{RunEvent, RunReport, StopSignal, WorkerBalance};
pub use spec::{
    IdSet, Order, PerProfile, PlannedRun, ProfileHistory, ProfileIndex, ProfileRun, RunSpec,
    Selection,
};

use std::sync::mpsc;

use dispatch::{Mode, dispatch};

/// Runs the tests. Events go to `on_events` as they happen, in batches, on
/// the calling thread: the runner runs on a thread of its own meanwhile.
pub fn run(spec: RunSpec, on_events: impl FnMut(Vec<RunEvent>)) -> Result<RunReport, RunError> {
    let dispatched = on_own_thread(spec, Mode::Run, on_events)?;
    Ok(dispatched.report)
}

/// Lists the selected tests of each profile of `spec`, in its order. What
/// the listing commands write to stderr goes to `on_events`, as for [`run`].
pub fn list(
    spec: RunSpec,
    on_events: impl FnMut(Vec<RunEvent>),
) -> Result<Vec<Vec<String>>, RunError> {
    let dispatched = on_own_thread(spec, Mode::List, on_events)?;
    Ok(dispatched.listed)
}

/// Dispatches on a thread that owns the runtime, handing the events to
/// `on_events` here until the dispatch ends.
fn on_own_thread(
    spec: RunSpec,
    mode: Mode,
    mut on_events: impl FnMut(Vec<RunEvent>),
) -> Result<dispatch::Dispatched, RunError> {
    let (events, received) = mpsc::channel();
    std::thread::scope(|scope| {
        let runner = std::thread::Builder::new()
            .name("testr-runner".to_owned())
            .spawn_scoped(scope, move || {
                let runtime = runtime()?;
                runtime.block_on(dispatch(spec, mode, events))
            })?;
        // The channel closes when the dispatch ends.
        for batch in received {
            on_events(batch);
        }
        runner.join().expect("the runner thread does not panic")
    })
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
