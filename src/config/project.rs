//! A project's settings: read once from `.testr.conf`, or from stestr's
//! `.stestr.conf` when there is no `.testr.conf`, and checked whole when
//! read, whichever command or profile later uses them.

use std::path::{Path, PathBuf};

use super::keys::{self, Warning};
use super::retention::{self, Retention, RetentionError};
use super::runner::{RunnerSettings, SettingsError, compile_group_regex, testr_section};
use super::stestr::{self, StestrError};
use super::{Ini, ParseError, PatternError, ProfileTags};
use crate::model::Profile;

/// The name of the configuration file in the project directory.
pub const FILE_NAME: &str = ".testr.conf";

/// stestr's configuration file, read when there is no `.testr.conf`.
pub const STESTR_FILE_NAME: &str = ".stestr.conf";

/// The prefix of a section that overrides keys for one profile.
const PROFILE_SECTION: &str = "profile ";

/// Errors reading a project's configuration.
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
    #[error("failed to read {path}: {message}")]
    Profiles { path: PathBuf, message: String },
    #[error("failed to read {path}: {source}")]
    Settings {
        path: PathBuf,
        source: SettingsError,
    },
    #[error("failed to read {path}: {source}")]
    Stestr { path: PathBuf, source: StestrError },
    #[error("failed to read {path}: {source}")]
    Retention {
        path: PathBuf,
        source: RetentionError,
    },
    #[error(
        "{option} sets a key of {STESTR_FILE_NAME}, but the configuration is {}, \
         which has no such key",
        path.display()
    )]
    NotStestr { option: &'static str, path: PathBuf },
    #[error("bad --group-regex: {0}")]
    GroupRegex(SettingsError),
    #[error(
        "found no {FILE_NAME} or {STESTR_FILE_NAME} in {}: nothing says how to run the tests \
         (`testr init --unittest START_DIR` writes a {FILE_NAME} for a unittest project)",
        dir.display()
    )]
    Missing { dir: PathBuf },
}

/// Which file the settings come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Source {
    /// Neither file exists: the query commands need no configuration.
    #[default]
    Nothing,
    Testr(PathBuf),
    Stestr(PathBuf),
}

/// What the command line says of the configuration: stestr's global
/// options `-c/--config`, `--test-path`, `--top-dir` and `--group-regex`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The configuration file to read instead of the project's.
    pub file: Option<PathBuf>,
    /// Over `test_path` of `.stestr.conf`.
    pub test_path: Option<String>,
    /// Over `top_dir` of `.stestr.conf`.
    pub top_dir: Option<String>,
    /// Over `group_regex`, in either format.
    pub group_regex: Option<String>,
    /// Over `parallel_class`, in either format (`group_regex` wins).
    pub parallel_class: bool,
}

/// A profile named by the `profiles` key: `py311`, or `py312,postgres` for
/// one cell of a matrix. Its tags are the name split at commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProfile {
    /// The name as written in `profiles` (what `$PROFILE` becomes).
    pub name: String,
    pub tags: Profile,
}

/// The settings of a project.
#[derive(Debug, Clone, Default)]
pub struct Config {
    source: Source,
    /// The project directory, for messages when no file was found.
    dir: PathBuf,
    filter_tags: Vec<String>,
    profile_tags: ProfileTags,
    profiles: Vec<ConfiguredProfile>,
    /// The runner settings of `[DEFAULT]` (the unnamed profile), then of
    /// each configured profile in order; `None` where no command is set.
    runners: Vec<Option<RunnerSettings>>,
    /// `test_run_concurrency`: a shell command that prints the concurrency.
    concurrency_command: Option<String>,
    /// `plan`: the plan file a run follows, relative to the project.
    plan: Option<PathBuf>,
    /// `history_keep` and `history_max_age`.
    retention: Retention,
    warnings: Vec<Warning>,
}

impl Config {
    /// Reads `DIR/.testr.conf`, or `DIR/.stestr.conf` when there is none;
    /// neither gives the defaults.
    pub fn load(project_dir: &Path) -> Result<Config, Error> {
        Config::load_with(project_dir, &Overrides::default())
    }

