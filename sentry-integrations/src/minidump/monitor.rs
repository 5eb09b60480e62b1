//! The monitor's side: a `minidumper` server that keeps the program's last scope, and on a
//! dump sends the crash event with the minidump attached through a client of its own.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use sentry_sdk_core::protocol::{Attachment, AttachmentType, Event, Exception, Level, Mechanism};
use sentry_sdk_core::{Client, ClientOptions, Scope};

use super::{snapshot, CONFIG_VAR, SESSION_KIND, SNAPSHOT_KIND, SOCKET_VAR};

/// How long the monitor waits for the program to connect before it gives up.
const FIRST_CONNECT: Duration = Duration::from_secs(10);

/// Runs the crash monitor and exits if this process was started as one; returns at once
/// otherwise. Call it first in `main` when the `minidump` feature is on, before `init`.
///
/// The program started by [`MinidumpIntegration`](super::MinidumpIntegration) is the program
/// itself with an environment variable set, so it reaches this call first; the monitor
/// then serves until the program exits or crashes, sends the crash if any, and ends the
/// process with status 0 (it never returns).
///
/// Until a program has called it, `init` starts no monitor and installs no crash handler
/// (a program that would not recognise the monitor's environment variable must not be run
/// again: a test harness would run its tests twice).
///
/// # Examples
/// First in `main`, before `sentry_sdk::init(...)` and the program:
/// ```no_run
/// sentry_sdk_integrations::minidump::run_monitor_if_requested();
/// ```
pub fn run_monitor_if_requested() {
    let Some(socket) = std::env::var_os(SOCKET_VAR) else {
        // Relaxed: `init` runs after this on the same thread, or is told by a later read.
        super::MONITOR_READY.store(true, std::sync::atomic::Ordering::Relaxed);
        return;
    };
    let config = std::env::var(CONFIG_VAR).unwrap_or_default();
    let socket = PathBuf::from(socket);
    run(&socket, &config);
    let _ = std::fs::remove_file(&socket);
    std::process::exit(0);
}

fn run(socket: &std::path::Path, config: &str) {
    let socket_str = socket.to_string_lossy().into_owned();
    let mut server = match minidumper::Server::with_name(minidumper::SocketName::path(&socket_str))
    {
        Ok(server) => server,
        Err(e) => {
            eprintln!("[sentry] minidump monitor: cannot listen: {e}");
            return;
        }
    };
    let shutdown = Arc::new(AtomicBool::new(false));
    let connected = Arc::new(AtomicUsize::new(0));
    {
        // Ends a monitor whose program never connected (it failed before it could).
        let shutdown = shutdown.clone();
        let connected = connected.clone();
        let _ = std::thread::Builder::new()
            .name("sentry-minidump-watch".into())
            .spawn(move || {
                std::thread::sleep(FIRST_CONNECT);
                // Relaxed: a flag read once; the server loop polls `shutdown` on its own.
                if connected.load(Ordering::Relaxed) == 0 {
                    shutdown.store(true, Ordering::Relaxed);
                }
            });
    }
    let handler = Handler {
        config: Config::parse(config),
        scope: Mutex::new(Vec::new()),
        session: Mutex::new(Vec::new()),
        connected,
        dir: socket.with_extension("dumps"),
    };
    if let Err(e) = server.run(Box::new(handler), &shutdown, None) {
        eprintln!("[sentry] minidump monitor: {e}");
    }
}

/// The program's client settings.
#[derive(Debug, Default)]
struct Config {
    dsn: Option<String>,
    release: Option<String>,
    environment: Option<String>,
    dist: Option<String>,
    cache_dir: Option<String>,
    /// The program's process id.
    pid: Option<u64>,
    debug: bool,
    shutdown_timeout: Duration,
}

impl Config {
    fn parse(text: &str) -> Config {
        let v: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Config {
            dsn: s("dsn"),
            release: s("release"),
            environment: s("environment"),
            dist: s("dist"),
            cache_dir: s("cache_dir"),
            pid: v.get("pid").and_then(Value::as_u64),
            debug: v.get("debug").and_then(Value::as_bool).unwrap_or(false),
            shutdown_timeout: Duration::from_millis(
                v.get("shutdown_timeout_ms")
                    .and_then(Value::as_u64)
                    .unwrap_or(2000)
                    .max(2000),
            ),
        }
    }

    fn options(&self) -> ClientOptions {
        let mut o = ClientOptions::new()
            .dsn(self.dsn.as_deref().unwrap_or(""))
            .default_integrations(false)
            .auto_session_tracking(false)
            .debug(self.debug)
            .shutdown_timeout(self.shutdown_timeout);
        if let Some(r) = &self.release {
            o = o.release(r.clone());
        }
        if let Some(e) = &self.environment {
            o = o.environment(e.clone());
        }
        if let Some(d) = &self.dist {
            o = o.dist(d.clone());
        }
        if let Some(c) = &self.cache_dir {
            o = o.cache_dir(c);
        }
        o
    }
}

