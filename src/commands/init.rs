//! `testr init`: create the repository.

use super::Context;
use crate::exit_codes;
use crate::repo::Repository;

pub fn run(ctx: &mut Context<'_>) -> anyhow::Result<u8> {
    Repository::init(ctx.project)?;
    Ok(exit_codes::SUCCESS)
}
