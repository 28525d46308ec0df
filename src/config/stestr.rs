//! `.stestr.conf`, as stestr reads it: discovery's start and top-level
//! directories and the grouping of tests, run here on the shipped
//! streaming worker with stestr's conventions (the `PYTHON` environment
//! variable names the interpreter, and may wrap it: `coverage run`).

use std::path::Path;

use super::keys::{self, Warning};
use super::runner::{Launch, RunnerSettings, compile_group_regex, parse_bool};
use super::{Ini, Overrides, SettingsError};
use crate::shell::quote;

/// The section stestr reads.
const SECTION: &str = "DEFAULT";

/// What `parallel_class` groups by: everything up to the test's name.
pub(super) const CLASS_GROUP: &str = r"([^\.]*\.)*";

/// A `.stestr.conf` that does not say how to find the tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StestrError {
    #[error("[DEFAULT] sets no test_path (the directory discovery starts in)")]
    NoTestPath,
    #[error("test_path `{0}` is not a directory of the project")]
    MissingTestPath(String),
    #[error("bad parallel_class `{0}`: expected yes or no")]
    ParallelClass(String),
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// The runner settings a `.stestr.conf` gives, checked against the
/// project directory, and a warning for each key stestr does not know.
/// Keys given on the command line win over the file's.
pub fn settings(
    ini: &Ini,
    path: &Path,
    project: &Path,
    overrides: &Overrides,
) -> Result<(RunnerSettings, Vec<Warning>), StestrError> {
    let get = |key: &str| {
        let given = match key {
            "test_path" => overrides.test_path.as_deref(),
            "top_dir" => overrides.top_dir.as_deref(),
            "group_regex" => overrides.group_regex.as_deref(),
            _ => None,
        };
        given
            .or_else(|| ini.get(SECTION, key))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let warnings = keys::check(path, SECTION, ini.keys(SECTION), keys::STESTR);
    let test_path = get("test_path").ok_or(StestrError::NoTestPath)?;
    if !project.join(test_path).is_dir() {
        return Err(StestrError::MissingTestPath(test_path.to_owned()));
    }
    let top_dir = get("top_dir").unwrap_or("./");
    let parallel_class = match get("parallel_class") {
        _ if overrides.parallel_class => true,
        Some(value) => {
            parse_bool(value).ok_or_else(|| StestrError::ParallelClass(value.to_owned()))?
        }
        None => false,
    };
    let group = match overrides.group_regex.as_deref() {
        Some(given) => Some(given),
        None if parallel_class => Some(CLASS_GROUP),
        None => get("group_regex"),
    };
    let group_regex = match group {
        Some(pattern) => compile_group_regex(pattern, "[DEFAULT]")?,
        None => None,
    };
    let command = worker_command(&format!(
        "discover -t {} {}",
        quote(top_dir),
        quote(test_path)
    ));
    let settings = RunnerSettings {
        launch: Launch::Worker { command },
        group_regex,
        timeout: None,
        list_timeout: None,
        kept_classic: None,
    };
    Ok((settings, warnings))
}

/// The shipped worker, run as stestr runs its tests (`PYTHON` may wrap
/// the interpreter), loading what `loading` says: discovery, or names.
pub fn worker_command(loading: &str) -> String {
    format!("${{PYTHON:-python3}} $PYTHON_WORKER --worker {loading}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<(RunnerSettings, Vec<Warning>), StestrError> {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(project.path().join("pkg/tests")).unwrap();
        let ini = Ini::parse(text).unwrap();
        settings(
            &ini,
            Path::new("./.stestr.conf"),
            project.path(),
            &Overrides::default(),
        )
    }

    #[test]
    fn discovery_runs_on_the_shipped_worker() {
        let (settings, warnings) = read("[DEFAULT]\ntest_path=./pkg/tests\ntop_dir=./\n").unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "${PYTHON:-python3} $PYTHON_WORKER --worker discover -t ./ ./pkg/tests"
                    .into()
            }
        );
        assert!(settings.group_regex.is_none());
        assert!(warnings.is_empty());
    }

    #[test]
    fn parallel_class_groups_by_class() {
        let (settings, _) = read("[DEFAULT]\ntest_path=pkg/tests\nparallel_class=True\n").unwrap();
        let group = settings.group_regex.unwrap();
        assert_eq!(
            group
                .find("pkg.tests.test_a.TestA.test_one")
                .unwrap()
                .as_str(),
            "pkg.tests.test_a.TestA."
        );
        let (settings, _) = read("[DEFAULT]\ntest_path=pkg\ngroup_regex=([^.]+\\.)\n").unwrap();
        assert_eq!(
            settings
                .group_regex
                .unwrap()
                .find("a.b.c")
                .unwrap()
                .as_str(),
            "a."
        );
    }

    #[test]
    fn what_is_missing_or_misspelt_is_named() {
        assert_eq!(
            read("[DEFAULT]\ntop_dir=./\n").unwrap_err(),
            StestrError::NoTestPath
        );
        assert_eq!(
            read("[DEFAULT]\ntest_path=./nope\n")
                .unwrap_err()
                .to_string(),
            "test_path `./nope` is not a directory of the project"
        );
        assert_eq!(
            read("[DEFAULT]\ntest_path=pkg\nparallel_class=sometimes\n")
                .unwrap_err()
                .to_string(),
            "bad parallel_class `sometimes`: expected yes or no"
        );
        let (_, warnings) = read("[DEFAULT]\ntest_path=pkg\ntop_dri=./\n").unwrap();
        assert_eq!(
            warnings[0].to_string(),
            "./.stestr.conf: [DEFAULT] has an unknown key `top_dri`, which does nothing \
             (did you mean `top_dir`?)"
        );
    }
}
