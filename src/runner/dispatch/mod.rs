//! The dispatcher: one loop that starts processes, reads what they write,
//! hands out tests as workers are about to run out, and deals with crashes,
//! timeouts and signals. It emits [`RunEvent`](crate::runner::event::RunEvent)s
//! and never prints or stores.

mod dispatcher;
mod ending;
mod events;
mod files;
mod handout;
mod interruption;
mod output;
mod phase;
mod plan;
mod profiles;
mod registry;
mod segments;
mod slots;
mod starting;
mod stopping;

pub use dispatcher::{Dispatched, Mode, dispatch};
pub use output::LISTING_DONE;
