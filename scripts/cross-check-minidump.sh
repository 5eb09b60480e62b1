#!/usr/bin/env bash
# Type-checks the native-crash handler (sentry-integrations/src/minidump/handler.rs) and the
# crates it stands on (crash-handler, minidumper) for macOS and Windows, from a Linux machine.
# Not part of the test command: it downloads targets' standard libraries (and, for the
# whole-workspace Windows check at the end, needs MinGW's gcc). As with
# cross-check-debug-images.sh, the whole workspace cannot be checked for those targets here
# (ring's build script needs the target's C compiler), so the module is built in a scratch crate.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${CARGO_TARGET_DIR:-$root/target}/cross-check-minidump"
mkdir -p "$scratch/src"
# Its own target directory: the workspace's stays unlocked.
unset CARGO_TARGET_DIR
cat > "$scratch/Cargo.toml" <<'TOML'
[package]
name = "cross-check-minidump"
version = "0.0.0"
edition = "2021"
publish = false
[workspace]
[dependencies]
crash-handler = "0.8"
minidumper = "0.11"
TOML
cat > "$scratch/src/main.rs" <<RS
#![deny(warnings)]
#[path = "$root/sentry-integrations/src/minidump/handler.rs"]
mod handler;
fn main() {
    let socket = std::env::temp_dir().join("cross-check-minidump.sock");
    let socket = socket.to_string_lossy().into_owned();
    if let Ok(client) = minidumper::Client::with_name(minidumper::SocketName::path(&socket)) {
        let _ = handler::attach(client);
    }
}
RS
for target in x86_64-apple-darwin x86_64-pc-windows-msvc x86_64-unknown-linux-gnu; do
  rustup target add "$target" >/dev/null 2>&1
  echo "== check $target"
  cargo check --quiet --manifest-path "$scratch/Cargo.toml" --target "$target"
done
echo "minidump handler: type-checked for macOS, Windows and Linux"

# Windows through MinGW: there ring's build script finds a C compiler
# (`apt-get install gcc-mingw-w64-x86-64`), so the whole workspace, the minidump integration
# (monitor, snapshots, program side) included, is type-checked for Windows, not only the handler.
if command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1
  echo "== check the workspace (all features) for x86_64-pc-windows-gnu"
  cargo check --quiet --manifest-path "$root/Cargo.toml" --workspace --all-features --lib \
    --target x86_64-pc-windows-gnu --target-dir "$scratch/windows-gnu"
  echo "workspace with the minidump feature: type-checked for Windows (MinGW)"
else
  echo "(no x86_64-w64-mingw32-gcc: the whole-workspace Windows check is skipped)"
fi
