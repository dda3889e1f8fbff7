//! Durable storage of sessions: SQLite (a file, WAL mode) by default, PostgreSQL for a
//! `postgres://` URL, through sqlx's Any driver so both run the same SQL and migrations.
//!
//! # Layout
//! - this file: opening the database, migrating it, the error type.
//! - [`write`]: the one transaction each processed message becomes ([`Batch`], [`Change`]).
//! - [`read`]: loading a session, snapshots and history pages, the events a client missed.
//! - [`recovery`]: what start-up (or, in a cluster, taking a session over) does about replies
//!   a crash interrupted.
//! - [`fence`]: the fencing token a node takes with a session's lease (cluster mode).
//! - [`owners`]: which subject owns a session; secrets the server keeps for itself.
//! - [`export`]: everything stored about a session, a page at a time.
//! - [`telemetry`]: widgets' anonymized events; [`minutes`]: the server's measurements per
//!   minute. Both summed by the database for the dashboard.

pub mod export;
pub mod fence;
pub mod minutes;
pub mod owners;
pub mod read;
pub mod recovery;
pub mod telemetry;
pub mod write;

pub use write::{Batch, Change};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, ConnectOptions,
};
use std::{
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

/// The migrations in `server/migrations`, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URL names no backend we support.
    #[error("unsupported database URL {0:?}: expected sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value did not decode (e.g. a diff's JSON).
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// The SQLite file's folder could not be created.
    #[error("cannot create the database folder: {0}")]
    Folder(#[from] std::io::Error),
    /// Another node has taken the session over since this one's lease began (its fencing
    /// token moved on): nothing was stored.
    #[error("another node now serves this session")]
    NotOwner,
}

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A handle to the database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Storage {
    pool: AnyPool,
    backend: Backend,
    /// The database file, for SQLite.
    sqlite_file: Option<PathBuf>,
    /// How many of a file's newest versions are kept (`AXE_FILE_VERSIONS_KEPT`).
    versions_kept: usize,
}

/// How many of a file's newest versions are kept unless told otherwise.
pub const DEFAULT_VERSIONS_KEPT: usize = 50;

/// SQLite's page cache per pooled connection, in KiB (SQLite's default is 2,000). A page it
/// misses is read from the operating system's file cache, which holds the file anyway; a small
/// cache keeps the server's memory flat under churn: on the hour's soak, page-cache entries
/// evicted one by one from four caches left the heap fragmented (see `crate::memory`).
const SQLITE_CACHE_KIB: u32 = 256;

impl Storage {
    /// Connects to `url` (creating a SQLite file and its folder if missing) and applies any
    /// migrations not yet applied.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StorageError::UnsupportedUrl(url.to_owned()));
        };
        let (url, sqlite_file) = match backend {
            Backend::Sqlite => {
                let (url, file) = sqlite_url(url)?;
                (url, Some(file))
            }
            Backend::Postgres => (url.to_owned(), None),
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            // SQLite has one writer at a time anyway; a few readers beside it are plenty.
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL makes every commit
                        // survive a power cut, not just a process crash; foreign keys are off
                        // by default in SQLite; the page cache is small ([`SQLITE_CACHE_KIB`]).
                        let pragmas = [
                            "PRAGMA journal_mode = WAL".to_owned(),
                            "PRAGMA synchronous = FULL".to_owned(),
                            "PRAGMA foreign_keys = ON".to_owned(),
                            format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}"),
                        ];
                        for pragma in &pragmas {
                            sqlx::query(pragma).execute(&mut *connection).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            sqlite_file,
            versions_kept: DEFAULT_VERSIONS_KEPT,
        })
    }

    /// The same storage, keeping `count` of a file's newest versions (at least 1).
    pub fn keeping_versions(mut self, count: usize) -> Self {
        self.versions_kept = count.max(1);
        self
    }

    /// How many of a file's newest versions are kept.
    pub fn versions_kept(&self) -> usize {
        self.versions_kept
    }

    /// The database file, when it is SQLite.
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.sqlite_file.as_deref()
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool, for the read and write modules.
    fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (SQLite then checkpoints its WAL into the main file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Makes sure a SQLite URL creates its file, and that the file's folder exists; returns the
/// URL to connect with and the file.
fn sqlite_url(url: &str) -> Result<(String, PathBuf), StorageError> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StorageError::UnsupportedUrl(format!(
            "{url} (AXE keeps sessions on disk; give a file path)"
        )));
    }
    if let Some(folder) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)?;
    }
    let url = if rest.contains("mode=") {
        format!("sqlite://{rest}")
    } else if rest.contains('?') {
        format!("sqlite://{rest}&mode=rwc")
    } else {
        format!("sqlite://{rest}?mode=rwc")
    };
    Ok((url, PathBuf::from(path)))
}

/// Now, in Unix milliseconds, for the `*_at` columns.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sqlite_file_is_created_in_wal_mode_and_migrated_once() {
        let folder = std::env::temp_dir().join(format!("axe-storage-{}", std::process::id()));
        let url = format!("sqlite:{}", folder.join("nested/axe.db").display());
        let storage = Storage::open(&url)
            .await
            .expect("opens and creates the folder");
        assert_eq!(storage.backend(), Backend::Sqlite);
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(storage.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        storage.close().await;
        // Opening again finds the migrations applied and applies nothing twice.
        let again = Storage::open(&url).await.expect("reopens");
        let (applied,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(again.pool())
            .await
            .unwrap();
        assert_eq!(applied, MIGRATOR.migrations.len() as i64);
        again.close().await;
        std::fs::remove_dir_all(folder).unwrap();
    }

    #[tokio::test]
    async fn unknown_schemes_and_in_memory_sqlite_are_refused() {
        assert!(matches!(
            Storage::open("mysql://x").await,
            Err(StorageError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            Storage::open("sqlite::memory:").await,
            Err(StorageError::UnsupportedUrl(_))
        ));
    }
}
