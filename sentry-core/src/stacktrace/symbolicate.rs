//! Address to frame resolution, cached by address.
//!
//! Only the worker thread (and a panic hook) resolves. The cache maps an instruction address to
//! the frames found there (more than one when calls were inlined); it is bounded by clearing it
//! when full, which keeps the code trivial and the memory flat.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use once_cell::sync::Lazy;
use sentry_sdk_transport::sync::Mutex;

use super::Symbol;
use crate::protocol::Frame;

const CACHE_CAPACITY: usize = 16 * 1024;

static CACHE: Lazy<Mutex<HashMap<usize, Arc<[Frame]>>>> = Lazy::new(Default::default);

/// Empties the symbol cache (benchmarks measure the uncached path with it).
pub(crate) fn clear_cache() {
    CACHE.lock().clear();
}

/// Resolves every address, innermost first; inlined frames come before their caller.
///
/// Past `until`, resolution stops: the remaining addresses keep only their address (the
/// server can still symbolicate them). Returns the frames and how many of them, from the
/// start, were resolved before that cut.
pub(super) fn resolve_all(ips: &[usize], until: Option<Instant>) -> (Vec<Frame>, usize) {
    let mut out = Vec::with_capacity(ips.len() + 8);
    for (i, &ip) in ips.iter().enumerate() {
        if until.is_some_and(|t| Instant::now() >= t) {
            let resolved = out.len();
            out.extend(ips[i..].iter().map(|&ip| address_only(ip)));
            return (out, resolved);
        }
        let cached = CACHE.lock().get(&ip).cloned();
        let frames = match cached {
            Some(frames) => frames,
            None => {
                // Resolve outside the lock: it reads debug info and may take milliseconds.
                let frames: Arc<[Frame]> = resolve_one(ip, until).into();
                if until.is_some_and(|t| Instant::now() >= t)
                    && frames.iter().all(|f| f.function.is_none())
                {
                    // Cut while waiting for a loader another thread held: this address and
                    // the rest stay bare, and count as unresolved.
                    let resolved = out.len();
                    out.extend(ips[i..].iter().map(|&ip| address_only(ip)));
                    return (out, resolved);
                }
                // An address nothing was found for is not cached: its module may be loaded
                // (`dlopen`) after the module list was last read.
                if frames.iter().any(|f| f.function.is_some()) {
                    let mut cache = CACHE.lock();
                    if cache.len() >= CACHE_CAPACITY {
                        cache.clear();
                    }
                    cache.insert(ip, frames.clone());
                }
                frames
            }
        };
        out.extend(frames.iter().cloned());
    }
    let resolved = out.len();
    (out, resolved)
}

fn resolve_one(ip: usize, until: Option<Instant>) -> Vec<Frame> {
    let addr = format!("0x{ip:x}");
    let mut frames: Vec<Frame> = symbols_at(ip, until)
        .into_iter()
        .map(|symbol| Frame {
            module: symbol.function.as_deref().and_then(module_of),
            filename: symbol.file.as_deref().map(short_path),
            function: symbol.function,
            abs_path: symbol.file,
            lineno: symbol.line,
            // Column 0 means unknown in DWARF; Sentry shows it as a column.
            colno: symbol.column.filter(|c| *c > 0),
            instruction_addr: Some(addr.clone()),
            ..Default::default()
        })
        .collect();
    if frames.is_empty() {
        frames.push(address_only(ip));
    }
    frames
}

/// A frame known by its address only: the server symbolicates it from the debug images.
fn address_only(ip: usize) -> Frame {
    Frame {
        instruction_addr: Some(format!("0x{ip:x}")),
        ..Default::default()
    }
}

/// The frames at `ip`, innermost (inlined) first: from each module's DWARF, without any lock
/// a stack walk takes.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn symbols_at(ip: usize, until: Option<Instant>) -> Vec<Symbol> {
    super::dwarf::resolve(ip, until)
}

/// The frames at `ip`, innermost (inlined) first, from the platform's symbolizer through the
/// `backtrace` crate (which holds its process-wide lock meanwhile).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn symbols_at(ip: usize, _until: Option<Instant>) -> Vec<Symbol> {
    let mut symbols = Vec::new();
    backtrace::resolve(ip as *mut std::ffi::c_void, |symbol| {
        symbols.push(Symbol {
            // `{:#}` demangles without the `::h0123abcd` hash suffix.
            function: symbol.name().map(|n| format!("{n:#}")),
            file: symbol.filename().map(|p| p.display().to_string()),
            line: symbol.lineno(),
            column: symbol.colno(),
        });
    });
    symbols
}

/// The module path of a function path: `a::b::c` -> `a::b`; for `<T as Trait>::f`, the path of
/// `T`'s module.
pub(super) fn module_of(function: &str) -> Option<String> {
    let path = function_path(function);
    let (module, _) = path.rsplit_once("::")?;
    Some(module.to_owned())
}

/// The path without generic arguments, unwrapping `<T as Trait>::f` to `T::f`.
pub(super) fn function_path(function: &str) -> &str {
    let f = function.strip_prefix('<').unwrap_or(function);
    let end = f.find([' ', '<', '>', '{']).unwrap_or(f.len());
    f[..end].trim_end_matches("::")
}

/// A readable relative path: the crate's own path under the working directory, `crate-1.0/..`
/// for registry crates, `library/...` for the standard library.
fn short_path(abs: &str) -> String {
    if let Some(rest) = abs.strip_prefix("/rustc/") {
        return rest.split_once('/').map_or(rest, |(_, p)| p).to_owned();
    }
    if let Some(idx) = abs.find("/registry/src/") {
        let rest = &abs[idx + "/registry/src/".len()..];
        return rest.split_once('/').map_or(rest, |(_, p)| p).to_owned();
    }
    if let Some(cwd) = current_dir() {
        if let Some(rest) = abs.strip_prefix(cwd.as_str()) {
            return rest.trim_start_matches('/').to_owned();
        }
    }
    abs.to_owned()
}

fn current_dir() -> Option<&'static String> {
    static CWD: Lazy<Option<String>> = Lazy::new(|| {
        std::env::current_dir()
            .ok()
            .map(|p| p.display().to_string())
    });
    CWD.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_and_path_of_functions() {
        assert_eq!(
            module_of("app::orders::place").as_deref(),
            Some("app::orders")
        );
        assert_eq!(module_of("main"), None);
        assert_eq!(
            function_path(
                "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once"
            ),
            "alloc::boxed::Box"
        );
        assert_eq!(function_path("app::run::{{closure}}"), "app::run");
    }

    #[test]
    fn short_paths() {
        assert_eq!(
            short_path("/rustc/abc123/library/std/src/panicking.rs"),
            "library/std/src/panicking.rs"
        );
        assert_eq!(
            short_path(
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.0.0/src/lib.rs"
            ),
            "tokio-1.0.0/src/lib.rs"
        );
    }
}
