//! Consumers of results that write for people and tools: the summary with
//! FAIL blocks, the slowest-tests table, subunit v2 output, the JSON
//! documents, JUnit XML, a run's worker balance and its live progress, stestr's
//! per-test lines, with ids shown escaped. Each writes to
//! an injected writer, but for the progress bar, which only a terminal shows.

mod balance;
mod escape;
mod failure;
mod history;
pub mod json;
mod junit;
mod progress;
mod slowest;
mod subunit;
mod summary;
mod trace;

pub use balance::{write_balance, write_segments};
pub use escape::escape_controls;
pub use failure::write_failure;
pub use history::{HistoryRow, write_history};
pub use junit::JunitReport;
pub use progress::Progress;
pub use slowest::write_slowest;
pub use subunit::SubunitWriter;
pub use summary::{Summary, write_summary};
pub use trace::{LineStyle, PassingAttachments, TraceOptions, TraceReport};
