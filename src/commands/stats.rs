//! `testr stats`: repository statistics.

use super::Context;
use crate::cli::StatsArgs;
use crate::exit_codes;
use crate::repo::Repository;
use crate::report::json::{self, StatsDoc};

pub fn run(ctx: &mut Context<'_>, args: &StatsArgs) -> anyhow::Result<u8> {
    let repo = Repository::open_read_only(ctx.project)?;
    let runs = repo.run_count()?;
    if args.json {
        let profiles = repo.profiles()?.iter().map(json::profile_tags).collect();
        let doc = StatsDoc {
            version: json::VERSION,
            runs,
            profiles,
        };
        json::write_json(ctx.stdout, &doc)?;
    } else {
        writeln!(ctx.stdout, "runs={runs}")?;
    }
    Ok(exit_codes::SUCCESS)
}
