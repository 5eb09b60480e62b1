//! `std::backtrace::Backtrace` text (what `anyhow` and `eyre` keep) turned into Sentry frames.
//!
//! Stable Rust exposes a captured `Backtrace` only as text, so these frames carry function,
//! file, line and column but no instruction addresses.

use sentry_sdk_core::protocol::{Frame, Stacktrace};

/// Frames of `std::backtrace::Backtrace`'s text (innermost first), turned into a Sentry stack
/// trace (caller first) without the frames of the backtrace machinery and anyhow itself.
pub(crate) fn parse_std_backtrace(text: &str) -> Option<Stacktrace> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(location) = trimmed.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut() {
                let mut parts = location.rsplitn(3, ':');
                let col = parts.next().and_then(|c| c.parse().ok());
                let line_no = parts.next().and_then(|l| l.parse().ok());
                if let (Some(path), Some(lineno)) = (parts.next(), line_no) {
                    frame.abs_path = Some(path.to_owned());
                    frame.filename = Some(path.trim_start_matches("./").to_owned());
                    frame.lineno = Some(lineno);
                    frame.colno = col.filter(|c: &u32| *c > 0);
                }
            }
        } else if let Some((index, function)) = trimmed.split_once(": ") {
            if index.bytes().all(|b| b.is_ascii_digit()) {
                frames.push(Frame {
                    function: Some(strip_hash(function).to_owned()),
                    ..Default::default()
                });
            }
        }
    }
    let skip = frames
        .iter()
        .take_while(|f| {
            let name = f.function.as_deref().unwrap_or("");
            [
                "std::backtrace",
                "anyhow::",
                "<anyhow::",
                "<E as anyhow::",
                "eyre::",
                "<eyre::",
                "<E as eyre::",
                "core::ops::function::",
            ]
            .iter()
            .any(|p| name.starts_with(p))
        })
        .count();
    frames.drain(..skip);
    if frames.is_empty() {
        return None;
    }
    frames.reverse();
    Some(Stacktrace { frames })
}

fn strip_hash(function: &str) -> &str {
    match function.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => function,
    }
}

/// Captures `error` with the frames of `trace` (the text of a `std::backtrace::Backtrace` the
/// error carries), or with the capture site's stack when there is none. `trace` runs only
/// when a client is bound: formatting a backtrace resolves every symbol.
pub(crate) fn capture_with_trace(
    error: &(dyn std::error::Error + Send + Sync + 'static),
    trace: impl FnOnce() -> Option<String>,
) -> sentry_sdk_core::protocol::EventId {
    if sentry_sdk_core::is_active() {
        if let Some(stacktrace) = trace().as_deref().and_then(parse_std_backtrace) {
            return sentry_sdk_core::capture_exception_with_stacktrace(error, stacktrace);
        }
    }
    sentry_sdk_core::capture_exception(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_backtrace_text_becomes_frames() {
        let text = "   0: std::backtrace::Backtrace::create\n             at /rustc/x/library/std/src/backtrace.rs:331:13\n   1: anyhow::error::<impl anyhow::Error>::msg\n             at /cargo/anyhow-1.0/src/error.rs:83:36\n   2: errors::load_config::h0123456789abcdef\n             at ./examples/errors.rs:20:5\n   3: errors::main\n             at ./examples/errors.rs:40:13\n   4: __libc_start_main\n";
        let st = parse_std_backtrace(text).unwrap();
        let names: Vec<_> = st
            .frames
            .iter()
            .map(|f| f.function.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            ["__libc_start_main", "errors::main", "errors::load_config"]
        );
        let top = st.frames.last().unwrap();
        assert_eq!(top.filename.as_deref(), Some("examples/errors.rs"));
        assert_eq!((top.lineno, top.colno), (Some(20), Some(5)));
    }
}
