//! What every command gets: where the project is, the global flags, and the
//! standard streams (injected, so commands can be driven from tests).

use std::io::{Read, Write};
use std::path::Path;

pub struct Context<'a> {
    /// The project directory (`-d`), holding .testr.conf and .testrepository/.
    pub project: &'a Path,
    /// `-q`: leave out the summary lines.
    pub quiet: bool,
    /// The command line, stored with each run.
    pub command_line: &'a str,
    pub stdin: &'a mut dyn Read,
    pub stdout: &'a mut dyn Write,
    /// Warnings; errors are returned to the caller instead.
    pub stderr: &'a mut dyn Write,
}
