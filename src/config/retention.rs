//! How long stored runs are kept: `history_keep` (the newest N runs) and
//! `history_max_age` (runs stored within AGE), applied after each stored
//! run; and the AGE that `history remove --older-than` takes too.

use std::time::Duration;

/// What the retention keys of `.testr.conf` keep; nothing set keeps every run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// `history_keep`: how many of the newest runs are kept (at least 1).
    pub keep: Option<u64>,
    /// `history_max_age`: runs stored longer ago than this are removed.
    pub max_age: Option<Duration>,
}

impl Retention {
    /// Whether any key is set.
    pub fn is_set(&self) -> bool {
        self.keep.is_some() || self.max_age.is_some()
    }
}

/// A retention key that is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("bad history_keep `{value}` in [DEFAULT]: expected a whole number of runs, at least 1")]
    Keep { value: String },
    #[error("bad history_max_age `{value}` in [DEFAULT]: {problem}")]
    MaxAge { value: String, problem: AgeError },
}

/// Why an AGE is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgeError {
    #[error("expected a time such as 30d, 12h or 2w ({0})")]
    Malformed(String),
    #[error("expected a time above zero")]
    Zero,
}

/// An AGE such as `30d`, `12h`, `2w` or `1h 30m` (humantime's units:
/// s, m, h, d, w, months, y), above zero.
pub fn parse_age(value: &str) -> Result<Duration, AgeError> {
    let age =
        humantime::parse_duration(value.trim()).map_err(|e| AgeError::Malformed(e.to_string()))?;
    if age.is_zero() {
        return Err(AgeError::Zero);
    }
    Ok(age)
}

/// The retention keys, read through `get` from `[DEFAULT]`.
pub fn retention(get: impl Fn(&str) -> Option<String>) -> Result<Retention, RetentionError> {
    let keep = match get("history_keep") {
        None => None,
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Some(n),
            _ => return Err(RetentionError::Keep { value }),
        },
    };
    let max_age = match get("history_max_age") {
        None => None,
        Some(value) => match parse_age(&value) {
            Ok(age) => Some(age),
            Err(problem) => return Err(RetentionError::MaxAge { value, problem }),
        },
    };
    Ok(Retention { keep, max_age })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(keep: Option<&str>, max_age: Option<&str>) -> Result<Retention, RetentionError> {
        retention(|key| match key {
            "history_keep" => keep.map(str::to_owned),
            "history_max_age" => max_age.map(str::to_owned),
            _ => None,
        })
    }

    #[test]
    fn ages_in_days_hours_and_weeks() {
        assert_eq!(parse_age("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_age(" 12h "), Ok(Duration::from_secs(12 * 3_600)));
        assert_eq!(parse_age("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_age("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("0d"), Err(AgeError::Zero));
        assert!(matches!(parse_age("30"), Err(AgeError::Malformed(_))));
        assert!(matches!(parse_age("soon"), Err(AgeError::Malformed(_))));
        assert!(matches!(parse_age("-3d"), Err(AgeError::Malformed(_))));
    }

    #[test]
    fn keys_are_checked_when_read() {
        assert_eq!(read(None, None), Ok(Retention::default()));
        assert_eq!(
            read(Some("5"), Some("30d")),
            Ok(Retention {
                keep: Some(5),
                max_age: Some(Duration::from_secs(30 * 86_400)),
            })
        );
        for bad in ["0", "-1", "many", "1.5", "99999999999999999999999"] {
            assert_eq!(
                read(Some(bad), None).unwrap_err().to_string(),
                format!(
                    "bad history_keep `{bad}` in [DEFAULT]: expected a whole number of runs, \
                     at least 1"
                )
            );
        }
        assert!(
            read(None, Some("0s"))
                .unwrap_err()
                .to_string()
                .starts_with("bad history_max_age `0s` in [DEFAULT]: expected a time above zero")
        );
    }
}
