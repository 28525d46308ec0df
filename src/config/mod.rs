//! `.testr.conf`: the INI file of the Python testr, parsed into typed settings.

mod ini;
mod profiles;
mod runner;

pub use ini::{Ini, ParseError};
pub use profiles::{PatternError, ProfileTags};
pub use runner::{ClassicCommand, Launch, RunnerSettings, SettingsError, parse_timeout};

use std::path::{Path, PathBuf};

use crate::model::Profile;

/// The name of the configuration file in the project directory.
pub const FILE_NAME: &str = ".testr.conf";

/// The prefix of a section that overrides keys for one profile.
const PROFILE_SECTION: &str = "profile ";

/// Errors reading `.testr.conf`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("failed to read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to parse {path}: {source}")]
    Parse { path: PathBuf, source: ParseError },
    #[error("failed to read {path}: {source}")]
    Pattern { path: PathBuf, source: PatternError },
    #[error("failed to read {path}: {message}")]
    Profiles { path: PathBuf, message: String },
    #[error("failed to read {path}: {source}")]
    Settings {
        path: PathBuf,
        source: SettingsError,
    },
}

/// A profile named by the `profiles` key: `py311`, or `py312,postgres` for
/// one cell of a matrix. Its tags are the name split at commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProfile {
    /// The name as written in `profiles` (what `$PROFILE` becomes).
    pub name: String,
    pub profile: Profile,
}

/// The settings of a project. A project without `.testr.conf` gets the
/// defaults: the query commands need no configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    path: PathBuf,
    ini: Ini,
    filter_tags: Vec<String>,
    profile_tags: ProfileTags,
    profiles: Vec<ConfiguredProfile>,
}

impl Config {
    /// Reads `DIR/.testr.conf`; a missing file gives the defaults.
    pub fn load(project_dir: &Path) -> Result<Config, Error> {
        let path = project_dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config {
                path,
                ..Config::default()
            }),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    /// Parses the text of a `.testr.conf` read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let path = path.to_owned();
        let ini = Ini::parse(text).map_err(|source| Error::Parse {
            path: path.clone(),
            source,
        })?;
        let profiles = configured_profiles(&ini).map_err(|message| Error::Profiles {
            path: path.clone(),
            message,
        })?;
        let mut profile_tags =
            ProfileTags::parse(&words(&ini, "profile_tags")).map_err(|source| Error::Pattern {
                path: path.clone(),
                source,
            })?;
        // The tags of a configured profile identify it, named in
        // profile_tags or not.
        profile_tags.add_names(profiles.iter().flat_map(|p| p.profile.tags()));
        let filter_tags = words(&ini, "filter_tags");
        Ok(Config {
            path,
            ini,
            filter_tags,
            profile_tags,
            profiles,
        })
    }

    /// Where the settings were read from (or would be).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A raw value from `[DEFAULT]`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ini.get("DEFAULT", key)
    }

    /// A raw value for one profile: its `[profile NAME]` section, then
    /// `[DEFAULT]`.
    pub fn profile_value(&self, profile: Option<&ConfiguredProfile>, key: &str) -> Option<&str> {
        match profile {
            Some(p) => self.ini.get(&format!("{PROFILE_SECTION}{}", p.name), key),
            None => self.get(key),
        }
    }

    /// Whether a result with these tags carries one of `filter_tags`, and
    /// so is not counted unless it failed.
    pub fn is_filtered(&self, tags: &[String]) -> bool {
        tags.iter().any(|t| self.filter_tags.contains(t))
    }

    /// `profile_tags`, and the tags of the configured profiles: the tags
    /// that identify profiles.
    pub fn profile_tags(&self) -> &ProfileTags {
        &self.profile_tags
    }

    /// The profiles of the `profiles` key, in the order given; empty when the
    /// project runs its tests one way only.
    pub fn profiles(&self) -> &[ConfiguredProfile] {
        &self.profiles
    }

    /// [`Config::runner_settings`] with the file named in its error.
    pub fn runner_settings_for(
        &self,
        profile: Option<&ConfiguredProfile>,
    ) -> Result<RunnerSettings, Error> {
        self.runner_settings(profile)
            .map_err(|source| Error::Settings {
                path: self.path.clone(),
                source,
            })
    }
}

/// The `profiles` key, checked: every name has tags, no profile twice, and
/// every `[profile NAME]` section names one of them.
fn configured_profiles(ini: &Ini) -> Result<Vec<ConfiguredProfile>, String> {
    let mut profiles: Vec<ConfiguredProfile> = Vec::new();
    for name in words(ini, "profiles") {
        let profile = Profile::new(name.split(',').filter(|t| !t.is_empty()).map(str::to_owned));
        if profile.is_empty() {
            return Err(format!("profile `{name}` in `profiles` has no tags"));
        }
        if let Some(twin) = profiles.iter().find(|p| p.profile == profile) {
            return Err(format!(
                "profiles `{}` and `{name}` in `profiles` are the same profile",
                twin.name
            ));
        }
        profiles.push(ConfiguredProfile { name, profile });
    }
    for section in ini.section_names() {
        if let Some(name) = section.strip_prefix(PROFILE_SECTION) {
            if !profiles.iter().any(|p| p.name == name.trim()) {
                return Err(format!(
                    "section [{section}] names no profile of the `profiles` key"
                ));
            }
        }
    }
    Ok(profiles)
}

/// A `[DEFAULT]` value as a list of words (space or newline separated).
fn words(ini: &Ini, key: &str) -> Vec<String> {
    ini.get("DEFAULT", key)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new(".testr.conf"))
    }

    #[test]
    fn configured_profiles_are_profile_tags() {
        let config = parse("[DEFAULT]\nprofiles = py311,sqlite py312,sqlite\n").unwrap();
        let names: Vec<_> = config.profiles().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["py311,sqlite", "py312,sqlite"]);
        assert!(config.profile_tags().matches("py312"));
        assert!(config.profile_tags().matches("sqlite"));
        assert!(!config.profile_tags().matches("worker-0"));
    }

    #[test]
    fn bad_profiles_are_errors() {
        for (text, expected) in [
            (
                "profiles = a b,c c,b\n",
                "profiles `b,c` and `c,b` in `profiles` are the same profile",
            ),
            ("profiles = ,\n", "profile `,` in `profiles` has no tags"),
            (
                "profiles = a\n[profile b]\nx = 1\n",
                "section [profile b] names no profile of the `profiles` key",
            ),
        ] {
            let err = parse(&format!("[DEFAULT]\n{text}")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("failed to read .testr.conf: {expected}")
            );
        }
    }
}
