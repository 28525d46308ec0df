//! Concurrency plans (`run --plan FILE`): segments of tests that run one
//! after the other, each alone (`exclusive`), with at most `max_workers`
//! tests at once, or freely in parallel (docs/plans.md).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::model::Profile;
use crate::report::escape_controls;

/// The plan format this build reads.
pub const VERSION: u64 = 1;

/// A checked plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Where it was read from, for messages.
    pub source: PathBuf,
    pub segments: Vec<Segment>,
}

/// Tests that may run together, after every test of the segments before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub tests: Vec<Entry>,
    /// One test at a time, with nothing else running anywhere.
    pub exclusive: bool,
    /// At most this many tests at once (never more than the run's concurrency).
    pub max_workers: Option<usize>,
}

impl Segment {
    /// How many tests of the segment may run at once.
    pub fn limit(&self) -> Option<usize> {
        if self.exclusive {
            Some(1)
        } else {
            self.max_workers
        }
    }
}

/// A test named by a plan: in every profile of the run, or in one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub id: String,
    pub profile: Option<Profile>,
}

/// A plan that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad plan {path}: {problem}")]
pub struct PlanError {
    pub path: PathBuf,
    pub problem: String,
}

impl Plan {
    /// Reads and checks a plan file.
    pub fn read(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            path: path.to_owned(),
            problem: format!("cannot read it: {e}"),
        })?;
        Plan::parse(&text, path)
    }

    /// Parses and checks the text of a plan.
    pub fn parse(text: &str, path: &Path) -> Result<Plan, PlanError> {
        let bad = |problem: String| PlanError {
            path: path.to_owned(),
            problem,
        };
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message);
            bad(format!(
                "malformed JSON at line {} column {}: {message}",
                e.line(),
                e.column()
            ))
        })?;
        let Value::Object(fields) = &doc else {
            return Err(bad(
                "expected an object with `version` and `segments`".into()
            ));
        };
        match fields.get("version") {
            Some(v) if v.as_u64() == Some(VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "unknown version {v}: this testr reads version {VERSION}"
                )));
            }
            None => return Err(bad("no `version` (this testr reads version 1)".into())),
        }
        let Some(Value::Array(raw_segments)) = fields.get("segments") else {
            return Err(bad("no `segments` array".into()));
        };
        let mut segments = Vec::new();
        let mut first_place: HashMap<String, (usize, Option<Profile>)> = HashMap::new();
        for (index, raw) in raw_segments.iter().enumerate() {
            let at = format!("segments[{index}]");
            let segment = parse_segment(raw, &at).map_err(bad)?;
            for entry in &segment.tests {
                // A plain id covers every profile, so it clashes with any
                // other mention of the id; two records clash on one profile.
                if let Some((other, profile)) = first_place.get(&entry.id) {
                    if profile.is_none() || entry.profile.is_none() || *profile == entry.profile {
                        return Err(bad(format!(
                            "test {} is named in segments[{other}] and in {at}",
                            escape_controls(&entry.id)
                        )));
                    }
                }
                first_place
                    .entry(entry.id.clone())
                    .or_insert((index, entry.profile.clone()));
            }
            segments.push(segment);
        }
        if segments.iter().all(|s| s.tests.is_empty()) {
            return Err(bad("the plan names no tests".into()));
        }
        Ok(Plan {
            source: path.to_owned(),
            segments,
        })
    }

    /// Checks that every record names one of `profiles`: the configured
    /// ones, or the unnamed profile of a project that configures none. A
    /// record of any other profile places no test, and the test it meant
    /// would run outside its segment, free of an `exclusive` or
    /// `max_workers` it was given.
    pub fn check_profiles(&self, profiles: &[Profile]) -> Result<(), PlanError> {
        for (index, segment) in self.segments.iter().enumerate() {
            for (position, entry) in segment.tests.iter().enumerate() {
                let Some(profile) = &entry.profile else {
                    continue;
                };
                if profiles.contains(profile) {
                    continue;
                }
                let known = if profiles.iter().all(Profile::is_empty) {
                    "the project configures no profiles".to_owned()
                } else {
                    let tags: Vec<String> = profiles.iter().map(tags_json).collect();
                    format!("the configured profiles are {}", tags.join(", "))
                };
                return Err(PlanError {
                    path: self.source.clone(),
                    problem: format!(
                        "segments[{index}].tests[{position}] places {} in profile {}, \
                         which is not configured ({known})",
                        escape_controls(&entry.id),
                        tags_json(profile)
                    ),
                });
            }
        }
        Ok(())
    }

    /// The segment of every test the plan names for `profile`.
    pub fn placement(&self, profile: &Profile) -> BTreeMap<&str, usize> {
        let mut placed = BTreeMap::new();
        for (index, segment) in self.segments.iter().enumerate() {
            for entry in &segment.tests {
                if entry.profile.as_ref().is_none_or(|p| p == profile) {
                    placed.insert(entry.id.as_str(), index);
                }
            }
        }
        placed
    }
}

/// A profile as a plan writes it: its tags as a JSON array.
fn tags_json(profile: &Profile) -> String {
    serde_json::to_string(profile.tags()).expect("a list of strings serializes")
}

