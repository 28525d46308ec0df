//! A project's configuration: `.testr.conf` (the INI file of the Python
//! testr), or stestr's `.stestr.conf`, parsed once into typed settings.

mod ini;
mod keys;
mod profiles;
mod project;
mod recognise;
mod runner;
mod stestr;

pub use ini::{Ini, ParseError};
pub use keys::Warning;
pub use profiles::{PatternError, ProfileTags};
pub use project::{Config, ConfiguredProfile, Error, FILE_NAME, STESTR_FILE_NAME, Source};
pub use runner::{
    ClassicCommand, Launch, MAX_TIMEOUT_SECS, RunnerSettings, SettingsError, TimeoutError,
    parse_timeout,
};
pub use stestr::StestrError;
