//! The command line, as clap derive types: parsing only, no logic.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

    #[command(flatten)]
    pub config: ConfigArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// stestr's global options: which configuration file, and the
/// `.stestr.conf` keys to override (docs/stestr.md).
#[derive(Debug, Args, Default)]
pub struct ConfigArgs {
    /// Read the configuration from FILE instead of .testr.conf or
    /// .stestr.conf in the project directory (a file with a `test_path`
    /// key is read as stestr's format, any other as testr's).
    #[arg(short = 'c', long = "config", value_name = "FILE", global = true)]
    pub file: Option<PathBuf>,
    /// The directory test discovery starts in, over `test_path` of
    /// .stestr.conf (with no configuration file, this is enough to run).
    #[arg(short = 't', long, value_name = "DIR", global = true)]
    pub test_path: Option<String>,
    /// The top-level directory of discovery, over `top_dir` of .stestr.conf.
    #[arg(long, value_name = "DIR", global = true)]
    pub top_dir: Option<String>,
    /// Tests whose ids give the same match of RE run on one worker, in
    /// order: over `group_regex` of the configuration.
    #[arg(short = 'g', long, value_name = "RE", global = true)]
    pub group_regex: Option<String>,
    /// Run the tests of a class on one worker, in order: `parallel_class`
    /// of .stestr.conf.
    #[arg(short = 'p', long, global = true, conflicts_with = "group_regex")]
    pub parallel_class: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a repository (.testrepository/) in the project directory.
    Init(InitArgs),
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
    /// Run the tests of every selected profile, in parallel, and store them
    /// as one run.
    Run(Box<RunArgs>),
    /// List the tests the test command knows, without running them.
    #[command(alias = "list")]
    ListTests(ListTestsArgs),
    /// Store every run of a stestr repository (.stestr/) or a Python testr
    /// one (.testrepository/), in order, as runs of this repository.
    Import(ImportArgs),
    /// List, show and remove stored runs.
    #[command(subcommand)]
    History(HistoryCommand),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Also write a .testr.conf that runs a plain unittest project with the
    /// Python worker shipped with testr, discovering tests from START_DIR.
    #[arg(long, value_name = "START_DIR", num_args = 0..=1, default_missing_value = ".")]
    pub unittest: Option<String>,
    /// Also write a .testr.conf that runs a pytest project with the pytest
    /// worker shipped with testr, on the project's own pytest; the
    /// arguments that follow (paths, -m, -k, -p ...) go to pytest.
    #[arg(
        long,
        value_name = "PYTEST_ARGS",
        num_args = 0..,
        allow_hyphen_values = true,
        conflicts_with = "unittest"
    )]
    pub pytest: Option<Vec<String>>,
}

/// Which tests: regular expressions searched in test ids (any one
/// matching selects a test), and arguments for the test command.
#[derive(Debug, Args)]
pub struct TestFilters {
    /// Select the tests whose ids match any of these regular expressions
    /// (searched anywhere in the id); all tests when none.
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Arguments after `--` are appended to the test command.
    #[arg(last = true, value_name = "ARGS")]
    pub extra_args: Vec<String>,
}

/// stestr's selection by regular expressions, besides the filters.
#[derive(Debug, Args)]
pub struct RegexSelection {
    /// Leave out the tests whose ids match RE (searched anywhere in the id).
    #[arg(short = 'E', long, value_name = "RE")]
    pub exclude_regex: Option<String>,
    /// Leave out the tests whose ids match any regular expression in FILE
    /// (one a line; `#` starts a comment).
    #[arg(short = 'e', long, value_name = "FILE")]
    pub exclude_list: Option<PathBuf>,
    /// Select the tests whose ids match a regular expression in FILE (one a
    /// line; `#` starts a comment), as FILTER arguments do.
    #[arg(short = 'i', long, value_name = "FILE")]
    pub include_list: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub tests: TestFilters,
    #[command(flatten)]
    pub regexes: RegexSelection,
    /// Run only the tests failing now (per profile); store the run as partial.
    #[arg(long)]
    pub failing: bool,
    /// Store the run as partial: tests it does not run keep their failing state.
    #[arg(long)]
    pub partial: bool,
    /// Run only the test ids in FILE (one a line, for every selected profile).
    #[arg(long, value_name = "FILE")]
    pub load_list: Option<PathBuf>,
    /// Read the --load-list FILE as the JSON that `failing --json` and
    /// `list-tests --json` print: a `tests` array of {id, profile} records
    /// (or the array alone), selecting per profile.
    #[arg(long, requires = "load_list")]
    pub load_list_json: bool,
    /// How many tests run at once (default, and 0 as with stestr:
    /// test_run_concurrency, else the number of CPUs).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(0..=1024))]
    pub concurrency: Option<u16>,
    /// Accepted for compatibility: testr always runs tests in parallel.
    #[arg(long, conflicts_with = "serial")]
    pub parallel: bool,
    /// Run one test at a time (the same as --concurrency 1, which it wins over).
    #[arg(long)]
    pub serial: bool,
    /// Hand the tests out in a random order instead of longest first.
    #[arg(long)]
    pub random: bool,
    /// Run the test ID (or the module of a path `pkg/test_x.py`) without
    /// discovering the others; a `.stestr.conf` project loads only it.
    #[arg(
        short = 'n',
        long,
        value_name = "ID",
        conflicts_with_all = ["failing", "load_list", "plan", "isolated"]
    )]
    pub no_discover: Option<String>,
    /// Add this run's results to the latest run instead of storing a new one.
    #[arg(long)]
    pub combine: bool,
    /// Run again and again until a run has a failure (every run is
    /// stored); a suite that always passes runs until interrupted.
    #[arg(long, conflicts_with = "combine")]
    pub until_failure: bool,
    /// Run each test in a fresh worker process of its own, one at a time,
    /// storing them as one run.
    #[arg(long, conflicts_with_all = ["plan", "combine"])]
    pub isolated: bool,
    /// For each failing test that passes alone, replay the tests that ran
    /// before it on its worker in the latest run, and name the smallest set
    /// of them that makes it fail. Stores nothing.
    #[arg(
        long,
        conflicts_with_all = [
            "until_failure", "isolated", "combine", "failing", "no_discover",
            "load_list", "plan", "subunit", "random"
        ]
    )]
    pub analyze_isolation: bool,
    /// After the run, show the slowest tests, as `testr slowest` does.
    #[arg(long, conflicts_with = "subunit")]
    pub slowest: bool,
    /// Write the results as subunit v2 to stdout, and nothing else.
    #[arg(long)]
    pub subunit: bool,
    /// Create the repository first if there is none.
    #[arg(long)]
    pub force_init: bool,
    /// Fail a test that runs longer than SECS, killing its worker (default:
    /// the `timeout` key of .testr.conf; none).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<String>,
    /// Fail the run if a worker or listing command has not listed the tests
    /// after SECS, killing it (default: the `list_timeout` key of
    /// .testr.conf; 300).
    #[arg(long, value_name = "SECS")]
    pub list_timeout: Option<String>,
    /// Run only this configured profile (repeatable; default: every one).
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Follow this concurrency plan: segments of tests that run one after
    /// the other, alone or together (default: the `plan` key; docs/plans.md).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Make a selected test that no segment of the plan names an error,
    /// instead of running it in a final parallel segment.
    #[arg(long)]
    pub plan_strict: bool,
    /// Also write the stored run as JUnit XML to FILE (docs/stestr.md).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub trace: TraceArgs,
}

