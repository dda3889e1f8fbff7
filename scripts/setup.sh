#!/usr/bin/env bash
# Installs whatever this machine lacks to build (and, with --test, to test) AXE, and skips what
# is already there. Safe to run again and again.
#
#   scripts/setup.sh          toolchain, cargo-leptos, wasm-bindgen CLI, npm packages (wasm-opt)
#   scripts/setup.sh --test   the same, plus Debian's Chromium for the browser tests, Debian's
#                             PostgreSQL server for the storage tests, and Redis and HAProxy
#                             for the cluster tests
#   scripts/setup.sh --cluster  the build tools plus PostgreSQL, Redis and HAProxy, for
#                             scripts/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."

want_test_tools=false
want_cluster_tools=false
[[ "${1:-}" == "--test" ]] && want_test_tools=true && want_cluster_tools=true
[[ "${1:-}" == "--cluster" ]] && want_cluster_tools=true

say() { printf '[setup] %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages, installed only when missing (apt-get update once, only if needed).
apt_updated=false
apt_install() {
  if ! $apt_updated; then
    say "apt-get update"
    apt-get update -qq
    apt_updated=true
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# 1. Rust: the toolchain pinned in rust-toolchain.toml, with the wasm32 target. Auto-install is
#    off on these machines, so install it explicitly.
if ! command -v rustup >/dev/null; then
  say "installing rustup"
  command -v curl >/dev/null || apt_install curl ca-certificates
  curl -sSf https://sh.rustup.rs | sh -s -- -y --default-toolchain none --profile minimal
fi
toolchain=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1 \
  || ! rustup target list --installed --toolchain "$toolchain" | grep -q wasm32-unknown-unknown \
  || ! rustup component list --installed --toolchain "$toolchain" | grep -q clippy; then
  say "installing Rust $toolchain with wasm32-unknown-unknown"
  rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy \
    --target wasm32-unknown-unknown
fi

# 2. cargo-leptos, built without its downloader (helpers come from PATH). Slow: only if missing.
leptos_version=0.3.11
if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$leptos_version"* ]]; then
  say "installing cargo-leptos $leptos_version (takes a while)"
  cargo install cargo-leptos --version "$leptos_version" --locked --features no_downloads
fi

# 3. wasm-bindgen CLI at exactly the version in Cargo.lock.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print}' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version"
  # Its lock file can name a dependency version the registry no longer serves (seen here:
  # webpki-roots 1.0.11); then resolve afresh, still at exactly this CLI version.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --locked \
    || cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

# 4. Node.js and the npm packages: Playwright and binaryen's wasm-opt (Debian's is too old) in
#    end2end/, CodeMirror and esbuild in frontend/editor/. Reinstalled when a lock file changes.
if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
for dir in end2end frontend/editor; do
  stamp=$dir/node_modules/.axe-lock-stamp
  if [[ ! -f "$stamp" ]] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    say "installing npm packages in $dir/"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
    cp "$dir/package-lock.json" "$stamp"
  fi
done

# 5. The browser for the end-to-end tests.
if $want_test_tools && [[ ! -x /usr/bin/chromium ]]; then
  apt_install chromium
fi

# 6. PostgreSQL for the storage tests (they also run on SQLite, which sqlx builds in) and for
#    several nodes.
if $want_cluster_tools && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  apt_install postgresql
fi

# 7. Redis and HAProxy for several nodes (scripts/cluster.sh, the cluster tests).
if $want_cluster_tools && ! command -v redis-server >/dev/null; then
  apt_install redis-server
fi
if $want_cluster_tools && ! command -v haproxy >/dev/null; then
  apt_install haproxy
fi

say "ready"