    /// As [`Config::load`], with what the command line overrides: the file
    /// `-c` names (read as `.stestr.conf` when it has a `test_path`, else
    /// as `.testr.conf`), and the `.stestr.conf` keys given as options.
    /// `--test-path` alone makes a project with neither file a stestr one.
    pub fn load_with(project_dir: &Path, overrides: &Overrides) -> Result<Config, Error> {
        let found = match &overrides.file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                let stestr =
                    Ini::parse(&text).is_ok_and(|ini| ini.get("DEFAULT", "test_path").is_some());
                Some((text, path.clone(), stestr))
            }
            None => {
                let testr = project_dir.join(FILE_NAME);
                let stestr = project_dir.join(STESTR_FILE_NAME);
                match read_if_there(&testr)? {
                    Some(text) => Some((text, testr, false)),
                    None => read_if_there(&stestr)?.map(|text| (text, stestr, true)),
                }
            }
        };
        let config = match found {
            Some((text, path, true)) => {
                return Config::parse_stestr_with(&text, &path, project_dir, overrides);
            }
            None if overrides.test_path.is_some() => {
                let path = project_dir.join(STESTR_FILE_NAME);
                return Config::parse_stestr_with("", &path, project_dir, overrides);
            }
            Some((text, path, false)) => Config::parse(&text, &path)?,
            None => Config {
                dir: project_dir.to_owned(),
                ..Config::default()
            },
        };
        config.with_testr_overrides(overrides)
    }

    /// `--group-regex` over every profile of a `.testr.conf`; the
    /// `.stestr.conf` keys it does not have are an error.
    fn with_testr_overrides(mut self, overrides: &Overrides) -> Result<Config, Error> {
        let stestr_only = [
            ("--test-path", overrides.test_path.is_some()),
            ("--top-dir", overrides.top_dir.is_some()),
        ];
        if let Some((option, _)) = stestr_only.iter().find(|(_, given)| *given) {
            return Err(Error::NotStestr {
                option,
                path: match &self.source {
                    Source::Testr(path) | Source::Stestr(path) => path.clone(),
                    Source::Nothing => self.dir.join(FILE_NAME),
                },
            });
        }
        let class = overrides.parallel_class.then_some(stestr::CLASS_GROUP);
        if let Some(pattern) = overrides.group_regex.as_deref().or(class) {
            let regex = compile_group_regex(pattern, "--group-regex").map_err(Error::GroupRegex)?;
            for settings in self.runners.iter_mut().flatten() {
                settings.group_regex = regex.clone();
            }
        }
        Ok(self)
    }

    /// Parses the text of a `.testr.conf` read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let path = path.to_owned();
        let ini = Ini::parse(text).map_err(|source| Error::Parse {
            path: path.clone(),
            source,
        })?;
        let profiles = configured_profiles(&ini).map_err(|message| Error::Profiles {
            path: path.clone(),
            message,
        })?;
        let mut profile_tags =
            ProfileTags::parse(&words(&ini, "profile_tags")).map_err(|source| Error::Pattern {
                path: path.clone(),
                source,
            })?;
        // The tags of a configured profile identify it, named in
        // profile_tags or not.
        profile_tags.add_names(profiles.iter().flat_map(|p| p.tags.tags()));

        let mut warnings = keys::check(&path, "DEFAULT", ini.keys("DEFAULT"), keys::TESTR_DEFAULT);
        let settings_error = |source| Error::Settings {
            path: path.clone(),
            source,
        };
        let mut runners = vec![
            testr_section("[DEFAULT]", |key| get(&ini, "DEFAULT", key)).map_err(settings_error)?,
        ];
        for profile in &profiles {
            let section = format!("{PROFILE_SECTION}{}", profile.name);
            warnings.extend(keys::check(
                &path,
                &section,
                ini.keys(&section),
                keys::TESTR_PROFILE,
            ));
            let settings = testr_section(&format!("[{section}]"), |key| get(&ini, &section, key))
                .map_err(settings_error)?;
            runners.push(settings);
        }
        let retention =
            retention::retention(|key| get(&ini, "DEFAULT", key)).map_err(|source| {
                Error::Retention {
                    path: path.clone(),
                    source,
                }
            })?;
        Ok(Config {
            retention,
            filter_tags: words(&ini, "filter_tags"),
            concurrency_command: get(&ini, "DEFAULT", "test_run_concurrency"),
            plan: get(&ini, "DEFAULT", "plan").map(PathBuf::from),
            dir: path.parent().map(Path::to_owned).unwrap_or_default(),
            source: Source::Testr(path),
            profile_tags,
            profiles,
            runners,
            warnings,
        })
    }

    /// Parses the text of a `.stestr.conf` read from `path`, in `project`.
    pub fn parse_stestr(text: &str, path: &Path, project: &Path) -> Result<Config, Error> {
        Config::parse_stestr_with(text, path, project, &Overrides::default())
    }

    /// As [`Config::parse_stestr`], with keys the command line overrides.
    pub fn parse_stestr_with(
        text: &str,
        path: &Path,
        project: &Path,
        overrides: &Overrides,
    ) -> Result<Config, Error> {
        let path = path.to_owned();
        let ini = Ini::parse(text).map_err(|source| Error::Parse {
            path: path.clone(),
            source,
        })?;
        let (settings, warnings) =
            stestr::settings(&ini, &path, project, overrides).map_err(|source| Error::Stestr {
                path: path.clone(),
                source,
            })?;
        Ok(Config {
            source: Source::Stestr(path),
            dir: project.to_owned(),
            runners: vec![Some(settings)],
            warnings,
            ..Config::default()
        })
    }

    /// Which file the settings come from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Keys that do nothing, found when the file was read: each worth a
    /// line on stderr.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Whether a result with these tags carries one of `filter_tags`, and
    /// so is not counted unless it failed.
    pub fn is_filtered(&self, tags: &[String]) -> bool {
        tags.iter().any(|t| self.filter_tags.contains(t))
    }

    /// `profile_tags`, and the tags of the configured profiles: the tags
    /// that identify profiles.
    pub fn profile_tags(&self) -> &ProfileTags {
        &self.profile_tags
    }

    /// The profiles of the `profiles` key, in the order given; empty when the
    /// project runs its tests one way only.
    pub fn profiles(&self) -> &[ConfiguredProfile] {
        &self.profiles
    }

    /// `test_run_concurrency`, if set.
    pub fn concurrency_command(&self) -> Option<&str> {
        self.concurrency_command.as_deref()
    }

    /// `plan`, if set.
    pub fn plan(&self) -> Option<&Path> {
        self.plan.as_deref()
    }

    /// What `history_keep` and `history_max_age` keep of the stored runs.
    pub fn retention(&self) -> Retention {
        self.retention
    }

    /// The runner settings of `profile` (None: the project's only, unnamed
    /// profile), with its `[profile NAME]` section over `[DEFAULT]`.
    pub fn runner_settings_for(
        &self,
        profile: Option<&ConfiguredProfile>,
    ) -> Result<RunnerSettings, Error> {
        let position = match profile {
            Some(wanted) => self
                .profiles
                .iter()
                .position(|p| p == wanted)
                .map_or(0, |at| at + 1),
            None => 0,
        };
        let configured = self.runners.get(position).and_then(Option::as_ref);
        match (configured, &self.source) {
            (Some(settings), _) => Ok(settings.clone()),
            (None, Source::Nothing) => Err(Error::Missing {
                dir: self.dir.clone(),
            }),
            (None, Source::Testr(path) | Source::Stestr(path)) => Err(Error::Settings {
                path: path.clone(),
                source: SettingsError::NoCommand {
                    section: match profile {
                        Some(p) => format!("[{PROFILE_SECTION}{}]", p.name),
                        None => "[DEFAULT]".to_owned(),
                    },
                },
            }),
        }
    }
}

