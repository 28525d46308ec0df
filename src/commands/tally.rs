//! What `load` and `run` do with each collected result besides storing
//! it: count it (per profile too), give it its profile, and echo it (FAIL
//! blocks, subunit v2, or a line per test); and the summary they print once
//! the run is stored.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::last::summary_of;
use super::profile;
use crate::collect::Collected;
use crate::config::Config;
use crate::model::{Profile, RunCounts, RunId};
use crate::repo::Repository;
use crate::report::{SubunitWriter, TraceOptions, TraceReport, write_failure, write_summary};

/// What is echoed while results arrive: FAIL blocks, the results as
/// subunit v2, or a line per test.
pub enum Echo<'a> {
    Failures(&'a mut dyn Write),
    Subunit(SubunitWriter<&'a mut dyn Write>),
    Trace(TraceReport<&'a mut dyn Write>),
}

/// Counts results (per profile too) and echoes them as they are collected;
/// what it counts ends as a [`Tally`]. Storing them is
/// [`RunStore`](super::store::RunStore)'s.
pub struct Tallier<'a> {
    config: &'a Config,
    echo: Echo<'a>,
    counts: RunCounts,
    per_profile: BTreeMap<Profile, RunCounts>,
}

impl<'a> Tallier<'a> {
    /// Echoes as subunit v2 when `subunit`, else FAIL blocks, to `out`.
    pub fn new(config: &'a Config, out: &'a mut dyn Write, subunit: bool) -> Tallier<'a> {
        let echo = if subunit {
            Echo::Subunit(SubunitWriter::new(out))
        } else {
            Echo::Failures(out)
        };
        Tallier::echoing(config, echo)
    }

    /// Echoes a line per test to `out` (`--trace`).
    pub fn tracing(
        config: &'a Config,
        out: &'a mut dyn Write,
        options: TraceOptions,
    ) -> Tallier<'a> {
        Tallier::echoing(config, Echo::Trace(TraceReport::new(out, options)))
    }

    fn echoing(config: &'a Config, echo: Echo<'a>) -> Tallier<'a> {
        Tallier {
            config,
            echo,
            counts: RunCounts::default(),
            per_profile: BTreeMap::new(),
        }
    }

    /// Counts and echoes one collected item. Gives the profile of a result
    /// (the profile to store it under) even when the echo failed.
    pub fn take(&mut self, collected: &Collected) -> (Option<Profile>, io::Result<()>) {
        let result = match (collected, &mut self.echo) {
            (Collected::Test(result), _) => result,
            (Collected::Output(output), Echo::Trace(trace)) => return (None, trace.output(output)),
            (Collected::Output(_), _) => return (None, Ok(())),
        };
        let profile = self.config.profile_tags().profile_of(&result.tags);
        let filtered = self.config.is_filtered(&result.tags);
        self.counts.add(result.status, filtered);
        self.per_profile
            .entry(profile.clone())
            .or_default()
            .add(result.status, filtered);
        let echoed = match &mut self.echo {
            Echo::Failures(out) if result.status.is_failure() => {
                write_failure(*out, result, &profile)
            }
            Echo::Failures(_) => Ok(()),
            Echo::Subunit(writer) => writer.write_result(result),
            Echo::Trace(trace) => trace.result(result),
        };
        (Some(profile), echoed)
    }

    /// Where text other than results goes (`running=` lines); none when
    /// the echo is subunit v2, which allows nothing else on stdout.
    pub fn text_out(&mut self) -> Option<&mut dyn Write> {
        match &mut self.echo {
            Echo::Failures(out) => Some(&mut **out),
            Echo::Subunit(_) | Echo::Trace(_) => None,
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> RunCounts {
        self.counts
    }

    /// Whether the echo is subunit (then no summary is printed).
    pub fn is_subunit(&self) -> bool {
        matches!(self.echo, Echo::Subunit(_))
    }

    /// Writes out what the echo holds, so that it shows now.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.echo {
            Echo::Failures(out) => out.flush(),
            Echo::Subunit(writer) => writer.flush(),
            Echo::Trace(trace) => trace.flush(),
        }
    }

    /// Finishes the echo (the closing blocks of a line per test); what is
    /// left are the counts per profile, with how writing out the echo went:
    /// an output error must not keep the run from being stored.
    pub fn finish(self) -> (Tally, io::Result<()>) {
        let finished = match self.echo {
            Echo::Failures(_) => Ok(()),
            Echo::Subunit(mut writer) => writer.flush(),
            Echo::Trace(mut trace) => trace.finish(),
        };
        let tally = Tally {
            counts: self.counts,
            per_profile: self.per_profile,
        };
        (tally, finished)
    }
}

/// The counts of a run, over every profile and per profile.
pub struct Tally {
    pub counts: RunCounts,
    pub per_profile: BTreeMap<Profile, RunCounts>,
}

/// The summary of a stored run with deltas against the run before it, and
/// a line of counts per profile when it holds several.
pub fn write_run_summary(
    out: &mut dyn Write,
    repo: &Repository,
    id: RunId,
    tally: &Tally,
) -> anyhow::Result<()> {
    let run = repo.run(id)?;
    let previous = repo.run_before(id)?;
    write_summary(out, &summary_of(&run, previous.as_ref()))?;
    if tally.per_profile.len() > 1 {
        for (profile, counts) in &tally.per_profile {
            writeln!(
                out,
                "  profile {}: {} tests, failures={}, skips={}",
                profile::display(profile),
                counts.tests_run,
                counts.failures,
                counts.skips
            )?;
        }
    }
    Ok(())
}
