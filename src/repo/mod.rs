//! The test repository: the only module that touches SQLite. It stores runs,
//! results keyed by (test id, profile), the failing state and timing history.

mod error;
mod import;
mod live;
mod open;
mod previous;
mod read;
mod remove;
mod schema;
mod startup;
mod timing;
mod write;

pub use error::Error;
pub use live::{LiveRun, RunEnd};
pub use open::{DIR_NAME, Repository, cache_dir};
pub use read::{RunSummary, StoredResult};
pub use write::{ResultSink, RunMeta};

use crate::model::Status;

/// The SQL list `(2, 6)` of the stored codes (`result.status`, subunit's
/// wire codes) of the statuses `selected` picks: queries name statuses
/// through [`Status`], never by number.
fn status_codes(selected: impl Fn(Status) -> bool) -> String {
    let codes: Vec<String> = Status::ALL
        .into_iter()
        .filter(|status| selected(*status))
        .map(|status| status.wire_code().to_string())
        .collect();
    format!("({})", codes.join(", "))
}

/// How a sorted tag set is stored: a JSON array, since a tag may hold any
/// character but NUL.
fn tags_key(tags: &[String]) -> String {
    serde_json::to_string(tags).expect("a list of strings serializes")
}

/// Reads a stored tag set; a malformed one (never written by testr) reads
/// as empty rather than failing the query.
fn parse_tags(key: &str) -> Vec<String> {
    serde_json::from_str(key).unwrap_or_default()
}

#[cfg(test)]
mod tests;
