//! `run --until-failure`: the run again and again, each stored, until one
//! has a failure or a signal stops it. A suite that always passes runs
//! until it is interrupted; every run stored by then is kept.

use super::super::Context;
use super::setup::Setup;
use super::{isolated, whole_run};
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
            whole_run(ctx, setup, false)?
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
