//! `testr failing`: the tests failing now, as FAIL blocks and a summary, a
//! list of ids, subunit v2, or JSON.

use std::io::IsTerminal;

use super::Context;
use super::profile::{self, Choice};
use crate::cli::FailingArgs;
use crate::config::Config;
use crate::exit_codes;
use crate::model::{RunCounts, Status, TimeSpan};
use crate::repo::{Repository, StoredResult};
use crate::report::json::{self, FailingDoc, FailingTest};
use crate::report::{SubunitWriter, Summary, escape_controls, write_failure, write_summary};

pub fn run(ctx: &mut Context<'_>, args: &FailingArgs) -> anyhow::Result<u8> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let repo = Repository::open_read_only(ctx.project)?;
    let in_play = repo.profiles()?;
    let choice = profile::choose(
        &args.profile,
        args.json,
        in_play.clone(),
        config.profile_tags(),
        ctx.stdout,
    )?;
    let Choice::Show(scope) = choice else {
        return Ok(exit_codes::SUCCESS);
    };
    // The ids are enough for a list or the JSON; not for FAIL blocks or
    // subunit.
    let with_attachments = !(args.json || args.list);
    let failing: Vec<_> = repo
        .failing(with_attachments)?
        .into_iter()
        .filter(|stored| scope.covers(&stored.profile))
        .collect();
    if args.json {
        let profiles = match scope.profile() {
            Some(profile) => vec![json::profile_tags(profile)],
            None => in_play.iter().map(json::profile_tags).collect(),
        };
        let doc = FailingDoc {
            version: json::VERSION,
            profiles,
            tests: failing.iter().map(failing_test).collect(),
        };
        json::write_json(ctx.stdout, &doc)?;
    } else if args.list {
        // The list is for scripts, and gives the ids as stored (as stestr
        // does); on a terminal, as ls does, it escapes control characters.
        // Our stdout is the process's in the binary.
        let on_terminal = std::io::stdout().is_terminal();
        for stored in &failing {
            let id = stored.result.id.as_str();
            if on_terminal {
                writeln!(ctx.stdout, "{}", escape_controls(id))?;
            } else {
                writeln!(ctx.stdout, "{id}")?;
            }
        }
    } else if args.subunit {
        let mut writer = SubunitWriter::new(&mut *ctx.stdout);
        for stored in &failing {
            writer.write_result(&stored.result)?;
        }
        writer.flush()?;
    } else if let Some(latest) = repo.latest_run()? {
        let mut counts = RunCounts::default();
        let mut span = TimeSpan::default();
        for stored in &failing {
            write_failure(ctx.stdout, &stored.result, &stored.profile)?;
            counts.add(Status::Fail, false);
            let result = &stored.result;
            result.timestamps().for_each(|at| span.include(at));
        }
        if !ctx.quiet {
            let summary = Summary {
                id: latest.id,
                counts,
                duration: span.duration(),
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

fn failing_test(stored: &StoredResult) -> FailingTest {
    FailingTest {
        id: stored.result.id.0.clone(),
        profile: json::profile_tags(&stored.profile),
        status: stored.result.status,
        run: stored.run.0,
    }
}
