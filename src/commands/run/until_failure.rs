//! `run --until-failure`: the run again and again, each stored, until one
//! has a failure or a signal stops it. A suite that always passes runs
//! until it is interrupted; every run stored by then is kept.

use super::super::Context;
use super::setup::Setup;
use super::{Keep, Ran, Show, isolated, once};
use crate::exit_codes;

/// Repeats the run (an `--isolated` pass when `isolated`); gives the exit
/// status of the last.
pub fn repeat(ctx: &mut Context<'_>, setup: &Setup, isolated: bool) -> anyhow::Result<u8> {
    let mut count: u64 = 0;
    loop {
        count += 1;
        let ran = if isolated {
            isolated::pass(ctx, setup)?
        } else {
            one_run(ctx, setup)?
        };
        if ran.stopped_by.is_none() && ran.status == exit_codes::SUCCESS {
            continue;
        }
        let how = match ran.stopped_by {
            Some(_) => "was stopped",
            None => "failed",
        };
        let kept = count - u64::from(ran.run.is_none());
        writeln!(
            ctx.stderr,
            "testr: --until-failure: run {count} {how}; {kept} runs stored"
        )?;
        return Ok(ran.status);
    }
}

/// One run of the repeats, stored as a run of its own.
fn one_run(ctx: &mut Context<'_>, setup: &Setup) -> anyhow::Result<Ran> {
    let repo = setup.repository(ctx.project)?;
    let spec = setup.spec(ctx.project, Some(&repo))?;
    let meta = setup.meta(ctx, setup.partial);
    once(
        ctx,
        setup,
        repo,
        spec,
        Keep::NewRun.with(meta),
        Show::Everything,
    )
}
