//! `testr load`: store subunit v2 streams as one run, echoing failures as
//! they arrive and the summary at the end.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};

use super::{Context, Error};
use crate::cli::LoadArgs;
use crate::collect::{Collected, Collector, PARSER_TEST_ID};
use crate::config::Config;
use crate::exit_codes;
use crate::model::{Profile, RunCounts, RunId, TestResult};
use crate::repo::{Repository, RunMeta, RunWriter};
use crate::report::{SubunitWriter, write_failure, write_summary};
use crate::subunit::Items;

use super::last::summary_of;

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

/// Where collected results go: the repository, the echo, the counts.
struct Sink<'conn, 'out> {
    writer: RunWriter<'conn>,
    echo: Echo<'out>,
    counts: RunCounts,
    filter_tags: Vec<String>,
}

impl<'out> Sink<'_, 'out> {
    /// Commits the run; what is left is the echo to finish and the counts.
    fn commit(self, span: Option<(i64, i64)>) -> anyhow::Result<(RunId, Echo<'out>, RunCounts)> {
        let id = self.writer.commit(self.counts, span)?;
        Ok((id, self.echo, self.counts))
    }

    fn take(&mut self, collected: Collected) -> anyhow::Result<()> {
        match collected {
            Collected::Test(result) => {
                let profile = Profile::default();
                let filtered = result.tags.iter().any(|t| self.filter_tags.contains(t));
                self.counts.add(result.status, filtered);
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
    let filter_tags = config.filter_tags();
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
        filter_tags,
    };
    let mut span: Option<(i64, i64)> = None;
    let mut done = Vec::new();
    for (worker, input) in inputs.into_iter().enumerate() {
        let mut collector = Collector::new(vec![format!("worker-{worker}")]);
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
        if let Some((first, last)) = collector.time_span() {
            span = Some(span.map_or((first, last), |(lo, hi)| (lo.min(first), hi.max(last))));
        }
    }
    let (id, echo, counts) = sink.commit(span)?;
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
    }
    Ok(if counts.failures > 0 {
        exit_codes::TEST_FAILURES
    } else {
        exit_codes::SUCCESS
    })
}
