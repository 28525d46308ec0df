//! `testr load`: store subunit v2 streams as one run, echoing failures as
//! they arrive and the summary at the end.

use std::fs::File;
use std::io::{BufReader, Read};

use super::last::{exit_status, write_run_junit};
use super::store;
use super::tally::{self, Tallier};
use super::{Context, Error, history, profile, trace};
use crate::cli::LoadArgs;
use crate::collect::{Collected, Collector, PARSER_TEST_ID};
use crate::config::Config;
use crate::model::TimeSpan;
use crate::repo::{Repository, RunMeta};
use crate::subunit::Items;

/// One input stream, the results of one worker.
struct Input<'a> {
    name: String,
    reader: Box<dyn Read + 'a>,
}

pub fn run(ctx: &mut Context<'_>, args: &LoadArgs) -> anyhow::Result<u8> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let added_tags: Vec<String> = match &args.profile {
        Some(requested) => profile::parse(requested, config.profile_tags())?
            .tags()
            .to_vec(),
        None => Vec::new(),
    };
    // Every file is opened before anything is stored: a missing one stores nothing.
    let mut inputs: Vec<Input<'_>> = Vec::new();
    for path in &args.files {
        let file = File::open(path).map_err(|source| Error::OpenInput {
            path: path.clone(),
            source,
        })?;
        inputs.push(Input {
            name: path.display().to_string(),
            reader: Box::new(BufReader::with_capacity(1 << 16, file)),
        });
    }
    if inputs.is_empty() {
        inputs.push(Input {
            name: "standard input".to_owned(),
            reader: Box::new(&mut *ctx.stdin),
        });
    }
    let mut repo = Repository::open_or_init(ctx.project, args.force_init)?;
    let meta = RunMeta {
        partial: args.partial,
        command: Some(ctx.command_line.to_owned()),
        interrupted: false,
        segments: Vec::new(),
    };
    let mut writer = repo.begin_run(&meta)?;
    let trace = trace::options(&args.trace);
    let mut tallier = match trace {
        Some(options) => Tallier::tracing(&config, &mut *ctx.stdout, options),
        None => Tallier::new(&config, &mut *ctx.stdout, args.subunit),
    };
    let mut span = TimeSpan::default();
    let mut done = Vec::new();
    for (worker, input) in inputs.into_iter().enumerate() {
        let mut tags = added_tags.clone();
        tags.push(format!("worker-{worker}"));
        let mut collector = Collector::new(tags);
        let before = writer.result_count();
        let mut take = |done: &mut Vec<Collected>| -> anyhow::Result<()> {
            for collected in done.drain(..) {
                let (profile, echoed) = tallier.take(&collected);
                echoed?;
                store::item(&mut writer, &collected, profile.as_ref())?;
            }
            Ok(())
        };
        for item in Items::new(input.reader) {
            let item = item.map_err(|source| Error::ReadInput {
                input: input.name.clone(),
                source,
            })?;
            collector.push(item, &mut |c| done.push(c));
            take(&mut done)?;
        }
        collector.finish(&mut |c| done.push(c));
        take(&mut done)?;
        if collector.packets() == 0 || writer.result_count() == before {
            // Dropping the writer rolls the whole run back.
            return Err(if collector.looks_like_v1() {
                Error::SubunitV1 { input: input.name }
            } else {
                Error::EmptyStream { input: input.name }
            }
            .into());
        }
        if collector.corrupt_packets() > 0 {
            writeln!(
                ctx.stderr,
                "testr: warning: {} corrupt packet(s) in {}, recorded as failing test {PARSER_TEST_ID}",
                collector.corrupt_packets(),
                input.name
            )?;
        }
        span.merge(collector.time_span());
    }
    let subunit = tallier.is_subunit();
    let (tally, echo_finished) = tallier.finish();
    let id = writer.commit(tally.counts, span.bounds())?;
    // What was loaded is stored before an error writing output is reported.
    echo_finished?;
    if !subunit && trace.is_none() && !ctx.quiet {
        tally::write_run_summary(ctx.stdout, &repo, id, &tally)?;
    }
    // From the stored run, after it is stored: a file that cannot be
    // written loses nothing.
    write_run_junit(args.junit.as_deref(), &repo, id, &config)?;
    history::apply_retention(&mut repo, &config)?;
    Ok(exit_status(tally.counts))
}
