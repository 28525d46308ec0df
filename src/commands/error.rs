//! Errors of the commands themselves (the input, not the repository).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no tests in repository")]
    NoRuns,
    #[error("failed to open {path}: {source}")]
    OpenInput {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to read {input}: {source}")]
    ReadInput {
        input: String,
        source: std::io::Error,
    },
    #[error(
        "{input} is a subunit v1 stream; testr reads v2: convert it with `subunit-1to2 < FILE`, \
         from python-subunit (nothing was stored)"
    )]
    SubunitV1 { input: String },
    #[error("{input} holds no subunit v2 test results (nothing was stored)")]
    EmptyStream { input: String },
    #[error("no results for profile `{requested}`; the profiles are: {known}")]
    UnknownProfile { requested: String, known: String },
    #[error(
        "the results hold several profiles ({known}): choose one with --profile TAGS \
         (list them with --profiles)"
    )]
    SeveralProfiles { known: String },
    #[error("--profile {requested} names a profile, but .testr.conf sets no profile_tags")]
    NoProfileTags { requested: String },
    #[error(
        "`{tag}` in --profile {requested} is not a profile tag (see profile_tags in .testr.conf)"
    )]
    NotAProfileTag { tag: String, requested: String },
    #[error("--profile {requested} names a profile, but .testr.conf configures no `profiles`")]
    NoProfilesConfigured { requested: String },
    #[error("no configured profile `{requested}`; the profiles are: {known}")]
    UnknownConfiguredProfile { requested: String, known: String },
    #[error(
        "several profiles are configured ({known}): choose one with --profile NAME, \
         or use --json"
    )]
    SeveralConfiguredProfiles { known: String },
    #[error("bad filter `{pattern}`: {reason}")]
    BadFilter { pattern: String, reason: String },
    #[error("bad {option} `{pattern}`: {reason}")]
    BadRegex {
        option: &'static str,
        pattern: String,
        reason: String,
    },
    #[error("failed to read {option} {path}: {source}")]
    ReadRegexList {
        option: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("bad regular expression `{pattern}` at line {line} of {option} {path}: {reason}")]
    BadRegexInList {
        option: &'static str,
        path: PathBuf,
        line: usize,
        pattern: String,
        reason: String,
    },
    #[error("--combine adds to the latest run, but the repository has no run yet")]
    NothingToCombine,
    #[error("bad --timeout `{value}`: {problem}")]
    BadTimeout {
        value: String,
        problem: crate::config::TimeoutError,
    },
    #[error("bad --list-timeout `{value}`: {problem}")]
    BadListTimeout {
        value: String,
        problem: crate::config::TimeoutError,
    },
    #[error("failed to read --load-list {path}: {message}")]
    BadLoadList { path: PathBuf, message: String },
    #[error("failed to get the concurrency from test_run_concurrency `{command}`: {problem}")]
    BadConcurrency { command: String, problem: String },
    #[error(
        "no tests to run: the filters, --failing or --load-list select none of the listed tests (nothing was stored)"
    )]
    NothingSelected,
    #[error("no tests to run: the test command listed none (nothing was stored)")]
    NothingListed,
    #[error("--plan-strict needs a plan: give --plan FILE or set `plan` in .testr.conf")]
    StrictWithoutPlan,
    #[error("{path} already exists; not overwriting it")]
    ConfigExists { path: PathBuf },
    #[error("bad run id `{value}`: expected a whole number (`testr history list` shows the ids)")]
    BadRunId { value: String },
    #[error("bad --older-than `{value}`: {problem}")]
    BadAge {
        value: String,
        problem: crate::config::AgeError,
    },
}
