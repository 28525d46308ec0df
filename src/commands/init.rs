//! `testr init`: create the repository, and with `--unittest` a
//! `.testr.conf` that runs a plain unittest project on testr's own worker.
//! A project that has stestr's `.stestr.conf` needs nothing written: testr
//! reads it.

use super::{Context, Error};
use crate::cli::InitArgs;
use crate::config;
use crate::exit_codes;
use crate::repo::Repository;
use crate::shell::quote;

pub fn run(ctx: &mut Context<'_>, args: &InitArgs) -> anyhow::Result<u8> {
    let testr_conf = ctx.project.join(config::FILE_NAME);
    let stestr_conf = ctx.project.join(config::STESTR_FILE_NAME);
    if !testr_conf.exists() && stestr_conf.exists() {
        // Checked now rather than at the first run.
        config::Config::load(ctx.project)?;
        Repository::init(ctx.project)?;
        writeln!(
            ctx.stdout,
            "testr run will use {}, on testr's own worker; nothing more to write.",
            stestr_conf.display()
        )?;
        return Ok(exit_codes::SUCCESS);
    }
    let Some(start_dir) = &args.unittest else {
        Repository::init(ctx.project)?;
        return Ok(exit_codes::SUCCESS);
    };
    if testr_conf.exists() {
        return Err(Error::ConfigExists { path: testr_conf }.into());
    }
    Repository::init(ctx.project)?;
    let text = format!(
        "[DEFAULT]\nworker_command=python3 $PYTHON_WORKER --worker --start-dir {} --top-level-dir .\n",
        quote(start_dir)
    );
    std::fs::write(&testr_conf, &text).map_err(|source| Error::OpenInput {
        path: testr_conf.clone(),
        source,
    })?;
    writeln!(ctx.stdout, "Wrote {}:\n{text}", testr_conf.display())?;
    Ok(exit_codes::SUCCESS)
}