fn read_if_there(path: &Path) -> Result<Option<String>, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A value of `section` (falling back to `[DEFAULT]`), owned.
fn get(ini: &Ini, section: &str, key: &str) -> Option<String> {
    ini.get(section, key).map(str::to_owned)
}

/// The `profiles` key, checked: every name has tags, no profile twice, and
/// every `[profile NAME]` section names one of them.
fn configured_profiles(ini: &Ini) -> Result<Vec<ConfiguredProfile>, String> {
    let mut profiles: Vec<ConfiguredProfile> = Vec::new();
    for name in words(ini, "profiles") {
        let profile = Profile::new(name.split(',').filter(|t| !t.is_empty()).map(str::to_owned));
        if profile.is_empty() {
            return Err(format!("profile `{name}` in `profiles` has no tags"));
        }
        if let Some(twin) = profiles.iter().find(|p| p.tags == profile) {
            return Err(format!(
                "profiles `{}` and `{name}` in `profiles` are the same profile",
                twin.name
            ));
        }
        profiles.push(ConfiguredProfile {
            name,
            tags: profile,
        });
    }
    for section in ini.section_names() {
        if let Some(name) = section.strip_prefix(PROFILE_SECTION) {
            if !profiles.iter().any(|p| p.name == name.trim()) {
                return Err(format!(
                    "section [{section}] names no profile of the `profiles` key"
                ));
            }
        }
    }
    Ok(profiles)
}

