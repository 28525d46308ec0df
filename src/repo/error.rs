//! Errors of the repository, each naming the path or run involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no repository in {0} (run `testr init` to create one)")]
    NotFound(PathBuf),
    #[error("a repository already exists in {0}")]
    AlreadyExists(PathBuf),
    #[error(
        "{0} was written by the Python testrepository (format 1) and is left untouched: \
         move it aside and run `testr init` (docs/repository.md says how to import its runs)"
    )]
    PythonFormat(PathBuf),
    #[error("{path} has an unknown format marker {found:?}; it is not a testr repository")]
    UnknownFormat { path: PathBuf, found: String },
    #[error(
        "{path} has schema version {found}, newer than this testr understands ({supported}): \
         upgrade testr to use it"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{path} is corrupt or not a testr database: {source}")]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} cannot be written: {source}")]
    Unwritable {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "{path} has schema version {found}, older than this testr's ({supported}), and \
         reading it read-only failed: it needs a writable repository to upgrade ({source})"
    )]
    OldSchemaReadOnly {
        path: PathBuf,
        found: i64,
        supported: i64,
        source: rusqlite::Error,
    },
    #[error(
        "{path} holds results not yet moved into the database, which cannot be done \
         read-only: copy the repository somewhere writable to read it"
    )]
    UnrecoveredLog { path: PathBuf },
    #[error("failed to access {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no run with id {0}")]
    NoSuchRun(i64),
    #[error("run {0} was removed (`testr history remove`) while it was being stored")]
    RunRemoved(i64),
}

impl Error {
    /// Names a SQLite failure by what the user can do about it.
    pub(crate) fn from_sqlite(path: &std::path::Path, source: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Error::Corrupt { path, source }
            }
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                Error::Unwritable { path, source }
            }
            _ => Error::Sqlite { path, source },
        }
    }

    /// Names a failure to open or query a database opened read-only: it
    /// cannot be for want of writing.
    pub(crate) fn unreadable(path: &std::path::Path, source: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                Error::Corrupt { path, source }
            }
            _ => Error::Unreadable { path, source },
        }
    }
}
