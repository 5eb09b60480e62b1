#!/usr/bin/env bash
# Type-checks the debug-image listing (sentry-core/src/stacktrace/debug_images.rs) for macOS and
# Windows from a Linux machine. The whole workspace cannot be checked for those targets here
# (ring's build script needs the target's C compiler), so the module is checked on its own in a
# scratch crate with the same dependencies. Not part of the test command: it needs
# `rustup target add`, which downloads the targets' standard libraries.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$root/target/cross-check-debug-images"
mkdir -p "$scratch/src"
cat > "$scratch/Cargo.toml" <<'TOML'
[package]
name = "cross-check-debug-images"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
findshlibs = "0.10"
once_cell = "1"
serde_json = "1"
TOML
cat > "$scratch/src/lib.rs" <<RS
#![deny(warnings)]
#[path = "$root/sentry-core/src/stacktrace/debug_images.rs"]
mod debug_images;
pub fn debug_meta(addresses: &[u64]) -> Option<serde_json::Value> {
    debug_images::debug_meta_for(addresses)
}
RS
for target in x86_64-apple-darwin x86_64-pc-windows-msvc; do
  rustup target add "$target" >/dev/null
  echo "== $target"
  cargo check --quiet --manifest-path "$scratch/Cargo.toml" --target "$target"
done
echo "debug images: type-checked for macOS and Windows"
