//! A profile's listing as its worker or listing command sent it: the test
//! ids in order, and what a worker says of how to schedule them, as tags
//! on its `exists` packets (docs/worker-protocol.md): a named group whose
//! tests run on one worker in order, and tests that must run with nothing
//! else running.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;

/// The tag prefix that names a test's group: `testr-group:NAME`.
pub const GROUP_TAG: &str = "testr-group:";

/// The tag of a test that must run with nothing else running.
pub const EXCLUSIVE_TAG: &str = "testr-exclusive";

/// The tag, on a worker's end-of-listing marker, of a worker that tears its
/// fixtures down by the test it runs next (pytest's rule): it is kept one
/// test queued behind the one it runs.
pub const WANTS_NEXT_TAG: &str = "testr-wants-next";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    /// In listing order, each once.
    pub ids: Vec<String>,
    /// The group each grouped test belongs to, by id.
    pub groups: HashMap<String, String>,
    /// The tests that run alone.
    pub exclusive: HashSet<String>,
}

impl Listing {
    /// A listing of plain ids, with no scheduling hints.
    pub fn of_ids(ids: Vec<String>) -> Listing {
        Listing {
            ids,
            ..Listing::default()
        }
    }

    /// Adds a listed test with the tags of its `exists` packet.
    pub fn push(&mut self, id: String, tags: &[String]) {
        for tag in tags {
            if let Some(group) = tag.strip_prefix(GROUP_TAG) {
                self.groups.insert(id.clone(), group.to_owned());
            } else if tag == EXCLUSIVE_TAG {
                self.exclusive.insert(id.clone());
            }
        }
        self.ids.push(id);
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_groups_and_tests_that_run_alone() {
        let mut listing = Listing::default();
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        listing.push("a".into(), &tags(&["testr-group:db", "other"]));
        listing.push("b".into(), &tags(&[EXCLUSIVE_TAG]));
        listing.push("c".into(), &[]);
        assert_eq!(listing.ids, ["a", "b", "c"]);
        assert_eq!(listing.groups.get("a").map(String::as_str), Some("db"));
        assert_eq!(listing.groups.len(), 1);
        assert!(listing.exclusive.contains("b"));
        assert_eq!(listing.exclusive.len(), 1);
    }
}
