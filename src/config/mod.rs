//! `.testr.conf`: the INI file of the Python testr, parsed into typed settings.

mod ini;

pub use ini::{Ini, ParseError};

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
}

/// The settings of a project. A project without `.testr.conf` gets the
/// defaults: the query commands need no configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    ini: Ini,
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
        let ini = Ini::parse(&text).map_err(|source| Error::Parse { path, source })?;
        Ok(Config { ini })
    }

    /// Parses configuration text (for tests and tools).
    pub fn from_text(text: &str) -> Result<Config, ParseError> {
        Ok(Config {
            ini: Ini::parse(text)?,
        })
    }

    /// A raw value from `[DEFAULT]`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.ini.get("DEFAULT", key)
    }

    /// `filter_tags`: tests carrying any of these tags are not counted.
    pub fn filter_tags(&self) -> Vec<String> {
        self.words("filter_tags")
    }

    fn words(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}
