//! Cron check-ins (PROTOCOL.md §7): one run of a scheduled job, reported to a monitor.
//!
//! A job sends an `in_progress` check-in when it starts and an `ok` or `error` one with the
//! same [`CheckInId`] and its duration when it ends; a [`MonitorConfig`] on either lets Sentry
//! create or update the monitor, so none has to be set up by hand. What Relay accepts is
//! Relay's `relay-monitors` crate; `scripts/interop/relay_check.py` checks our payloads
//! against its rules.

use std::fmt;
use std::time::Duration;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::TraceId;

/// The id of a check-in: a UUID v4, written as 32 lowercase hex digits. The `ok` or `error`
/// check-in that ends a job carries the id of the `in_progress` one that started it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct CheckInId(pub uuid::Uuid);

impl CheckInId {
    /// The nil id: returned when nothing was sent. (On the wire it means "the monitor's
    /// latest `in_progress` check-in".)
    pub const NIL: CheckInId = CheckInId(uuid::Uuid::nil());

    /// Whether this is the nil id.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// A new random (version 4) id, from this thread's fast generator (no syscall).
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&crate::random::next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&crate::random::next_u64().to_le_bytes());
        CheckInId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl fmt::Display for CheckInId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl fmt::Debug for CheckInId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckInId({})", self.0.simple())
    }
}

impl Serialize for CheckInId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.simple())
    }
}

/// Where a job's run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started (and has not finished yet).
    InProgress,
    /// The job finished well.
    Ok,
    /// The job failed.
    Error,
}

impl CheckInStatus {
    /// The wire name: `in_progress`, `ok` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckInStatus::InProgress => "in_progress",
            CheckInStatus::Ok => "ok",
            CheckInStatus::Error => "error",
        }
    }
}

/// One check-in: the payload of a `check_in` envelope item.
///
/// Release and environment are filled from the client's options where left `None`, and the
/// trace from the span entered on the calling thread (else the isolation scope's trace).
///
/// ```
/// use std::time::Duration;
/// use sentry_sdk_core::protocol::{CheckIn, CheckInStatus, MonitorConfig};
///
/// let start = CheckIn::new("nightly-backup", CheckInStatus::InProgress)
///     .monitor_config(MonitorConfig::crontab("0 3 * * *").max_runtime(30));
/// let end = CheckIn::new("nightly-backup", CheckInStatus::Ok)
///     .id(start.check_in_id)
///     .duration(Duration::from_secs(42));
/// assert_eq!(start.check_in_id, end.check_in_id);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckIn {
    /// This check-in's id (random unless set; see [`CheckIn::id`]).
    pub check_in_id: CheckInId,
    /// The monitor's slug: what names it in Sentry (Relay keeps at most 50 characters).
    pub monitor_slug: String,
    /// Where the run stands.
    pub status: CheckInStatus,
    /// How long the run took; sent with `ok` and `error` only.
    pub duration: Option<Duration>,
    /// The release (the client's when `None`).
    pub release: Option<String>,
    /// The environment (the client's when `None`).
    pub environment: Option<String>,
    /// The monitor's schedule and thresholds, for Sentry to create or update it.
    pub monitor_config: Option<MonitorConfig>,
    /// The trace the run belongs to (`contexts.trace.trace_id`); the calling thread's when
    /// `None`.
    pub trace_id: Option<TraceId>,
}

impl CheckIn {
    /// A check-in of `monitor_slug` with `status` and a new random id; nothing else set.
    pub fn new(monitor_slug: impl Into<String>, status: CheckInStatus) -> Self {
        CheckIn {
            check_in_id: CheckInId::random(),
            monitor_slug: monitor_slug.into(),
            status,
            duration: None,
            release: None,
            environment: None,
            monitor_config: None,
            trace_id: None,
        }
    }

    /// Uses `id`: that of the `in_progress` check-in this one finishes.
    #[must_use]
    pub fn id(mut self, id: CheckInId) -> Self {
        self.check_in_id = id;
        self
    }

    /// Sets how long the run took (sent with `ok` and `error` only).
    #[must_use]
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// Attaches the monitor's configuration (Sentry creates or updates the monitor from it).
    #[must_use]
    pub fn monitor_config(mut self, config: MonitorConfig) -> Self {
        self.monitor_config = Some(config);
        self
    }

    /// Sets the environment instead of the client's.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// Sets the release instead of the client's.
    #[must_use]
    pub fn release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }
}

