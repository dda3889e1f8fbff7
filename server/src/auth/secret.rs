//! The anonymous mode's signing secret: `AXE_SECRET` when set; otherwise made once, at first
//! start, and kept next to the database so tokens survive restarts — a file `axe.secret` (mode
//! 0600) beside a SQLite database, or a row of `axe_server_secrets` in PostgreSQL, which every
//! node of a cluster then shares.

use super::random;
use crate::storage::{Storage, StorageError};
use std::{io::Write, path::Path};

/// The name of the secret file beside a SQLite database.
pub const SECRET_FILE: &str = "axe.secret";

/// Why the secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The file could not be read or written.
    #[error("cannot keep the signing secret in {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database refused.
    #[error("cannot keep the signing secret in the database: {0}")]
    Database(#[from] StorageError),
    /// No randomness.
    #[error(transparent)]
    Random(#[from] random::RandomError),
}

/// The secret to sign anonymous tokens with.
pub async fn load(configured: Option<&str>, storage: &Storage) -> Result<Vec<u8>, SecretError> {
    if let Some(secret) = configured {
        return Ok(secret.as_bytes().to_vec());
    }
    let fresh = random::hex(32)?;
    match storage.sqlite_file() {
        Some(database) => {
            let folder = database.parent().unwrap_or(Path::new("."));
            file_secret(&folder.join(SECRET_FILE), &fresh)
        }
        None => Ok(storage
            .server_secret("anonymous_tokens", &fresh)
            .await?
            .into_bytes()),
    }
}

/// The secret in `path`, written there first (mode 0600) if the file does not exist.
fn file_secret(path: &Path, fresh: &str) -> Result<Vec<u8>, SecretError> {
    let error = |source| SecretError::File {
        path: path.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(fresh.as_bytes()).map_err(error)?;
            file.sync_all().map_err(error)?;
            Ok(fresh.as_bytes().to_vec())
        }
        // Made by an earlier start (or another process just now): use it.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let kept = std::fs::read_to_string(path).map_err(error)?;
            Ok(kept.trim().as_bytes().to_vec())
        }
        Err(e) => Err(error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_made_once_private_and_kept() {
        let folder = std::env::temp_dir().join(format!("axe-secret-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(SECRET_FILE);
        let first = file_secret(&path, "aaaa").unwrap();
        let second = file_secret(&path, "bbbb").unwrap();
        assert_eq!(first, b"aaaa");
        assert_eq!(second, b"aaaa", "a restart keeps the secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(folder).unwrap();
    }
}
