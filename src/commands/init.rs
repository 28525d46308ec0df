//! `testr init`: create the repository, and with `--unittest` a
//! `.testr.conf` that runs a plain unittest project on testr's own worker.

use super::{Context, Error};
use crate::cli::InitArgs;
use crate::config;
use crate::exit_codes;
use crate::repo::Repository;
use crate::shell::quote;

pub fn run(ctx: &mut Context<'_>, args: &InitArgs) -> anyhow::Result<u8> {
    let Some(start_dir) = &args.unittest else {
        Repository::init(ctx.project)?;
        return Ok(exit_codes::SUCCESS);
    };
    let path = ctx.project.join(config::FILE_NAME);
    if path.exists() {
        return Err(Error::ConfigExists { path }.into());
    }
    Repository::init(ctx.project)?;
    let text = format!(
        "[DEFAULT]\nworker_command=python3 $PYTHON_WORKER --worker --start-dir {} --top-level-dir .\n",
        quote(start_dir)
    );
    std::fs::write(&path, &text).map_err(|source| Error::OpenInput {
        path: path.clone(),
        source,
    })?;
    writeln!(ctx.stdout, "Wrote {}:\n{text}", path.display())?;
    Ok(exit_codes::SUCCESS)
}
