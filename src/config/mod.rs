//! A project's configuration: `.testr.conf` (the INI file of the Python
//! testr), or stestr's `.stestr.conf`, parsed once into typed settings.

mod ini;
mod keys;
mod profiles;
mod project;
mod recognise;
mod retention;
mod runner;
mod stestr;

pub use ini::{Ini, ParseError};
pub use profiles::{PatternError, ProfileTags};
pub use project::{Config, ConfiguredProfile, FILE_NAME, Overrides, STESTR_FILE_NAME, Source};
pub use retention::{AgeError, Retention, RetentionError, parse_age};
pub use runner::{
    ClassicCommand, DEFAULT_LIST_TIMEOUT, Launch, RunnerSettings, SettingsError, TimeoutError,
    parse_timeout,
};
pub use stestr::worker_command as stestr_worker_command;
