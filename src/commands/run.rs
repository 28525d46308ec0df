//! `testr run`: run the selected tests of every selected profile on the
//! runner, echo failures (or subunit v2) as they come, and store the run as
//! it goes: created at its start, its results within a second of finishing,
//! marked finished at its end (docs/repository.md). [`once`] is one run;
//! the modes that run several (`--until-failure`, `--isolated`,
//! `--analyze-isolation`) are built on it.

mod isolated;
mod isolation;
mod setup;
mod until_failure;

use std::collections::HashSet;
use std::io;

use super::last::exit_status;
use super::store::RunStore;
use super::tally::{self, Tallier};
use super::{Context, Error, history};
use crate::cli::{ProfileArgs, RunArgs, SlowestArgs};
use crate::collect::Collected;
use crate::exit_codes;
use crate::model::{Profile, RunId, TimeSpan};
use crate::repo::{Repository, RunEnd, RunMeta};
use crate::report::{Progress, write_balance, write_segments};
use crate::runner::{self, RunEvent, RunReport, RunSpec, StopSignal};
use crate::shell;
use setup::{Mode, Settled, Setup};

pub fn run(ctx: &mut Context<'_>, args: &RunArgs) -> anyhow::Result<u8> {
    let setup = match Setup::from_args(ctx, args)? {
        Settled::Setup(setup) => setup,
        Settled::NothingFailing => return Ok(exit_codes::SUCCESS),
    };
    let status = match setup.mode {
        Mode::AnalyzeIsolation => return isolation::analyze(ctx, &setup),
        Mode::UntilFailure { isolated } => until_failure::repeat(ctx, &setup, isolated)?,
        Mode::Isolated => isolated::pass(ctx, &setup)?.status,
        Mode::Once { combine } => whole_run(ctx, &setup, combine)?.status,
    };
    if args.slowest && !is_stopped(status) {
        let slowest = SlowestArgs {
            all: false,
            json: false,
            profile: ProfileArgs {
                profile: None,
                profiles: false,
            },
        };
        super::slowest::run(ctx, &slowest)?;
    }
    Ok(status)
}

/// The selected tests run once, shown whole, as a new run or (`combine`)
/// added to the latest.
fn whole_run(ctx: &mut Context<'_>, setup: &Setup, combine: bool) -> anyhow::Result<Ran> {
    let repo = setup.repository(ctx.project)?;
    let keep = if combine {
        Keep::AddTo(setup.latest_run(&repo)?)
    } else {
        Keep::NewRun
    };
    let spec = setup.spec(ctx.project, Some(&repo))?;
    let meta = setup.meta(ctx, setup.partial);
    once(ctx, setup, repo, spec, keep.with(meta), Show::Everything)
}

/// Where a run's results go.
pub(super) enum Keep {
    /// A new run.
    NewRun,
    /// After the results of this stored run (`--combine`).
    AddTo(RunId),
    /// Nowhere: what a probe of `--analyze-isolation` finds is only used.
    Nothing,
}

impl Keep {
    /// With what is known of the run before it starts.
    fn with(self, meta: RunMeta) -> Storage {
        Storage { keep: self, meta }
    }
}

/// Where a run's results go, and what is known of it first.
pub(super) struct Storage {
    keep: Keep,
    meta: RunMeta,
}

impl Setup {
    /// What is known of a run of the setup before it starts; `partial` for
    /// one part of a run of several parts.
    pub(super) fn meta(&self, ctx: &Context<'_>, partial: bool) -> RunMeta {
        RunMeta {
            partial,
            command: Some(ctx.command_line.to_owned()),
            interrupted: false,
            segments: Vec::new(),
        }
    }
}

/// What a run shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Show {
    /// `running=` lines, failures (or subunit) as they come, the summary,
    /// the worker balance and the JUnit file.
    Everything,
    /// Failures (or subunit) as they come: one part of a run of several.
    Results,
    /// Nothing on stdout; a probe.
    Nothing,
}

/// How a run went.
pub(super) struct Ran {
    /// Its exit status alone: 0, 1 for failures, or a signal's.
    pub status: u8,
    /// The stored run, if anything was stored.
    pub run: Option<RunId>,
    /// The signal that stopped it.
    pub stopped_by: Option<StopSignal>,
    /// The tests that failed in it, with their profiles.
    pub failed: HashSet<(String, Profile)>,
}