impl Serialize for CheckIn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// `{"trace": {"trace_id": ...}}`
        struct Contexts(TraceId);
        impl Serialize for Contexts {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("trace", &TraceContext(self.0))?;
                map.end()
            }
        }
        struct TraceContext(TraceId);
        impl Serialize for TraceContext {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("trace_id", &self.0)?;
                map.end()
            }
        }

        let mut map = s.serialize_map(None)?;
        map.serialize_entry("check_in_id", &self.check_in_id)?;
        map.serialize_entry("monitor_slug", &self.monitor_slug)?;
        map.serialize_entry("status", &self.status)?;
        // A duration only means something once the run is over.
        if let (Some(duration), false) = (self.duration, self.status == CheckInStatus::InProgress) {
            map.serialize_entry("duration", &duration.as_secs_f64())?;
        }
        if let Some(release) = &self.release {
            map.serialize_entry("release", release)?;
        }
        if let Some(environment) = &self.environment {
            map.serialize_entry("environment", environment)?;
        }
        if let Some(config) = &self.monitor_config {
            map.serialize_entry("monitor_config", config)?;
        }
        if let Some(trace_id) = self.trace_id {
            map.serialize_entry("contexts", &Contexts(trace_id))?;
        }
        map.end()
    }
}

/// When a monitor expects its job to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MonitorSchedule {
    /// A crontab expression, such as `0 3 * * *` (in the config's `timezone`, else UTC).
    Crontab {
        /// The expression.
        value: String,
    },
    /// Every `value` `unit`s.
    Interval {
        /// How many units apart runs are (at least 1).
        value: u64,
        /// The unit.
        unit: MonitorIntervalUnit,
    },
}

/// The unit of a [`MonitorSchedule::Interval`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorIntervalUnit {
    /// `year`
    Year,
    /// `month`
    Month,
    /// `week`
    Week,
    /// `day`
    Day,
    /// `hour`
    Hour,
    /// `minute`
    Minute,
}

