//! Databases for tests: a fresh SQLite file per server, or a fresh database on the PostgreSQL
//! server named by `AXE_TEST_POSTGRES_URL` (the README's test command starts one and sets it).

use sqlx::Connection;
use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

/// A database a test server runs on.
#[derive(Debug)]
pub struct TestDb {
    /// What `AXE_DATABASE_URL` would be.
    pub url: String,
    /// The token the last test server on this database acted with, so a server restarted on
    /// it acts as the same subject (its sessions stay its own).
    pub token: Option<String>,
    /// A SQLite file's folder, removed on drop. PostgreSQL test databases live in the throwaway
    /// cluster the test command starts, so they are left for it to remove.
    folder: Option<PathBuf>,
}

fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A fresh SQLite file in a new temporary folder.
    pub fn sqlite() -> Self {
        let folder = std::env::temp_dir().join(format!("axe-test-{}", unique()));
        std::fs::create_dir_all(&folder).expect("temporary folder");
        Self {
            url: format!("sqlite:{}", folder.join("axe.db").display()),
            token: None,
            folder: Some(folder),
        }
    }

    /// A fresh, empty database on the test PostgreSQL server; `None` (after saying so) when
    /// there is none. With `AXE_REQUIRE_POSTGRES=1`, as the README's test command sets, a
    /// missing server fails the test instead.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("AXE_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("AXE_REQUIRE_POSTGRES").is_err(),
                "AXE_REQUIRE_POSTGRES is set but AXE_TEST_POSTGRES_URL is not"
            );
            eprintln!("skipped on PostgreSQL: AXE_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("axe_test_{}", unique());
        let mut admin = sqlx::postgres::PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base)
            .expect("the URL names a database");
        Some(Self {
            url: format!("{base}/{name}"),
            token: None,
            folder: None,
        })
    }

    /// Both backends: SQLite always, PostgreSQL when there is a server.
    pub async fn all() -> Vec<Self> {
        let mut dbs = vec![Self::sqlite()];
        dbs.extend(Self::postgres().await);
        dbs
    }

    /// `sqlite` or `postgres`, for messages.
    pub fn backend(&self) -> &'static str {
        if self.url.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
