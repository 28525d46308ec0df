//! `testr history`: list the stored runs, show one as `last` shows the
//! latest, remove runs by id, age or count; and the retention settings
//! (`history_keep`, `history_max_age`), applied after a run is stored.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Context, Error, last};
use crate::cli::{HistoryCommand, HistoryListArgs, HistoryRemoveArgs, HistoryShowArgs};
use crate::config::{Config, Retention, parse_age};
use crate::exit_codes;
use crate::model::{RunId, RunState};
use crate::repo::{Repository, RunSummary};
use crate::report::json::{self, HistoryDoc};
use crate::report::{HistoryRow, write_history};

/// The word `history remove` takes for every run, as stestr's does.
const ALL_RUNS: &str = "all";

pub fn run(ctx: &mut Context<'_>, command: &HistoryCommand) -> anyhow::Result<u8> {
    match command {
        HistoryCommand::List(args) => list(ctx, args),
        HistoryCommand::Show(args) => show(ctx, args),
        HistoryCommand::Remove(args) => remove(ctx, args),
    }
}

fn list(ctx: &mut Context<'_>, args: &HistoryListArgs) -> anyhow::Result<u8> {
    let repo = Repository::open_read_only(ctx.project)?;
    let runs = repo.runs()?;
    if args.json {
        let doc = HistoryDoc {
            version: json::VERSION,
            runs: runs
                .iter()
                .map(|run| last::run_header(run, run.counts, run.duration_nanos()))
                .collect(),
        };
        json::write_json(ctx.stdout, &doc)?;
    } else {
        let rows: Vec<HistoryRow> = runs.iter().map(history_row).collect();
        write_history(ctx.stdout, &rows)?;
    }
    Ok(exit_codes::SUCCESS)
}

fn show(ctx: &mut Context<'_>, args: &HistoryShowArgs) -> anyhow::Result<u8> {
    let id = run_id(&args.id)?;
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let repo = Repository::open_read_only(ctx.project)?;
    let run = repo.run(id)?;
    last::show_run(ctx, &repo, &config, &run, &args.show)
}

fn remove(ctx: &mut Context<'_>, args: &HistoryRemoveArgs) -> anyhow::Result<u8> {
    let mut repo = Repository::open(ctx.project)?;
    let chosen = match (&args.id, &args.older_than, args.keep) {
        (Some(all), _, _) if all == ALL_RUNS => ids(&repo.runs()?),
        (Some(id), _, _) => vec![run_id(id)?],
        (None, Some(age), _) => {
            let age = parse_age(age).map_err(|problem| Error::BadAge {
                value: age.clone(),
                problem,
            })?;
            let retention = Retention {
                max_age: Some(age),
                keep: None,
            };
            past_retention(&repo.runs()?, retention, SystemTime::now())
        }
        (None, None, Some(keep)) => {
            let retention = Retention {
                keep: Some(keep),
                max_age: None,
            };
            past_retention(&repo.runs()?, retention, SystemTime::now())
        }
        (None, None, None) => unreachable!("clap requires an id, --older-than or --keep"),
    };
    repo.remove_runs(&chosen)?;
    match chosen.as_slice() {
        [] => writeln!(ctx.stdout, "No run to remove.")?,
        [one] => writeln!(ctx.stdout, "Removed run {one}.")?,
        many => {
            let shown: Vec<String> = many.iter().map(ToString::to_string).collect();
            writeln!(
                ctx.stdout,
                "Removed {} runs: {}.",
                many.len(),
                shown.join(", ")
            )?;
        }
    }
    Ok(exit_codes::SUCCESS)
}

/// Removes the runs the configuration's retention keys no longer keep,
/// after a run was stored.
pub(super) fn apply_retention(repo: &mut Repository, config: &Config) -> anyhow::Result<()> {
    let retention = config.retention();
    if retention.is_set() {
        let past = past_retention(&repo.runs()?, retention, SystemTime::now());
        repo.remove_runs(&past)?;
    }
    Ok(())
}

/// The runs (oldest first) that `retention` does not keep at `now`: all
/// but the newest `keep`, and those stored longer ago than `max_age`.
fn past_retention(runs: &[RunSummary], retention: Retention, now: SystemTime) -> Vec<RunId> {
    let beyond_keep = retention.keep.map_or(0, |keep| {
        runs.len()
            .saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX))
    });
    let cutoff = retention
        .max_age
        .and_then(|age| now.checked_sub(age))
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_secs() as i64);
    runs.iter()
        .enumerate()
        .filter(|(position, run)| {
            *position < beyond_keep || cutoff.is_some_and(|cutoff| run.recorded_at < cutoff)
        })
        .map(|(_, run)| run.id)
        .collect()
}

fn ids(runs: &[RunSummary]) -> Vec<RunId> {
    runs.iter().map(|run| run.id).collect()
}

/// A run id as typed: a whole number.
fn run_id(value: &str) -> Result<RunId, Error> {
    value
        .trim()
        .parse()
        .map(RunId)
        .map_err(|_| Error::BadRunId {
            value: value.to_owned(),
        })
}

fn history_row(run: &RunSummary) -> HistoryRow {
    HistoryRow {
        id: run.id,
        recorded_at: run.recorded_at,
        counts: run.counts,
        duration: run.duration_nanos(),
        state: RunState::of(run.partial, run.interrupted, run.finished),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RunCounts;
    use std::time::Duration;

    const DAY: u64 = 86_400;

    fn runs(ages_in_days: &[u64], now: SystemTime) -> Vec<RunSummary> {
        ages_in_days
            .iter()
            .enumerate()
            .map(|(id, days)| RunSummary {
                id: RunId(id as i64),
                recorded_at: (now - Duration::from_secs(days * DAY))
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64,
                partial: false,
                interrupted: false,
                finished: true,
                command: None,
                span: None,
                counts: RunCounts::default(),
            })
            .collect()
    }

    #[test]
    fn retention_removes_past_the_count_or_the_age() {
        let now = UNIX_EPOCH + Duration::from_secs(100 * DAY);
        let stored = runs(&[40, 31, 29, 2, 0], now);
        let kept = |keep, max_days: Option<u64>| {
            let retention = Retention {
                keep,
                max_age: max_days.map(|d| Duration::from_secs(d * DAY)),
            };
            let removed = past_retention(&stored, retention, now);
            removed.iter().map(|id| id.0).collect::<Vec<_>>()
        };
        assert_eq!(kept(None, None), Vec::<i64>::new());
        assert_eq!(kept(Some(2), None), [0, 1, 2]);
        assert_eq!(kept(Some(10), None), Vec::<i64>::new());
        assert_eq!(kept(None, Some(30)), [0, 1]);
        assert_eq!(kept(Some(4), Some(30)), [0, 1]);
        assert_eq!(kept(Some(2), Some(30)), [0, 1, 2]);
        // An age past the epoch removes nothing.
        assert_eq!(kept(None, Some(1_000_000)), Vec::<i64>::new());
    }
}
