//! The program's side: start the monitor, connect to it, install the crash handler and keep
//! the monitor's copy of the scope fresh.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use sentry_sdk_core::__private::debug_log;
use sentry_sdk_core::{ClientOptions, Integration};

use super::{
    handler, snapshot, CONFIG_VAR, SESSION_KIND, SNAPSHOT_INTERVAL, SNAPSHOT_KIND, SOCKET_VAR,
};

/// How long `init` waits for the monitor to listen.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Reports native crashes with a minidump (feature `minidump`). Added by `init` when the
/// feature is on, unless `default_integrations(false)`.
///
/// Its setup starts the monitor process (the program itself, see
/// [`run_monitor_if_requested`](super::run_monitor_if_requested)) and installs the crash
/// handler, once per process; with no client bound (no DSN) `init` never runs it, so nothing
/// is installed. Costs at init: one process start and a socket connect (see the README's
/// figures).
#[derive(Debug, Default, Clone, Copy)]
pub struct MinidumpIntegration;

impl MinidumpIntegration {
    /// The integration.
    pub fn new() -> Self {
        MinidumpIntegration
    }
}

/// What stays alive for the process's lifetime once installed.
struct Installed {
    _handler: crash_handler::CrashHandler,
    _monitor: Child,
}

static INSTALLED: Mutex<Option<Installed>> = Mutex::new(None);

impl Integration for MinidumpIntegration {
    fn name(&self) -> &'static str {
        "minidump"
    }

    fn processes_events(&self) -> bool {
        false
    }

    fn setup(&self, options: &ClientOptions) {
        if std::env::var_os(SOCKET_VAR).is_some() {
            // This process is the monitor: it does not watch itself.
            return;
        }
        // Relaxed: set earlier on the thread that ran `main`'s first line.
        if !super::MONITOR_READY.load(std::sync::atomic::Ordering::Relaxed) {
            debug_log(format_args!(
                "minidump: not installed: call run_monitor_if_requested() first in main"
            ));
            return;
        }
        let mut installed = match INSTALLED.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if installed.is_some() {
            return;
        }
        match install(options) {
            Ok(done) => *installed = Some(done),
            Err(e) => debug_log(format_args!("minidump: crash handler not installed: {e}")),
        }
    }
}

/// The monitor's client settings, as the program's client has them.
fn config(options: &ClientOptions) -> String {
    let s = options.settings();
    let dsn = s.dsn.as_ref().map(|d| {
        format!(
            "{}://{}@{}:{}{}{}",
            d.scheme(),
            d.public_key(),
            d.host(),
            d.port(),
            d.path(),
            d.project_id()
        )
    });
    json!({
        "dsn": dsn,
        "release": s.release,
        "environment": s.environment,
        "dist": s.dist,
        "cache_dir": s.transport.cache_dir,
        "debug": s.debug,
        "pid": std::process::id(),
        "shutdown_timeout_ms": s.shutdown_timeout.as_millis() as u64,
    })
    .to_string()
}

fn socket_path() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .subsec_nanos();
    std::env::temp_dir().join(format!(
        "sentry-minidump-{}-{nanos:x}.sock",
        std::process::id()
    ))
}