/// A `[DEFAULT]` value as a list of words (space or newline separated).
fn words(ini: &Ini, key: &str) -> Vec<String> {
    ini.get("DEFAULT", key)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::Launch;
    use super::*;
    use std::time::Duration;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new("./.testr.conf"))
    }

    #[test]
    fn configured_profiles_are_profile_tags() {
        let config = parse("[DEFAULT]\nprofiles = py311,sqlite py312,sqlite\n").unwrap();
        let names: Vec<_> = config.profiles().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["py311,sqlite", "py312,sqlite"]);
        assert!(config.profile_tags().matches("py312"));
        assert!(config.profile_tags().matches("sqlite"));
        assert!(!config.profile_tags().matches("worker-0"));
    }

    #[test]
    fn bad_profiles_are_errors() {
        for (text, expected) in [
            (
                "profiles = a b,c c,b\n",
                "profiles `b,c` and `c,b` in `profiles` are the same profile",
            ),
            ("profiles = ,\n", "profile `,` in `profiles` has no tags"),
            (
                "profiles = a\n[profile b]\nx = 1\n",
                "section [profile b] names no profile of the `profiles` key",
            ),
        ] {
            let err = parse(&format!("[DEFAULT]\n{text}")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("failed to read ./.testr.conf: {expected}")
            );
        }
    }

    #[test]
    fn a_profile_section_overrides_the_defaults() {
        let config = parse(
            "[DEFAULT]\nworker_command=python3 w.py\ntimeout=2.5\nprofiles=py311 py312\n\
             [profile py312]\nworker_command=python3.12 w.py\n",
        )
        .unwrap();
        let [py311, py312] = config.profiles() else {
            panic!("{:?}", config.profiles())
        };
        let settings = config.runner_settings_for(Some(py311)).unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "python3 w.py".into()
            }
        );
        assert_eq!(settings.timeout, Some(Duration::from_millis(2500)));
        let settings = config.runner_settings_for(Some(py312)).unwrap();
        assert_eq!(
            settings.launch,
            Launch::Worker {
                command: "python3.12 w.py".into()
            }
        );
    }

    #[test]
    fn every_section_is_checked_when_read() {
        let err = parse("[DEFAULT]\nworker_command=w\nprofiles=a b\n[profile b]\ntimeout=1e30\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to read ./.testr.conf: bad timeout `1e30` in [profile b]: \
             expected more than 0 seconds and at most 1000000"
        );
    }

    #[test]
    fn unknown_keys_are_warned_of_with_the_key_meant() {
        let config = parse(
            "[DEFAULT]\ntest_comand=x\nworker_command=w\nprofiles=a\n[profile a]\ntimout=3\n",
        )
        .unwrap();
        let shown: Vec<String> = config.warnings().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "./.testr.conf: [DEFAULT] has an unknown key `test_comand`, which does nothing \
                 (did you mean `test_command`?)",
                "./.testr.conf: [profile a] has an unknown key `timout`, which does nothing \
                 (did you mean `timeout`?)",
            ]
        );
    }

    #[test]
    fn a_missing_command_is_an_error_only_when_asked_for() {
        let config = parse("[DEFAULT]\nfilter_tags=x\n").unwrap();
        assert_eq!(
            config.runner_settings_for(None).unwrap_err().to_string(),
            "failed to read ./.testr.conf: [DEFAULT] sets neither worker_command nor test_command"
        );
        let nothing = Config::load(Path::new("/nonexistent-project")).unwrap();
        assert_eq!(nothing.source(), &Source::Nothing);
        assert!(
            nothing
                .runner_settings_for(None)
                .unwrap_err()
                .to_string()
                .starts_with("found no .testr.conf or .stestr.conf in /nonexistent-project")
        );
    }

    #[test]
    fn testr_conf_wins_over_stestr_conf() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(
            dir.path().join(STESTR_FILE_NAME),
            "[DEFAULT]\ntest_path=tests\n",
        )
        .unwrap();
        let config = Config::load(dir.path()).unwrap();
        assert!(matches!(config.source(), Source::Stestr(_)));
        std::fs::write(dir.path().join(FILE_NAME), "[DEFAULT]\nworker_command=w\n").unwrap();
        let config = Config::load(dir.path()).unwrap();
        assert!(matches!(config.source(), Source::Testr(_)));
    }
}
