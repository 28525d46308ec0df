//! What the runner is asked to do: which profiles, how to start their
//! tests, which tests to select, and what history knows of their durations.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;

use super::error::RunError;
use crate::config::{Launch, RunnerSettings};
use crate::model::Profile;
use crate::plan::Plan;

/// One profile of a run.
#[derive(Debug, Clone)]
pub struct ProfileRun {
    /// The name `$PROFILE` becomes (empty for the unnamed profile).
    pub name: String,
    /// The tags every result of the profile carries.
    pub tags: Profile,
    pub settings: RunnerSettings,
    /// What earlier runs of the profile left in the repository.
    pub history: ProfileHistory,
}

/// What the repository knows of a profile from earlier runs.
#[derive(Debug, Clone, Default)]
pub struct ProfileHistory {
    /// Expected durations (ns), by test id.
    pub estimates: HashMap<String, i64>,
    /// What starting a process of its classic command cost last time.
    pub startup: Option<Duration>,
    /// The tests its latest whole run ran, in order: a classic command's
    /// batches start on these while it lists (docs/runner.md).
    pub last_run: Vec<String>,
}

impl ProfileRun {
    pub fn launch(&self) -> &Launch {
        &self.settings.launch
    }
}

/// A profile's position among the profiles of a run: what the runner's
/// state of each profile is found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileIndex(usize);

impl ProfileIndex {
    /// Its position, counting from 0.
    pub fn position(self) -> usize {
        self.0
    }

    /// The index of the profile at `position`, for tests.
    #[cfg(test)]
    pub const fn nth(position: usize) -> ProfileIndex {
        ProfileIndex(position)
    }
}

/// One value for each profile of a run, found by [`ProfileIndex`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerProfile<T>(Vec<T>);

impl<T> PerProfile<T> {
    /// A value for each of `count` profiles, made by `value`.
    pub fn from_fn(count: usize, value: impl FnMut(ProfileIndex) -> T) -> PerProfile<T> {
        PerProfile((0..count).map(ProfileIndex).map(value).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, index: ProfileIndex) -> Option<&T> {
        self.0.get(index.0)
    }

    pub fn get_mut(&mut self, index: ProfileIndex) -> Option<&mut T> {
        self.0.get_mut(index.0)
    }

    /// Every profile's index, in order.
    pub fn indices(&self) -> impl Iterator<Item = ProfileIndex> + use<T> {
        (0..self.0.len()).map(ProfileIndex)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, T> {
        self.0.iter_mut()
    }

    /// Each profile's index with its value.
    pub fn enumerate(&self) -> impl Iterator<Item = (ProfileIndex, &T)> {
        self.0
            .iter()
            .enumerate()
            .map(|(index, value)| (ProfileIndex(index), value))
    }

    /// A value for each profile, made from this one's.
    pub fn map<U>(&self, value: impl FnMut(&T) -> U) -> PerProfile<U> {
        PerProfile(self.0.iter().map(value).collect())
    }

    /// The values, in profile order.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T> From<Vec<T>> for PerProfile<T> {
    fn from(values: Vec<T>) -> PerProfile<T> {
        PerProfile(values)
    }
}

impl<T> FromIterator<T> for PerProfile<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> PerProfile<T> {
        PerProfile(values.into_iter().collect())
    }
}

impl<T> std::ops::Index<ProfileIndex> for PerProfile<T> {
    type Output = T;

    fn index(&self, index: ProfileIndex) -> &T {
        &self.0[index.0]
    }
}

impl<T> std::ops::IndexMut<ProfileIndex> for PerProfile<T> {
    fn index_mut(&mut self, index: ProfileIndex) -> &mut T {
        &mut self.0[index.0]
    }
}

impl<'a, T> IntoIterator for &'a PerProfile<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut PerProfile<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

/// A run of the selected tests of some profiles.
#[derive(Debug)]
pub struct RunSpec {
    /// The project directory: where commands run.
    pub project: PathBuf,
    pub profiles: PerProfile<ProfileRun>,
    /// How many tests run at once, over every profile.
    pub concurrency: usize,
    pub selection: Selection,
    /// Arguments given after `--`.
    pub extra_args: Vec<String>,
    /// The segments the tests run in, if the run follows a plan.
    pub plan: Option<PlannedRun>,
    /// The order tests are handed out in.
    pub order: Order,
    /// A directory kept between runs, for what the runner writes that later
    /// runs can reuse (the shipped Python worker, and its bytecode). `None`:
    /// everything goes in the run's temporary directory.
    pub cache_dir: Option<PathBuf>,
}

/// A plan to follow.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    pub plan: Plan,
    /// Whether a selected test that no segment names is an error (else it
    /// runs in a final parallel segment).
    pub strict: bool,
}

/// The order a profile's tests are handed out in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Order {
    /// Tests with no history first, in listing order, then the longest
    /// expected first (docs/runner.md).
    #[default]
    LongestFirst,
    /// Shuffled (`--random`), by this seed.
    Random { seed: u64 },
    /// In the order of this list, on one process: a replay of what ran on
    /// one worker (`--analyze-isolation`). Tests it does not name come last.
    AsGiven(Vec<String>),
}

