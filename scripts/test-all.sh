#!/usr/bin/env bash
# Every test of the project, in the order a reviewer would want them to fail:
# format, lints, docs, unit + end-to-end tests (with every envelope dumped), Relay's normaliser
# over those envelopes, then the quickstart against a real Bugsink on 127.0.0.1.
# Installs what it needs itself (Python venvs under target/interop). Exit 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
export CARGO_TERM_COLOR=never

step() { printf '\n=== %s ===\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "no import circles between modules (DESIGN.md: dependencies point one way)"
python3 scripts/module-cycles.py

step "cargo clippy (-D warnings)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "cargo doc (-D warnings)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --quiet

step "each crate builds without default features"
for crate in sentry-sdk-transport sentry-sdk-core sentry-sdk-integrations sentry-sdk; do
    cargo check --quiet -p "$crate" --no-default-features
done

step "cargo test (workspace, all features; envelopes dumped for Relay)"
# The e2e tests that run the official Python SDK as a peer install it themselves on first use
# (scripts/interop/python_peer.py --ensure-venv), so a plain `cargo test` works the same way.
export SENTRY_SDK_DUMP_DIR="$ROOT/target/interop/envelopes"
rm -rf "$SENTRY_SDK_DUMP_DIR"
cargo test --workspace --all-features
unset SENTRY_SDK_DUMP_DIR

step "Relay's normaliser over every envelope the tests sent"
python3 scripts/interop/relay_check.py --strict --pii-default "$ROOT/target/interop/envelopes"

step "quickstart against a real Bugsink (twice: grouping), then a panic=abort crash via the cache"
# With the features the test step built everything with, so nothing below it is rebuilt.
cargo build --quiet --examples --all-features
# examples/crash.rs built the way a `panic = "abort"` program runs (only this crate changes).
cargo rustc --quiet --all-features --example crash -- -C panic=abort
CRASH_BIN="$ROOT/target/debug/examples/crash" ERRORS_BIN="$ROOT/target/debug/examples/errors" \
LOG_BIN="$ROOT/target/debug/examples/log" TRACING_BIN="$ROOT/target/debug/examples/tracing" \
ATTACH_BIN="$ROOT/target/debug/examples/attachments" \
NATIVE_BIN="$ROOT/target/debug/examples/native_crash" \
    scripts/interop/bugsink-quickstart.sh "$ROOT/target/debug/examples/quickstart"
