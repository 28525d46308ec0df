//! `testr run`: run the selected tests of every selected profile on the
//! runner, echo failures (or subunit v2) as they come, and store the run as
//! it goes: created at its start, its results within a second of finishing,
//! marked finished at its end (docs/repository.md).

use std::collections::HashSet;

use super::last::exit_status;
use super::store::RunStore;
use super::tally::{self, Tallier};
use super::{Context, Error, history, select, trace};
use crate::cli::RunArgs;
use crate::collect::Collected;
use crate::config::Config;
use crate::exit_codes;
use crate::model::{Profile, TimeSpan};
use crate::plan::Plan;
use crate::repo::{self, Repository, RunEnd, RunMeta};
use crate::report::{Progress, write_balance, write_segments};
use crate::runner::{
    self, IdSet, PlannedRun, ProfileHistory, ProfileRun, RunEvent, RunReport, RunSpec, Selection,
    StopSignal,
};
use crate::shell;

pub fn run(ctx: &mut Context<'_>, args: &RunArgs) -> anyhow::Result<u8> {
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
    let filters = select::filters(&args.tests.filters)?;
    let mut id_sets = Vec::new();
    if let Some(path) = &args.load_list {
        id_sets.push(select::load_list(path, args.load_list_json, &profiles)?);
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
            return Ok(exit_codes::SUCCESS);
        }
        id_sets.push(failing);
    }
    let selection = Selection { filters, id_sets };
    let narrowed = args.failing || selection.is_narrowed();
    let partial = args.partial || narrowed;
    for profile in &mut profiles {
        profile.history = ProfileHistory {
            estimates: repo.estimates(&profile.tags)?,
            startup: repo.startup(&profile.tags)?,
            last_run: repo.last_whole_run_tests(&profile.tags)?,
        };
    }
    let concurrency = match args.concurrency {
        Some(n) => usize::from(n),
        None => select::default_concurrency(&config, ctx.project)?,
    };
    let run_profiles: Vec<Profile> = profiles.iter().map(|p| p.tags.clone()).collect();
    let spec = RunSpec {
        project: ctx.project.to_owned(),
        profiles: profiles.into(),
        concurrency,
        selection,
        extra_args: args.tests.extra_args.clone(),
        plan,
        cache_dir: repo::cache_dir(ctx.project),
    };

    // The run exists from here on, marked not finished until it ends: a
    // testr killed meanwhile leaves the tests stored so far.
    let meta = RunMeta {
        partial,
        command: Some(ctx.command_line.to_owned()),
        interrupted: false,
        segments: Vec::new(),
    };
    let mut store = RunStore::start(repo, &meta)?;
    let trace = trace::options(&args.trace);
    let mut tallier = match trace {
        Some(options) => Tallier::tracing(&config, &mut *ctx.stdout, options),
        None => Tallier::new(&config, &mut *ctx.stdout, args.subunit),
    };
    let mut progress = Progress::on_stderr();
    let mut span = TimeSpan::default();
    // The first error writing output stops the echo, not the run: what
    // runs is still stored.
    let mut echo_error = None;
    let report = runner::run(spec, |batch| {
        for event in batch {
            let shown = match event {
                RunEvent::Started { command, .. } => match tallier.text_out() {
                    Some(out) => progress.suspend(|| {
                        writeln!(out, "running={}", shown_as_run(&command))?;
                        out.flush()
                    }),
                    None => Ok(()),
                },
                RunEvent::Planned { tests, .. } => {
                    progress.planned(tests);
                    Ok(())
                }
                RunEvent::Collected(collected) => {
                    if let Collected::Test(result) = &collected {
                        result.timestamps().for_each(|at| span.include(at));
                        progress.finished(result.status.is_failure());
                    }
                    let (profile, echoed) = progress.suspend(|| tallier.take(&collected));
                    store.add(collected, profile, tallier.counts());
                    echoed
                }
                RunEvent::Stderr(bytes) => progress.suspend(|| {
                    // What the tests wrote to stdout so far goes first.
                    tallier.flush()?;
                    ctx.stderr.write_all(&bytes)
                }),
                RunEvent::Notice(notice) => {
                    progress.suspend(|| writeln!(ctx.stderr, "testr: {notice}"))
                }
            };
            if let Err(e) = shown {
                echo_error.get_or_insert(e);
            }
        }
        // FAIL blocks (or subunit) show as the tests finish, not when
        // the run ends.
        if let Err(e) = tallier.flush() {
            echo_error.get_or_insert(e);
        }
    });
    progress.finish();
    let report = report?;
    let (tally, echo_finished) = tallier.finish();
    if let Err(e) = echo_finished {
        echo_error.get_or_insert(e);
    }
    if store.tests() == 0 {
        store.abandon()?;
        if let Some(error) = echo_error {
            return Err(error.into());
        }
        if report.interrupted {
            writeln!(
                ctx.stderr,
                "testr: interrupted{} before any test finished: nothing was stored",
                stopped_by(&report)
            )?;
            return Ok(stopped_status(&report));
        }
        return Err(if narrowed {
            Error::NothingSelected
        } else {
            Error::NothingListed
        }
        .into());
    }

    let end = RunEnd {
        counts: tally.counts,
        span: span.bounds(),
        interrupted: report.interrupted,
        segments: report.segments.clone(),
    };
    let (mut repo, id) = store.finish(end)?;
    // What ran is stored before an error writing output is reported.
    if let Some(error) = echo_error {
        return Err(error.into());
    }
    for (profile, startup) in run_profiles.iter().zip(&report.startups) {
        if let Some(startup) = startup {
            repo.record_startup(profile, *startup)?;
        }
    }
    // The per-test output ends with totals and a worker balance of its own.
    if !args.subunit && trace.is_none() {
        if !ctx.quiet {
            tally::write_run_summary(ctx.stdout, &repo, id, &tally)?;
        }
        write_balance(ctx.stdout, &report.workers)?;
        write_segments(ctx.stdout, &report.segments)?;
    }
    super::last::write_run_junit(args.junit.as_deref(), &repo, id, &config)?;
    history::apply_retention(&mut repo, &config)?;
    if report.interrupted {
        writeln!(
            ctx.stderr,
            "testr: interrupted{}: stored the tests that finished as partial run {id}",
            stopped_by(&report)
        )?;
        return Ok(stopped_status(&report));
    }
    Ok(exit_status(tally.counts))
}

