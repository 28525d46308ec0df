//! `testr import DIR`: every run of a stestr repository (`.stestr/`) or a
//! Python testr one (`.testrepository/`, format 1) stored as a run here, in
//! id order, so that history, the failing state and timing start where the
//! Python tool left them (docs/stestr.md, "Importing").
//!
//! Each run file is read (subunit v1, or v2 when it starts like v2) and
//! stored as `load` stores a stream, in one transaction: a run file that is
//! damaged or cut short stores nothing, is named on stderr, and makes the
//! exit status 3 once the whole runs are in. A run stored before by an
//! import of the same directory is skipped, so importing again brings in
//! only the runs made since; it is known by its stored command, which
//! names the directory, the run and when the run started.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::Context;
use super::store;
use super::tally::Tallier;
use crate::cli::ImportArgs;
use crate::collect::{Collected, Collector};
use crate::config::Config;
use crate::exit_codes;
use crate::repo::{self, Repository, RunMeta};
use crate::subunit::{self, Decoder, Item, Items, V1Decoder};

/// What the Python tools write in a repository's `format` file.
const PYTHON_FORMAT: &str = "1\n";

/// The byte a subunit v2 packet starts with; no v1 stream does.
const V2_SIGNATURE: u8 = 0xB3;

/// How much of a run file is read to find when the run started.
const START_PROBE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ImportError {
    #[error("failed to read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{0} is not a stestr or Python testr repository: it has no `format` file, \
         nor a .stestr/ or .testrepository/ holding one"
    )]
    NotARepository(PathBuf),
    #[error("{0} holds both .stestr/ and .testrepository/: name the one to import")]
    TwoRepositories(PathBuf),
    #[error("{0} is a testr repository already; there is nothing to import")]
    OwnRepository(PathBuf),
    #[error("{path} has format {found:?}; the Python tools write `1`")]
    UnknownFormat { path: PathBuf, found: String },
    #[error(
        "{0} is where this project's testr repository goes: move it aside first \
         (`mv .testrepository .testrepository.python`), then import that"
    )]
    InPlace(PathBuf),
}

/// Why one run file was not imported.
enum Broken {
    /// Damaged or cut short: a corrupt item's message.
    Damaged(String),
    Unreadable(io::Error),
}

/// How importing one run went.
enum Outcome {
    Imported { tests: i64 },
    Before,
    Empty,
    Broken(Broken),
}

pub fn run(ctx: &mut Context<'_>, args: &ImportArgs) -> anyhow::Result<u8> {
    let config = Config::load_with(ctx.project, ctx.overrides)?;
    let source = locate(&args.dir)?;
    let canonical = fs::canonicalize(&source).map_err(|e| read_error(&source, e))?;
    let own = ctx.project.join(repo::DIR_NAME);
    if fs::canonicalize(&own).is_ok_and(|own| own == canonical) {
        return Err(ImportError::InPlace(source).into());
    }
    let runs = run_files(&source)?;
    let had_repository = own.exists();
    let mut repo = Repository::open_or_init(ctx.project, true)?;
    if !had_repository {
        writeln!(
            ctx.stderr,
            "testr: created the repository {}",
            own.display()
        )?;
    }
    let prefix = format!("imported from {} run ", canonical.display());
    let before = repo.commands_starting_with(&prefix)?;
    let (mut imported, mut tests, mut skipped, mut broken) = (0, 0, 0, 0);
    for (id, path) in runs {
        let marker = match started(&path) {
            Ok(Some(start)) => format!("{prefix}{id}, started {start}"),
            Ok(None) => format!("{prefix}{id}"),
            Err(e) => {
                report_broken(ctx, id, &source, &Broken::Unreadable(e))?;
                broken += 1;
                continue;
            }
        };
        let outcome = if before.contains(&marker) {
            Outcome::Before
        } else {
            import_run(&mut repo, &config, &path, marker)?
        };
        match outcome {
            Outcome::Imported { tests: n } => {
                imported += 1;
                tests += n;
            }
            Outcome::Before => skipped += 1,
            Outcome::Empty => writeln!(
                ctx.stderr,
                "testr: warning: run {id} of {} holds no test results; nothing to import",
                source.display()
            )?,
            Outcome::Broken(why) => {
                report_broken(ctx, id, &source, &why)?;
                broken += 1;
            }
        }
    }
    if !ctx.quiet {
        let mut line = format!(
            "imported {imported} run{} ({tests} test{}) from {}",
            plural(imported),
            plural(tests),
            source.display()
        );
        if skipped > 0 {
            line.push_str(&format!(", skipped {skipped} imported before"));
        }
        if broken > 0 {
            line.push_str(&format!(", {broken} not imported"));
        }
        writeln!(ctx.stdout, "{line}")?;
    }
    Ok(if broken > 0 {
        exit_codes::ERROR
    } else {
        exit_codes::SUCCESS
    })
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn read_error(path: &Path, source: io::Error) -> ImportError {
    ImportError::Read {
        path: path.to_owned(),
        source,
    }
}

fn report_broken(ctx: &mut Context<'_>, id: u64, source: &Path, why: &Broken) -> io::Result<()> {
    let why = match why {
        Broken::Damaged(error) => error.clone(),
        Broken::Unreadable(error) => format!("cannot be read: {error}"),
    };
    writeln!(
        ctx.stderr,
        "testr: error: run {id} of {} not imported, nothing of it stored: {why}",
        source.display()
    )
}

/// The repository directory `dir` names: itself, or the `.stestr/` or
/// `.testrepository/` in it (testr's own repository, which also lives in
/// `.testrepository/`, does not count); its `format` must be the Python
/// tools' `1`.
fn locate(dir: &Path) -> Result<PathBuf, ImportError> {
    fs::metadata(dir).map_err(|e| read_error(dir, e))?;
    if dir.join("format").is_file() {
        return checked(dir.to_owned());
    }
    let found: Vec<PathBuf> = [".stestr", repo::DIR_NAME]
        .iter()
        .map(|name| dir.join(name))
        .filter(|d| d.join("format").is_file())
        .collect();
    let python: Vec<&PathBuf> = found
        .iter()
        .filter(|d| fs::read_to_string(d.join("format")).is_ok_and(|f| f == PYTHON_FORMAT))
        .collect();
    match (python.as_slice(), found.first()) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(other)) => checked(other.clone()),
        ([], None) => Err(ImportError::NotARepository(dir.to_owned())),
        _ => Err(ImportError::TwoRepositories(dir.to_owned())),
    }
}

