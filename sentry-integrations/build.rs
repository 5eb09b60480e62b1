//! Records the compiler's version for the `runtime` context. Never fails the build: without a
//! usable `rustc -vV` the context says `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    let field = |name: &str| {
        output
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
    };
    let version = field("release:").unwrap_or_else(|| "unknown".to_owned());
    let channel = if version.contains("nightly") {
        "nightly"
    } else if version.contains("beta") {
        "beta"
    } else if version == "unknown" {
        "unknown"
    } else {
        "stable"
    };
    let description = output.lines().next().unwrap_or("rustc unknown").to_owned();
    println!("cargo:rustc-env=SENTRY_SDK_RUSTC_VERSION={version}");
    println!("cargo:rustc-env=SENTRY_SDK_RUSTC_CHANNEL={channel}");
    println!("cargo:rustc-env=SENTRY_SDK_RUSTC_DESCRIPTION={description}");
}
