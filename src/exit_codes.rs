//! The exit statuses of testr, compatible with the Python testr's.

/// The command did what was asked and no test failed.
pub const SUCCESS: u8 = 0;
/// The loaded, shown or run tests include failures.
pub const TEST_FAILURES: u8 = 1;
/// The command line could not be parsed.
pub const USAGE: u8 = 2;
/// The command could not be carried out: no repository, bad input, a
/// corrupt or unwritable database, a bad `.testr.conf`. Nothing stored was
/// changed.
pub const ERROR: u8 = 3;
/// Ctrl-C (SIGINT) stopped `run`: what finished was stored as an interrupted,
/// partial run (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
/// SIGHUP stopped `run` (the terminal went away): as [`INTERRUPTED`],
/// 128 + SIGHUP.
pub const HUNG_UP: u8 = 129;
/// SIGTERM stopped `run` (`timeout`, `kill`, a cancelled CI job): as
/// [`INTERRUPTED`], 128 + SIGTERM.
pub const TERMINATED: u8 = 143;