struct Handler {
    config: Config,
    /// The last scope snapshot from the program.
    scope: Mutex<Vec<u8>>,
    /// The program's session as it last sent it (`SESSION_KIND`).
    session: Mutex<Vec<u8>>,
    connected: Arc<AtomicUsize>,
    dir: PathBuf,
}

impl minidumper::ServerHandler for Handler {
    fn create_minidump_file(&self) -> Result<(File, PathBuf), std::io::Error> {
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("{}.dmp", uuid_like()));
        Ok((File::create(&path)?, path))
    }

    fn on_minidump_created(
        &self,
        result: Result<minidumper::MinidumpBinary, minidumper::Error>,
    ) -> minidumper::LoopAction {
        match result {
            Ok(dump) => {
                let bytes = match dump.contents {
                    Some(b) => b,
                    None => std::fs::read(&dump.path).unwrap_or_default(),
                };
                drop(dump.file);
                let _ = std::fs::remove_file(&dump.path);
                let _ = std::fs::remove_dir(&self.dir);
                let scope = match self.scope.lock() {
                    Ok(g) => g.clone(),
                    Err(p) => p.into_inner().clone(),
                };
                self.send(bytes, &scope);
            }
            Err(e) => eprintln!("[sentry] minidump monitor: no minidump: {e}"),
        }
        minidumper::LoopAction::Exit
    }

    fn on_message(&self, kind: u32, buffer: Vec<u8>) {
        let slot = match kind {
            SNAPSHOT_KIND => &self.scope,
            SESSION_KIND => &self.session,
            _ => return,
        };
        match slot.lock() {
            Ok(mut g) => *g = buffer,
            Err(p) => *p.into_inner() = buffer,
        }
    }

    fn on_client_connected(&self, num_clients: usize) -> minidumper::LoopAction {
        self.connected.store(num_clients, Ordering::Relaxed);
        minidumper::LoopAction::Continue
    }

    fn on_client_disconnected(&self, num_clients: usize) -> minidumper::LoopAction {
        // The program has gone (ended or crashed without a dump): so does the monitor.
        if num_clients == 0 {
            minidumper::LoopAction::Exit
        } else {
            minidumper::LoopAction::Continue
        }
    }
}

impl Handler {
    /// Sends the crash: the event, the scope the program last sent, the dump attached.
    fn send(&self, dump: Vec<u8>, scope: &[u8]) {
        // With the offline cache, the run marker says whether the session is still open (it
        // is removed when the session ends); without, the program's last word on it does.
        let session = if self.config.cache_dir.is_some() {
            self.program_marker()
        } else {
            let last = match self.session.lock() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            };
            snapshot::session_from(&last)
        };
        self.mark_session_crashed();
        let client = match Client::new(self.config.options()) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                eprintln!("[sentry] minidump monitor: no client: {e}");
                return;
            }
        };
        // The program's session becomes this client's: the crash event ends it `crashed`,
        // with its update in the crash envelope (and the run marker removed).
        if let Some(session) = &session {
            client.resume_session(session);
        }
        let timeout = self.config.shutdown_timeout;
        let _ = client.bind();
        sentry_sdk_core::with_scope(
            |s: &mut Scope| {
                snapshot::apply(scope, s);
                s.add_attachment(
                    Attachment::from_bytes("minidump.dmp", dump)
                        .with_attachment_type(AttachmentType::Minidump),
                );
            },
            || client.capture_and_wait(crash_event(), None),
        );
        client.close(timeout);
    }
}

impl Handler {
    /// The crashed program's run marker (offline cache on): its session as last recorded.
    fn program_marker(&self) -> Option<Value> {
        let (dir, pid) = (self.config.cache_dir.as_ref()?, self.config.pid?);
        let bytes = std::fs::read(std::path::Path::new(dir).join(MARKER)).ok()?;
        let marker = serde_json::from_slice::<Value>(&bytes).ok()?;
        (marker.get("pid").and_then(Value::as_u64) == Some(pid)).then_some(marker)
    }

    /// Marks the program's run marker `crashed` first: should this monitor fail before its
    /// envelope is sent or cached, the next start still reports the session `crashed` rather
    /// than `abnormal`. (Sent, the crash envelope's update ends the session and the marker
    /// is removed.)
    fn mark_session_crashed(&self) {
        let (Some(dir), Some(mut marker)) = (&self.config.cache_dir, self.program_marker()) else {
            return;
        };
        let path = std::path::Path::new(dir).join(MARKER);
        marker["crashed"] = Value::Bool(true);
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        // Renamed into place: a reader never sees half a marker.
        let written =
            std::fs::write(&tmp, marker.to_string()).and_then(|()| std::fs::rename(&tmp, &path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The run marker's file name in the offline cache directory (`sentry-core`'s session
/// marker).
const MARKER: &str = "session-run.json";

/// The event for a native crash; the server fills the exception from the minidump.
fn crash_event() -> Event {
    Event {
        level: Level::Fatal,
        platform: "native",
        exception: vec![Exception {
            ty: "Minidump".into(),
            value: Some("native crash".into()),
            mechanism: Some(Mechanism {
                ty: "minidump".into(),
                handled: Some(false),
                synthetic: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_nanos();
    format!("{}-{nanos:x}", std::process::id())
}
