//! The command line, as clap derive types: parsing only, no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Stores test results and answers questions about them.
#[derive(Debug, Parser)]
#[command(name = "testr", version, about, max_term_width = 100)]
pub struct Cli {
    /// The project directory, holding .testr.conf and .testrepository/.
    #[arg(
        short = 'd',
        long = "here",
        value_name = "DIR",
        default_value = ".",
        global = true
    )]
    pub here: PathBuf,

    /// Leave out the two summary lines (`Ran N tests`, `PASSED`/`FAILED`).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a repository (.testrepository/) in the project directory.
    Init,
    /// Store a subunit v2 stream (stdin, or each FILE as one worker) as a run.
    Load(LoadArgs),
    /// Show the latest run again: its failures and its summary.
    Last(LastArgs),
    /// Show the tests that are failing now.
    Failing(FailingArgs),
    /// Show repository statistics.
    Stats(StatsArgs),
    /// Show the slowest tests of the latest run.
    Slowest(SlowestArgs),
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Store the run as partial: tests it does not hold keep their failing state.
    #[arg(long)]
    pub partial: bool,
    /// Create the repository first if there is none.
    #[arg(long)]
    pub force_init: bool,
    /// Write the loaded results as subunit v2 instead of the summary.
    #[arg(long)]
    pub subunit: bool,
    /// Add these profile tags (comma-separated, e.g. py311,postgres) to every
    /// result, for streams that do not carry them.
    #[arg(long, value_name = "TAGS")]
    pub profile: Option<String>,
    /// Subunit v2 files, each from one worker (tagged worker-0, worker-1, ...);
    /// stdin when none.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// Choosing the profile a flat list speaks of.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The profile to show, by its tags joined with commas (py311,postgres).
    #[arg(long, value_name = "TAGS")]
    pub profile: Option<String>,
    /// Print the profiles there are results for, one a line.
    #[arg(long)]
    pub profiles: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print one JSON object (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LastArgs {
    /// Write the run as subunit v2.
    #[arg(long)]
    pub subunit: bool,
    /// Print one JSON object covering every profile (docs/json.md).
    #[arg(long, conflicts_with = "subunit")]
    pub json: bool,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub struct FailingArgs {
    /// Print only the failing test ids, one a line.
    #[arg(long)]
    pub list: bool,
    /// Write the failing results as subunit v2.
    #[arg(long, conflicts_with = "list")]
    pub subunit: bool,
    /// Print one JSON object covering every profile (docs/json.md).
    #[arg(long, conflicts_with_all = ["subunit", "list"])]
    pub json: bool,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

#[derive(Debug, Args)]
pub struct SlowestArgs {
    /// Show every test with a time, not just the ten slowest.
    #[arg(long)]
    pub all: bool,
    /// Print one JSON object covering every profile (docs/json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub profile: ProfileArgs,
}
