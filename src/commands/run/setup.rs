//! What every run of one `testr run` shares, settled once from its command
//! line: the profiles, the selection, the plan, the concurrency, and how
//! the runs are stored and shown.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use regex::Regex;

use super::super::{Context, Error, select, trace};
use crate::cli::RunArgs;
use crate::config::{Config, Launch, Source, stestr_worker_command};
use crate::model::{Profile, RunId};
use crate::plan::Plan;
use crate::repo::{self, Repository};
use crate::report::TraceOptions;
use crate::runner::{IdSet, Order, PlannedRun, ProfileHistory, ProfileRun, RunSpec, Selection};
use crate::shell;

/// The settled command line of a `testr run`.
pub struct Setup {
    pub mode: Mode,
    pub config: Config,
    /// The chosen profiles, without their history (each run reads it).
    pub profiles: Vec<ProfileRun>,
    pub selection: Selection,
    pub plan: Option<PlannedRun>,
    pub concurrency: usize,
    pub extra_args: Vec<String>,
    /// `--random`: each run shuffles afresh.
    pub random: bool,
    /// Whether the runs are partial: narrowed, or `--partial`.
    pub partial: bool,
    /// Whether anything narrows the tests (for the error when none run).
    pub narrowed: bool,
    /// `--subunit`: results as subunit v2 on stdout, and nothing else.
    pub subunit: bool,
    /// `--trace` (and stestr's spellings): a line per test.
    pub trace: Option<TraceOptions>,
    pub junit: Option<PathBuf>,
}

/// How many runs a `testr run` makes, and where they go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One run, stored as a new run or added to the latest (`--combine`).
    Once { combine: bool },
    /// Runs (each an isolated pass when `isolated`) until one fails.
    UntilFailure { isolated: bool },
    /// Each test alone, stored as one run.
    Isolated,
    /// Probes of the latest run's failures, stored nowhere.
    AnalyzeIsolation,
}

impl Mode {
    fn of(args: &RunArgs) -> Mode {
        match (args.analyze_isolation, args.until_failure, args.isolated) {
            (true, _, _) => Mode::AnalyzeIsolation,
            (false, true, isolated) => Mode::UntilFailure { isolated },
            (false, false, true) => Mode::Isolated,
            (false, false, false) => Mode::Once {
                combine: args.combine,
            },
        }
    }
}

/// What `Setup::from_args` found.
pub enum Settled {
    Setup(Box<Setup>),
    /// `--failing` with nothing failing: said so, nothing to run.
    NothingFailing,
}

impl Setup {
    /// Reads the configuration and the files the options name, and creates
    /// the repository if there is none (as stestr does).
    pub fn from_args(ctx: &mut Context<'_>, args: &RunArgs) -> anyhow::Result<Settled> {
        let config = select::load_config(ctx)?;
        let timeout = select::timeout(args.timeout.as_deref())?;
        let list_timeout = select::list_timeout(args.list_timeout.as_deref())?;
        let mut profiles = select::chosen_profiles(&config, &args.profile, timeout)?;
        select::override_list_timeout(&mut profiles, list_timeout);
        for profile in &profiles {
            if let Some(reason) = &profile.settings.kept_classic {
                writeln!(
                    ctx.stderr,
                    "testr: running test_command in batches, one process each: {reason} \
                     (`stream = no` keeps the batches without this note)"
                )?;
            }
        }
        let (mut filters, exclusions) =
            select::regex_selection(&args.tests.filters, &args.regexes)?;
        let mut id_sets = Vec::new();
        if let Some(path) = &args.load_list {
            id_sets.push(select::load_list(path, args.load_list_json, &profiles)?);
        }
        let mut loads_one = false;
        if let Some(id) = &args.no_discover {
            let id = stestr_id(id);
            if matches!(config.source(), Source::Stestr(_)) {
                // The shipped worker loads the test by name: no discovery.
                for profile in &mut profiles {
                    profile.settings.launch = Launch::Worker {
                        command: stestr_worker_command(&shell::quote(&id)),
                    };
                }
                loads_one = true;
            } else {
                filters.push(id_and_below(&id));
            }
        }
        let plan = match args
            .plan
            .clone()
            .or_else(|| config.plan().map(|p| ctx.project.join(p)))
        {
            Some(path) => Some(PlannedRun {
                plan: checked_plan(&path, &config)?,
                strict: args.plan_strict,
            }),
            None if args.plan_strict => return Err(Error::StrictWithoutPlan.into()),
            None => None,
        };
        // As stestr does, the first run in a project makes its repository.
        let had_repository = ctx.project.join(repo::DIR_NAME).exists();
        let repo = Repository::open_or_init(ctx.project, true)?;
        if !had_repository {
            writeln!(
                ctx.stderr,
                "testr: created the repository {}",
                ctx.project.join(repo::DIR_NAME).display()
            )?;
        }
        if args.failing {
            let failing = failing_set(&repo, &profiles)?;
            if failing.per_profile.is_empty() {
                writeln!(ctx.stdout, "No failing tests: nothing to run.")?;
                return Ok(Settled::NothingFailing);
            }
            id_sets.push(failing);
        }
        let selection = Selection {
            filters,
            exclusions,
            id_sets,
        };
        let narrowed = args.failing || selection.is_narrowed() || loads_one;
        let concurrency = match (args.serial, args.concurrency) {
            (true, _) => 1,
            (false, Some(n)) if n > 0 => usize::from(n),
            // stestr's 0: the default.
            (false, _) => select::default_concurrency(&config, ctx.project)?,
        };
        Ok(Settled::Setup(Box::new(Setup {
            mode: Mode::of(args),
            config,
            profiles,
            selection,
            plan,
            concurrency,
            extra_args: args.tests.extra_args.clone(),
            random: args.random,
            partial: args.partial || narrowed,
            narrowed,
            subunit: args.subunit,
            trace: trace::options(&args.trace),
            junit: args.junit.clone(),
        })))
    }

