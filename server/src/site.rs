//! The widget's built files, as host pages fetch them: the loader (`loader/embed.js` in the
//! site folder, with this build's asset path filled in) and everything under `pkg/` (wasm, JS
//! glue, styles, lazy chunks) and `editor/` (the canvas's editor module). Each is compressed
//! once (brotli and gzip) when the files are read, and the build has one id, a hash of every
//! file, which goes into their URLs: `/axe/b/{build}/{path}`. A new build means new URLs, so
//! those can be cached for a year.
//!
//! The files are read at start and read again when they change on disk (checked at most once a
//! second, when the loader is asked for), so `cargo leptos watch` serves each rebuild.

use bytes::Bytes;
use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::{Instant, SystemTime},
};

/// The folders under the site root the widget's files come from.
const FOLDERS: [&str; 3] = ["pkg", "editor", "embed"];

/// The loader's source, relative to the site root (copied there from `frontend/assets/`).
const LOADER: &str = "embed/loader.js";

/// What the loader source says where this build's asset path goes.
const ASSETS_PLACEHOLDER: &str = "__AXE_ASSETS__";

/// How often the files on disk are looked at again.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// One file, in each encoding it is served in.
#[derive(Debug)]
pub struct File {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// As built.
    pub identity: Bytes,
    /// gzip, level 9.
    pub gzip: Bytes,
    /// brotli, quality 11.
    pub brotli: Bytes,
}

/// One build's files.
#[derive(Debug)]
pub struct Build {
    /// The build's id: part of every file's URL.
    pub id: String,
    /// The loader, pointing at this build.
    pub loader: Arc<File>,
    /// Each file by its path relative to the site root (`pkg/axe.wasm`).
    pub files: HashMap<String, Arc<File>>,
}

/// The site's widget files, kept current.
#[derive(Debug)]
pub struct SiteFiles {
    root: PathBuf,
    current: RwLock<Arc<Build>>,
    /// When the disk was last looked at, and what it held then (paths and modification times).
    checked: Mutex<(Instant, Vec<(PathBuf, SystemTime)>)>,
}

impl SiteFiles {
    /// Reads the widget's files under `root` (the Leptos site root). Missing files make an
    /// empty build (the pages still render; the widget cannot load until they are built).
    pub fn load(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let stamps = stamps(&root);
        let build = read_build(&root);
        if build.files.is_empty() {
            tracing::warn!(root = %root.display(), "no widget files in the site folder; build them with cargo leptos build");
        }
        Self {
            root,
            current: RwLock::new(Arc::new(build)),
            checked: Mutex::new((Instant::now(), stamps)),
        }
    }