/// One run of `spec` on the runner: echoes and stores its results as it
/// goes, as `storage` and `show` say.
pub(super) fn once(
    ctx: &mut Context<'_>,
    setup: &Setup,
    repo: Repository,
    spec: RunSpec,
    storage: Storage,
    show: Show,
) -> anyhow::Result<Ran> {
    let run_profiles: Vec<Profile> = spec.profiles.iter().map(|p| p.tags.clone()).collect();
    // The run exists from here on, marked not finished until it ends: a
    // testr killed meanwhile leaves the tests stored so far.
    let mut store = match storage.keep {
        Keep::NewRun => Some(RunStore::start(repo, &storage.meta)?),
        Keep::AddTo(run) => Some(RunStore::resume(repo, run, &storage.meta)?),
        Keep::Nothing => None,
    };
    let mut hidden = io::sink();
    let out: &mut dyn io::Write = match show {
        Show::Nothing => &mut hidden,
        Show::Everything | Show::Results => &mut *ctx.stdout,
    };
    let mut tallier = match setup.trace {
        Some(options) => Tallier::tracing(&setup.config, out, options),
        None => Tallier::new(&setup.config, out, setup.subunit),
    };
    let mut progress = Progress::on_stderr();
    let mut span = TimeSpan::default();
    let mut tests = 0;
    let mut failed = HashSet::new();
    // The first error writing output stops the echo, not the run: what
    // runs is still stored.
    let mut echo_error = None;
    let report = runner::run(spec, |batch| {
        for event in batch {
            let shown = match event {
                RunEvent::Started { command, .. } => match tallier.text_out() {
                    Some(out) if show == Show::Everything => progress.suspend(|| {
                        writeln!(out, "running={}", shown_as_run(&command))?;
                        out.flush()
                    }),
                    _ => Ok(()),
                },
                RunEvent::Planned { tests, .. } => {
                    progress.planned(tests);
                    Ok(())
                }
                RunEvent::Collected(collected) => {
                    if let Collected::Test(result) = &collected {
                        result.timestamps().for_each(|at| span.include(at));
                        progress.finished(result.status.is_failure());
                        tests += 1;
                    }
                    let (profile, echoed) = progress.suspend(|| tallier.take(&collected));
                    if let (Collected::Test(result), Some(profile)) = (&collected, &profile) {
                        if result.status.is_failure() {
                            failed.insert((result.id.0.clone(), profile.clone()));
                        }
                    }
                    if let Some(store) = &mut store {
                        store.add(collected, profile, tallier.counts());
                    }
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
    let ran = |status, run| Ran {
        status,
        run,
        stopped_by: report.stopped_by,
        failed: failed.clone(),
    };
    if tests == 0 {
        if let Some(store) = store {
            store.abandon()?;
        }
        if let Some(error) = echo_error {
            return Err(error.into());
        }
        if report.interrupted {
            writeln!(
                ctx.stderr,
                "testr: interrupted{} before any test finished: nothing was stored",
                stopped_by(&report)
            )?;
            return Ok(ran(stopped_status(&report), None));
        }
        return Err(if setup.narrowed {
            Error::NothingSelected
        } else {
            Error::NothingListed
        }
        .into());
    }
    let Some(store) = store else {
        if let Some(error) = echo_error {
            return Err(error.into());
        }
        let status = match report.interrupted {
            true => stopped_status(&report),
            false => exit_status(tally.counts),
        };
        return Ok(ran(status, None));
    };

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
    if show == Show::Everything {
        write_ending(ctx, setup, &repo, id, &tally, &report)?;
    }
    history::apply_retention(&mut repo, &setup.config)?;
    if report.interrupted {
        writeln!(
            ctx.stderr,
            "testr: interrupted{}: stored the tests that finished as partial run {id}",
            stopped_by(&report)
        )?;
        return Ok(ran(stopped_status(&report), Some(id)));
    }
    // A run added to fails when any of its parts did.
    let counts = repo.run(id)?.counts;
    Ok(ran(exit_status(counts), Some(id)))
}

/// What a run shows once it is stored: its summary and worker balance (not
/// with subunit), and its JUnit file.
fn write_ending(
    ctx: &mut Context<'_>,
    setup: &Setup,
    repo: &Repository,
    id: RunId,
    tally: &tally::Tally,
    report: &RunReport,
) -> anyhow::Result<()> {
    // The per-test output ends with totals and a worker balance of its own.
    if !setup.subunit && setup.trace.is_none() {
        if !ctx.quiet {
            tally::write_run_summary(ctx.stdout, repo, id, tally)?;
        }
        write_balance(ctx.stdout, &report.workers)?;
        write_segments(ctx.stdout, &report.segments)?;
    }
    super::last::write_run_junit(setup.junit.as_deref(), repo, id, &setup.config)
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

/// Whether `status` is that of a run a signal stopped.
fn is_stopped(status: u8) -> bool {
    matches!(
        status,
        exit_codes::TERMINATED | exit_codes::HUNG_UP | exit_codes::INTERRUPTED
    )
}

/// " by SIGTERM" (nothing for Ctrl-C, which users know as an interruption).
fn stopped_by(report: &RunReport) -> String {
    match report.stopped_by {
        Some(StopSignal::Interrupt) | None => String::new(),
        Some(signal) => format!(" by {}", signal.name()),
    }
}

/// A command as the shell will run it, its parameters (`${PYTHON:-python}`)
/// expanded from testr's environment, which the command inherits.
fn shown_as_run(command: &str) -> String {
    shell::expand_for_display(command, |name| std::env::var(name).ok())
}
