//! One module per subcommand: the only layer that combines the repository,
//! the configuration and the reporters.

mod context;
mod dispatch;
mod error;
mod failing;
mod history;
mod import;
mod init;
mod last;
mod list_tests;
mod load;
mod profile;
mod replay;
mod run;
mod select;
mod slowest;
mod stats;
mod store;
mod tally;
mod trace;

pub use context::Context;
pub use dispatch::dispatch;
pub use error::Error;
