//! From a parsed command line to the command that carries it out.

use std::io::{Read, Write};

use super::{Context, failing, history, import, init, last, list_tests, load, run, slowest, stats};
use crate::cli::{Cli, Command};
use crate::config::Overrides;

/// Runs the command and returns its exit status; errors are for the caller
/// to report (with [`crate::exit_codes::ERROR`]).
pub fn dispatch(
    cli: &Cli,
    command_line: &str,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<u8> {
    let overrides = Overrides {
        file: cli.config.file.clone(),
        test_path: cli.config.test_path.clone(),
        top_dir: cli.config.top_dir.clone(),
        group_regex: cli.config.group_regex.clone(),
        parallel_class: cli.config.parallel_class,
    };
    let mut ctx = Context {
        project: &cli.here,
        quiet: cli.quiet,
        overrides: &overrides,
        command_line,
        stdin,
        stdout,
        stderr,
    };
    match &cli.command {
        Command::Init(args) => init::run(&mut ctx, args),
        Command::Load(args) => load::run(&mut ctx, args),
        Command::Last(args) => last::run(&mut ctx, args),
        Command::Failing(args) => failing::run(&mut ctx, args),
        Command::Stats(args) => stats::run(&mut ctx, args),
        Command::Slowest(args) => slowest::run(&mut ctx, args),
        Command::Run(args) => run::run(&mut ctx, args),
        Command::ListTests(args) => list_tests::run(&mut ctx, args),
        Command::Import(args) => import::run(&mut ctx, args),
        Command::History(command) => history::run(&mut ctx, command),
    }
}
