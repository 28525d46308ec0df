//! The dispatcher: one loop that starts processes, reads what they write,
//! hands out tests as workers are about to run out, and deals with crashes,
//! timeouts and signals. It emits [`RunEvent`](crate::runner::RunEvent)s
//! and never prints or stores.

mod dispatcher;
mod ending;
mod events;
mod handout;
mod output;
mod phase;
mod profiles;
mod registry;
mod segments;
mod starting;
mod stopping;

pub use dispatcher::{Dispatched, Mode, dispatch};
pub use output::LISTING_DONE;
