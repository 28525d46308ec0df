//! `testr slowest`: the slowest tests of the latest run.

use super::{Context, Error};
use crate::cli::SlowestArgs;
use crate::exit_codes;
use crate::repo::Repository;
use crate::report::write_slowest;

/// How many rows `slowest` shows without `--all`.
const DEFAULT_ROWS: usize = 10;

pub fn run(ctx: &mut Context<'_>, args: &SlowestArgs) -> anyhow::Result<u8> {
    let repo = Repository::open(ctx.project)?;
    let run = repo.latest_run()?.ok_or(Error::NoRuns)?;
    let mut rows: Vec<_> = repo
        .durations(run.id)?
        .into_iter()
        .map(|(id, _profile, nanos)| (id, nanos))
        .collect();
    if !args.all {
        rows.truncate(DEFAULT_ROWS);
    }
    write_slowest(ctx.stdout, &rows)?;
    Ok(exit_codes::SUCCESS)
}
