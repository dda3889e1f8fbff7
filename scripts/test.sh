#!/usr/bin/env bash
# The whole test suite, stopping at the first failure: formatting, lints (native and wasm32),
# Rust tests (with a throwaway PostgreSQL server, Redis and HAProxy, each started once for the
# run and shared), the release build and its size report, then the Playwright specs in
# Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "setup"
scripts/setup.sh --test
source scripts/env.sh

step "cargo fmt --check"
cargo fmt --all --check

step "clippy (native: protocol, server, app with ssr)"
cargo clippy -p protocol -p server --all-targets -- -D warnings
cargo clippy -p app --features ssr -- -D warnings

step "clippy (wasm32: protocol, app with browser, frontend)"
cargo clippy -p protocol -p frontend --target wasm32-unknown-unknown -- -D warnings
cargo clippy -p app --features browser --target wasm32-unknown-unknown -- -D warnings

step "PostgreSQL, Redis and HAProxy for the storage and cluster tests"
trap 'scripts/test-haproxy.sh stop; scripts/test-redis.sh stop; scripts/test-postgres.sh stop' EXIT
AXE_TEST_POSTGRES_URL="$(scripts/test-postgres.sh start)"
AXE_TEST_REDIS_URL="$(scripts/test-redis.sh start)"
AXE_TEST_LB="$(scripts/test-haproxy.sh start)"
export AXE_TEST_POSTGRES_URL AXE_TEST_REDIS_URL AXE_TEST_LB
export AXE_REQUIRE_POSTGRES=1 AXE_REQUIRE_CLUSTER=1
echo "$AXE_TEST_POSTGRES_URL $AXE_TEST_REDIS_URL balancer and nodes: $AXE_TEST_LB"

step "Rust tests (storage and recovery on SQLite and PostgreSQL; three nodes behind HAProxy)"
cargo test -p protocol -p server
cargo test -p app --features ssr
if [[ -n "${AXE_TEST_LLM_URL:-}" ]]; then
  step "real-model tests against $AXE_TEST_LLM_URL"
  cargo test -p server --test llm_openai -- --ignored
fi

step "release build"
scripts/build-editor.sh
cargo leptos build --release --split

step "size report"
scripts/size-report.sh --enforce

step "Playwright specs (Chromium, real server)"
(cd end2end && npx playwright test)

printf '\n==> all tests passed in %ss\n' "$(( $(date +%s) - started ))"
