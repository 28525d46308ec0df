//! Choosing the one profile a flat list speaks of, and naming profiles on
//! the command line (their tags joined with commas, in any order).

use std::io::Write;

use super::Error;
use crate::cli::ProfileArgs;
use crate::config::ProfileTags;
use crate::model::Profile;
use crate::report::json::{self, ProfilesDoc};

/// The profile named by `--profile TAGS`, checked against `profile_tags`.
pub fn parse(requested: &str, profile_tags: &ProfileTags) -> Result<Profile, Error> {
    if profile_tags.is_empty() {
        return Err(Error::NoProfileTags {
            requested: requested.to_owned(),
        });
    }
    let profile = Profile::new(
        requested
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    );
    if let Some(tag) = profile.tags().iter().find(|t| !profile_tags.matches(t)) {
        return Err(Error::NotAProfileTag {
            tag: tag.clone(),
            requested: requested.to_owned(),
        });
    }
    Ok(profile)
}

/// What a flat-list command does about profiles.
pub enum Choice {
    /// `--profiles`: the profiles were printed; nothing else to do.
    Listed,
    /// Show the results in this scope.
    Show(Scope),
}

/// The profiles a command speaks of: one, or every one (JSON output, or a
/// repository with no results at all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Option<Profile>);

impl Scope {
    /// Every profile.
    pub fn all() -> Scope {
        Scope(None)
    }

    /// The one profile, when the scope is one.
    pub fn profile(&self) -> Option<&Profile> {
        self.0.as_ref()
    }

    /// Whether results of `profile` are in scope.
    pub fn covers(&self, profile: &Profile) -> bool {
        self.0.as_ref().is_none_or(|only| only == profile)
    }
}

/// Picks the profile among those `in_play`: the one asked for, or the only
/// one there is. Several and none asked for is an error that lists them,
/// except for `json` output, which covers them all.
pub fn choose(
    args: &ProfileArgs,
    json: bool,
    in_play: Vec<Profile>,
    profile_tags: &ProfileTags,
    out: &mut dyn Write,
) -> anyhow::Result<Choice> {
    if args.profiles {
        if json {
            let profiles = in_play.iter().map(json::profile_tags).collect();
            let doc = ProfilesDoc {
                version: json::VERSION,
                profiles,
            };
            json::write_json(out, &doc)?;
        } else {
            for profile in &in_play {
                writeln!(out, "{}", display(profile))?;
            }
        }
        return Ok(Choice::Listed);
    }
    let known = || in_play.iter().map(display).collect::<Vec<_>>().join(", ");
    match &args.profile {
        Some(requested) => {
            let profile = parse(requested, profile_tags)?;
            if in_play.contains(&profile) {
                Ok(Choice::Show(Scope(Some(profile))))
            } else {
                Err(Error::UnknownProfile {
                    requested: requested.clone(),
                    known: known(),
                }
                .into())
            }
        }
        None if json => Ok(Choice::Show(Scope::all())),
        None if in_play.len() > 1 => Err(Error::SeveralProfiles { known: known() }.into()),
        None => Ok(Choice::Show(Scope(in_play.into_iter().next()))),
    }
}

/// A profile as users name it; the empty profile (results without profile
/// tags) reads `(none)`.
pub fn display(profile: &Profile) -> String {
    if profile.is_empty() {
        "(none)".to_owned()
    } else {
        profile.to_string()
    }
}