/// Which listed tests run: those matching any filter (all when there are
/// none), no exclusion, and in every id set.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub filters: Vec<Regex>,
    /// A test matching any of these does not run (`--exclude-regex`,
    /// `--exclude-list`), whatever selects it.
    pub exclusions: Vec<Regex>,
    pub id_sets: Vec<IdSet>,
}

/// Ids named by `--failing` or `--load-list`.
#[derive(Debug, Clone, Default)]
pub struct IdSet {
    /// Where the ids come from, for errors (`--load-list sel.json`).
    pub source: String,
    /// Ids selected in every profile.
    pub every_profile: HashSet<String>,
    /// Ids selected in one profile only.
    pub per_profile: std::collections::HashMap<Profile, HashSet<String>>,
    /// Whether an id that is not listed is an error (a list the user
    /// wrote) rather than a test that went away (a stored failure).
    pub must_be_listed: bool,
}

impl IdSet {
    fn contains(&self, profile: &Profile, id: &str) -> bool {
        self.every_profile.contains(id)
            || self
                .per_profile
                .get(profile)
                .is_some_and(|ids| ids.contains(id))
    }

    /// The ids this set names for `profile` that are not in `listed`.
    fn unlisted(&self, profile: &Profile, listed: &HashSet<&str>) -> Vec<String> {
        let mut missing: Vec<String> = self
            .every_profile
            .iter()
            .chain(self.per_profile.get(profile).into_iter().flatten())
            .filter(|id| !listed.contains(id.as_str()))
            .cloned()
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}

impl Selection {
    /// Whether anything narrows the run (then it is stored as partial).
    pub fn is_narrowed(&self) -> bool {
        !self.filters.is_empty() || !self.exclusions.is_empty() || !self.id_sets.is_empty()
    }

    /// The selected tests of a profile, in listing order. Ids a user listed
    /// that the profile does not have are an error.
    pub fn select(&self, profile: &Profile, listed: Vec<String>) -> Result<Vec<String>, RunError> {
        if !self.id_sets.is_empty() {
            let known: HashSet<&str> = listed.iter().map(String::as_str).collect();
            for set in self.id_sets.iter().filter(|s| s.must_be_listed) {
                let missing = set.unlisted(profile, &known);
                if !missing.is_empty() {
                    return Err(RunError::UnknownIds {
                        origin: set.source.clone(),
                        profile: profile.clone(),
                        count: missing.len(),
                        ids: missing,
                    });
                }
            }
        }
        Ok(listed
            .into_iter()
            .filter(|id| self.admits(profile, id))
            .collect())
    }

    /// Whether `id` is selected in `profile`, if it is listed.
    pub fn admits(&self, profile: &Profile, id: &str) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| f.is_match(id)))
            && !self.exclusions.iter().any(|e| e.is_match(id))
            && self.id_sets.iter().all(|set| set.contains(profile, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<String> {
        ["a.one", "a.two", "b.one"].map(String::from).to_vec()
    }

    #[test]
    fn filters_are_a_union_of_searches() {
        let selection = Selection {
            filters: vec![Regex::new("two").unwrap(), Regex::new("^b").unwrap()],
            ..Selection::default()
        };
        let picked = selection.select(&Profile::default(), listed()).unwrap();
        assert_eq!(picked, ["a.two", "b.one"]);
    }

    #[test]
    fn an_exclusion_wins_over_the_filters() {
        let selection = Selection {
            filters: vec![Regex::new("one").unwrap()],
            exclusions: vec![Regex::new("^b").unwrap()],
            ..Selection::default()
        };
        assert!(selection.is_narrowed());
        let picked = selection.select(&Profile::default(), listed()).unwrap();
        assert_eq!(picked, ["a.one"]);
    }

    #[test]
    fn id_sets_narrow_per_profile() {
        let py311 = Profile::new(["py311".to_owned()]);
        let set = IdSet {
            source: "--failing".into(),
            every_profile: ["a.one".to_owned()].into(),
            per_profile: [(py311.clone(), ["b.one".to_owned()].into())].into(),
            must_be_listed: false,
        };
        let selection = Selection {
            id_sets: vec![set],
            ..Selection::default()
        };
        assert_eq!(
            selection.select(&py311, listed()).unwrap(),
            ["a.one", "b.one"]
        );
        assert_eq!(
            selection.select(&Profile::default(), listed()).unwrap(),
            ["a.one"]
        );
    }

    #[test]
    fn a_listed_id_that_is_not_there_is_an_error() {
        let selection = Selection {
            id_sets: vec![IdSet {
                source: "--load-list ids.txt".into(),
                every_profile: ["a.one".to_owned(), "nope".to_owned()].into(),
                must_be_listed: true,
                ..IdSet::default()
            }],
            ..Selection::default()
        };
        let err = selection.select(&Profile::default(), listed()).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