    /// The current build, read again first if the files changed on disk.
    pub fn current(&self) -> Arc<Build> {
        self.refresh();
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn refresh(&self) {
        let mut checked = self.checked.lock().unwrap_or_else(PoisonError::into_inner);
        if checked.0.elapsed() < RECHECK {
            return;
        }
        let now = stamps(&self.root);
        checked.0 = Instant::now();
        if now == checked.1 {
            return;
        }
        checked.1 = now;
        let build = read_build(&self.root);
        tracing::info!(build = %build.id, files = build.files.len(), "widget files changed; serving the new build");
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(build);
    }
}

/// Every file under the widget's folders with its modification time, sorted.
fn stamps(root: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut found = Vec::new();
    for folder in FOLDERS {
        walk(&root.join(folder), &mut found);
    }
    let mut stamped: Vec<(PathBuf, SystemTime)> = found
        .into_iter()
        .filter_map(|path| {
            let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
            Some((path, modified))
        })
        .collect();
    stamped.sort();
    stamped
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

fn read_build(root: &Path) -> Build {
    let mut contents: Vec<(String, Vec<u8>)> = stamps(root)
        .into_iter()
        .filter_map(|(path, _)| {
            let relative = path.strip_prefix(root).ok()?.to_str()?.replace('\\', "/");
            let bytes = std::fs::read(&path).ok()?;
            Some((relative, bytes))
        })
        .collect();
    contents.sort();
    let id = build_id(&contents);
    let loader_source = contents
        .iter()
        .find(|(path, _)| path == LOADER)
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .unwrap_or_default();
    let loader = loader_source.replace(ASSETS_PLACEHOLDER, &format!("/axe/b/{id}"));
    let files = contents
        .into_iter()
        .filter(|(path, _)| is_served(path))
        .map(|(path, bytes)| {
            let file = compress(content_type(&path), bytes);
            (path, Arc::new(file))
        })
        .collect();
    Build {
        loader: Arc::new(compress(
            "text/javascript; charset=utf-8",
            loader.into_bytes(),
        )),
        id,
        files,
    }
}

/// Whether `path` is fetched by browsers (not type declarations or the loader's source).
fn is_served(path: &str) -> bool {
    path != LOADER && !path.ends_with(".d.ts")
}

/// FNV-1a over every path and content, as 16 hex digits: stable across runs and machines, so
/// every node of a deployment names the same build alike.
fn build_id(contents: &[(String, Vec<u8>)]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (path, bytes) in contents {
        feed(path.as_bytes());
        feed(&[0]);
        feed(bytes);
        feed(&[0]);
    }
    format!("{hash:016x}")
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn compress(content_type: &'static str, bytes: Vec<u8>) -> File {
    let gzip = {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&bytes);
        encoder.finish().unwrap_or_default()
    };
    let brotli = {
        let mut out = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        // Reading from a slice and writing to a Vec cannot fail.
        let _ = brotli::BrotliCompress(&mut bytes.as_slice(), &mut out, &params);
        out
    };
    File {
        content_type,
        identity: bytes.into(),
        gzip: gzip.into(),
        brotli: brotli.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn site(files: &[(&str, &str)]) -> tempdir::Folder {
        let folder = tempdir::Folder::new();
        for (path, content) in files {
            let path = folder.0.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        folder
    }

    mod tempdir {
        /// A folder removed on drop.
        pub struct Folder(pub std::path::PathBuf);

        impl Folder {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let path = std::env::temp_dir().join(format!(
                    "axe-site-{}-{}",
                    std::process::id(),
                    NEXT.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }
        }

        impl Drop for Folder {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn the_loader_points_at_its_build_and_every_encoding_holds_the_same_bytes() {
        let folder = site(&[
            (
                "embed/loader.js",
                "var assets = server + \"__AXE_ASSETS__\";",
            ),
            ("pkg/axe.js", "export default function init() {}"),
            ("pkg/axe.wasm", "\0asm"),
            ("pkg/axe.d.ts", "declare function init(): void;"),
            ("robots.txt", "not the widget's"),
        ]);
        let files = SiteFiles::load(&folder.0);
        let build = files.current();
        assert_eq!(build.id.len(), 16);
        let loader = String::from_utf8(build.loader.identity.to_vec()).unwrap();
        assert_eq!(
            loader,
            format!("var assets = server + \"/axe/b/{}\";", build.id)
        );
        let mut names: Vec<&str> = build.files.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["pkg/axe.js", "pkg/axe.wasm"]);
        let glue = &build.files["pkg/axe.js"];
        assert_eq!(glue.content_type, "text/javascript; charset=utf-8");
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&glue.gzip[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, glue.identity);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &glue.brotli[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, glue.identity);
    }

    #[test]
    fn a_changed_file_makes_a_new_build_id() {
        let folder = site(&[("pkg/axe.js", "one")]);
        let first = read_build(&folder.0).id;
        assert_eq!(read_build(&folder.0).id, first, "stable for the same files");
        std::fs::write(folder.0.join("pkg/axe.js"), "two").unwrap();
        assert_ne!(read_build(&folder.0).id, first);
    }
}
