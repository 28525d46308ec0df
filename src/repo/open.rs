//! Creating and opening the repository directory and its database.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::Error;
use super::schema;

/// The repository directory in a project (the name the Python testr used,
/// which most projects already ignore in git).
pub const DIR_NAME: &str = ".testrepository";
/// The format marker: the Python testr reads it and refuses anything but `1`.
const FORMAT_FILE: &str = "format";
/// The SQLite database inside the repository directory.
pub(super) const DATABASE_FILE: &str = "testr.sqlite";

/// A directory inside the repository directory for files kept between
/// runs that hold no results (the shipped Python worker): deleting it loses
/// nothing.
const CACHE_DIR: &str = "cache";

/// The repository's cache directory, when `project` has a repository.
pub fn cache_dir(project: &Path) -> Option<PathBuf> {
    let dir = project.join(DIR_NAME);
    dir.is_dir().then(|| dir.join(CACHE_DIR))
}

const FORMAT_MARKER: &str = "testr-sqlite\n";
const PYTHON_FORMAT_MARKER: &str = "1\n";
/// How long a writer waits for another one (8 concurrent loads must all land).
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// An open repository.
#[derive(Debug)]
pub struct Repository {
    pub(crate) conn: Connection,
    pub(crate) db_path: PathBuf,
}

impl Repository {
    /// Creates `PROJECT/.testrepository`; an existing one is an error.
    pub fn init(project: &Path) -> Result<Repository, Error> {
        let dir = project.join(DIR_NAME);
        if dir.exists() {
            return Err(Error::AlreadyExists(dir));
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::Io { path, source }
        };
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        let db_path = dir.join(DATABASE_FILE);
        let conn = Connection::open(&db_path).map_err(|e| Error::from_sqlite(&db_path, e))?;
        let mut repo = Repository { conn, db_path };
        repo.prepare()?;
        // The marker comes last: a directory without it was never finished.
        let marker = dir.join(FORMAT_FILE);
        let tmp = dir.join(format!("{FORMAT_FILE}.tmp"));
        let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(FORMAT_MARKER.as_bytes()).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, &marker).map_err(io(&marker))?;
        Ok(repo)
    }

    /// Opens `PROJECT/.testrepository` to store runs, bringing an older
    /// schema up to date.
    pub fn open(project: &Path) -> Result<Repository, Error> {
        let db_path = database_of(project)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&db_path, flags)
            .map_err(|e| Error::from_sqlite(&db_path, e))?;
        let mut repo = Repository { conn, db_path };
        repo.prepare()?;
        Ok(repo)
    }

    /// Opens `PROJECT/.testrepository` for queries only: nothing is written,
    /// not even the journal mode, so a repository on a read-only mount or
    /// without write permission can be read (docs/repository.md).
    pub fn open_read_only(project: &Path) -> Result<Repository, Error> {
        let db_path = database_of(project)?;
        let (conn, uri) = open_reader(&db_path)?;
        let found = schema::version(&conn).map_err(|e| Error::unreadable(&db_path, e))?;
        if found > schema::LATEST {
            return Err(Error::NewerSchema {
                path: db_path,
                found,
                supported: schema::LATEST,
            });
        }
        let conn = if found < schema::LATEST {
            drop(conn);
            upgraded_copy(&uri, found).map_err(|source| Error::OldSchemaReadOnly {
                path: db_path.clone(),
                found,
                supported: schema::LATEST,
                source,
            })?
        } else {
            conn
        };
        Ok(Repository { conn, db_path })
    }

    /// Opens the repository, creating it first when `create` is set and
    /// there is none (`--force-init`).
    pub fn open_or_init(project: &Path, create: bool) -> Result<Repository, Error> {
        match Repository::open(project) {
            Err(Error::NotFound(_)) if create && !project.join(DIR_NAME).exists() => {
                Repository::init(project)
            }
            other => other,
        }
    }

    /// A repository in memory, for tests.
    #[cfg(test)]
    pub fn in_memory() -> Result<Repository, Error> {
        let db_path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| Error::from_sqlite(&db_path, e))?;
        let mut repo = Repository { conn, db_path };
        repo.prepare()?;
        Ok(repo)
    }

    /// Sets the connection up and brings the schema up to date.
    fn prepare(&mut self) -> Result<(), Error> {
        let path = self.db_path.clone();
        let sqlite = |e| Error::from_sqlite(&path, e);
        self.conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // WAL lets readers see whole runs while a writer is busy; NORMAL
        // sync in WAL mode still never loses a committed-and-checkpointed run
        // on a process crash.
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        self.conn
            .execute_batch(
                "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;",
            )
            .map_err(sqlite)?;
        let found = schema::version(&self.conn).map_err(sqlite)?;
        if found > schema::LATEST {
            return Err(Error::NewerSchema {
                path: self.db_path.clone(),
                found,
                supported: schema::LATEST,
            });
        }
        if found < schema::LATEST {
            schema::migrate(&mut self.conn).map_err(sqlite)?;
        }
        Ok(())
    }
}

