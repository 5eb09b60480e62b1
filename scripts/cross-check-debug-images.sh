#!/usr/bin/env bash
# Checks the debug-image listing (sentry-core/src/stacktrace/debug_images.rs) for platforms
# other than Linux, from a Linux machine. Not part of the test command: it downloads targets'
# standard libraries (and, with --run-windows, Debian packages).
#
#   scripts/cross-check-debug-images.sh                # type-checks for macOS and Windows
#   scripts/cross-check-debug-images.sh --run-windows  # also runs it on Windows, under Wine
#
# The whole workspace cannot be checked for those targets here (ring's build script needs the
# target's C compiler), so the module is built on its own in a scratch crate with the same
# dependencies. --run-windows builds it as a Windows program with MinGW, with a CodeView
# record (`--pdb`), runs it under Wine, and compares the PE entry it prints with what objdump
# reads from the file: type, debug id (PDB GUID and age), code id, image base and size.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$root/target/cross-check-debug-images"
mkdir -p "$scratch/src" "$scratch/.cargo"
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
cat > "$scratch/src/main.rs" <<RS
#![deny(warnings)]
#[path = "$root/sentry-core/src/stacktrace/debug_images.rs"]
mod debug_images;
fn main() {
    let here = main as fn() as usize as u64;
    let meta = debug_images::debug_meta_for(&[here]).unwrap_or_default();
    println!("{meta}");
}
RS
cat > "$scratch/.cargo/config.toml" <<'TOML'
[target.x86_64-pc-windows-gnu]
linker = "x86_64-w64-mingw32-gcc"
rustflags = ["-C", "link-arg=-Wl,--pdb=cross-check.pdb"]
TOML
for target in x86_64-apple-darwin x86_64-pc-windows-msvc; do
  rustup target add "$target" >/dev/null 2>&1
  echo "== check $target"
  cargo check --quiet --manifest-path "$scratch/Cargo.toml" --target "$target"
done
echo "debug images: type-checked for macOS and Windows"

[ "${1:-}" = "--run-windows" ] || exit 0

export DEBIAN_FRONTEND=noninteractive
command -v x86_64-w64-mingw32-gcc >/dev/null || apt-get install -y gcc-mingw-w64-x86-64 >/dev/null
[ -x /usr/lib/wine/wine64 ] || apt-get install -y wine64 >/dev/null
rustup target add x86_64-pc-windows-gnu >/dev/null 2>&1
(cd "$scratch" && cargo build --quiet --target x86_64-pc-windows-gnu)
out="$scratch/target/x86_64-pc-windows-gnu/debug"
exe="$out/cross-check-debug-images.exe"
# Rust's standard library imports ProcessPrng, which Wine 8 lacks: a stub stands in.
cat > "$scratch/bcryptprimitives.c" <<'C'
#include <windows.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    for (SIZE_T i = 0; i < len; i++) data[i] = (BYTE)(i * 131 + 7);
    return TRUE;
}
C
x86_64-w64-mingw32-gcc -shared -o "$out/bcryptprimitives.dll" "$scratch/bcryptprimitives.c"
export WINEPREFIX="$scratch/wine" WINEDEBUG=-all
/usr/lib/wine/wine64 "$exe" > "$scratch/wine-output.json"
x86_64-w64-mingw32-objdump -p "$exe" > "$scratch/objdump.txt"
python3 - "$scratch/wine-output.json" "$scratch/objdump.txt" <<'PY'
import json, re, sys
meta = json.load(open(sys.argv[1]))
dump = open(sys.argv[2]).read()
base = int(re.search(r"^ImageBase\s+([0-9a-f]+)", dump, re.M).group(1), 16)
size = int(re.search(r"^SizeOfImage\s+([0-9a-f]+)", dump, re.M).group(1), 16)
guid, age = re.search(r"format RSDS signature ([0-9a-f]{32}) age (\d+)", dump).groups()
want_debug_id = f"{guid[:8]}-{guid[8:12]}-{guid[12:16]}-{guid[16:20]}-{guid[20:]}-{int(age):x}"
images = meta.get("images", [])
assert len(images) == 1, f"one image expected: {meta}"
img = images[0]
checks = [
    ("type", img["type"], "pe"),
    ("debug_id", img["debug_id"], want_debug_id),
    ("image_addr", int(img["image_addr"], 16), base),
    ("image_size", img["image_size"], size),
    ("debug_file", img.get("debug_file"), "cross-check.pdb"),
    ("code_id ends with the image size", img["code_id"][8:], f"{size:x}"),
]
failed = [c for c in checks if c[1] != c[2]]
for name, got, want in checks:
    print(f"{'PASS' if got == want else 'FAIL'} {name}: {got} (objdump: {want})")
sys.exit(1 if failed else 0)
PY
echo "debug images: the PE entry matches the file (run under Wine)"
