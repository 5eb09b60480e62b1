//! The run marker: the application session as last seen, kept in the offline cache directory
//! while the session is open, so that the next start can tell a run that ended without
//! closing (killed, hung, power lost) and report its session `abnormal`.
//!
//! Written on status changes and when the first update leaves, removed when the session ends
//! (a crash's update leaves in the crash envelope, which the cache keeps). One marker per
//! cache directory; a marker written by this very process (a re-init) is left to the client
//! that wrote it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use uuid::Uuid;

use super::app::{AppSession, Update};
use super::SessionStatus;

const FILE_NAME: &str = "session-run.json";

/// The marker's place.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    path: PathBuf,
}

/// A previous run's session found open: what its `abnormal` update needs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Previous {
    pub(crate) update: Update,
    pub(crate) release: String,
    pub(crate) environment: String,
}

impl Marker {
    /// The marker in `cache_dir`.
    pub(crate) fn in_dir(cache_dir: &Path) -> Marker {
        Marker {
            path: cache_dir.join(FILE_NAME),
        }
    }

    /// Records `session` (of `release`/`environment`) as open; errors are ignored (the
    /// marker is a best effort, like the cache).
    pub(crate) fn write(&self, session: &AppSession, release: &str, environment: &str) {
        let body = state(session, release, environment);
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = self
            .path
            .with_extension(format!("{}.tmp", std::process::id()));
        let written = std::fs::write(&tmp, body.to_string()).and_then(|()| {
            // Renamed into place: a reader never sees half a marker.
            std::fs::rename(&tmp, &self.path)
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            sentry_sdk_transport::sdk_debug!("session marker not written: {e}");
        }
    }

    /// Removes the marker if it is `sid`'s.
    pub(crate) fn remove(&self, sid: Uuid) {
        if read(&self.path).is_some_and(|m| {
            m.get("sid").and_then(Value::as_str) == Some(&*sid.simple().to_string())
        }) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    /// Takes the marker a previous run left open (and removes it): that run ended without
    /// closing. `None` when there is none, it is unreadable, its session had ended, or this
    /// process wrote it.
    pub(crate) fn take_previous(&self, now: SystemTime) -> Option<Previous> {
        let marker = read(&self.path)?;
        if marker.get("pid").and_then(Value::as_u64) == Some(u64::from(std::process::id())) {
            return None;
        }
        let _ = std::fs::remove_file(&self.path);
        let status = SessionStatus::from_wire(marker.get("status")?.as_str()?)?;
        if status.is_terminal() {
            return None;
        }
        // A native crash: the minidump monitor marks the crashed run's marker.
        let crashed = marker.get("crashed").and_then(Value::as_bool) == Some(true);
        let errors = marker.get("errors").and_then(Value::as_u64).unwrap_or(0);
        let sid = Uuid::parse_str(marker.get("sid")?.as_str()?).ok()?;
        let started = UNIX_EPOCH + Duration::from_millis(marker.get("started_ms")?.as_u64()?);
        let init_sent = marker.get("init_sent")?.as_bool()?;
        let seq = marker.get("seq").and_then(Value::as_u64).unwrap_or(0);
        Some(Previous {
            update: Update {
                sid,
                did: marker.get("did").and_then(Value::as_str).map(str::to_owned),
                init: !init_sent,
                started,
                timestamp: now.max(started),
                seq: if init_sent { seq + 1 } else { 0 },
                duration: None,
                status: if crashed {
                    SessionStatus::Crashed
                } else {
                    SessionStatus::Abnormal
                },
                errors: if crashed { errors.max(1) } else { errors },
            },
            release: marker.get("release")?.as_str()?.to_owned(),
            environment: marker
                .get("environment")
                .and_then(Value::as_str)
                .unwrap_or("production")
                .to_owned(),
        })
    }
}

/// `session` (of `release`/`environment`) as the marker records it; also what a crash
/// monitor in another process is given to end the session `crashed` (`from_state`).
pub(crate) fn state(session: &AppSession, release: &str, environment: &str) -> Value {
    let started = sentry_sdk_transport::time::unix_millis(session.started);
    json!({
        "sid": session.sid.simple().to_string(),
        "did": session.did,
        "started_ms": started,
        "seq": session.seq,
        "errors": session.errors,
        "status": session.status.as_str(),
        "init_sent": session.init_sent,
        "release": release,
        "environment": environment,
        "pid": std::process::id(),
    })
}

/// The open session `state` describes, resumed in this process (its duration counted from
/// its start by the wall clock), with its release; `None` if it is unreadable or had ended.
pub(crate) fn from_state(state: &Value) -> Option<(AppSession, String)> {
    let status = SessionStatus::from_wire(state.get("status")?.as_str()?)?;
    if status.is_terminal() {
        return None;
    }
    let started = UNIX_EPOCH + Duration::from_millis(state.get("started_ms")?.as_u64()?);
    let age = SystemTime::now()
        .duration_since(started)
        .unwrap_or(Duration::ZERO);
    let now = std::time::Instant::now();
    let session = AppSession {
        sid: Uuid::parse_str(state.get("sid")?.as_str()?).ok()?,
        did: state.get("did").and_then(Value::as_str).map(str::to_owned),
        started,
        started_at: now.checked_sub(age).unwrap_or(now),
        seq: state.get("seq").and_then(Value::as_u64).unwrap_or(0),
        errors: state.get("errors").and_then(Value::as_u64).unwrap_or(0),
        status,
        init_sent: state.get("init_sent")?.as_bool()?,
        dirty: true,
        ended: false,
    };
    Some((session, state.get("release")?.as_str()?.to_owned()))
}

fn read(path: &Path) -> Option<Value> {
    // A marker is a few hundred bytes; anything large is not ours.
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > 64 * 1024 {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sentry-marker-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn this_process_marker_is_left_alone_and_removed_by_its_owner() {
        let d = dir("own");
        let marker = Marker::in_dir(&d);
        let session = AppSession::new(Some("u".into()), SystemTime::now(), Instant::now());
        marker.write(&session, "r@1", "prod");
        assert!(marker.take_previous(SystemTime::now()).is_none());
        marker.remove(Uuid::new_v4());
        assert!(
            d.join(FILE_NAME).exists(),
            "another session's marker is kept"
        );
        marker.remove(session.sid);
        assert!(!d.join(FILE_NAME).exists());
    }

    #[test]
    fn another_runs_open_session_is_abnormal() {
        let d = dir("other");
        let marker = Marker::in_dir(&d);
        let mut session = AppSession::new(None, SystemTime::now(), Instant::now());
        session.take_update(SystemTime::now(), Instant::now());
        marker.write(&session, "r@1", "prod");
        // As if another process had written it.
        let path = d.join(FILE_NAME);
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v["pid"] = json!(u64::from(std::process::id()) + 1);
        std::fs::write(&path, v.to_string()).unwrap();
        let previous = marker.take_previous(SystemTime::now()).unwrap();
        assert_eq!(previous.update.sid, session.sid);
        assert_eq!(previous.update.status, SessionStatus::Abnormal);
        assert!(!previous.update.init, "its first update had left");
        assert_eq!(previous.update.seq, 1);
        assert_eq!(previous.release, "r@1");
        assert!(!path.exists(), "reported once");
        assert!(marker.take_previous(SystemTime::now()).is_none());
    }

    #[test]
    fn a_run_marked_crashed_by_the_minidump_monitor_is_crashed() {
        let d = dir("crashed");
        let marker = Marker::in_dir(&d);
        let session = AppSession::new(None, SystemTime::now(), Instant::now());
        marker.write(&session, "r@1", "prod");
        let path = d.join(FILE_NAME);
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        v["pid"] = json!(u64::from(std::process::id()) + 1);
        v["crashed"] = json!(true);
        std::fs::write(&path, v.to_string()).unwrap();
        let previous = marker.take_previous(SystemTime::now()).unwrap();
        assert_eq!(previous.update.status, SessionStatus::Crashed);
        assert_eq!(previous.update.errors, 1);
    }
}
