//! Consumers of results that write for people and tools: the summary with
//! FAIL blocks, the slowest-tests table, and subunit v2 output, and the JSON documents. Each writes
//! to an injected writer.

mod failure;
pub mod json;
mod slowest;
mod subunit;
mod summary;

pub use failure::write_failure;
pub use slowest::write_slowest;
pub use subunit::SubunitWriter;
pub use summary::{Summary, write_summary};
