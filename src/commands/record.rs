//! What `load` and `run` do with each collected result: count it (per
//! profile too), echo it (FAIL blocks, or subunit v2), and hand it on to be
//! stored; and the summary they print once the run is stored.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::last::summary_of;
use super::profile;
use crate::collect::Collected;
use crate::config::Config;
use crate::model::{Profile, RunCounts, RunId};
use crate::repo::{Repository, RunWriter};
use crate::report::{SubunitWriter, write_failure, write_summary};

/// What is echoed while results arrive: FAIL blocks, or the results as
/// subunit v2.
pub enum Echo<'a> {
    Failures(&'a mut dyn Write),
    Subunit(SubunitWriter<&'a mut dyn Write>),
}

/// Counts and echoes results as they are collected.
pub struct Recorder<'a> {
    config: &'a Config,
    echo: Echo<'a>,
    counts: RunCounts,
    per_profile: BTreeMap<Profile, RunCounts>,
}

impl<'a> Recorder<'a> {
    /// Echoes as subunit v2 when `subunit`, else FAIL blocks, to `out`.
    pub fn new(config: &'a Config, out: &'a mut dyn Write, subunit: bool) -> Recorder<'a> {
        let echo = if subunit {
            Echo::Subunit(SubunitWriter::new(out))
        } else {
            Echo::Failures(out)
        };
        Recorder {
            config,
            echo,
            counts: RunCounts::default(),
            per_profile: BTreeMap::new(),
        }
    }

    /// Counts and echoes one collected item. Gives the profile of a result
    /// (the profile to store it under) even when the echo failed.
    pub fn take(&mut self, collected: &Collected) -> (Option<Profile>, io::Result<()>) {
        let Collected::Test(result) = collected else {
            return (None, Ok(()));
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
        };
        (Some(profile), echoed)
    }

    /// Where text other than results goes (`running=` lines); none when
    /// the echo is subunit v2, which allows nothing else on stdout.
    pub fn text_out(&mut self) -> Option<&mut dyn Write> {
        match &mut self.echo {
            Echo::Failures(out) => Some(&mut **out),
            Echo::Subunit(_) => None,
        }
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
        }
    }

    /// Finishes the echo; what is left are the counts per profile.
    pub fn finish(self) -> io::Result<Tally> {
        if let Echo::Subunit(mut writer) = self.echo {
            writer.flush()?;
        }
        Ok(Tally {
            counts: self.counts,
            per_profile: self.per_profile,
        })
    }
}

/// The counts of a run, over every profile and per profile.
pub struct Tally {
    pub counts: RunCounts,
    pub per_profile: BTreeMap<Profile, RunCounts>,
}

/// Stores one collected item under its profile.
pub fn store(
    writer: &mut RunWriter<'_>,
    collected: &Collected,
    profile: Option<&Profile>,
) -> anyhow::Result<()> {
    match (collected, profile) {
        (Collected::Test(result), Some(profile)) => writer.add_result(result, profile)?,
        (Collected::Output(output), _) => writer.add_output(output)?,
        (Collected::Test(_), None) => unreachable!("the recorder gives every result a profile"),
    }
    Ok(())
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
