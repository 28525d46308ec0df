//! One module per subcommand: the only layer that combines the repository,
//! the configuration and the reporters.

mod context;
mod dispatch;
mod error;
mod failing;
mod init;
mod last;
mod load;
mod profile;
mod slowest;
mod stats;

pub use context::Context;
pub use dispatch::dispatch;
pub use error::Error;
