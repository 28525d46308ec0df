//! `testr load`: store subunit v2 streams as one run, echoing failures as
//! they arrive and the summary at the end.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};

use super::{Context, Error};
use crate::cli::LoadArgs;
use crate::collect::{Collected, Collector, PARSER_TEST_ID};
use crate::config::Config;
use crate::model::{Profile, RunCounts, RunId, TestResult, TimeSpan};
use crate::repo::{Repository, RunMeta, RunWriter};
use crate::report::{SubunitWriter, write_failure, write_summary};
use crate::subunit::Items;

use super::last::{exit_status, summary_of};
use super::profile;

/// One input stream, the results of one worker.
struct Input<'a> {
    name: String,
    reader: Box<dyn Read + 'a>,
}

/// What `load` echoes while it stores: FAIL blocks, or the results as
/// subunit v2.
enum Echo<'a> {
    Failures(&'a mut dyn Write),
    Subunit(SubunitWriter<&'a mut dyn Write>),
}

impl Echo<'_> {
    fn result(&mut self, result: &TestResult, profile: &Profile) -> io::Result<()> {
        match self {
            Echo::Failures(out) if result.status.is_failure() => {
                write_failure(*out, result, profile)
            }
            Echo::Failures(_) => Ok(()),
            Echo::Subunit(writer) => writer.write_result(result),
        }
    }
}

/// A stored run, and what is left to print.
struct Committed<'out> {
    id: RunId,
    echo: Echo<'out>,
    counts: RunCounts,
    per_profile: BTreeMap<Profile, RunCounts>,
}

/// Where collected results go: the repository, the echo, the counts.
struct Sink<'conn, 'out> {
    writer: RunWriter<'conn>,
    echo: Echo<'out>,
    counts: RunCounts,
    per_profile: BTreeMap<Profile, RunCounts>,
    config: Config,
}

impl<'out> Sink<'_, 'out> {
    /// Commits the run; what is left is the echo to finish and the counts.
    fn commit(self, span: Option<(i64, i64)>) -> anyhow::Result<Committed<'out>> {
        let id = self.writer.commit(self.counts, span)?;
        Ok(Committed {
            id,
            echo: self.echo,
            counts: self.counts,
            per_profile: self.per_profile,
        })
    }

    fn take(&mut self, collected: Collected) -> anyhow::Result<()> {
        match collected {
            Collected::Test(result) => {
                let profile = self.config.profile_tags().profile_of(&result.tags);
                let filtered = self.config.is_filtered(&result.tags);
                self.counts.add(result.status, filtered);
                self.per_profile
                    .entry(profile.clone())
                    .or_default()
                    .add(result.status, filtered);
                self.writer.add_result(&result, &profile)?;
                self.echo.result(&result, &profile)?;
            }
            Collected::Output(output) => self.writer.add_output(&output)?,
        }
        Ok(())
    }
}

pub fn run(ctx: &mut Context<'_>, args: &LoadArgs) -> anyhow::Result<u8> {
    let config = Config::load(ctx.project)?;
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
    };
    let echo = if args.subunit {
        Echo::Subunit(SubunitWriter::new(&mut *ctx.stdout))
    } else {
        Echo::Failures(&mut *ctx.stdout)
    };
    let mut sink = Sink {
        writer: repo.begin_run(&meta)?,
        echo,
        counts: RunCounts::default(),
        per_profile: BTreeMap::new(),
        config,
    };
    let mut span = TimeSpan::default();
    let mut done = Vec::new();
    for (worker, input) in inputs.into_iter().enumerate() {
        let mut tags = added_tags.clone();
        tags.push(format!("worker-{worker}"));
        let mut collector = Collector::new(tags);
        let before = sink.writer.result_count();
        for item in Items::new(input.reader) {
            let item = item.map_err(|source| Error::ReadInput {
                input: input.name.clone(),
                source,
            })?;
            collector.push(item, &mut |c| done.push(c));
            for collected in done.drain(..) {
                sink.take(collected)?;
            }
        }
        collector.finish(&mut |c| done.push(c));
        for collected in done.drain(..) {
            sink.take(collected)?;
        }
        if collector.packets() == 0 || sink.writer.result_count() == before {
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
    let Committed {
        id,
        echo,
        counts,
        per_profile,
    } = sink.commit(span.bounds())?;
    let echoed_subunit = match echo {
        Echo::Subunit(mut subunit) => {
            subunit.flush()?;
            true
        }
        Echo::Failures(_) => false,
    };
    if !echoed_subunit && !ctx.quiet {
        let run = repo.run(id)?;
        let previous = repo.run_before(id)?;
        write_summary(ctx.stdout, &summary_of(&run, previous.as_ref()))?;
        if per_profile.len() > 1 {
            for (profile, counts) in &per_profile {
                write_profile_counts(ctx.stdout, profile, counts)?;
            }
        }
    }
    Ok(exit_status(counts))
}

/// One line of a run's counts for one of its profiles, under the summary.
fn write_profile_counts(
    out: &mut dyn Write,
    profile: &Profile,
    counts: &RunCounts,
) -> io::Result<()> {
    writeln!(
        out,
        "  profile {}: {} tests, failures={}, skips={}",
        profile::display(profile),
        counts.tests_run,
        counts.failures,
        counts.skips
    )
}