/// stestr's per-test output (its subunit-trace filter) instead of testr's
/// summary; each flag but --no-subunit-trace asks for it.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Print a line per test as it finishes (`{N} id [0.012345s] ... ok`),
    /// then the failures, the totals and the worker balance, as stestr does
    /// (docs/stestr.md).
    #[arg(
        long,
        visible_alias = "force-subunit-trace",
        alias = "subunit-trace",
        conflicts_with = "subunit"
    )]
    pub trace: bool,
    /// Accepted for stestr's command lines: testr's summary is the default.
    #[arg(long, conflicts_with_all = ["trace", "abbreviate", "color", "suppress_attachments", "all_attachments"])]
    pub no_subunit_trace: bool,
    /// Print one character per test (`.`, `F`, `S`) instead of a line.
    #[arg(long, conflicts_with = "subunit")]
    pub abbreviate: bool,
    /// Colour the outcomes: auto (what --color alone means: when stdout is
    /// a terminal), always or never.
    #[arg(
        long,
        value_name = "WHEN",
        num_args = 0..=1,
        default_missing_value = "auto",
        require_equals = true,
        conflicts_with = "subunit"
    )]
    pub color: Option<ColorChoice>,
    /// Show no attachments below a passing test's line.
    #[arg(long, conflicts_with = "subunit")]
    pub suppress_attachments: bool,
    /// Show every text attachment below a passing test's line, not only its
    /// stdout and stderr.
    #[arg(long, conflicts_with_all = ["subunit", "suppress_attachments"])]
    pub all_attachments: bool,
}

/// When `--color` colours the per-test output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct ListTestsArgs {
    #[command(flatten)]
    pub tests: TestFilters,
    #[command(flatten)]
    pub regexes: RegexSelection,
    /// List the tests of this configured profile (repeatable with --json).
    #[arg(long, value_name = "NAME")]
    pub profile: Vec<String>,
    /// Print the configured profiles, one a line.
    #[arg(long)]
    pub profiles: bool,
    /// Print one JSON object covering every selected profile (docs/json.md).
    #[arg(long)]
    pub json: bool,
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
    /// Also write the stored run as JUnit XML to FILE (docs/stestr.md).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub trace: TraceArgs,
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
    #[arg(long, conflicts_with_all = ["subunit", "trace", "abbreviate", "color", "suppress_attachments", "all_attachments"])]
    pub json: bool,
    /// Also write the run as JUnit XML to FILE, a suite for each profile
    /// shown (docs/stestr.md).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(flatten)]
    pub trace: TraceArgs,
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

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The repository directory (.stestr or .testrepository), or the project
    /// directory holding it.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// List the stored runs, oldest first: id, when, counts, time, and
    /// whether each is partial, interrupted or not finished.
    List(HistoryListArgs),
    /// Show a stored run as `last` shows the latest one.
    Show(HistoryShowArgs),
    /// Remove stored runs; the failing set and the timing history then
    /// hold only what the remaining runs say (docs/repository.md).
    Remove(HistoryRemoveArgs),
}

#[derive(Debug, Args)]
pub struct HistoryListArgs {
    /// Print one JSON object (docs/json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryShowArgs {
    /// The id of the run to show.
    #[arg(value_name = "ID")]
    pub id: String,
    #[command(flatten)]
    pub show: LastArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["id", "older_than", "keep"])))]
pub struct HistoryRemoveArgs {
    /// The id of the run to remove, or `all` for every run.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// Remove the runs stored longer ago than AGE (`30d`, `12h`, `1w`).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Keep the newest N runs (at least 1) and remove the others.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep: Option<u64>,
}
