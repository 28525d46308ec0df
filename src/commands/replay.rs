//! A stored run replayed: its results in a profile scope and the output
//! that came between them, in the order its streams gave them, for what
//! writes a run out again (`last --subunit`, the per-test lines).

use super::profile::Scope;
use crate::collect::Collected;
use crate::model::RunId;
use crate::repo::Repository;

/// Calls `each` with the results of `run` in scope and the output that
/// came between them, in the order the run's streams gave them.
pub(super) fn replay_run(
    repo: &Repository,
    run: RunId,
    scope: &Scope,
    mut each: impl FnMut(Collected) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut outputs = repo.run_outputs(run)?.into_iter().peekable();
    repo.for_each_result(run, false, |stored| {
        while let Some((_, output)) = outputs.next_if(|(before, _)| *before <= stored.seq) {
            each(Collected::Output(output))?;
        }
        if scope.covers(&stored.profile) {
            each(Collected::Test(stored.result))?;
        }
        anyhow::Ok(())
    })?;
    for (_, output) in outputs {
        each(Collected::Output(output))?;
    }
    Ok(())
}