fn install(options: &ClientOptions) -> Result<Installed, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no current_exe: {e}"))?;
    let path = socket_path();
    let path_str = path.to_string_lossy().into_owned();
    let mut monitor = Command::new(exe)
        // The same arguments: a program (or test harness) that dispatches on them reaches
        // `run_monitor_if_requested` the same way.
        .args(std::env::args_os().skip(1))
        .env(SOCKET_VAR, &path)
        .env(CONFIG_VAR, config(options))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("monitor not started: {e}"))?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    let client = loop {
        match minidumper::Client::with_name(minidumper::SocketName::path(&path_str)) {
            Ok(client) => break client,
            Err(e) => {
                if Instant::now() >= deadline || matches!(monitor.try_wait(), Ok(Some(_))) {
                    let _ = monitor.kill();
                    let _ = monitor.wait();
                    return Err(format!("monitor not reached: {e}"));
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    };
    let max = options.settings().max_breadcrumbs;
    let first = snapshot::take(max);
    let _ = client.send_message(SNAPSHOT_KIND, &first);
    // A second connection for the snapshots, so the crash handler owns its client alone.
    let feeder = minidumper::Client::with_name(minidumper::SocketName::path(&path_str))
        .ok()
        .map(|client| Feeder {
            client,
            scope: first,
            session: Vec::new(),
            max,
        });
    let handler = handler::attach(client).map_err(|e| {
        let _ = monitor.kill();
        let _ = monitor.wait();
        format!("crash handler not attached: {e}")
    })?;
    allow_ptrace(&handler, &monitor);
    if let Some(feeder) = feeder {
        *lock(&FEEDER) = Some(feeder);
        let spawned = std::thread::Builder::new()
            .name("sentry-minidump".into())
            .spawn(feed);
        if let Err(e) = spawned {
            debug_log(format_args!("minidump: no snapshot thread: {e}"));
        }
    }
    Ok(Installed {
        _handler: handler,
        _monitor: monitor,
    })
}

/// Linux: only the monitor may read this process's memory when it crashed (Yama's ptrace
/// scope would refuse it otherwise).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn allow_ptrace(handler: &crash_handler::CrashHandler, monitor: &Child) {
    handler.set_ptracer(Some(monitor.id()));
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn allow_ptrace(_handler: &crash_handler::CrashHandler, _monitor: &Child) {}

/// The connection that keeps the monitor's copies fresh, and what it last sent.
struct Feeder {
    client: minidumper::Client,
    scope: Vec<u8>,
    session: Vec<u8>,
    max: usize,
}

/// Shared by the snapshot thread and the panic hook ([`send_session_now`]).
static FEEDER: Mutex<Option<Feeder>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Feeder {
    /// Sends the session state if it changed; false once the monitor is gone.
    fn send_session(&mut self) -> bool {
        let now = snapshot::session();
        if now == self.session {
            return true;
        }
        let sent = self.client.send_message(SESSION_KIND, &now).is_ok();
        self.session = now;
        sent
    }

    /// Sends the session, then the scope if it changed (a ping otherwise); false once the
    /// monitor is gone.
    fn tick(&mut self) -> bool {
        if !self.send_session() {
            return false;
        }
        if !sentry_sdk_core::is_active() {
            // No client bound now (closed): keep the monitor's copy of the scope.
            return self.client.ping().is_ok();
        }
        let now = snapshot::take(self.max);
        let sent = if now != self.scope {
            self.client.send_message(SNAPSHOT_KIND, &now)
        } else {
            self.client.ping()
        };
        self.scope = now;
        sent.is_ok()
    }
}

/// Tells the monitor the program's session state now: the panic hook calls it once the
/// panic's event ended the session `crashed`, so that a native crash right after (the abort
/// of `panic = "abort"`) does not end it a second time. Skipped if the snapshot thread is
/// sending at this moment (or is the thread that panicked, holding the lock).
pub(crate) fn send_session_now() {
    let Ok(mut feeder) = FEEDER.try_lock() else {
        return;
    };
    if let Some(feeder) = feeder.as_mut() {
        feeder.send_session();
    }
}

/// Sends the scope each [`SNAPSHOT_INTERVAL`] when it changed; stops when the monitor is gone.
/// The first two looks come sooner: the first snapshot is taken while `init` sets up, before
/// its client is bound and its session started, and a crash soon after `init` should find
/// that session in the monitor.
fn feed() {
    let soon = [Duration::from_millis(20), Duration::from_millis(200)];
    for pause in soon.into_iter().chain(std::iter::repeat(SNAPSHOT_INTERVAL)) {
        std::thread::sleep(pause);
        let mut feeder = lock(&FEEDER);
        let alive = feeder.as_mut().is_some_and(Feeder::tick);
        if !alive {
            *feeder = None;
            return;
        }
    }
}
