//! The run's temporary files: a directory that holds the ids of batches
//! (`$IDFILE`), a directory per profile that its processes share, and the
//! shipped Python workers when there is no cache for them.

use std::path::{Path, PathBuf};

use crate::config::Launch;
use crate::runner::command;
use crate::runner::error::RunError;
use crate::runner::python_worker::{self, Launchers};
use crate::runner::spec::{ProfileIndex, RunSpec};

pub(super) struct RunFiles {
    dir: tempfile::TempDir,
    python_workers: Option<Launchers>,
}

impl RunFiles {
    /// Creates the run's directory (in `TMPDIR`), a directory for each
    /// profile, and installs the Python workers if a command uses one.
    pub(super) fn new(spec: &RunSpec) -> Result<RunFiles, RunError> {
        let dir = tempfile::Builder::new()
            .prefix("testr-run-")
            .tempdir()
            .map_err(|source| RunError::TempDir {
                dir: std::env::temp_dir(),
                source,
            })?;
        let uses_worker = spec.profiles.iter().any(|p| match p.launch() {
            Launch::Worker { command } => command::uses_python_worker(command),
            Launch::Classic(classic) => command::uses_python_worker(&classic.command),
        });
        let python_workers = if uses_worker {
            Some(python_worker::install(
                spec.cache_dir.as_deref(),
                dir.path(),
            )?)
        } else {
            None
        };
        for profile in spec.profiles.indices() {
            std::fs::create_dir(shared_dir(dir.path(), profile)).map_err(|source| {
                RunError::TempDir {
                    dir: dir.path().to_owned(),
                    source,
                }
            })?;
        }
        Ok(RunFiles {
            dir,
            python_workers,
        })
    }

    /// Where the shipped Python workers are, if a command uses one.
    pub(super) fn python_workers(&self) -> Option<&Launchers> {
        self.python_workers.as_ref()
    }

    /// The directory the processes of `profile` share.
    pub(super) fn shared_dir(&self, profile: ProfileIndex) -> PathBuf {
        shared_dir(self.dir.path(), profile)
    }

    /// Writes a batch's `$IDFILE`, deleted when the path is dropped.
    pub(super) fn write_ids(&self, ids: &[String]) -> Result<tempfile::TempPath, RunError> {
        write_ids(self.dir.path(), ids)
    }
}

/// A directory the processes of one profile share for this run only (a
/// worker may keep there what its siblings can reuse).
fn shared_dir(run_files: &Path, profile: ProfileIndex) -> PathBuf {
    run_files.join(format!("profile-{}", profile.position()))
}

/// Writes `ids`, one a line, to a new file in `dir`: a batch's `$IDFILE`.
fn write_ids(dir: &Path, ids: &[String]) -> Result<tempfile::TempPath, RunError> {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .prefix("ids-")
        .tempfile_in(dir)
        .map_err(|source| RunError::IdFile {
            path: dir.to_owned(),
            source,
        })?;
    let written = ids
        .iter()
        .try_for_each(|id| writeln!(file, "{id}"))
        .and_then(|()| file.flush());
    written.map_err(|source| RunError::IdFile {
        path: file.path().to_owned(),
        source,
    })?;
    Ok(file.into_temp_path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_file_writes_one_id_a_line_and_names_a_dir_it_cannot_write_in() {
        let dir = tempfile::tempdir().unwrap();
        let ids = ["a.b".to_owned(), "c d".to_owned()];
        let file = write_ids(dir.path(), &ids).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "a.b\nc d\n");
        let missing = dir.path().join("gone");
        let err = write_ids(&missing, &ids).unwrap_err();
        assert!(
            matches!(&err, RunError::IdFile { path, .. } if *path == missing),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.contains("$IDFILE") && message.contains(&missing.display().to_string()),
            "{message}"
        );
    }
}
