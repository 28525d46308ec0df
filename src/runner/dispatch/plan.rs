//! Following a concurrency plan: checking it against the listings, putting
//! each test in its segment, and moving on when a segment has finished.

use std::collections::HashSet;

use super::dispatcher::{Dispatcher, Mode};
use super::profiles::{ListingState, grouping};
use crate::runner::error::RunError;
use crate::runner::event::RunEvent;
use crate::runner::listing::Listing;

impl Dispatcher {
    /// Every profile is listed: checks the plan against the listings, puts
    /// each selected test in its segment, and starts.
    pub(super) fn follow_plan(&mut self) -> Result<(), RunError> {
        let planned = self.spec.plan.as_ref().expect("a plan is followed");
        // `run` checked the plan's profiles against the configured ones.
        let rest = planned.plan.segments.len();
        let alone = self.segments.alone();
        let mut unknown: Vec<String> = Vec::new();
        let mut unplanned: Vec<String> = Vec::new();
        let mut buckets: Vec<Vec<Vec<String>>> = Vec::new();
        let mut listings: Vec<Vec<String>> = Vec::new();
        let mut alone_ids: Vec<HashSet<String>> = Vec::new();
        for state in &mut self.profiles {
            let Listing {
                ids,
                groups,
                exclusive,
            } = state.held_listing.take().unwrap_or_default();
            state.groups = groups;
            listings.push(ids);
            alone_ids.push(exclusive);
        }
        for ((run, listed), alone_ids) in self.spec.profiles.iter().zip(&listings).zip(&alone_ids) {
            let placement = planned.plan.placement(&run.tags);
            let known: HashSet<&str> = listed.iter().map(String::as_str).collect();
            let selected = self.spec.selection.select(&run.tags, listed.clone())?;
            let mut bucket = vec![Vec::new(); alone + 1];
            for id in selected {
                // A test the plan places stays there; one it does not, and
                // that its worker says must run alone, runs alone.
                let segment = match placement.get(id.as_str()) {
                    Some(&segment) => segment,
                    None if alone_ids.contains(&id) => alone,
                    None => {
                        unplanned.push(id.clone());
                        rest
                    }
                };
                bucket[segment].push(id);
            }
            buckets.push(bucket);
            // A record names a test of its profile; a plain id, of any.
            for segment in &planned.plan.segments {
                for entry in &segment.tests {
                    let missing = match &entry.profile {
                        Some(p) => *p == run.tags && !known.contains(entry.id.as_str()),
                        None => !listings.iter().any(|l| l.contains(&entry.id)),
                    };
                    if missing {
                        unknown.push(entry.id.clone());
                    }
                }
            }
        }
        let source = format!("the plan {}", planned.plan.source.display());
        if !unknown.is_empty() {
            unknown.sort();
            unknown.dedup();
            return Err(RunError::UnknownIds {
                origin: source,
                profile: Default::default(),
                count: unknown.len(),
                ids: unknown,
            });
        }
        if planned.strict && !unplanned.is_empty() {
            unplanned.sort();
            unplanned.dedup();
            return Err(RunError::Unplanned {
                plan: planned.plan.source.display().to_string(),
                count: unplanned.len(),
                ids: unplanned,
            });
        }
        for (profile, bucket) in self.spec.profiles.indices().zip(buckets) {
            self.profiles[profile].listing = ListingState::Done;
            self.emit(RunEvent::Planned {
                tags: self.spec.profiles[profile].tags.clone(),
                tests: bucket.iter().map(Vec::len).sum(),
            });
            for (segment, ids) in bucket.into_iter().enumerate() {
                self.scheduler.add(
                    segment,
                    profile,
                    ids,
                    Some(&self.spec.profiles[profile].history.estimates),
                    grouping(&self.spec.profiles[profile], &self.profiles[profile]),
                );
            }
        }
        if self.scheduler.segment_handed_out() {
            self.scheduler.advance();
        }
        self.start_segment()
    }

    /// Hands out the current segment's first tests.
    pub(super) fn start_segment(&mut self) -> Result<(), RunError> {
        for profile in self.spec.profiles.indices() {
            self.top_up_profile(profile);
        }
        self.fill_slots()
    }

    /// When every test of the current segment has finished, records it and
    /// moves on to the next segment that has tests.
    /// Only once every profile is listed: a profile still listing has
    /// tests for the current segment.
    pub(super) fn maybe_advance(&mut self) -> Result<(), RunError> {
        let listed = self.profiles.iter().all(|p| p.listing.is_done());
        if self.mode == Mode::List || self.interrupt.is_some() || !listed {
            return Ok(());
        }
        if !self.scheduler.segment_handed_out() || self.processes.in_flight() > 0 {
            return Ok(());
        }
        self.close_segment();
        if !self.scheduler.is_last() && self.scheduler.advance() {
            self.start_segment()?;
        } else {
            // Nothing is left anywhere: let every worker finish (one that
            // waited while a segment allowed no more tests at once, too).
            for profile in self.spec.profiles.indices() {
                self.top_up_profile(profile);
            }
        }
        Ok(())
    }

    /// Records the segment that ends (in a planned run, but for the
    /// segment of tests that run alone, which no plan has).
    pub(super) fn close_segment(&mut self) {
        self.segments
            .close(self.scheduler.current(), self.spec.plan.is_some());
    }
}
