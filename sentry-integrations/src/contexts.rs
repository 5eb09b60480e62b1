//! The contexts integration: `os`, `runtime`, `device` and `app` contexts on every event,
//! computed once per process.
//!
//! - `os`: name, kernel version, and the distribution from `/etc/os-release` (Linux);
//! - `runtime`: the rustc version and channel that built the program (from a build script);
//! - `device`: CPU architecture, processor count, memory size;
//! - `app`: start time and binary name.
//!
//! An event that already carries a context of the same name keeps its own. They are given to
//! the SDK as static contexts (`Integration::static_contexts`), which it serialises once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use once_cell::sync::Lazy;
use sentry_sdk_core::protocol::{Map, Value};
use sentry_sdk_core::{ClientOptions, Integration};
use serde_json::json;

static COMPUTED: AtomicUsize = AtomicUsize::new(0);
static START: Lazy<SystemTime> = Lazy::new(SystemTime::now);
static CONTEXTS: Lazy<Map<Value>> = Lazy::new(|| {
    COMPUTED.fetch_add(1, Ordering::Relaxed);
    let mut contexts = Map::new();
    contexts.insert("os".into(), os_context());
    contexts.insert("runtime".into(), runtime_context());
    contexts.insert("device".into(), device_context());
    contexts.insert("app".into(), app_context());
    contexts
});

/// Adds the `os`, `runtime`, `device` and `app` contexts. Added by `init` unless
/// `default_integrations(false)`.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContextsIntegration;

impl ContextsIntegration {
    /// The integration.
    pub fn new() -> Self {
        ContextsIntegration
    }

    /// How many times the contexts were computed in this process (1 once any event was
    /// processed): they are cached.
    pub fn times_computed() -> usize {
        COMPUTED.load(Ordering::Relaxed)
    }
}

impl Integration for ContextsIntegration {
    fn name(&self) -> &'static str {
        "contexts"
    }

    /// Its contexts are static (`static_contexts`); it has no event processor.
    fn processes_events(&self) -> bool {
        false
    }

    fn setup(&self, _options: &ClientOptions) {
        // The app's start, as near to `init` as we get.
        Lazy::force(&START);
        // Computed here rather than for the first event, which may be a panic: the file reads
        // would then run inside the panic hook, on the crashing thread.
        Lazy::force(&CONTEXTS);
    }

    fn static_contexts(&self) -> Option<&Map<Value>> {
        Some(&CONTEXTS)
    }
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn os_context() -> Value {
    let name = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        "android" => "Android",
        "ios" => "iOS",
        other => other,
    };
    let mut os = json!({ "type": "os", "name": name });
    if let Some(kernel) = read("/proc/sys/kernel/osrelease") {
        os["version"] = json!(kernel);
        os["kernel_version"] = json!(kernel);
    }
    if let Some(release) = read("/etc/os-release").or_else(|| read("/usr/lib/os-release")) {
        let field = |key: &str| {
            release.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|v| v.strip_prefix('='))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        for (key, ours) in [
            ("ID", "distribution_name"),
            ("VERSION_ID", "distribution_version"),
            ("PRETTY_NAME", "distribution_pretty_name"),
        ] {
            if let Some(v) = field(key) {
                os[ours] = json!(v);
            }
        }
    }
    os
}

fn runtime_context() -> Value {
    json!({
        "type": "runtime",
        "name": "rustc",
        "version": env!("SENTRY_SDK_RUSTC_VERSION"),
        "channel": env!("SENTRY_SDK_RUSTC_CHANNEL"),
        "raw_description": env!("SENTRY_SDK_RUSTC_DESCRIPTION"),
    })
}

fn device_context() -> Value {
    let mut device = json!({ "type": "device", "arch": std::env::consts::ARCH });
    if let Ok(n) = std::thread::available_parallelism() {
        device["processor_count"] = json!(n.get());
    }
    let mem_kib = read("/proc/meminfo").and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    });
    if let Some(kib) = mem_kib {
        device["memory_size"] = json!(kib * 1024);
    }
    device
}

fn app_context() -> Value {
    let mut app = json!({
        "type": "app",
        "app_start_time": sentry_transport_time(*START),
    });
    if let Some(name) = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        app["app_name"] = json!(name);
    }
    app
}

fn sentry_transport_time(t: SystemTime) -> String {
    sentry_sdk_core::__private::rfc3339(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_complete_and_computed_once() {
        let integration = ContextsIntegration::new();
        let c = integration.static_contexts().expect("static contexts");
        let again = integration.static_contexts().expect("static contexts");
        assert!(std::ptr::eq(c, again));
        assert_eq!(ContextsIntegration::times_computed(), 1);
        assert!(!integration.processes_events());
        assert_eq!(c["runtime"]["name"], "rustc");
        assert!(c["runtime"]["version"].as_str().unwrap().starts_with("1."));
        assert_eq!(c["device"]["arch"], std::env::consts::ARCH);
        assert!(c["device"]["processor_count"].as_u64().unwrap() >= 1);
        assert!(c["os"]["name"].is_string());
        assert!(c["app"]["app_start_time"].as_str().unwrap().ends_with('Z'));
        if cfg!(target_os = "linux") {
            assert!(c["os"]["kernel_version"].is_string());
            assert!(c["device"]["memory_size"].as_u64().unwrap() > 0);
        }
    }
}
