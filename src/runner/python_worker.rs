//! The Python workers shipped with testr, as `$PYTHON_WORKER` (unittest)
//! and `$PYTEST_WORKER` (pytest) find them.
//!
//! Python compiles a script it runs on every start, but caches the bytecode
//! of a module it imports. So each worker is written out as a module
//! (`testr_subunit.py`, `testr_pytest.py`, and `testr_worker_protocol.py`,
//! which both import) beside a small launcher that imports it, in a
//! directory kept between runs: only the first worker ever started compiles
//! the modules (about 10 ms of CPU a worker for the unittest one, paid by
//! every worker of every run otherwise). The directory's name holds a hash
//! of what testr writes there, so a newer testr never meets an older
//! module, or the bytecode of one.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::error::RunError;

/// What the shipped workers share, stdlib-only: the side of
/// docs/worker-protocol.md that does not depend on how tests run (the
/// subunit v2 writer, the protocol's streams, the listing, the id reader,
/// the results).
pub const PROTOCOL_MODULE: &str = include_str!("../../python/testr_worker_protocol.py");
const PROTOCOL_MODULE_FILE: &str = "testr_worker_protocol.py";

/// The unittest worker: stdlib-only, it runs any unittest suite.
pub const MODULE: &str = include_str!("../../python/testr_subunit.py");
const MODULE_FILE: &str = "testr_subunit.py";

/// The pytest worker: a plugin that the project's own pytest loads.
pub const PYTEST_MODULE: &str = include_str!("../../python/testr_pytest.py");
const PYTEST_MODULE_FILE: &str = "testr_pytest.py";

/// A launcher that runs `MODULE.main()` from its own directory, imported
/// as a module so that Python caches its bytecode.
macro_rules! launcher {
    ($module:literal) => {
        concat!(
            "# Written by testr: runs ",
            $module,
            ".py from this directory as a module,\n",
            "# so that Python caches its bytecode.\n",
            "import os, sys\n",
            "_here = os.path.dirname(os.path.abspath(__file__))\n",
            "if _here not in sys.path:\n",
            "    sys.path.insert(0, _here)\n",
            "import ",
            $module,
            "\n",
            "raise SystemExit(",
            $module,
            ".main())\n"
        )
    };
}

/// The script `$PYTHON_WORKER` names. It puts its own directory on the
/// import path itself, since `python -P` (or `PYTHONSAFEPATH`) does not.
const LAUNCHER: &str = launcher!("testr_subunit");
const LAUNCHER_FILE: &str = "testr_worker.py";

/// The script `$PYTEST_WORKER` names, likewise.
const PYTEST_LAUNCHER: &str = launcher!("testr_pytest");
const PYTEST_LAUNCHER_FILE: &str = "testr_pytest_worker.py";

/// Every file written, by name, in the order written: what is imported
/// before what imports it, so that a worker that another run starts while
/// this one installs never finds a launcher without its modules.
const FILES: [(&str, &str); 5] = [
    (PROTOCOL_MODULE_FILE, PROTOCOL_MODULE),
    (MODULE_FILE, MODULE),
    (PYTEST_MODULE_FILE, PYTEST_MODULE),
    (LAUNCHER_FILE, LAUNCHER),
    (PYTEST_LAUNCHER_FILE, PYTEST_LAUNCHER),
];

/// Where the launchers of an installed copy are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launchers {
    /// What `$PYTHON_WORKER` becomes.
    pub unittest: PathBuf,
    /// What `$PYTEST_WORKER` becomes.
    pub pytest: PathBuf,
}

impl Launchers {
    fn in_dir(dir: &Path) -> Launchers {
        Launchers {
            unittest: dir.join(LAUNCHER_FILE),
            pytest: dir.join(PYTEST_LAUNCHER_FILE),
        }
    }
}

/// The prefix of the kept directories' names (the rest is the hash).
const DIR_PREFIX: &str = "python-worker-";

/// How long the directory of another version is kept unused: a run of
/// that version (one started before an upgrade) may still start workers.
const UNUSED_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// Writes the workers into a directory of `cache` unless they are there
/// already, and returns the launchers' absolute paths (a command may change
/// directory before it runs a worker). When `cache` is `None` or cannot be
/// written (a read-only checkout), the workers go to `fallback`, which
/// works the same, compiling in every worker. An error names what could
/// not be written there.
pub fn install(cache: Option<&Path>, fallback: &Path) -> Result<Launchers, RunError> {
    if let Some(cache) = cache.and_then(|cache| std::path::absolute(cache).ok()) {
        let dir = cache.join(format!("{DIR_PREFIX}{:016x}", content_hash()));
        if let Ok(launchers) = install_in(&dir) {
            mark_used(&launchers.unittest);
            remove_unused_versions(&cache, &dir);
            return Ok(launchers);
        }
    }
    let fallback = std::path::absolute(fallback).map_err(|source| RunError::WorkerInstall {
        path: fallback.to_owned(),
        source,
    })?;
    install_in(&fallback)
}

