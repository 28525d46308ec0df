//! `testr stats`: repository statistics.

use super::Context;
use crate::exit_codes;
use crate::repo::Repository;

pub fn run(ctx: &mut Context<'_>) -> anyhow::Result<u8> {
    let repo = Repository::open(ctx.project)?;
    writeln!(ctx.stdout, "runs={}", repo.run_count()?)?;
    Ok(exit_codes::SUCCESS)
}
