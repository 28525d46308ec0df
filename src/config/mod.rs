//! `.testr.conf`: the INI file of the Python testr, parsed into typed settings.

mod ini;
mod profiles;

pub use ini::{Ini, ParseError};
pub use profiles::{PatternError, ProfileTags};

use std::path::{Path, PathBuf};

/// The name of the configuration file in the project directory.
pub const FILE_NAME: &str = ".testr.conf";

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
}

/// The settings of a project. A project without `.testr.conf` gets the
/// defaults: the query commands need no configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    ini: Ini,
    filter_tags: Vec<String>,
    profile_tags: ProfileTags,
}

impl Config {
    /// Reads `DIR/.testr.conf`; a missing file gives the defaults.
    pub fn load(project_dir: &Path) -> Result<Config, Error> {
        let path = project_dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => return Err(Error::Read { path, source }),
        };
        let ini = Ini::parse(&text).map_err(|source| Error::Parse {
            path: path.clone(),
            source,
        })?;
        let profile_tags = ProfileTags::parse(&words(&ini, "profile_tags"))
            .map_err(|source| Error::Pattern { path, source })?;
        let filter_tags = words(&ini, "filter_tags");
        Ok(Config {
            ini,
            filter_tags,
            profile_tags,
        })
    }

    /// A raw value from `[DEFAULT]`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ini.get("DEFAULT", key)
    }

    /// Whether a result with these tags carries one of `filter_tags`, and
    /// so is not counted unless it failed.
    pub fn is_filtered(&self, tags: &[String]) -> bool {
        tags.iter().any(|t| self.filter_tags.contains(t))
    }

    /// `profile_tags`: the tags (or glob patterns) that identify profiles.
    pub fn profile_tags(&self) -> &ProfileTags {
        &self.profile_tags
    }
}

/// A `[DEFAULT]` value as a list of words (space or newline separated).
fn words(ini: &Ini, key: &str) -> Vec<String> {
    ini.get("DEFAULT", key)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}
