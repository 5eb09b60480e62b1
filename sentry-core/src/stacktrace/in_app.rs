//! Which frames are the application's own code, and which frames on top are the SDK's.

use std::borrow::Cow;

use super::symbolicate::function_path;
use crate::protocol::Frame;

/// Crates whose frames are never the application's (first path segment).
const NOT_IN_APP_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "backtrace",
    "sentry_sdk",
    "sentry_sdk_core",
    "sentry_sdk_transport",
    "sentry_sdk_integrations",
    "sentry",
    "tokio",
    "tokio_util",
    "futures",
    "futures_util",
    "futures_core",
    "futures_executor",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "tower",
    "axum",
    "tracing",
    "tracing_core",
    "tracing_subscriber",
    "log",
    "anyhow",
    "eyre",
    "color_eyre",
    "serde",
    "serde_json",
    "rayon",
    "rayon_core",
    "test",
    "criterion",
    "async_std",
    "rust_begin_unwind",
    "main",
    "_start",
    "__libc_start_main",
    "__libc_start_call_main",
    "start_thread",
    "clone3",
    "clone",
];

/// Frames between the panic machinery or the stack walker and the code they call (the hook
/// dispatch's closure shims, the unwinder): trimmed from the top with the SDK's own.
const SHIM_PREFIXES: &[&str] = &[
    "std::panic::",
    "alloc::boxed::Box",
    "core::ops::function::Fn",
    "_Unwind_",
];

/// The user's `in_app_include` / `in_app_exclude` prefixes plus the built-in rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct InAppRules {
    pub(crate) include: Vec<Cow<'static, str>>,
    pub(crate) exclude: Vec<Cow<'static, str>>,
}

impl InAppRules {
    /// `Some(true)` for application code, `Some(false)` for dependencies and the standard
    /// library, `None` when the frame has no symbol to judge by.
    pub(crate) fn is_in_app(&self, frame: &Frame) -> Option<bool> {
        let function = frame.function.as_deref()?;
        let path = function_path(function);
        if self.include.iter().any(|p| path.starts_with(p.as_ref())) {
            return Some(true);
        }
        if self.exclude.iter().any(|p| path.starts_with(p.as_ref())) {
            return Some(false);
        }
        let first = path.split("::").next().unwrap_or(path);
        if NOT_IN_APP_CRATES.contains(&first) || first.starts_with("__") {
            return Some(false);
        }
        if let Some(file) = frame.abs_path.as_deref() {
            let dependency = file.starts_with("/rustc/")
                || file.contains("/.cargo/registry/")
                || file.contains("/.cargo/git/")
                || file.contains("/.rustup/toolchains/");
            if dependency {
                return Some(false);
            }
        }
        Some(true)
    }
}

/// Frames of the panic machinery: everything between the panic site and the hooks.
const PANIC_PREFIXES: &[&str] = &[
    "std::panicking::",
    "core::panicking::",
    "std::sys::backtrace::",
    "std::sys_common::backtrace::",
    "std::rt::begin_panic",
    "rust_begin_unwind",
    "__rustc::rust_begin_unwind",
    // `unwrap`/`expect` failures: the caller's line is the useful top frame.
    "core::result::unwrap_failed",
    "core::option::unwrap_failed",
    "core::option::expect_failed",
];

/// The SDK's own crates: a stack is trimmed only when one of these is on top.
const SDK_CRATES: &[&str] = &[
    "backtrace::",
    "sentry_sdk_core::",
    "sentry_sdk::",
    "sentry_sdk_integrations::",
    "sentry_sdk_transport::",
];

/// Frames that sit between SDK frames, or between the SDK and the user's first frame, and are
/// trimmed with them: the standard library's (thread-locals through which the client and
/// scopes are reached, `Option::map`, closure shims) and the `log` / `tracing` dispatch
/// that an event made from a record starts in. A user frame stops the trim before any
/// standard-library frame the user's own code called through.
const GLUE_PREFIXES: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "log::",
    "tracing::",
    "tracing_core::",
    "tracing_subscriber::",
];

fn is_sdk_or_shim(frame: &Frame) -> bool {
    matches(frame, SDK_CRATES) || matches(frame, SHIM_PREFIXES)
}

fn matches(frame: &Frame, prefixes: &[&str]) -> bool {
    frame.function.as_deref().is_some_and(|name| {
        let path = function_path(name);
        prefixes
            .iter()
            .any(|p| path.starts_with(p) || name.starts_with(p))
    })
}

