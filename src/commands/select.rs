//! Turning `run` and `list-tests` arguments into what the runner needs: the
//! chosen profiles with their settings, the filters, the ids of a
//! `--load-list` file, and the concurrency.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::{Context, Error};
use crate::cli::RegexSelection;
use crate::config::{Config, ConfiguredProfile, parse_timeout};
use crate::model::Profile;
use crate::runner::{IdSet, ProfileHistory, ProfileRun};

/// The project's configuration, its warnings (keys that do nothing)
/// printed on stderr.
pub fn load_config(ctx: &mut Context<'_>) -> anyhow::Result<Config> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    for warning in config.warnings() {
        writeln!(ctx.stderr, "testr: warning: {warning}")?;
    }
    Ok(config)
}

/// The configured profiles named by `--profile` (every one when none is
/// named; the project's only, unnamed profile when none are configured).
/// `timeout` (from `--timeout`) overrides the `timeout` key.
pub fn chosen_profiles(
    config: &Config,
    requested: &[String],
    timeout: Option<Duration>,
) -> anyhow::Result<Vec<ProfileRun>> {
    let configured = config.profiles();
    let chosen: Vec<Option<&ConfiguredProfile>> = if configured.is_empty() {
        if let Some(name) = requested.first() {
            return Err(Error::NoProfilesConfigured {
                requested: name.clone(),
            }
            .into());
        }
        vec![None]
    } else if requested.is_empty() {
        configured.iter().map(Some).collect()
    } else {
        let mut chosen = Vec::new();
        for name in requested {
            let wanted = Profile::new(name.split(',').filter(|t| !t.is_empty()).map(str::to_owned));
            let found = configured
                .iter()
                .find(|p| p.tags == wanted)
                .ok_or_else(|| Error::UnknownConfiguredProfile {
                    requested: name.clone(),
                    known: names(configured),
                })?;
            if !chosen.contains(&Some(found)) {
                chosen.push(Some(found));
            }
        }
        chosen
    };
    chosen
        .into_iter()
        .map(|profile| {
            let mut settings = config.runner_settings_for(profile)?;
            if timeout.is_some() {
                settings.timeout = timeout;
            }
            Ok(ProfileRun {
                name: profile.map(|p| p.name.clone()).unwrap_or_default(),
                tags: profile.map(|p| p.tags.clone()).unwrap_or_default(),
                settings,
                history: ProfileHistory::default(),
            })
        })
        .collect()
}

/// The configured profiles' names, for messages.
pub fn names(profiles: &[ConfiguredProfile]) -> String {
    profiles
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--timeout SECS`.
pub fn timeout(value: Option<&str>) -> Result<Option<Duration>, Error> {
    value
        .map(|v| {
            parse_timeout(v).map_err(|problem| Error::BadTimeout {
                value: v.to_owned(),
                problem,
            })
        })
        .transpose()
}

/// `--list-timeout SECS`.
pub fn list_timeout(value: Option<&str>) -> Result<Option<Duration>, Error> {
    value
        .map(|v| {
            parse_timeout(v).map_err(|problem| Error::BadListTimeout {
                value: v.to_owned(),
                problem,
            })
        })
        .transpose()
}

/// `--list-timeout` overrides the `list_timeout` key of every profile.
pub fn override_list_timeout(profiles: &mut [ProfileRun], list_timeout: Option<Duration>) {
    if let Some(list_timeout) = list_timeout {
        for profile in profiles {
            profile.settings.list_timeout = Some(list_timeout);
        }
    }
}

/// The filter regular expressions, compiled.
pub fn filters(patterns: &[String]) -> Result<Vec<Regex>, Error> {
    patterns
        .iter()
        .map(|pattern| {
            Regex::new(pattern).map_err(|e| Error::BadFilter {
                pattern: pattern.clone(),
                reason: regex_problem(&e),
            })
        })
        .collect()
}

/// The filters and exclusions of stestr's options: the filters `filters`
/// with the `--include-list`'s regexes, and the exclusions of
/// `--exclude-regex` and `--exclude-list`.
pub fn regex_selection(
    filters: &[String],
    regexes: &RegexSelection,
) -> Result<(Vec<Regex>, Vec<Regex>), Error> {
    let mut included = self::filters(filters)?;
    if let Some(path) = &regexes.include_list {
        included.extend(regex_list(path, "--include-list")?);
    }
    let mut exclusions = Vec::new();
    if let Some(pattern) = &regexes.exclude_regex {
        exclusions.push(regex(pattern, "--exclude-regex")?);
    }
    if let Some(path) = &regexes.exclude_list {
        exclusions.extend(regex_list(path, "--exclude-list")?);
    }
    Ok((included, exclusions))
}

/// The regular expression an option (`--exclude-regex`) gives.
pub fn regex(pattern: &str, option: &'static str) -> Result<Regex, Error> {
    Regex::new(pattern).map_err(|e| Error::BadRegex {
        option,
        pattern: pattern.to_owned(),
        reason: regex_problem(&e),
    })
}

/// The regular expressions of an `--exclude-list` or `--include-list`
/// file, as stestr reads them: one a line, what follows a `#` a comment,
/// blank lines skipped.
pub fn regex_list(path: &Path, option: &'static str) -> Result<Vec<Regex>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadRegexList {
        option,
        path: path.to_owned(),
        source,
    })?;
    let mut regexes = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let pattern = line.split('#').next().unwrap_or_default().trim();
        if pattern.is_empty() {
            continue;
        }
        let regex = Regex::new(pattern).map_err(|e| Error::BadRegexInList {
            option,
            path: path.to_owned(),
            line: index + 1,
            pattern: pattern.to_owned(),
            reason: regex_problem(&e),
        })?;
        regexes.push(regex);
    }
    Ok(regexes)
}

