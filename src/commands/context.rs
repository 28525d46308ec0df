//! What every command gets: where the project is, the global flags, and the
//! standard streams (injected, so commands can be driven from tests).

use std::io::{Read, Write};
use std::path::Path;

use crate::config::Overrides;

pub struct Context<'a> {
    /// The project directory (`-d`), holding .testr.conf and .testrepository/.
    pub project: &'a Path,
    /// `-q`: leave out the summary lines.
    pub quiet: bool,
    /// What the command line overrides of the configuration (`-c`,
    /// `--test-path`, `--top-dir`, `--group-regex`).
    pub overrides: &'a Overrides,
    /// The command line, stored with each run.
    pub command_line: &'a str,
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    /// Warnings; errors are returned to the caller instead.
    pub stderr: &'a mut dyn Write,
}
