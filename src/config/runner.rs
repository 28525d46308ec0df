//! The keys that tell `run` and `list-tests` how to start tests, per
//! profile: a `[profile NAME]` section overrides any `[DEFAULT]` key. They
//! are checked when the file is read, whichever profile later runs.

use std::time::Duration;

use regex::Regex;

use super::recognise::{Recognition, recognise};

/// How a profile's tests are started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    /// Long-lived workers that list their tests, then run ids read from
    /// stdin (docs/worker-protocol.md): `worker_command`, or the shipped
    /// worker in place of a test command testr recognised.
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
    /// `list_timeout`: seconds a worker or listing command may take to list
    /// the tests ([`DEFAULT_LIST_TIMEOUT`] when not set).
    pub list_timeout: Option<Duration>,
    /// Why a test command that looked like a unittest runner still runs in
    /// batches, to tell the user when it runs.
    pub kept_classic: Option<String>,
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
    #[error("bad timeout `{value}` in {section}: {problem}")]
    Timeout {
        value: String,
        section: String,
        problem: TimeoutError,
    },
    #[error("bad list_timeout `{value}` in {section}: {problem}")]
    ListTimeout {
        value: String,
        section: String,
        problem: TimeoutError,
    },
    #[error("bad stream `{value}` in {section}: expected yes or no")]
    Stream { value: String, section: String },
}

/// The longest timeout testr takes: about eleven days. Longer ones are
/// surely mistakes, and would overflow the clocks that measure them.
pub const MAX_TIMEOUT_SECS: f64 = 1_000_000.0;

/// How long listing may take when `list_timeout` is not set: far longer than
/// any suite takes to import, short enough that a worker stuck before its
/// listing (waiting on a lock, a prompt, a network) does not hold a CI job
/// until the job is killed for time.
pub const DEFAULT_LIST_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a timeout is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    #[error("expected a number of seconds")]
    NotANumber,
    #[error("expected more than 0 seconds and at most {MAX_TIMEOUT_SECS}")]
    OutOfRange,
}

/// Seconds, as given to `--timeout` or the `timeout` key: a finite number
/// above zero and at most `MAX_TIMEOUT_SECS`.
pub fn parse_timeout(value: &str) -> Result<Duration, TimeoutError> {
    let seconds: f64 = value.trim().parse().map_err(|_| TimeoutError::NotANumber)?;
    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECS {
        Ok(Duration::from_secs_f64(seconds))
    } else {
        Err(TimeoutError::OutOfRange)
    }
}

/// A boolean as Python's `configparser` reads one.
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// The settings of one `.testr.conf` section, read through `get` (which
/// falls back to `[DEFAULT]`); `None` when it sets no command, which is
/// not an error until the profile runs: the query commands need none.
pub(super) fn testr_section(
    section: &str,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Option<RunnerSettings>, SettingsError> {
    let group_regex = match get("group_regex") {
        Some(pattern) => compile_group_regex(&pattern, section)?,
        None => None,
    };
    let timeout = match get("timeout") {
        Some(value) => Some(
            parse_timeout(&value).map_err(|problem| SettingsError::Timeout {
                value: value.clone(),
                section: section.to_owned(),
                problem,
            })?,
        ),
        None => None,
    };
    let list_timeout = match get("list_timeout") {
        Some(value) => {
            Some(
                parse_timeout(&value).map_err(|problem| SettingsError::ListTimeout {
                    value: value.clone(),
                    section: section.to_owned(),
                    problem,
                })?,
            )
        }
        None => None,
    };
    let stream = match get("stream") {
        Some(value) => parse_bool(&value).ok_or_else(|| SettingsError::Stream {
            value: value.clone(),
            section: section.to_owned(),
        })?,
        None => true,
    };
    let mut kept_classic = None;
    let launch = if let Some(command) = get("worker_command") {
        Launch::Worker { command }
    } else if let Some(command) = get("test_command") {
        let classic = ClassicCommand {
            command,
            id_option: get("test_id_option"),
            list_option: get("test_list_option"),
            id_list_default: get("test_id_list_default"),
        };
        match stream.then(|| recognise(&classic)) {
            Some(Recognition::Streamed { worker_command }) => Launch::Worker {
                command: worker_command,
            },
            Some(Recognition::Classic { reason }) => {
                kept_classic = reason;
                Launch::Classic(classic)
            }
            None => Launch::Classic(classic),
        }
    } else {
        return Ok(None);
    };
    Ok(Some(RunnerSettings {
        launch,
        group_regex,
        timeout,
        list_timeout,
        kept_classic,
    }))
}

/// `group_regex`, anchored at the start; an empty one groups nothing.
pub(super) fn compile_group_regex(
    pattern: &str,
    section: &str,
) -> Result<Option<Regex>, SettingsError> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})"))
        .map(Some)
        .map_err(|e| SettingsError::GroupRegex {
            pattern: pattern.to_owned(),
            section: section.to_owned(),
            reason: e.to_string().lines().last().unwrap_or_default().to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(keys: &[(&str, &str)]) -> Result<Option<RunnerSettings>, SettingsError> {
        testr_section("[DEFAULT]", |key| {
            keys.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn timeouts_are_bounded() {
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(
            parse_timeout(" 1000000 "),
            Ok(Duration::from_secs(1_000_000))
        );
        for bad in [
            "0",
            "-1",
            "inf",
            "NaN",
            "1e30",
            "1e19",
            "18446744073709551615",
            "1000000.5",
        ] {
            assert_eq!(parse_timeout(bad), Err(TimeoutError::OutOfRange), "{bad}");
        }
        assert_eq!(parse_timeout("soon"), Err(TimeoutError::NotANumber));
    }

    #[test]
    fn a_recognised_test_command_streams_unless_told_not_to() {
        let command = "${PYTHON:-python} -m subunit.run discover -t . synth $LISTOPT $IDOPTION";
        let keys = [
            ("test_command", command),
            ("test_id_option", "--load-list $IDFILE"),
            ("test_list_option", "--list"),
        ];
        let settings = section(&keys).unwrap().unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "${PYTHON:-python} $PYTHON_WORKER --worker discover -t . synth".into()
            }
        );
        let mut off = keys.to_vec();
        off.push(("stream", "no"));
        let settings = section(&off).unwrap().unwrap();
        assert!(
            matches!(settings.launch, Launch::Classic(_)),
            "{settings:?}"
        );
        assert_eq!(settings.kept_classic, None);
        let mut bad = keys.to_vec();
        bad.push(("stream", "maybe"));
        assert_eq!(
            section(&bad).unwrap_err().to_string(),
            "bad stream `maybe` in [DEFAULT]: expected yes or no"
        );
    }

    #[test]
    fn bad_keys_are_named_and_a_missing_command_waits() {
        assert!(section(&[("filter_tags", "x")]).unwrap().is_none());
        let err = section(&[("test_command", "x"), ("group_regex", "(")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bad group_regex `(` in [DEFAULT]"),
            "{err}"
        );
        let err = section(&[("test_command", "x"), ("timeout", "1e30")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad timeout `1e30` in [DEFAULT]: expected more than 0 seconds and at most 1000000"
        );
    }
}
