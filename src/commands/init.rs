//! `testr init`: create the repository, and with `--unittest` or
//! `--pytest` a `.testr.conf` that runs the project on one of testr's own
//! workers. A project that has stestr's `.stestr.conf` needs nothing
//! written for unittest: testr reads it.

use super::{Context, Error};
use crate::cli::InitArgs;
use crate::config;
use crate::exit_codes;
use crate::repo::Repository;
use crate::shell::quote;

pub fn run(ctx: &mut Context<'_>, args: &InitArgs) -> anyhow::Result<u8> {
    let testr_conf = ctx.project.join(config::FILE_NAME);
    let stestr_conf = ctx.project.join(config::STESTR_FILE_NAME);
    let worker_command = match (&args.unittest, &args.pytest) {
        (_, Some(pytest_args)) => Some(pytest_command(pytest_args)),
        _ if !testr_conf.exists() && stestr_conf.exists() => {
            // Checked now rather than at the first run.
            config::Config::load_with(ctx.project, ctx.overrides)?;
            Repository::init(ctx.project)?;
            writeln!(
                ctx.stdout,
                "testr run will use {}, on testr's own worker; nothing more to write.",
                stestr_conf.display()
            )?;
            return Ok(exit_codes::SUCCESS);
        }
        (Some(start_dir), None) => Some(format!(
            "python3 $PYTHON_WORKER --worker --start-dir {} --top-level-dir .",
            conf_word(start_dir)
        )),
        (None, None) => None,
    };
    let Some(worker_command) = worker_command else {
        Repository::init(ctx.project)?;
        return Ok(exit_codes::SUCCESS);
    };
    if testr_conf.exists() {
        return Err(Error::ConfigExists { path: testr_conf }.into());
    }
    Repository::init(ctx.project)?;
    let text = format!("[DEFAULT]\nworker_command={worker_command}\n");
    std::fs::write(&testr_conf, &text).map_err(|source| Error::OpenInput {
        path: testr_conf.clone(),
        source,
    })?;
    writeln!(ctx.stdout, "Wrote {}:\n{text}", testr_conf.display())?;
    Ok(exit_codes::SUCCESS)
}

/// The shipped pytest worker on the project's interpreter (`PYTHON`, as
/// stestr has it, else `python3`), with these arguments for pytest.
fn pytest_command(pytest_args: &[String]) -> String {
    let mut command = "${PYTHON:-python3} $PYTEST_WORKER --worker".to_owned();
    for arg in pytest_args {
        command.push(' ');
        command.push_str(&conf_word(arg));
    }
    command
}

/// `value` as one shell word in a `.testr.conf` value, which is read with
/// `configparser`'s interpolation: a `%` is doubled.
fn conf_word(value: &str) -> String {
    quote(value).replace('%', "%%")
}
