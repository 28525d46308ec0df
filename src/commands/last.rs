//! `testr last`: the latest run again (or any stored run, for `history
//! show`), as its failures and summary, as subunit v2 or a line per test;
//! and writing a stored run as JUnit XML (`--junit`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::profile::{self, Choice, Scope};
use super::replay::replay_run;
use super::{Context, Error, trace};
use crate::cli::LastArgs;
use crate::collect::Collected;
use crate::config::Config;
use crate::exit_codes;
use crate::model::{Profile, RunCounts, RunId, TimeSpan};
use crate::repo::{Repository, RunSummary};
use crate::report::json::{self, LastDoc, ProfileCounts, RunDoc, RunHeader, RunTest};
use crate::report::{JunitReport, SubunitWriter, Summary, write_failure, write_summary};

pub fn run(ctx: &mut Context<'_>, args: &LastArgs) -> anyhow::Result<u8> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let repo = Repository::open_read_only(ctx.project)?;
    let run = repo.latest_run()?.ok_or(Error::NoRuns)?;
    show_run(ctx, &repo, &config, &run, args)
}

/// Shows a stored run as `last` shows the latest one (`history show`):
/// its failures and summary, or the run as JSON, subunit v2 or a line per
/// test; exits 1 when it has failures.
pub(super) fn show_run(
    ctx: &mut Context<'_>,
    repo: &Repository,
    config: &Config,
    run: &RunSummary,
    args: &LastArgs,
) -> anyhow::Result<u8> {
    let in_play = repo.run_profiles(run.id)?;
    let several = in_play.len() > 1;
    // JUnit XML holds a suite per profile, so it may cover them all, as JSON.
    let choice = profile::choose(
        &args.profile,
        args.json || args.junit.is_some(),
        in_play,
        config.profile_tags(),
        ctx.stdout,
    )?;
    let Choice::Show(chosen) = choice else {
        return Ok(exit_codes::SUCCESS);
    };
    // With one profile in the run, the run's own counts are the profile's.
    let scope = if several { chosen } else { Scope::all() };
    let summary = match scope.profile() {
        None => summary_of(run, repo.run_before(run.id)?.as_ref()),
        Some(profile) => profile_summary(repo, run, profile, config)?,
    };
    if args.json {
        let doc = last_doc(repo, run, &summary, &scope, config)?;
        json::write_json(ctx.stdout, &doc)?;
    } else if args.subunit {
        write_run_as_subunit(repo, run, &scope, ctx)?;
    } else if let Some(options) = trace::options(&args.trace) {
        trace::write_stored_run(ctx.stdout, repo, run.id, &scope, options)?;
    } else {
        repo.for_each_result(run.id, true, |stored| {
            if scope.covers(&stored.profile) {
                write_failure(ctx.stdout, &stored.result, &stored.profile)?;
            }
            anyhow::Ok(())
        })?;
        if !ctx.quiet {
            write_summary(ctx.stdout, &summary)?;
        }
    }
    if let Some(path) = &args.junit {
        write_junit(repo, run.id, &scope, config, path)?;
    }
    // JSON says so in its own field.
    if !run.finished && !args.json {
        writeln!(
            ctx.stderr,
            "testr: run {} did not finish: testr was stopped before its end (or is still \
             running it); it holds the tests stored until then",
            run.id
        )?;
    }
    Ok(exit_status(summary.counts))
}

/// Writing `--junit FILE` failed; the run is stored all the same.
#[derive(Debug, thiserror::Error)]
#[error("failed to write JUnit XML to {path}: {source}")]
pub(super) struct JunitWriteError {
    path: PathBuf,
    source: io::Error,
}

/// Writes the whole stored `run` as JUnit XML to `path`, when there is
/// one (`load --junit`, `run --junit`).
pub(super) fn write_run_junit(
    path: Option<&Path>,
    repo: &Repository,
    run: RunId,
    config: &Config,
) -> anyhow::Result<()> {
    match path {
        Some(path) => write_junit(repo, run, &Scope::all(), config, path),
        None => Ok(()),
    }
}

/// Writes the results of the stored `run` in `scope` as JUnit XML to
/// `path`, counted as the summary counts them: results carrying a
/// `filter_tags` tag are left out unless they failed.
fn write_junit(
    repo: &Repository,
    run: RunId,
    scope: &Scope,
    config: &Config,
    path: &Path,
) -> anyhow::Result<()> {
    let mut report = JunitReport::new();
    repo.for_each_result(run, false, |stored| {
        let result = &stored.result;
        let filtered = config.is_filtered(&result.tags) && !result.status.is_failure();
        if scope.covers(&stored.profile) && !filtered {
            report.add(&stored.profile, result);
        }
        anyhow::Ok(())
    })?;
    let failed = |source| JunitWriteError {
        path: path.to_owned(),
        source,
    };
    let mut out = BufWriter::new(File::create(path).map_err(failed)?);
    report.write(&mut out).map_err(failed)?;
    out.flush().map_err(failed)?;
    Ok(())
}

