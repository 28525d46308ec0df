//! `run --isolated`: each selected test runs alone, in a fresh worker
//! process of its own, one after the other; together they are stored as
//! one run, each test added to it as it finishes. With `--trace`, the
//! lines of the whole pass come at its end.

use super::super::profile::Scope;
use super::super::{Context, Error, list_tests, tally, trace};
use super::setup::Setup;
use super::{Keep, Ran, Show, once};
use crate::exit_codes;
use crate::runner::IdSet;

/// Lists the selected tests, then runs each alone; gives how the whole
/// run went (stopped at the first signal).
pub fn pass(ctx: &mut Context<'_>, setup: &Setup) -> anyhow::Result<Ran> {
    let listed = list_tests::list(ctx, setup.spec(ctx.project, None)?)?;
    let tests: Vec<(usize, String)> = listed
        .into_iter()
        .enumerate()
        .flat_map(|(profile, ids)| ids.into_iter().map(move |id| (profile, id)))
        .collect();
    if tests.is_empty() {
        return Err(if setup.narrowed {
            Error::NothingSelected
        } else {
            Error::NothingListed
        }
        .into());
    }
    let mut stored = None;
    let mut last = None;
    for (position, (profile, id)) in tests.iter().enumerate() {
        let repo = setup.repository(ctx.project)?;
        let mut spec = setup.spec(ctx.project, Some(&repo))?;
        spec.profiles = vec![
            spec.profiles
                .iter()
                .nth(*profile)
                .expect("a listed profile")
                .clone(),
        ]
        .into();
        spec.concurrency = 1;
        spec.selection.id_sets.push(IdSet {
            source: "--isolated".to_owned(),
            every_profile: [id.clone()].into(),
            ..IdSet::default()
        });
        // Until its last test, the run is partial: stopped half-way, it
        // must not clear the failing state of the tests it did not reach.
        let is_last = position + 1 == tests.len();
        let meta = setup.meta(ctx, setup.partial || !is_last);
        let keep = match stored {
            Some(run) => Keep::AddTo(run),
            None => Keep::NewRun,
        };
        // A line per test comes at the end, with the pass's one Totals block.
        let show = match setup.trace {
            Some(_) => Show::Nothing,
            None => Show::Results,
        };
        let ran = once(ctx, setup, repo, spec, keep.with(meta), show)?;
        stored = stored.or(ran.run);
        let stopped = ran.stopped_by.is_some();
        last = Some(ran);
        if stopped {
            break;
        }
    }
    let mut ran = last.expect("there was a test to run");
    if let Some(run) = stored {
        let repo = setup.repository(ctx.project)?;
        if let Some(options) = setup.trace {
            trace::write_stored_run(ctx.stdout, &repo, run, &Scope::all(), options)?;
        } else if !setup.subunit && !ctx.quiet {
            let tally = tally::Tally {
                counts: repo.run(run)?.counts,
                per_profile: Default::default(),
            };
            tally::write_run_summary(ctx.stdout, &repo, run, &tally)?;
        }
        super::super::last::write_run_junit(setup.junit.as_deref(), &repo, run, &setup.config)?;
        if ran.stopped_by.is_none() {
            ran.status = super::super::last::exit_status(repo.run(run)?.counts);
        }
        ran.run = Some(run);
    } else if ran.stopped_by.is_none() {
        ran.status = exit_codes::SUCCESS;
    }
    Ok(ran)
}