    /// The project's repository (it exists: `from_args` made it).
    pub fn repository(&self, project: &Path) -> anyhow::Result<Repository> {
        Ok(Repository::open_or_init(project, true)?)
    }

    /// The latest stored run, which `--combine` adds to.
    pub fn latest_run(&self, repo: &Repository) -> anyhow::Result<RunId> {
        Ok(repo.latest_run()?.ok_or(Error::NothingToCombine)?.id)
    }

    /// A run of the setup, with each profile's history from `repo` (none
    /// without one: the tests then run in the order asked, in one batch).
    pub fn spec(&self, project: &Path, repo: Option<&Repository>) -> anyhow::Result<RunSpec> {
        let mut profiles = self.profiles.clone();
        if let Some(repo) = repo {
            for profile in &mut profiles {
                profile.history = ProfileHistory {
                    estimates: repo.estimates(&profile.tags)?,
                    startup: repo.startup(&profile.tags)?,
                    last_run: repo.last_whole_run_tests(&profile.tags)?,
                };
            }
        }
        Ok(RunSpec {
            project: project.to_owned(),
            profiles: profiles.into(),
            concurrency: self.concurrency,
            selection: self.selection.clone(),
            extra_args: self.extra_args.clone(),
            plan: self.plan.clone(),
            order: if self.random {
                Order::Random {
                    seed: fastrand::u64(..),
                }
            } else {
                Order::LongestFirst
            },
            cache_dir: repo::cache_dir(project),
        })
    }
}

/// An id as stestr's `--no-discover` takes it: a path to a module
/// (`pkg/tests/test_a.py`) becomes its dotted name, and pytest's `::`
/// between a module and its class or test becomes a dot.
fn stestr_id(given: &str) -> String {
    let (module, rest) = match given.split_once("::") {
        Some((module, rest)) => (module, Some(rest.replace("::", "."))),
        None => (given, None),
    };
    let module = if module.contains('/') {
        let path = module.strip_suffix(".py").unwrap_or(module);
        path.trim_start_matches("./")
            .split('/')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(".")
    } else {
        module.to_owned()
    };
    match rest {
        Some(rest) => format!("{module}.{rest}"),
        None => module,
    }
}

/// A filter selecting the test `id`, or every test under it when it names
/// a module or class (`id.` and a scenario's `id(...)`).
fn id_and_below(id: &str) -> Regex {
    Regex::new(&format!(r"^{}(?:$|[.(\[])", regex::escape(id)))
        .expect("an escaped id is a regular expression")
}

/// The plan at `path`, every `{id, profile}` record of it checked against
/// the configured profiles (or the one unnamed profile when none are):
/// a record of another profile would drop its test's constraint.
fn checked_plan(path: &Path, config: &Config) -> anyhow::Result<Plan> {
    let plan = Plan::read(path)?;
    let configured: Vec<Profile> = match config.profiles() {
        [] => vec![Profile::default()],
        profiles => profiles.iter().map(|p| p.tags.clone()).collect(),
    };
    plan.check_profiles(&configured)?;
    Ok(plan)
}

/// The failing tests of the chosen profiles, each selected in its profile.
fn failing_set(repo: &Repository, profiles: &[ProfileRun]) -> anyhow::Result<IdSet> {
    let chosen: HashSet<&Profile> = profiles.iter().map(|p| &p.tags).collect();
    let mut set = IdSet {
        source: "--failing".to_owned(),
        must_be_listed: false,
        ..IdSet::default()
    };
    for (id, profile) in repo.failing_ids()? {
        if chosen.contains(&profile) {
            set.per_profile.entry(profile).or_default().insert(id.0);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_discover_takes_paths_and_pytest_ids_as_stestr_does() {
        assert_eq!(
            stestr_id("pkg.tests.test_a.T.test_x"),
            "pkg.tests.test_a.T.test_x"
        );
        assert_eq!(stestr_id("./pkg/tests/test_a.py"), "pkg.tests.test_a");
        assert_eq!(
            stestr_id("pkg/tests/test_a.py::T::test_x"),
            "pkg.tests.test_a.T.test_x"
        );
    }

    #[test]
    fn an_id_selects_itself_and_what_is_below_it() {
        let filter = id_and_below("pkg.test_a.T");
        assert!(filter.is_match("pkg.test_a.T"));
        assert!(filter.is_match("pkg.test_a.T.test_x"));
        assert!(filter.is_match("pkg.test_a.T(scenario)"));
        assert!(!filter.is_match("pkg.test_a.Tx.test_x"));
        assert!(!filter.is_match("other.pkg.test_a.T"));
    }
}
