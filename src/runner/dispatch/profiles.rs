//! What the dispatcher knows of each profile of the run while it runs:
//! how far its listing has come, and what its listing said.

use std::process::ExitStatus;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::phase::Process;
use crate::runner::listing::Listing;
use crate::runner::spec::ProfileRun;
use crate::runner::unit::Grouping;

pub(super) enum ListingState {
    NotStarted,
    Running,
    /// Its classic command is listing, and its batches run the tests of
    /// its last whole run meanwhile.
    RunningAhead(Ahead),
    Done,
}

impl ListingState {
    pub(super) fn is_done(&self) -> bool {
        matches!(self, ListingState::Done)
    }
}

/// A profile running ahead of its listing.
#[derive(Default)]
pub(super) struct Ahead {
    /// The tests handed to the scheduler before the listing came.
    pub(super) started: HashSet<String>,
    /// Batches that ended meanwhile with tests unreported or a failing
    /// status: whether the tests they did not report still exist, and so
    /// what their end means, is known only from the listing.
    pub(super) ended: Vec<(Process, ExitStatus, bool)>,
}

pub(super) struct ProfileState {
    pub(super) listing: ListingState,
    /// Tests run ahead of the listing that it did not list: gone from the
    /// project since the last run, so never reported.
    pub(super) gone: HashSet<String>,
    /// The groups its worker named in its listing, by test id.
    pub(super) groups: HashMap<String, String>,
    /// Whether the `Started` event was sent.
    pub(super) announced: bool,
    /// A classic command that cannot select tests runs once, whole.
    pub(super) whole_run_started: bool,
    /// With a plan, its listing waits here until every profile is listed:
    /// the plan is checked whole before any test runs.
    pub(super) held_listing: Option<Listing>,
    /// When only listing, its selected tests.
    pub(super) selected: Vec<String>,
}

impl ProfileState {
    pub(super) fn new() -> ProfileState {
        ProfileState {
            listing: ListingState::NotStarted,
            gone: HashSet::default(),
            groups: HashMap::default(),
            announced: false,
            whole_run_started: false,
            held_listing: None,
            selected: Vec::new(),
        }
    }
}

/// What makes a unit of a profile's tests: its `group_regex`, and the
/// groups its worker named.
pub(super) fn grouping<'a>(run: &'a ProfileRun, state: &'a ProfileState) -> Grouping<'a> {
    Grouping {
        regex: run.settings.group_regex.as_ref(),
        named: Some(&state.groups),
    }
}