fn install_in(dir: &Path) -> Result<Launchers, RunError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| RunError::WorkerInstall { path, source }
    };
    fs::create_dir_all(dir).map_err(failed(dir))?;
    for (name, text) in FILES {
        let path = dir.join(name);
        if fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
            write_atomically(&path, text).map_err(failed(&path))?;
        }
    }
    Ok(Launchers::in_dir(dir))
}

/// Writes under a temporary name, then renames: a worker starting meanwhile
/// (another run's) never reads half a file.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    fs::write(&temporary, text)?;
    fs::rename(&temporary, path).inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })
}

/// Sets the launcher's modification time to now: the directory's last use.
fn mark_used(launcher: &Path) {
    let _ = fs::File::options()
        .write(true)
        .open(launcher)
        .and_then(|file| file.set_modified(SystemTime::now()));
}

/// Removes what other testr binaries (older ones, mostly) kept in `cache`
/// and have not used for [`UNUSED_FOR`]. Best effort.
fn remove_unused_versions(cache: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == keep || !entry.file_name().to_string_lossy().starts_with(DIR_PREFIX) {
            continue;
        }
        // A directory still being written may have no launcher yet.
        let last_used = fs::metadata(path.join(LAUNCHER_FILE))
            .or_else(|_| entry.metadata())
            .and_then(|meta| meta.modified());
        let unused = last_used
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > UNUSED_FOR);
        if unused {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

fn content_hash() -> u64 {
    let mut hasher = DefaultHasher::new();
    FILES.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_once_and_keeps_what_python_adds() {
        let cache = tempfile::tempdir().unwrap();
        let fallback = tempfile::tempdir().unwrap();
        let launchers = install(Some(cache.path()), fallback.path()).unwrap();
        let launcher = &launchers.unittest;
        assert!(launcher.is_absolute());
        assert!(launcher.starts_with(cache.path()));
        let dir = launcher.parent().unwrap();
        assert_eq!(launchers.pytest.parent(), Some(dir));
        for (name, text) in FILES {
            assert_eq!(fs::read_to_string(dir.join(name)).unwrap(), text);
        }
        // Python's bytecode cache survives the next run's install.
        fs::create_dir(dir.join("__pycache__")).unwrap();
        assert_eq!(
            install(Some(cache.path()), fallback.path()).unwrap(),
            launchers
        );
        assert!(dir.join("__pycache__").is_dir());
        assert_eq!(fs::read_dir(fallback.path()).unwrap().count(), 0);
    }

    #[test]
    fn rewrites_a_changed_file_and_drops_versions_unused_for_a_day() {
        let cache = tempfile::tempdir().unwrap();
        let other_version = |hash: &str, unused_for: Duration| {
            let dir = cache.path().join(format!("{DIR_PREFIX}{hash}"));
            fs::create_dir(&dir).unwrap();
            let launcher = dir.join(LAUNCHER_FILE);
            fs::write(&launcher, "old").unwrap();
            let file = fs::File::options().write(true).open(&launcher).unwrap();
            file.set_modified(SystemTime::now() - unused_for).unwrap();
            dir
        };
        let stale = other_version("0000000000000001", UNUSED_FOR * 2);
        let recent = other_version("0000000000000002", Duration::from_secs(60));
        let unrelated = cache.path().join("something-else");
        fs::create_dir(&unrelated).unwrap();
        let launcher = install(Some(cache.path()), cache.path()).unwrap().unittest;
        let module = launcher.with_file_name(MODULE_FILE);
        fs::write(&module, "edited by hand").unwrap();
        install(Some(cache.path()), cache.path()).unwrap();
        assert_eq!(fs::read_to_string(&module).unwrap(), MODULE);
        assert!(!stale.exists());
        assert!(recent.exists(), "a run of that version may still need it");
        assert!(unrelated.exists());
    }

    #[test]
    fn falls_back_when_the_cache_cannot_be_written() {
        let scratch = tempfile::tempdir().unwrap();
        // A file where the cache directory should be: nothing can go in it.
        let not_a_dir = scratch.path().join("cache");
        fs::write(&not_a_dir, "").unwrap();
        let fallback = scratch.path().join("run");
        let launchers = install(Some(&not_a_dir), &fallback).unwrap();
        assert_eq!(launchers.unittest, fallback.join(LAUNCHER_FILE));
        assert_eq!(launchers.pytest, fallback.join(PYTEST_LAUNCHER_FILE));
        assert_eq!(
            fs::read_to_string(fallback.join(MODULE_FILE)).unwrap(),
            MODULE
        );
    }

    #[test]
    fn a_fallback_that_cannot_be_written_is_named() {
        let scratch = tempfile::tempdir().unwrap();
        let not_a_dir = scratch.path().join("file");
        fs::write(&not_a_dir, "").unwrap();
        let fallback = not_a_dir.join("run");
        let err = install(None, &fallback).unwrap_err();
        assert!(
            matches!(&err, RunError::WorkerInstall { path, .. } if *path == fallback),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&fallback.display().to_string()) && message.contains("$PYTHON_WORKER"),
            "{message}"
        );
    }
}
