//! The keys that tell `run` and `list-tests` how to start tests, per
//! profile: a `[profile NAME]` section overrides any `[DEFAULT]` key.

use std::time::Duration;

use regex::Regex;

use super::{Config, ConfiguredProfile};

/// How a profile's tests are started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// `worker_command`: long-lived workers that list their tests, then run
    /// ids read from stdin (docs/worker-protocol.md).
    Worker { command: String },
    /// `test_command`: one process per batch of ids, with the Python testr's
    /// substitutions.
    Classic(ClassicCommand),
}

/// `test_command` and the keys that fill in its `$IDOPTION` and `$LISTOPT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassicCommand {
    pub command: String,
    /// `test_id_option`: what `$IDOPTION` becomes when ids are given.
    pub id_option: Option<String>,
    /// `test_list_option`: what `$LISTOPT` becomes when listing.
    pub list_option: Option<String>,
    /// `test_id_list_default`: the ids given when a process runs everything.
    pub id_list_default: Option<String>,
}

/// The runner's settings for one profile.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    pub launch: Launch,
    /// `group_regex`: tests whose ids give the same match (anchored at the
    /// start) run on one worker, in order.
    pub group_regex: Option<Regex>,
    /// `timeout`: seconds a test may take before its worker is killed.
    pub timeout: Option<Duration>,
}

/// A runner key that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{section} sets neither worker_command nor test_command")]
    NoCommand { section: String },
    #[error("bad group_regex `{pattern}` in {section}: {reason}")]
    GroupRegex {
        pattern: String,
        section: String,
        reason: String,
    },
    #[error("bad timeout `{value}` in {section}: expected a positive number of seconds")]
    Timeout { value: String, section: String },
}

impl Config {
    /// The runner settings of `profile` (None: the project's only, unnamed
    /// profile), with its `[profile NAME]` section over `[DEFAULT]`.
    pub fn runner_settings(
        &self,
        profile: Option<&ConfiguredProfile>,
    ) -> Result<RunnerSettings, SettingsError> {
        let section = match profile {
            Some(p) => format!("[profile {}]", p.name),
            None => "[DEFAULT]".to_owned(),
        };
        let get = |key: &str| self.profile_value(profile, key).map(str::to_owned);
        let launch = if let Some(command) = get("worker_command") {
            Launch::Worker { command }
        } else if let Some(command) = get("test_command") {
            Launch::Classic(ClassicCommand {
                command,
                id_option: get("test_id_option"),
                list_option: get("test_list_option"),
                id_list_default: get("test_id_list_default"),
            })
        } else {
            return Err(SettingsError::NoCommand { section });
        };
        let group_regex = match get("group_regex").filter(|p| !p.is_empty()) {
            Some(pattern) => Some(Regex::new(&format!("^(?:{pattern})")).map_err(|e| {
                SettingsError::GroupRegex {
                    pattern: pattern.clone(),
                    section: section.clone(),
                    reason: e.to_string().lines().last().unwrap_or_default().to_owned(),
                }
            })?),
            None => None,
        };
        let timeout = match get("timeout") {
            Some(value) => Some(parse_timeout(&value).ok_or(SettingsError::Timeout {
                value: value.clone(),
                section,
            })?),
            None => None,
        };
        Ok(RunnerSettings {
            launch,
            group_regex,
            timeout,
        })
    }
}

/// Seconds, as given to `--timeout` or the `timeout` key: a positive,
/// finite number.
pub fn parse_timeout(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, std::path::Path::new(".testr.conf")).unwrap()
    }

    #[test]
    fn a_profile_section_overrides_the_defaults() {
        let config = config(
            "[DEFAULT]\nworker_command=python3 w.py\ntimeout=2.5\nprofiles=py311 py312\n\
             [profile py312]\nworker_command=python3.12 w.py\n",
        );
        let [py311, py312] = config.profiles() else {
            panic!("{:?}", config.profiles())
        };
        let settings = config.runner_settings(Some(py311)).unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "python3 w.py".into()
            }
        );
        assert_eq!(settings.timeout, Some(Duration::from_millis(2500)));
        let settings = config.runner_settings(Some(py312)).unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "python3.12 w.py".into()
            }
        );
    }

    #[test]
    fn classic_keys_and_groups() {
        let config = config(
            "[DEFAULT]\ntest_command=run $IDOPTION\ntest_id_option=--load-list $IDFILE\n\
             group_regex=([^.]+\\.)+\n",
        );
        let settings = config.runner_settings(None).unwrap();
        let Launch::Classic(classic) = settings.launch else {
            panic!()
        };
        assert_eq!(classic.id_option.as_deref(), Some("--load-list $IDFILE"));
        assert_eq!(classic.list_option, None);
        let group = settings.group_regex.unwrap();
        assert_eq!(group.find("a.b.test_c").unwrap().as_str(), "a.b.");
    }

    #[test]
    fn bad_runner_keys_are_named() {
        let err = config("[DEFAULT]\nfilter_tags=x\n")
            .runner_settings(None)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "[DEFAULT] sets neither worker_command nor test_command"
        );
        let err = config("[DEFAULT]\ntest_command=x\ngroup_regex=(\n")
            .runner_settings(None)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bad group_regex `(` in [DEFAULT]"),
            "{err}"
        );
        for bad in ["0", "-1", "soon", "inf"] {
            let err = config(&format!("[DEFAULT]\ntest_command=x\ntimeout={bad}\n"))
                .runner_settings(None)
                .unwrap_err();
            assert!(matches!(err, SettingsError::Timeout { .. }), "{bad}: {err}");
        }
    }
}
