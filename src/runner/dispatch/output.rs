//! What processes write: listings, test progress, and results.

use tokio::time::Instant;

use super::dispatcher::{Dispatcher, Mode};
use super::phase::{Kind, Process};
use crate::collect::Collected;
use crate::model::Status;
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::listing::{Listing, WANTS_NEXT_TAG};
use crate::runner::process::{Envelope, Output};
use crate::subunit::{Item, Packet};

/// The file a worker sends, with no test id, when its listing is complete
/// (docs/worker-protocol.md).
pub const LISTING_DONE: &str = "testr-listing-done";

/// How much of a process's stderr is kept to explain its death.
const STDERR_TAIL: usize = 4096;

impl Dispatcher {
    pub(super) fn handle(&mut self, envelope: Envelope) -> Result<(), RunError> {
        let Some(mut process) = self.processes.remove(&envelope.process) else {
            return Ok(());
        };
        let mut listed = None;
        match envelope.output {
            Output::Stdout(bytes) => {
                process.decoder.feed(&bytes);
                while let Some(item) = process.decoder.next_item() {
                    if let Some(listing) = self.take_item(&mut process, item)? {
                        listed = Some(listing);
                    }
                }
            }
            Output::StdoutClosed | Output::StderrClosed => process.open_pipes -= 1,
            Output::Stderr(bytes) => {
                process.stderr.extend_from_slice(&bytes);
                if process.stderr.len() > STDERR_TAIL {
                    let cut = process.stderr.len() - STDERR_TAIL;
                    process.stderr.drain(..cut);
                }
                self.emit(RunEvent::Stderr(bytes));
            }
            Output::Exited(status) => {
                process.exit = Some(status);
                // Whatever the worker left running in its group goes with
                // it, unless Ctrl-C gave the group time to stop.
                if self.interrupt.is_none() {
                    self.processes.kill(process.pid);
                }
            }
        }
        if process.is_done() {
            return self.finished(process);
        }
        let profile = process.profile;
        self.top_up_process(&mut process);
        self.processes.insert(envelope.process, process);
        if let Some(listing) = listed {
            if !self.profiles[profile].listing.is_done() {
                self.listed(profile, listing)?;
            } else {
                // A worker has started: another may start in its place.
                self.fill_slots()?;
            }
        }
        self.maybe_advance()
    }

    /// Takes one decoded item; returns the listing when this item completed it.
    pub(super) fn take_item(
        &mut self,
        process: &mut Process,
        item: Item,
    ) -> Result<Option<Listing>, RunError> {
        let kind = process.kind;
        if let Some(listening) = process.listening() {
            match &item {
                Item::Packet(Packet {
                    test_id: Some(id),
                    status: Some(Status::Exists),
                    tags,
                    ..
                }) => {
                    listening
                        .listing
                        .push(id.clone(), tags.as_deref().unwrap_or_default());
                    return Ok(None);
                }
                Item::Packet(Packet {
                    test_id: None,
                    file: Some(file),
                    tags,
                    ..
                }) if file.name == LISTING_DONE && kind == Kind::Worker => {
                    let listing = process.listing_done(self.mode == Mode::List);
                    check_listing_count(&process.command, &file.content, listing.ids.len())?;
                    process.wants_next = tags.iter().flatten().any(|t| t == WANTS_NEXT_TAG);
                    return Ok(Some(listing));
                }
                Item::Text(text) if kind == Kind::Lister => {
                    listening.text.extend_from_slice(text);
                    return Ok(None);
                }
                _ => {}
            }
        }
        if let Item::Packet(Packet {
            test_id: Some(id),
            status: Some(status),
            timestamp,
            ..
        }) = &item
        {
            self.track(process, id, *status, timestamp.map(|t| t.as_nanos()));
        }
        let mut collected = Vec::new();
        process.collector.push(item, &mut |c| collected.push(c));
        for c in collected {
            self.collected(process, c);
        }
        Ok(None)
    }

    /// Follows a test's progress on its worker: starting, or finishing
    /// (then the worker may need more work). `timestamp` is the packet's,
    /// in nanoseconds since the epoch.
    pub(super) fn track(
        &mut self,
        process: &mut Process,
        id: &str,
        status: Status,
        timestamp: Option<i64>,
    ) {
        let now = Instant::now();
        if process.awaiting_first_test {
            process.awaiting_first_test = false;
            self.startups
                .observe_batch(process.profile, now.duration_since(process.spawned_at));
        }
        if status == Status::InProgress {
            process.assigned.start(id);
            process.clock = Some(now);
            if let (Some(stop), Some(start)) = (process.last_stop.take(), timestamp) {
                self.scheduler.observe_gap(process.profile, start - stop);
            }
        } else if status.is_final() {
            process.assigned.finish(id);
            process.clock = Some(now);
            process.last_stop = timestamp;
            self.segments.test_finished();
            if let Some(slot) = process.slot {
                self.slots.test_finished(slot, now);
            }
        }
    }

    pub(super) fn collected(&mut self, process: &mut Process, collected: Collected) {
        if let Collected::Test(result) = &collected {
            process.results += 1;
            self.any_results = true;
            if result.status.is_failure() {
                process.failures += 1;
            }
            if let Some(nanos) = result.duration_nanos() {
                self.scheduler.observe(process.profile, nanos);
            }
        }
        if self.mode == Mode::Run {
            self.emit(RunEvent::Collected(collected));
        }
    }
}

/// The end-of-listing marker holds the number of tests listed, in ASCII
/// decimal: anything else, or another number, means the listing was cut
/// or the worker is confused, and running part of a suite as if it were
/// all of it would pass what never ran.
fn check_listing_count(command: &str, content: &[u8], listed: usize) -> Result<(), RunError> {
    let text = String::from_utf8_lossy(content);
    let count = text.trim();
    let counted = count.bytes().all(|b| b.is_ascii_digit()) && !count.is_empty();
    match count.parse::<u64>() {
        Ok(n) if counted && usize::try_from(n) == Ok(listed) => Ok(()),
        _ => {
            // Quoted, and cut short: the marker is whatever the worker sent.
            let mut shown: String = count.chars().take(24).collect();
            if count.chars().count() > 24 {
                shown.push_str("...");
            }
            Err(RunError::ListingCount {
                command: command.to_owned(),
                marker: crate::report::escape_controls(&shown).into_owned(),
                listed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_marker_must_count_the_tests_listed() {
        assert!(check_listing_count("w", b"3", 3).is_ok());
        assert!(check_listing_count("w", b" 0\n", 0).is_ok());
        for bad in [
            &b"2"[..],
            b"",
            b"-3",
            b"+3",
            b"3.0",
            b"three",
            b"99999999999999999999999",
        ] {
            let err = check_listing_count("w", bad, 3).unwrap_err().to_string();
            assert!(err.contains("`w`") && err.contains("3 test"), "{err}");
        }
    }
}
