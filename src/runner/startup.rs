//! What starting one process of a classic test command costs, per profile:
//! interpreter start-up, imports and discovery, paid again by every batch.
//! Learned from history, from this run's listing, and from this run's
//! batches (spawn to first result), so that batches are sized to pay for it.

use std::time::Duration;

use super::spec::{PerProfile, ProfileIndex};

/// The start-up costs of a run's profiles.
#[derive(Debug, Default)]
pub struct StartupCosts {
    profiles: PerProfile<ProfileStartup>,
}

#[derive(Debug, Default, Clone)]
struct ProfileStartup {
    /// What earlier runs measured.
    history: Option<Duration>,
    /// How long this run's listing process took, start to end.
    listing: Option<Duration>,
    /// Spawn to first result of this run's batches.
    batches: Vec<Duration>,
}

impl StartupCosts {
    /// Costs known from history, per profile.
    pub fn new(history: &PerProfile<Option<Duration>>) -> StartupCosts {
        StartupCosts {
            profiles: history.map(|&history| ProfileStartup {
                history,
                ..ProfileStartup::default()
            }),
        }
    }

    /// A listing process of `profile` ran for `took`: it started the
    /// interpreter and discovered the tests, as a batch will.
    pub fn observe_listing(&mut self, profile: ProfileIndex, took: Duration) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.listing.get_or_insert(took);
        }
    }

    /// A batch of `profile` took `took` from its spawn to its first result.
    pub fn observe_batch(&mut self, profile: ProfileIndex, took: Duration) {
        if let Some(p) = self.profiles.get_mut(profile) {
            p.batches.push(took);
        }
    }

    /// The start-up a batch of `profile` is expected to pay: this run's
    /// batches' median, else history, else this run's listing.
    pub fn expected(&self, profile: ProfileIndex) -> Option<Duration> {
        let p = self.profiles.get(profile)?;
        median(&p.batches).or(p.history).or(p.listing)
    }

    /// What this run measured for each profile, to keep for the next run:
    /// its batches' median, else its listing.
    pub fn measured(&self) -> PerProfile<Option<Duration>> {
        self.profiles.map(|p| median(&p.batches).or(p.listing))
    }
}

fn median(samples: &[Duration]) -> Option<Duration> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn batches_beat_history_which_beats_the_listing() {
        let mut costs = StartupCosts::new(&vec![Some(300 * MS), None].into());
        assert_eq!(costs.expected(ProfileIndex::nth(0)), Some(300 * MS));
        assert_eq!(costs.expected(ProfileIndex::nth(1)), None);
        costs.observe_listing(ProfileIndex::nth(0), 500 * MS);
        costs.observe_listing(ProfileIndex::nth(1), 400 * MS);
        assert_eq!(
            costs.expected(ProfileIndex::nth(0)),
            Some(300 * MS),
            "history first"
        );
        assert_eq!(
            costs.expected(ProfileIndex::nth(1)),
            Some(400 * MS),
            "then the listing"
        );
        for ms in [250, 900, 260] {
            costs.observe_batch(ProfileIndex::nth(0), ms * MS);
        }
        assert_eq!(
            costs.expected(ProfileIndex::nth(0)),
            Some(260 * MS),
            "the batches' median"
        );
        assert_eq!(
            costs.measured().into_vec(),
            [Some(260 * MS), Some(400 * MS)]
        );
        assert_eq!(costs.expected(ProfileIndex::nth(7)), None);
    }
}
