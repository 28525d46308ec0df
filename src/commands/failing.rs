//! `testr failing`: the tests failing now, as FAIL blocks and a summary, a
//! list of ids, or subunit v2.

use super::Context;
use crate::cli::FailingArgs;
use crate::exit_codes;
use crate::model::{RunCounts, Status};
use crate::repo::Repository;
use crate::report::{SubunitWriter, Summary, write_failure, write_summary};

pub fn run(ctx: &mut Context<'_>, args: &FailingArgs) -> anyhow::Result<u8> {
    let repo = Repository::open(ctx.project)?;
    let failing = repo.failing()?;
    if args.list {
        for stored in &failing {
            writeln!(ctx.stdout, "{}", stored.result.id)?;
        }
    } else if args.subunit {
        let mut writer = SubunitWriter::new(&mut *ctx.stdout);
        for stored in &failing {
            writer.write_result(&stored.result)?;
        }
        writer.flush()?;
    } else if let Some(latest) = repo.latest_run()? {
        let mut counts = RunCounts::default();
        let mut span: Option<(i64, i64)> = None;
        for stored in &failing {
            write_failure(ctx.stdout, &stored.result, &stored.profile)?;
            counts.add(Status::Fail, false);
            let result = &stored.result;
            for at in [result.started_at, result.stopped_at].into_iter().flatten() {
                span = Some(span.map_or((at, at), |(lo, hi)| (lo.min(at), hi.max(at))));
            }
        }
        if !ctx.quiet {
            let summary = Summary {
                id: latest.id,
                counts,
                duration: span.map(|(first, last)| last - first),
                previous: None,
            };
            write_summary(ctx.stdout, &summary)?;
        }
    }
    Ok(if failing.is_empty() {
        exit_codes::SUCCESS
    } else {
        exit_codes::TEST_FAILURES
    })
}