/// The summary lines of a stored run, with deltas against `previous`.
pub(super) fn summary_of(run: &RunSummary, previous: Option<&RunSummary>) -> Summary {
    Summary {
        id: run.id,
        counts: run.counts,
        duration: run.duration_nanos(),
        previous: previous.map(|p| (p.counts, p.duration_nanos())),
    }
}

/// The summary of one profile of a run that holds several, with deltas
/// against the previous run's results of that profile.
fn profile_summary(
    repo: &Repository,
    run: &RunSummary,
    profile: &Profile,
    config: &Config,
) -> anyhow::Result<Summary> {
    let tally = |run: &RunSummary| -> anyhow::Result<(RunCounts, Option<i64>)> {
        let mut counts = RunCounts::default();
        let mut span = TimeSpan::default();
        repo.for_each_result(run.id, false, |stored| {
            if &stored.profile == profile {
                let result = &stored.result;
                let filtered = config.is_filtered(&result.tags);
                counts.add(result.status, filtered);
                result.timestamps().for_each(|at| span.include(at));
            }
            anyhow::Ok(())
        })?;
        Ok((counts, span.duration()))
    };
    let (counts, duration) = tally(run)?;
    let previous = match repo.run_before(run.id)? {
        Some(before) => Some(tally(&before)?).filter(|(c, _)| c.tests_run > 0),
        None => None,
    };
    Ok(Summary {
        id: run.id,
        counts,
        duration,
        previous,
    })
}

/// The JSON of a run: its summary, its counts per profile, and each test
/// in scope.
fn last_doc(
    repo: &Repository,
    run: &RunSummary,
    summary: &Summary,
    scope: &Scope,
    config: &Config,
) -> anyhow::Result<LastDoc> {
    let mut per_profile: BTreeMap<Profile, RunCounts> = BTreeMap::new();
    let mut tests = Vec::new();
    repo.for_each_result(run.id, false, |stored| {
        if scope.covers(&stored.profile) {
            let result = &stored.result;
            let filtered = config.is_filtered(&result.tags);
            per_profile
                .entry(stored.profile.clone())
                .or_default()
                .add(result.status, filtered);
            tests.push(RunTest {
                id: result.id.0.clone(),
                profile: json::profile_tags(&stored.profile),
                status: result.status,
                duration: result.duration_nanos().map(json::seconds),
            });
        }
        anyhow::Ok(())
    })?;
    let profiles = per_profile
        .into_iter()
        .map(|(profile, counts)| ProfileCounts {
            profile: json::profile_tags(&profile),
            counts: counts.into(),
        })
        .collect();
    Ok(LastDoc {
        version: json::VERSION,
        run: RunDoc {
            header: run_header(run, summary.counts, summary.duration),
            profiles,
            segments: repo.run_segments(run.id)?.iter().map(Into::into).collect(),
        },
        tests,
    })
}

/// What JSON says of `run`, with these counts and time (the run's own,
/// or a profile's of it).
pub(super) fn run_header(run: &RunSummary, counts: RunCounts, duration: Option<i64>) -> RunHeader {
    RunHeader {
        id: run.id.0,
        recorded_at: run.recorded_at,
        partial: run.partial,
        interrupted: run.interrupted,
        finished: run.finished,
        command: run.command.clone(),
        counts: counts.into(),
        duration: duration.map(json::seconds),
    }
}

/// 1 when the counts have failures, in every output mode.
pub(super) fn exit_status(counts: RunCounts) -> u8 {
    if counts.failures > 0 {
        exit_codes::TEST_FAILURES
    } else {
        exit_codes::SUCCESS
    }
}

/// Writes the results of `run` in scope, with the output that came between
/// them.
fn write_run_as_subunit(
    repo: &Repository,
    run: &RunSummary,
    scope: &Scope,
    ctx: &mut Context<'_>,
) -> anyhow::Result<()> {
    let mut writer = SubunitWriter::new(&mut *ctx.stdout);
    replay_run(repo, run.id, scope, |collected| {
        match &collected {
            Collected::Test(result) => writer.write_result(result)?,
            Collected::Output(output) => writer.write_output(output)?,
        }
        Ok(())
    })?;
    writer.flush()?;
    Ok(())
}