/// Removes the SDK's, the stack walker's and the panic machinery's frames from the top of an
/// innermost-first frame list, and unnamed frames among them.
///
/// For a panic, everything above the panic machinery goes too: those are panic hooks (ours,
/// and any the program chained around it), not where the program failed.
pub(crate) fn trim_sdk_frames(frames: &mut Vec<Frame>) {
    // Only these run during a panic (`std::panicking::try` and friends also run without one).
    const PANIC_ENTRY: &[&str] = &[
        "std::panicking::rust_panic_with_hook",
        "std::panicking::begin_panic_handler",
        "std::panicking::panic_with_hook",
    ];
    if let Some(first_panic) = frames.iter().position(|f| matches(f, PANIC_ENTRY)) {
        let rest = frames[first_panic..]
            .iter()
            .take_while(|f| f.function.is_none() || matches(f, PANIC_PREFIXES) || is_sdk_or_shim(f))
            .count();
        frames.drain(..first_panic + rest);
        return;
    }
    let top = frames
        .iter()
        .position(|f| f.function.is_some() && !is_sdk_or_shim(f) && !matches(f, GLUE_PREFIXES))
        .unwrap_or(frames.len());
    // Only trim when the top really is SDK code: a stack captured elsewhere keeps every frame.
    let sdk_on_top = frames[..top].iter().any(|f| matches(f, SDK_CRATES));
    if sdk_on_top {
        frames.drain(..top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str) -> Frame {
        Frame {
            function: Some(function.into()),
            ..Default::default()
        }
    }

    #[test]
    fn builtin_and_user_rules() {
        let rules = InAppRules {
            include: vec!["tokio::my_fork".into()],
            exclude: vec!["myapp::vendored".into()],
        };
        assert_eq!(rules.is_in_app(&frame("myapp::run")), Some(true));
        assert_eq!(rules.is_in_app(&frame("myapp::vendored::x")), Some(false));
        assert_eq!(
            rules.is_in_app(&frame("std::panicking::begin_panic")),
            Some(false)
        );
        assert_eq!(rules.is_in_app(&frame("tokio::runtime::park")), Some(false));
        assert_eq!(rules.is_in_app(&frame("tokio::my_fork::f")), Some(true));
        assert_eq!(
            rules.is_in_app(&frame(
                "<alloc::boxed::Box<F> as core::ops::function::FnOnce<A>>::call_once"
            )),
            Some(false)
        );
        assert_eq!(rules.is_in_app(&Frame::default()), None);
        let mut registry = frame("somecrate::f");
        registry.abs_path = Some("/home/u/.cargo/registry/src/x/somecrate-1.0/src/lib.rs".into());
        assert_eq!(rules.is_in_app(&registry), Some(false));
    }

    #[test]
    fn trims_sdk_and_panic_frames_from_the_top_only() {
        let mut frames = vec![
            Frame::default(),
            frame("backtrace::backtrace::trace"),
            frame("sentry_sdk_core::stacktrace::RawStack::capture"),
            frame("std::panicking::rust_panic_with_hook"),
            frame("core::panicking::panic_fmt"),
            frame("myapp::divide"),
            frame("std::panicking::try"),
            frame("myapp::main"),
        ];
        trim_sdk_frames(&mut frames);
        let names: Vec<_> = frames.iter().map(|f| f.function.clone().unwrap()).collect();
        assert_eq!(
            names,
            ["myapp::divide", "std::panicking::try", "myapp::main"]
        );

        let mut untouched = vec![frame("myapp::a"), frame("myapp::b")];
        trim_sdk_frames(&mut untouched);
        assert_eq!(untouched.len(), 2);
    }

    #[test]
    fn glue_between_the_sdk_and_the_user_goes_with_the_sdk() {
        // A `log::error!` with the client bound process-wide, innermost first.
        let mut frames = vec![
            frame("sentry_sdk_core::api::capture_event_with_stack"),
            frame("sentry_sdk_core::binding::with_global::{{closure}}"),
            frame("core::option::Option<T>::map"),
            frame("std::thread::local::LocalKey<T>::try_with"),
            frame("sentry_sdk_integrations::log::capture_with"),
            frame("<log::__private_api::GlobalLogger as log::Log>::log"),
            frame("log::__private_api::log_impl"),
            frame("myapp::charge"),
            frame("core::iter::traits::iterator::Iterator::for_each"),
            frame("myapp::main"),
        ];
        trim_sdk_frames(&mut frames);
        let names: Vec<_> = frames.iter().map(|f| f.function.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "myapp::charge",
                "core::iter::traits::iterator::Iterator::for_each",
                "myapp::main"
            ]
        );

        // Standard-library frames on top of a stack the SDK did not capture stay.
        let mut foreign = vec![
            frame("std::thread::local::LocalKey<T>::with"),
            frame("myapp::a"),
        ];
        trim_sdk_frames(&mut foreign);
        assert_eq!(foreign.len(), 2);
    }
}
