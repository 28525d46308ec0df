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
/// Ctrl-C stopped `run`: what finished was stored as an interrupted,
/// partial run (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
