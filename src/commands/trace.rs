//! The per-test output flags (`--trace` and stestr's spellings) of `run`,
//! `load`, `last` and `history show`, and a stored run shown that way.

use std::io::{IsTerminal, Write};

use super::profile::Scope;
use super::replay::replay_run;
use crate::cli::{ColorChoice, TraceArgs};
use crate::collect::Collected;
use crate::model::RunId;
use crate::repo::Repository;
use crate::report::{LineStyle, PassingAttachments, TraceOptions, TraceReport};

/// The per-test output the flags ask for, if any: `--trace`, or any flag
/// that only that output has (`--abbreviate`, `--color`, the attachment
/// choices), as stestr shows it by default.
pub fn options(args: &TraceArgs) -> Option<TraceOptions> {
    let asked = args.trace
        || args.abbreviate
        || args.color.is_some()
        || args.suppress_attachments
        || args.all_attachments;
    if !asked {
        return None;
    }
    let color = match args.color {
        Some(ColorChoice::Always) => true,
        Some(ColorChoice::Auto) => std::io::stdout().is_terminal(),
        Some(ColorChoice::Never) | None => false,
    };
    let passing_attachments = if args.suppress_attachments {
        PassingAttachments::Suppressed
    } else if args.all_attachments {
        PassingAttachments::AllText
    } else {
        PassingAttachments::StdoutAndStderr
    };
    Some(TraceOptions {
        style: if args.abbreviate {
            LineStyle::Abbreviated
        } else {
            LineStyle::Full
        },
        color,
        passing_attachments,
    })
}

/// Shows the results of a stored run in scope, and the output between them,
/// a line per test.
pub fn write_stored_run(
    out: &mut dyn Write,
    repo: &Repository,
    run: RunId,
    scope: &Scope,
    options: TraceOptions,
) -> anyhow::Result<()> {
    let mut trace = TraceReport::new(out, options);
    replay_run(repo, run, scope, |collected| {
        match &collected {
            Collected::Test(result) => trace.result(result)?,
            Collected::Output(output) => trace.output(output)?,
        }
        Ok(())
    })?;
    trace.finish()?;
    Ok(())
}
