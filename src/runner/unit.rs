//! Units of scheduling: a test alone, or a group of tests that must run on
//! one worker in order (by the profile's `group_regex`, or named by the
//! worker: `testr-group:NAME`), with what the unit is expected to take.

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;

/// Tests that run on one worker, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub ids: Vec<String>,
    /// Nanoseconds expected, when every test of the unit has a history.
    pub estimate: Option<i64>,
}

/// What makes tests one unit: the profile's `group_regex`, and the groups
/// its worker named in its listing (`testr-group:NAME`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Grouping<'a> {
    pub regex: Option<&'a Regex>,
    pub named: Option<&'a HashMap<String, String>>,
}

/// The group a test belongs to: one its worker named, else its
/// `group_regex` match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum GroupKey {
    Named(String),
    Matched(String),
}

impl Grouping<'_> {
    fn key(&self, id: &str) -> Option<GroupKey> {
        if let Some(name) = self.named.and_then(|named| named.get(id)) {
            return Some(GroupKey::Named(name.clone()));
        }
        let matched = self.regex?.find(id)?;
        Some(GroupKey::Matched(matched.as_str().to_owned()))
    }
}

/// Splits `ids` into units: a test alone, or every test of one group, in
/// listing order, placed where its first test was.
pub fn make_units(
    ids: Vec<String>,
    grouping: Grouping<'_>,
    estimates: Option<&HashMap<String, i64>>,
) -> Vec<Unit> {
    let estimate_of = |id: &str| estimates.and_then(|e| e.get(id).copied());
    let mut units: Vec<Unit> = Vec::new();
    let mut by_key: HashMap<GroupKey, usize> = HashMap::default();
    for id in ids {
        let estimate = estimate_of(&id);
        let key = grouping.key(&id);
        match key.as_ref().and_then(|k| by_key.get(k)) {
            Some(&index) => {
                let unit = &mut units[index];
                unit.estimate = unit.estimate.zip(estimate).map(|(a, b)| a + b);
                unit.ids.push(id);
            }
            None => {
                if let Some(key) = key {
                    by_key.insert(key, units.len());
                }
                units.push(Unit {
                    ids: vec![id],
                    estimate,
                });
            }
        }
    }
    units
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Test ids from names (also for the scheduler's tests).
    pub(in crate::runner) fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Estimates by id (also for the scheduler's tests).
    pub(in crate::runner) fn estimates(pairs: &[(&str, i64)]) -> HashMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn groups_stay_together_in_order() {
        let group = Regex::new(r"^(?:[^.]+\.)").unwrap();
        let e = estimates(&[("x.1", 1), ("y.1", 5), ("x.2", 7)]);
        let named: HashMap<String, String> =
            [("z".to_owned(), "x.".to_owned())].into_iter().collect();
        let grouping = Grouping {
            regex: Some(&group),
            named: Some(&named),
        };
        let units = make_units(ids(&["x.1", "y.1", "x.2", "z", "w"]), grouping, Some(&e));
        assert_eq!(
            units,
            [
                Unit {
                    ids: ids(&["x.1", "x.2"]),
                    estimate: Some(8)
                },
                Unit {
                    ids: ids(&["y.1"]),
                    estimate: Some(5)
                },
                Unit {
                    ids: ids(&["z"]),
                    estimate: None
                },
                Unit {
                    ids: ids(&["w"]),
                    estimate: None
                },
            ],
            "a group named `x.` is not the one `x.` matches"
        );
        let named: HashMap<String, String> = [("a", "g"), ("b", "g")]
            .into_iter()
            .map(|(id, g)| (id.to_owned(), g.to_owned()))
            .collect();
        let grouping = Grouping {
            regex: None,
            named: Some(&named),
        };
        let units = make_units(ids(&["a", "c", "b"]), grouping, None);
        assert_eq!(units[0].ids, ["a", "b"]);
        assert_eq!(units[1].ids, ["c"]);
    }
}