/// The database of `PROJECT/.testrepository`, once its format marker says
/// it is a testr repository.
fn database_of(project: &Path) -> Result<PathBuf, Error> {
    let dir = project.join(DIR_NAME);
    let marker = dir.join(FORMAT_FILE);
    let found = match fs::read_to_string(&marker) {
        Ok(found) => found,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotFound(project.to_owned()));
        }
        Err(source) => {
            return Err(Error::Io {
                path: marker,
                source,
            });
        }
    };
    if found == PYTHON_FORMAT_MARKER {
        return Err(Error::PythonFormat(dir));
    }
    if found != FORMAT_MARKER {
        return Err(Error::UnknownFormat {
            path: marker,
            found: found.chars().take(40).collect(),
        });
    }
    Ok(dir.join(DATABASE_FILE))
}

/// Opens the database read-only, and gives the URI it was opened by. In
/// WAL mode a reader needs the `-shm` index beside the database, which it
/// creates when missing; where it cannot (a read-only directory, after the
/// last writer closed the database and removed it), no writer is at work
/// (a writer keeps the index), so the file is read as it stands, as
/// immutable.
fn open_reader(db_path: &Path) -> Result<(Connection, String), Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let unreadable = |e| Error::unreadable(db_path, e);
    let shared = file_uri(db_path, "mode=ro")?;
    let conn = Connection::open_with_flags(&shared, flags).map_err(unreadable)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(unreadable)?;
    match schema::version(&conn) {
        Ok(_) => return Ok((conn, shared)),
        Err(e)
            if !matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen)
            ) =>
        {
            return Err(unreadable(e));
        }
        Err(_) => {}
    }
    drop(conn);
    let wal = wal_path(db_path);
    if fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        // Committed runs may wait in the log: only a writer can replay it.
        return Err(Error::UnrecoveredLog { path: wal });
    }
    let immutable = file_uri(db_path, "immutable=1")?;
    let conn = Connection::open_with_flags(&immutable, flags).map_err(unreadable)?;
    Ok((conn, immutable))
}

/// A repository with an older schema, opened read-only: the file cannot be
/// migrated, so it is copied into a private temporary database (removed
/// when closed) and migrated there. The copy costs a read of the whole
/// database, once per command, until a writing command upgrades the file.
fn upgraded_copy(uri: &str, found: i64) -> rusqlite::Result<Connection> {
    let mut copy = Connection::open("")?;
    copy.execute("ATTACH DATABASE ?1 AS old", [uri])?;
    let tx = copy.transaction()?;
    // The same migrations give the same tables, columns in the same order;
    // a table someone else added to the file is left out.
    schema::create_at(&tx, found)?;
    let tables: Vec<String> = tx
        .prepare(
            "SELECT name FROM main.sqlite_master
             WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables {
        let table = table.replace('"', "\"\"");
        tx.execute(
            &format!("INSERT INTO main.\"{table}\" SELECT * FROM old.\"{table}\""),
            [],
        )?;
    }
    tx.commit()?;
    copy.execute("DETACH DATABASE old", [])?;
    schema::migrate(&mut copy)?;
    Ok(copy)
}

/// The write-ahead log beside a database.
fn wal_path(db_path: &Path) -> PathBuf {
    let mut name = db_path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// `file:` URI of a database with a query string, its path absolute and
/// percent-encoded, so that no character of the path reads as a parameter.
fn file_uri(db_path: &Path, query: &str) -> Result<String, Error> {
    use std::os::unix::ffi::OsStrExt;
    let absolute = std::path::absolute(db_path).map_err(|source| Error::Io {
        path: db_path.to_owned(),
        source,
    })?;
    let mut uri = String::from("file:");
    for &byte in absolute.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push('?');
    uri.push_str(query);
    Ok(uri)
}