/// The exit status of a run a signal stopped: 128 + its number, as shells
/// report a process the signal killed.
fn stopped_status(report: &RunReport) -> u8 {
    match report.stopped_by {
        Some(StopSignal::Terminate) => exit_codes::TERMINATED,
        Some(StopSignal::Hangup) => exit_codes::HUNG_UP,
        Some(StopSignal::Interrupt) | None => exit_codes::INTERRUPTED,
    }
}

/// " by SIGTERM" (nothing for Ctrl-C, which users know as an interruption).
fn stopped_by(report: &RunReport) -> String {
    match report.stopped_by {
        Some(StopSignal::Interrupt) | None => String::new(),
        Some(signal) => format!(" by {}", signal.name()),
    }
}

/// The plan at `path`, every `{id, profile}` record of it checked against
/// the configured profiles (or the one unnamed profile when none are):
/// a record of another profile would drop its test's constraint.
fn checked_plan(path: &std::path::Path, config: &Config) -> anyhow::Result<Plan> {
    let plan = Plan::read(path)?;
    let configured: Vec<Profile> = match config.profiles() {
        [] => vec![Profile::default()],
        profiles => profiles.iter().map(|p| p.tags.clone()).collect(),
    };
    plan.check_profiles(&configured)?;
    Ok(plan)
}

/// A command as the shell will run it, its parameters (`${PYTHON:-python}`)
/// expanded from testr's environment, which the command inherits.
fn shown_as_run(command: &str) -> String {
    shell::expand_for_display(command, |name| std::env::var(name).ok())
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
