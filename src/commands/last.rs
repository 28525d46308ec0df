//! `testr last`: the latest run again, as its failures and summary, or as
//! subunit v2.

use super::{Context, Error};
use crate::cli::LastArgs;
use crate::exit_codes;
use crate::repo::{Repository, RunSummary};
use crate::report::{SubunitWriter, Summary, write_failure, write_summary};

pub fn run(ctx: &mut Context<'_>, args: &LastArgs) -> anyhow::Result<u8> {
    let repo = Repository::open(ctx.project)?;
    let run = repo.latest_run()?.ok_or(Error::NoRuns)?;
    if args.subunit {
        write_run_as_subunit(&repo, &run, ctx)?;
    } else {
        repo.for_each_result(run.id, true, |stored| {
            write_failure(ctx.stdout, &stored.result, &stored.profile)?;
            anyhow::Ok(())
        })?;
        if !ctx.quiet {
            let previous = repo.run_before(run.id)?;
            write_summary(ctx.stdout, &summary_of(&run, previous.as_ref()))?;
        }
    }
    Ok(exit_status(&run))
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

/// 1 when the run has failures, in every output mode.
pub(super) fn exit_status(run: &RunSummary) -> u8 {
    if run.counts.failures > 0 {
        exit_codes::TEST_FAILURES
    } else {
        exit_codes::SUCCESS
    }
}

/// Writes every result of `run`, with the output that came between them.
fn write_run_as_subunit(
    repo: &Repository,
    run: &RunSummary,
    ctx: &mut Context<'_>,
) -> anyhow::Result<()> {
    let mut outputs = repo.run_outputs(run.id)?.into_iter().peekable();
    let mut writer = SubunitWriter::new(&mut *ctx.stdout);
    repo.for_each_result(run.id, false, |stored| {
        while let Some((_, output)) = outputs.next_if(|(before, _)| *before <= stored.seq) {
            writer.write_output(&output)?;
        }
        writer.write_result(&stored.result)?;
        anyhow::Ok(())
    })?;
    for (_, output) in outputs {
        writer.write_output(&output)?;
    }
    writer.flush()?;
    Ok(())
}