/// The last line of the regex crate's message: what is wrong.
fn regex_problem(error: &regex::Error) -> String {
    error
        .to_string()
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The ids of a `--load-list` file: one a line, for every profile; or with
/// `json`, the `tests` array that `failing --json` and `list-tests --json`
/// print (or that array alone), each record selecting its test in its
/// profile and a plain string selecting it in every profile.
pub fn load_list(path: &Path, json: bool, profiles: &[ProfileRun]) -> Result<IdSet, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::OpenInput {
        path: path.to_owned(),
        source,
    })?;
    let mut set = IdSet {
        source: format!("--load-list {}", path.display()),
        must_be_listed: true,
        ..IdSet::default()
    };
    if !json {
        set.every_profile = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        return Ok(set);
    }
    let bad = |message: String| Error::BadLoadList {
        path: path.to_owned(),
        message,
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "line {} column {}: {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })?;
    let records = match &doc {
        Value::Array(records) => records,
        Value::Object(fields) => match fields.get("tests") {
            Some(Value::Array(records)) => records,
            _ => return Err(bad("expected a `tests` array".into())),
        },
        _ => return Err(bad("expected a `tests` array".into())),
    };
    for (index, record) in records.iter().enumerate() {
        match record {
            Value::String(id) => {
                set.every_profile.insert(id.clone());
            }
            Value::Object(fields) => {
                let id = fields
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("tests[{index}] has no string `id`")))?;
                let profile = match fields.get("profile") {
                    None => {
                        set.every_profile.insert(id.to_owned());
                        continue;
                    }
                    Some(Value::Array(tags)) => tags
                        .iter()
                        .map(|t| t.as_str().map(str::to_owned))
                        .collect::<Option<Vec<String>>>()
                        .map(Profile::new)
                        .ok_or_else(|| {
                            bad(format!("tests[{index}].profile is not an array of strings"))
                        })?,
                    Some(_) => {
                        return Err(bad(format!(
                            "tests[{index}].profile is not an array of strings"
                        )));
                    }
                };
                set.per_profile
                    .entry(profile)
                    .or_default()
                    .insert(id.to_owned());
            }
            _ => return Err(bad(format!("tests[{index}] is neither an id nor a record"))),
        }
    }
    // Records of profiles that are not being run are left out.
    let chosen: Vec<&Profile> = profiles.iter().map(|p| &p.tags).collect();
    set.per_profile
        .retain(|profile, _| chosen.contains(&profile));
    Ok(set)
}

/// serde_json's message without its " at line L column C" (given first).
fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

/// The most tests that run at once, from `--concurrency` or
/// `test_run_concurrency`: far more workers than any machine has cores.
pub const MAX_CONCURRENCY: usize = 1024;

/// How many tests run at once when `--concurrency` is not given: what
/// `test_run_concurrency` prints, else the number of CPUs.
pub fn default_concurrency(config: &Config, project: &Path) -> Result<usize, Error> {
    let Some(callout) = config.concurrency_command() else {
        return Ok(std::thread::available_parallelism().map_or(1, |n| n.get()));
    };
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(callout)
        .current_dir(project)
        .output()
        .map_err(|e| Error::BadConcurrency {
            command: callout.to_owned(),
            problem: e.to_string(),
        })?;
    let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match printed.parse::<usize>() {
        Ok(n) if (1..=MAX_CONCURRENCY).contains(&n) && output.status.success() => Ok(n),
        _ => Err(Error::BadConcurrency {
            command: callout.to_owned(),
            problem: format!(
                "printed `{printed}` ({}), not a number from 1 to {MAX_CONCURRENCY}",
                output.status
            ),
        }),
    }
}
