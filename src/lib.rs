//! testr: a test repository and parallel test runner, the successor of
//! Python's testrepository and stestr.

// Outside the crate only the tests and the fuzz target use testr, through
// collect, model and subunit; the rest is crate-private so that unused
// code shows. config and runner stay public until the items only their
// re-exports reach are gone.
pub(crate) mod cli;
pub mod collect;
pub(crate) mod commands;
pub mod config;
pub(crate) mod exit_codes;
pub mod model;
pub(crate) mod plan;
pub(crate) mod repo;
pub(crate) mod report;
pub mod runner;
pub(crate) mod shell;
pub mod subunit;

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

/// Runs testr with these arguments (the first is the program name) and
/// returns its exit status.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout and succeed; usage errors fail.
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                exit_codes::USAGE
            } else {
                exit_codes::SUCCESS
            });
        }
    };
    let command_line = args
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let outcome = commands::dispatch(
        &cli,
        &command_line,
        &mut stdin.lock(),
        &mut out,
        &mut io::stderr(),
    )
    .and_then(|code| out.flush().map(|()| code).map_err(Into::into));
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) if is_broken_pipe(&error) => ExitCode::from(exit_codes::SUCCESS),
        Err(error) => {
            let _ = out.flush();
            // Every error message already names its cause: print it once.
            eprintln!("testr: error: {error}");
            ExitCode::from(exit_codes::ERROR)
        }
    }
}

/// A reader that closed our stdout (`testr failing --list | head`) is not
/// an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
