//! `run --analyze-isolation`: for each test that failed in the latest run
//! and is failing still, find whether it fails because of tests that ran
//! before it on its worker. It runs alone first; if it passes, the tests
//! before it are replayed with it on one worker, in the order they ran,
//! and bisected down to a smallest set that still makes it fail (each of
//! its tests needed). The probes are not stored.

use std::collections::HashSet;

use super::super::{Context, Error};
use super::setup::Setup;
use super::{Keep, Show, once};
use crate::exit_codes;
use crate::model::Profile;
use crate::runner::{IdSet, Order, Selection};

/// A failure of the latest run, and what ran before it on its worker.
struct Failure {
    id: String,
    profile: Profile,
    /// Its `worker-N` tag, for messages.
    worker: String,
    before: Vec<String>,
}

/// What analysing one failure found.
enum Finding {
    FailsAlone,
    NothingBefore,
    NotReproduced { before: usize },
    FailsAfter(Vec<String>),
}

/// Why the analysis stopped early.
enum Halt {
    Stopped(u8),
    Error(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Halt {
    fn from(error: E) -> Halt {
        Halt::Error(error.into())
    }
}

pub fn analyze(ctx: &mut Context<'_>, setup: &Setup) -> anyhow::Result<u8> {
    let repo = setup.repository(ctx.project)?;
    let latest = repo.latest_run()?.ok_or(Error::NoRuns)?;
    let failures = failures_of_latest_run(&repo, setup, latest.id)?;
    drop(repo);
    if failures.is_empty() {
        writeln!(
            ctx.stdout,
            "No test of run {} is failing: nothing to analyse.",
            latest.id
        )?;
        return Ok(exit_codes::SUCCESS);
    }
    writeln!(
        ctx.stdout,
        "Analysing {} failing test{} of run {}: each probe runs its tests on one worker, \
         in the order they ran.",
        failures.len(),
        if failures.len() == 1 { "" } else { "s" },
        latest.id
    )?;
    for failure in &failures {
        let finding = match analyze_one(ctx, setup, failure) {
            Ok(finding) => finding,
            Err(Halt::Stopped(status)) => {
                writeln!(ctx.stderr, "testr: the isolation analysis was stopped")?;
                return Ok(status);
            }
            Err(Halt::Error(error)) => return Err(error),
        };
        write_finding(ctx, failure, &finding)?;
    }
    Ok(exit_codes::TEST_FAILURES)
}

fn write_finding(
    ctx: &mut Context<'_>,
    failure: &Failure,
    finding: &Finding,
) -> anyhow::Result<()> {
    let id = &failure.id;
    match finding {
        Finding::FailsAlone => writeln!(
            ctx.stdout,
            "{id}: fails alone too: not caused by the tests before it"
        )?,
        Finding::NothingBefore => writeln!(
            ctx.stdout,
            "{id}: passes alone, and ran first on {}: nothing to bisect",
            failure.worker
        )?,
        Finding::NotReproduced { before } => writeln!(
            ctx.stdout,
            "{id}: passes alone, and passes after the {before} tests that ran before it \
             on {}: not reproduced",
            failure.worker
        )?,
        Finding::FailsAfter(needed) => {
            writeln!(
                ctx.stdout,
                "{id}: passes alone; fails after {} of the {} tests before it on {}:",
                needed.len(),
                failure.before.len(),
                failure.worker
            )?;
            for test in needed {
                writeln!(ctx.stdout, "  {test}")?;
            }
        }
    }
    Ok(())
}

/// The tests that failed in `run` and are in the failing set, selected by
/// the filters, each with the tests before it on its worker.
fn failures_of_latest_run(
    repo: &crate::repo::Repository,
    setup: &Setup,
    run: crate::model::RunId,
) -> anyhow::Result<Vec<Failure>> {
    let failing: HashSet<(String, Profile)> = repo
        .failing_ids()?
        .into_iter()
        .map(|(id, profile)| (id.0, profile))
        .collect();
    let chosen: Vec<&Profile> = setup.profiles.iter().map(|p| &p.tags).collect();
    let mut ran: Vec<(String, Profile, String)> = Vec::new();
    let mut failures = Vec::new();
    repo.for_each_result(run, false, |stored| -> anyhow::Result<()> {
        let result = stored.result;
        let worker = result
            .tags
            .iter()
            .find(|tag| tag.starts_with("worker-"))
            .cloned()
            .unwrap_or_default();
        let id = result.id.0;
        let key = (id.clone(), stored.profile.clone());
        if result.status.is_failure()
            && failing.contains(&key)
            && chosen.contains(&&stored.profile)
            && setup.selection.admits(&stored.profile, &id)
        {
            let before = ran
                .iter()
                .filter(|(_, profile, on)| *profile == stored.profile && *on == worker)
                .map(|(id, _, _)| id.clone())
                .collect();
            failures.push(Failure {
                id: id.clone(),
                profile: stored.profile.clone(),
                worker: match worker.as_str() {
                    // A loaded stream may carry no worker tags: it is one.
                    "" => "the run's stream".to_owned(),
                    tag => tag.to_owned(),
                },
                before,
            });
        }
        ran.push((id, stored.profile, worker));
        Ok(())
    })?;
    Ok(failures)
}

fn analyze_one(ctx: &mut Context<'_>, setup: &Setup, failure: &Failure) -> Result<Finding, Halt> {
    let mut fails_after = |tests: &[String]| probe(ctx, setup, failure, tests);
    if fails_after(&[])? {
        return Ok(Finding::FailsAlone);
    }
    if failure.before.is_empty() {
        return Ok(Finding::NothingBefore);
    }
    if !fails_after(&failure.before)? {
        return Ok(Finding::NotReproduced {
            before: failure.before.len(),
        });
    }
    let mut needed = needed(&[], false, &failure.before, &mut fails_after)?;
    // In the order they ran.
    needed.sort_by_key(|id| failure.before.iter().position(|b| b == id));
    Ok(Finding::FailsAfter(needed))
}

/// The smallest subset of `candidates` that, run with `background` before
/// the failing test, makes it fail: each of its tests is needed
/// (QuickXplain, Junker 2004). `fails(tests)` runs them, then the failing
/// test. The caller knows that `background` with every candidate fails;
/// `changed` is false when `background` alone is known to pass.
fn needed(
    background: &[String],
    changed: bool,
    candidates: &[String],
    fails: &mut impl FnMut(&[String]) -> Result<bool, Halt>,
) -> Result<Vec<String>, Halt> {
    if changed && fails(background)? {
        return Ok(Vec::new());
    }
    if candidates.len() == 1 {
        return Ok(candidates.to_vec());
    }
    let (first, second) = candidates.split_at(candidates.len() / 2);
    let with_first = [background, first].concat();
    let of_second = needed(&with_first, !first.is_empty(), second, fails)?;
    let with_second = [background, &of_second].concat();
    let of_first = needed(&with_second, !of_second.is_empty(), first, fails)?;
    Ok([of_first, of_second].concat())
}

/// Runs `before` (in the order they ran) and then the failing test on one
/// fresh worker; whether the failing test failed. Nothing is stored.
fn probe(
    ctx: &mut Context<'_>,
    setup: &Setup,
    failure: &Failure,
    before: &[String],
) -> Result<bool, Halt> {
    let Some(profile) = setup
        .profiles
        .iter()
        .position(|p| p.tags == failure.profile)
    else {
        return Ok(false);
    };
    let mut order: Vec<String> = failure
        .before
        .iter()
        .filter(|id| before.contains(id))
        .cloned()
        .collect();
    order.push(failure.id.clone());
    // No history: one process runs every test, in the order given.
    let mut spec = setup.spec(ctx.project, None)?;
    spec.profiles = vec![
        spec.profiles
            .iter()
            .nth(profile)
            .expect("a chosen profile")
            .clone(),
    ]
    .into();
    spec.concurrency = 1;
    spec.plan = None;
    spec.selection = Selection {
        id_sets: vec![IdSet {
            source: "--analyze-isolation".to_owned(),
            every_profile: order.iter().cloned().collect(),
            ..IdSet::default()
        }],
        ..Selection::default()
    };
    spec.order = Order::AsGiven(order);
    let repo = setup.repository(ctx.project)?;
    let meta = setup.meta(ctx, true);
    let ran = once(
        ctx,
        setup,
        repo,
        spec,
        Keep::Nothing.with(meta),
        Show::Nothing,
    )?;
    if let Some(_signal) = ran.stopped_by {
        return Err(Halt::Stopped(ran.status));
    }
    Ok(ran
        .failed
        .contains(&(failure.id.clone(), failure.profile.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// The failing test fails when every test of `culprits` ran before it.
    fn find(culprits: &[&str], candidates: &[String]) -> (Vec<String>, usize) {
        let mut probes = 0;
        let mut fails = |tests: &[String]| -> Result<bool, Halt> {
            probes += 1;
            Ok(culprits.iter().all(|c| tests.iter().any(|t| t == c)))
        };
        let Ok(found) = needed(&[], false, candidates, &mut fails) else {
            panic!("no probe fails to run");
        };
        let mut found = found;
        found.sort();
        (found, probes)
    }

    #[test]
    fn one_culprit_among_many_is_found_by_bisection() {
        let candidates: Vec<String> = (0..64).map(|i| format!("t{i:02}")).collect();
        let (found, probes) = find(&["t37"], &candidates);
        assert_eq!(found, ids(&["t37"]));
        assert!(probes <= 2 * 6 + 2, "{probes} probes for 64 candidates");
    }

    #[test]
    fn every_culprit_of_a_set_is_found_and_nothing_else() {
        let candidates: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
        let (found, _) = find(&["t03", "t17"], &candidates);
        assert_eq!(found, ids(&["t03", "t17"]));
        let (found, _) = find(&["t00", "t01", "t19"], &candidates);
        assert_eq!(found, ids(&["t00", "t01", "t19"]));
    }
}
