//! `testr slowest`: the slowest tests of the latest run.

use super::profile::{self, Choice};
use super::{Context, Error};
use crate::cli::SlowestArgs;
use crate::config::Config;
use crate::exit_codes;
use crate::repo::Repository;
use crate::report::json::{self, SlowTest, SlowestDoc};
use crate::report::write_slowest;

/// How many rows `slowest` shows without `--all`.
const DEFAULT_ROWS: usize = 10;

pub fn run(ctx: &mut Context<'_>, args: &SlowestArgs) -> anyhow::Result<u8> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let repo = Repository::open_read_only(ctx.project)?;
    let run = repo.latest_run()?.ok_or(Error::NoRuns)?;
    let in_play = repo.run_profiles(run.id)?;
    let choice = profile::choose(
        &args.profile,
        args.json,
        in_play,
        config.profile_tags(),
        ctx.stdout,
    )?;
    let Choice::Show(scope) = choice else {
        return Ok(exit_codes::SUCCESS);
    };
    let mut rows: Vec<_> = repo
        .durations(run.id)?
        .into_iter()
        .filter(|(_, profile, _)| scope.covers(profile))
        .collect();
    if !args.all {
        rows.truncate(DEFAULT_ROWS);
    }
    if args.json {
        let tests = rows
            .into_iter()
            .map(|(id, profile, nanos)| SlowTest {
                id: id.0,
                profile: json::profile_tags(&profile),
                duration: json::seconds(nanos),
            })
            .collect();
        let doc = SlowestDoc {
            version: json::VERSION,
            run: run.id.0,
            tests,
        };
        json::write_json(ctx.stdout, &doc)?;
    } else {
        let rows: Vec<_> = rows.into_iter().map(|(id, _, nanos)| (id, nanos)).collect();
        write_slowest(ctx.stdout, &rows)?;
    }
    Ok(exit_codes::SUCCESS)
}