/// `repo`, once its `format` file says the Python tools wrote it.
fn checked(repo: PathBuf) -> Result<PathBuf, ImportError> {
    let marker = repo.join("format");
    let found = fs::read_to_string(&marker).map_err(|e| read_error(&marker, e))?;
    if found == PYTHON_FORMAT {
        Ok(repo)
    } else if found.starts_with("testr-") {
        Err(ImportError::OwnRepository(repo))
    } else {
        Err(ImportError::UnknownFormat {
            path: marker,
            found: found.chars().take(40).collect(),
        })
    }
}

/// The run files of a repository (named by their number), in id order.
fn run_files(repo: &Path) -> Result<Vec<(u64, PathBuf)>, ImportError> {
    let entries = fs::read_dir(repo).map_err(|e| read_error(repo, e))?;
    let mut runs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| read_error(repo, e))?;
        let name = entry.file_name();
        let Some(id) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if entry.path().is_file() {
            runs.push((id, entry.path()));
        }
    }
    runs.sort();
    Ok(runs)
}

/// The items of a run file: subunit v2 when it starts with a v2 packet's
/// signature byte, else v1.
fn items_of(file: File) -> io::Result<Box<dyn Iterator<Item = io::Result<Item>>>> {
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let v2 = reader.fill_buf()?.first() == Some(&V2_SIGNATURE);
    Ok(if v2 {
        Box::new(Items::new(reader))
    } else {
        Box::new(Items::with_decoder(reader, V1Decoder::new()))
    })
}

/// When the run in `path` started: its first timestamp, if one comes
/// early in the file, as a v1 `time:` line writes it.
fn started(path: &Path) -> io::Result<Option<String>> {
    let mut head = Vec::with_capacity(START_PROBE);
    File::open(path)?
        .take(START_PROBE as u64)
        .read_to_end(&mut head)?;
    let items = items_of_bytes(&head);
    Ok(items
        .into_iter()
        .find_map(|item| match item {
            Item::Packet(packet) => packet.timestamp,
            _ => None,
        })
        .map(subunit::format_v1_time))
}

/// The items the bytes so far decide (no end of input: a cut-off last
/// item is left out).
fn items_of_bytes(bytes: &[u8]) -> Vec<Item> {
    if bytes.first() == Some(&V2_SIGNATURE) {
        let mut decoder = Decoder::new();
        decoder.feed(bytes);
        std::iter::from_fn(|| decoder.next_item()).collect()
    } else {
        let mut decoder = V1Decoder::new();
        decoder.feed(bytes);
        std::iter::from_fn(|| decoder.next_item()).collect()
    }
}

/// Stores the run in `path` as one run, or nothing of it.
fn import_run(
    repo: &mut Repository,
    config: &Config,
    path: &Path,
    marker: String,
) -> anyhow::Result<Outcome> {
    let items = match File::open(path).and_then(items_of) {
        Ok(items) => items,
        Err(e) => return Ok(Outcome::Broken(Broken::Unreadable(e))),
    };
    let meta = RunMeta {
        command: Some(marker),
        ..RunMeta::default()
    };
    let mut writer = repo.begin_run(&meta)?;
    // Nothing is echoed: the summary line says what was imported.
    let mut quiet = io::sink();
    let mut tallier = Tallier::new(config, &mut quiet, false);
    let mut collector = Collector::new(Vec::new());
    let mut done: Vec<Collected> = Vec::new();
    for item in items {
        // Dropping the writer on the way out stores nothing of the run.
        let item = match item {
            Ok(item) => item,
            Err(e) => return Ok(Outcome::Broken(Broken::Unreadable(e))),
        };
        if let Item::Corrupt { error, .. } = item {
            return Ok(Outcome::Broken(Broken::Damaged(error)));
        }
        collector.push(item, &mut |c| done.push(c));
        for collected in done.drain(..) {
            let (profile, _) = tallier.take(&collected);
            store::item(&mut writer, &collected, profile.as_ref())?;
        }
    }
    collector.finish(&mut |c| done.push(c));
    for collected in done.drain(..) {
        let (profile, _) = tallier.take(&collected);
        store::item(&mut writer, &collected, profile.as_ref())?;
    }
    if writer.result_count() == 0 {
        return Ok(Outcome::Empty);
    }
    // The echo is a sink: writing to it cannot fail.
    let (tally, _) = tallier.finish();
    writer.commit(tally.counts, collector.time_span().bounds())?;
    Ok(Outcome::Imported {
        tests: tally.counts.tests_run,
    })
}