fn parse_segment(raw: &Value, at: &str) -> Result<Segment, String> {
    let Value::Object(fields) = raw else {
        return Err(format!("{at} is not an object"));
    };
    if let Some(key) = fields
        .keys()
        .find(|k| !["tests", "exclusive", "max_workers"].contains(&k.as_str()))
    {
        return Err(format!("{at} has an unknown key `{key}`"));
    }
    let Some(Value::Array(raw_tests)) = fields.get("tests") else {
        return Err(format!("{at} has no `tests` array"));
    };
    let exclusive = match fields.get("exclusive") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(format!("{at}.exclusive is not true or false")),
    };
    let max_workers = match fields.get("max_workers") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => {
                return Err(format!(
                    "{at}.max_workers is {v}: it must be a whole number of at least 1"
                ));
            }
        },
    };
    let mut tests = Vec::with_capacity(raw_tests.len());
    for (index, raw) in raw_tests.iter().enumerate() {
        let at = format!("{at}.tests[{index}]");
        tests.push(match raw {
            Value::String(id) => Entry {
                id: id.clone(),
                profile: None,
            },
            Value::Object(record) => {
                let id = record
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{at} has no string `id`"))?;
                let profile = match record.get("profile") {
                    None => None,
                    Some(Value::Array(tags)) => Some(Profile::new(
                        tags.iter()
                            .map(|t| t.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| format!("{at}.profile is not an array of strings"))?,
                    )),
                    Some(_) => return Err(format!("{at}.profile is not an array of strings")),
                };
                Entry {
                    id: id.to_owned(),
                    profile,
                }
            }
            _ => {
                return Err(format!(
                    "{at} is neither an id nor an {{id, profile}} record"
                ));
            }
        });
    }
    Ok(Segment {
        tests,
        exclusive,
        max_workers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Plan, PlanError> {
        Plan::parse(text, Path::new("plan.json"))
    }

    fn problem(text: &str) -> String {
        parse(text).unwrap_err().problem
    }

    #[test]
    fn reads_segments_ids_and_records() {
        let plan = parse(
            r#"{"version": 1, "segments": [
                {"tests": ["a.quota"], "exclusive": true},
                {"tests": ["a.one", {"id": "a.two", "profile": ["py312"]}], "max_workers": 2},
                {"tests": [{"id": "a.two", "profile": ["py311"]}]}
            ]}"#,
        )
        .unwrap();
        assert_eq!(plan.segments.len(), 3);
        assert_eq!(plan.segments[0].limit(), Some(1));
        assert_eq!(plan.segments[1].limit(), Some(2));
        assert_eq!(plan.segments[2].limit(), None);
        let py312 = Profile::new(["py312".to_owned()]);
        let placed = plan.placement(&py312);
        assert_eq!(placed.get("a.two"), Some(&1));
        assert_eq!(placed.get("a.quota"), Some(&0));
        let py311 = Profile::new(["py311".to_owned()]);
        assert_eq!(plan.placement(&py311).get("a.two"), Some(&2));
    }

    #[test]
    fn bad_plans_are_named() {
        assert!(
            problem("{\"version\": 1,\n \"segments\": [}")
                .starts_with("malformed JSON at line 2 column")
        );
        assert_eq!(
            problem(r#"{"version": 2, "segments": []}"#),
            "unknown version 2: this testr reads version 1"
        );
        assert_eq!(
            problem(r#"{"version": 1, "segments": [{"tests": ["x"]}, {"tests": ["y", "x"]}]}"#),
            "test x is named in segments[0] and in segments[1]"
        );
        assert_eq!(
            problem(
                r#"{"version": 1, "segments": [{"tests": ["x"]}, {"tests": [{"id": "x", "profile": ["p"]}]}]}"#
            ),
            "test x is named in segments[0] and in segments[1]"
        );
        for bad in ["0", "-1", "1.5", "\"2\""] {
            let text = format!(
                r#"{{"version": 1, "segments": [{{"tests": ["x"], "max_workers": {bad}}}]}}"#
            );
            assert!(problem(&text).contains("max_workers"), "{bad}");
        }
        assert_eq!(
            problem(r#"{"version": 1, "segments": []}"#),
            "the plan names no tests"
        );
        assert_eq!(
            problem(r#"{"version": 1, "segments": [{"tests": []}]}"#),
            "the plan names no tests"
        );
        assert!(
            problem(r#"{"version": 1, "segments": [{"tests": [], "exlusive": true}]}"#)
                .contains("unknown key `exlusive`")
        );
    }

    #[test]
    fn a_record_of_a_profile_that_is_not_configured_is_refused() {
        let plan = parse(
            r#"{"version": 1, "segments": [
                {"tests": ["x", {"id": "y", "profile": ["py311"]}]},
                {"tests": [{"id": "z", "profile": ["py31"]}], "exclusive": true}
            ]}"#,
        )
        .unwrap();
        let py311 = Profile::new(["py311".to_owned()]);
        let py312 = Profile::new(["py312".to_owned()]);
        assert_eq!(
            plan.check_profiles(&[py311.clone(), py312])
                .unwrap_err()
                .to_string(),
            "bad plan plan.json: segments[1].tests[0] places z in profile [\"py31\"], which is \
             not configured (the configured profiles are [\"py311\"], [\"py312\"])"
        );
        assert_eq!(
            plan.check_profiles(&[Profile::default()])
                .unwrap_err()
                .problem,
            "segments[0].tests[1] places y in profile [\"py311\"], which is not configured \
             (the project configures no profiles)"
        );
        let fixed = parse(
            r#"{"version": 1, "segments": [{"tests": ["x", {"id": "y", "profile": ["py311"]}]}]}"#,
        )
        .unwrap();
        assert_eq!(fixed.check_profiles(&[py311]), Ok(()));
    }

    #[test]
    fn records_of_different_profiles_may_sit_in_different_segments() {
        let plan = parse(
            r#"{"version": 1, "segments": [
                {"tests": [{"id": "x", "profile": ["a"]}]},
                {"tests": [{"id": "x", "profile": ["b"]}]}
            ]}"#,
        );
        assert!(plan.is_ok(), "{plan:?}");
    }
}