/// A monitor's configuration, sent with check-ins so that Sentry creates or updates the
/// monitor ("upsert"); Sentry's own defaults apply to whatever is left `None`.
///
/// ```
/// use sentry_sdk_core::protocol::{MonitorConfig, MonitorIntervalUnit};
///
/// let hourly = MonitorConfig::crontab("0 * * * *")
///     .checkin_margin(5)
///     .max_runtime(30)
///     .timezone("Europe/Vienna");
/// let every_ten_minutes = MonitorConfig::interval(10, MonitorIntervalUnit::Minute);
/// # let _ = (hourly, every_ten_minutes);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorConfig {
    /// When the job is expected to run.
    pub schedule: MonitorSchedule,
    /// Minutes after the expected time before a run counts as missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkin_margin: Option<u64>,
    /// Minutes a run may stay `in_progress` before it counts as failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    /// Consecutive failed runs before an issue is opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_issue_threshold: Option<u64>,
    /// Consecutive good runs before the issue is resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
    /// The schedule's time zone, as a tz database name (`America/New_York`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Who owns the monitor: `user:<id or email>` or `team:<slug>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl MonitorConfig {
    /// A configuration with `schedule` and nothing else set.
    pub fn new(schedule: MonitorSchedule) -> Self {
        MonitorConfig {
            schedule,
            checkin_margin: None,
            max_runtime: None,
            failure_issue_threshold: None,
            recovery_threshold: None,
            timezone: None,
            owner: None,
        }
    }

    /// A job run on a crontab schedule such as `0 3 * * *`.
    pub fn crontab(expression: impl Into<String>) -> Self {
        MonitorConfig::new(MonitorSchedule::Crontab {
            value: expression.into(),
        })
    }

    /// A job run every `value` `unit`s.
    pub fn interval(value: u64, unit: MonitorIntervalUnit) -> Self {
        MonitorConfig::new(MonitorSchedule::Interval { value, unit })
    }

    /// Minutes after the expected time before a run counts as missed (Sentry's default
    /// otherwise).
    #[must_use]
    pub fn checkin_margin(mut self, minutes: u64) -> Self {
        self.checkin_margin = Some(minutes);
        self
    }

    /// Minutes a run may stay `in_progress` before it counts as failed (Sentry's default
    /// otherwise).
    #[must_use]
    pub fn max_runtime(mut self, minutes: u64) -> Self {
        self.max_runtime = Some(minutes);
        self
    }

    /// Consecutive failed runs before an issue is opened (Sentry's default: 1).
    #[must_use]
    pub fn failure_issue_threshold(mut self, runs: u64) -> Self {
        self.failure_issue_threshold = Some(runs);
        self
    }

    /// Consecutive good runs before the issue is resolved (Sentry's default: 1).
    #[must_use]
    pub fn recovery_threshold(mut self, runs: u64) -> Self {
        self.recovery_threshold = Some(runs);
        self
    }

    /// The schedule's time zone, a tz database name (UTC otherwise).
    #[must_use]
    pub fn timezone(mut self, timezone: impl Into<String>) -> Self {
        self.timezone = Some(timezone.into());
        self
    }

    /// The monitor's owner: `user:<id or email>` or `team:<slug>` (none otherwise).
    #[must_use]
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> CheckInId {
        CheckInId(uuid::Uuid::from_u128(0xa460c25ff2554577b920fcfacae4e5eb))
    }

    #[test]
    fn an_in_progress_check_in_with_a_crontab_config_is_as_relay_reads_it() {
        let check_in = CheckIn {
            release: Some("app@1.0".into()),
            environment: Some("production".into()),
            trace_id: Some(TraceId(0x8f431b7aa08441bbbd5a0100fd91f9fe)),
            ..CheckIn::new("my-monitor", CheckInStatus::InProgress)
                .id(id())
                // Not sent while in progress.
                .duration(Duration::from_secs(3))
                .monitor_config(
                    MonitorConfig::crontab("0 * * * *")
                        .checkin_margin(5)
                        .max_runtime(10)
                        .failure_issue_threshold(2)
                        .recovery_threshold(3)
                        .timezone("America/Los_Angeles")
                        .owner("team:ops"),
                )
        };
        assert_eq!(
            serde_json::to_value(&check_in).unwrap(),
            json!({
                "check_in_id": "a460c25ff2554577b920fcfacae4e5eb",
                "monitor_slug": "my-monitor",
                "status": "in_progress",
                "release": "app@1.0",
                "environment": "production",
                "monitor_config": {
                    "schedule": {"type": "crontab", "value": "0 * * * *"},
                    "checkin_margin": 5,
                    "max_runtime": 10,
                    "failure_issue_threshold": 2,
                    "recovery_threshold": 3,
                    "timezone": "America/Los_Angeles",
                    "owner": "team:ops"
                },
                "contexts": {"trace": {"trace_id": "8f431b7aa08441bbbd5a0100fd91f9fe"}}
            })
        );
    }

    #[test]
    fn a_finished_check_in_carries_its_duration_in_seconds_and_omits_what_is_unset() {
        let check_in = CheckIn::new("my-monitor", CheckInStatus::Error)
            .id(id())
            .duration(Duration::from_millis(1500));
        assert_eq!(
            serde_json::to_string(&check_in).unwrap(),
            r#"{"check_in_id":"a460c25ff2554577b920fcfacae4e5eb","monitor_slug":"my-monitor","status":"error","duration":1.5}"#
        );
    }

    #[test]
    fn interval_schedules_name_their_unit() {
        let units = [
            (MonitorIntervalUnit::Year, "year"),
            (MonitorIntervalUnit::Month, "month"),
            (MonitorIntervalUnit::Week, "week"),
            (MonitorIntervalUnit::Day, "day"),
            (MonitorIntervalUnit::Hour, "hour"),
            (MonitorIntervalUnit::Minute, "minute"),
        ];
        for (unit, name) in units {
            assert_eq!(
                serde_json::to_value(MonitorConfig::interval(5, unit)).unwrap(),
                json!({"schedule": {"type": "interval", "value": 5, "unit": name}})
            );
        }
    }

    #[test]
    fn statuses_and_ids_have_their_wire_form() {
        for (status, name) in [
            (CheckInStatus::InProgress, "in_progress"),
            (CheckInStatus::Ok, "ok"),
            (CheckInStatus::Error, "error"),
        ] {
            assert_eq!(status.as_str(), name);
            assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        }
        let random = CheckInId::random();
        assert_eq!(random.0.get_version_num(), 4);
        assert_eq!(random.to_string().len(), 32);
        assert_ne!(random, CheckInId::random());
        assert!(CheckInId::NIL.is_nil());
    }
}
