//! RFC 3339 timestamps for payloads, without a date-time dependency.
//!
//! Payload timestamps are the only place the SDK uses wall-clock time; deadlines use `Instant`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats a `SystemTime` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_micros(1_581_084_960_123_456);
/// assert_eq!(sentry_sdk_transport::time::rfc3339(t), "2020-02-07T14:16:00.123456Z");
/// ```
pub fn rfc3339(time: SystemTime) -> String {
    Rfc3339::new(time).as_str().to_owned()
}

/// An RFC 3339 timestamp written into a buffer on the stack: what payload serialisation uses,
/// so that a timestamp costs no allocation and no formatting machinery (an event carries one
/// per breadcrumb).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_micros(1_581_084_960_123_456);
/// let ts = sentry_sdk_transport::time::Rfc3339::new(t);
/// assert_eq!(ts.as_str(), "2020-02-07T14:16:00.123456Z");
/// ```
#[derive(Clone, Copy)]
pub struct Rfc3339 {
    /// ASCII only: four digits of year are written; a year past 9999 prints its last four.
    text: [u8; 27],
}

impl Rfc3339 {
    const EPOCH: Rfc3339 = Rfc3339 {
        text: *b"1970-01-01T00:00:00.000000Z",
    };

    /// Formats `time` (times before 1970 print as the epoch).
    pub fn new(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = since.as_secs();
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        digits(&mut text[0..4], year.rem_euclid(10_000) as u64);
        digits(&mut text[5..7], u64::from(month));
        digits(&mut text[8..10], u64::from(day));
        digits(&mut text[11..13], rem / 3600);
        digits(&mut text[14..16], (rem / 60) % 60);
        digits(&mut text[17..19], rem % 60);
        digits(&mut text[20..26], u64::from(since.subsec_micros()));
        Rfc3339 { text }
    }

    /// The timestamp as ASCII bytes (what a JSON writer copies between quotes: nothing in it
    /// needs escaping).
    pub fn as_bytes(&self) -> &[u8; 27] {
        &self.text
    }

    /// The timestamp as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written into `text`.
        std::str::from_utf8(&self.text).unwrap_or("1970-01-01T00:00:00.000000Z")
    }
}

/// Formats a run of timestamps that mostly fall in the same second (an event's breadcrumbs):
/// the date and time of day are worked out once per second seen, and only the microseconds
/// are written for the others.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_sdk_transport::time::{Rfc3339, Rfc3339Run};
/// let mut run = Rfc3339Run::default();
/// for micros in [1_581_084_960_123_456, 1_581_084_960_999_999, 1_581_084_961_000_001] {
///     let t = UNIX_EPOCH + Duration::from_micros(micros);
///     assert_eq!(run.format(t), Rfc3339::new(t).as_bytes());
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rfc3339Run {
    /// The whole second of `last`, and `last` itself (whose microseconds are overwritten).
    last: Option<(u64, Rfc3339)>,
}

impl Rfc3339Run {
    /// `time` as [`Rfc3339::new`] formats it.
    pub fn format(&mut self, time: SystemTime) -> &[u8; 27] {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = since.as_secs();
        match &mut self.last {
            Some((s, last)) if *s == secs => {
                digits(&mut last.text[20..26], u64::from(since.subsec_micros()))
            }
            slot => *slot = Some((secs, Rfc3339::new(time))),
        }
        match &self.last {
            Some((_, last)) => &last.text,
            // Set just above.
            None => &Rfc3339::EPOCH.text,
        }
    }
}

impl std::fmt::Debug for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes `value` as decimal digits filling `out` (zero-padded; higher digits cut).
fn digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Whole milliseconds since the Unix epoch (0 before it): the SDK's own files and messages.
pub fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// Seconds since the Unix epoch as a float, the other timestamp form Sentry accepts.
pub fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs_f64()
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_leap_day() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000Z");
        let end = UNIX_EPOCH + Duration::from_secs(1_735_689_599); // 2024-12-31T23:59:59
        assert_eq!(rfc3339(end), "2024-12-31T23:59:59.000000Z");
    }

    #[test]
    fn micro_seconds_and_far_dates() {
        let t = UNIX_EPOCH + Duration::from_micros(4_102_444_799_000_001); // 2099-12-31
        assert_eq!(rfc3339(t), "2099-12-31T23:59:59.000001Z");
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(rfc3339(before), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn a_run_formats_as_each_alone() {
        let mut run = Rfc3339Run::default();
        let base = 1_700_000_000_000_000u64;
        for micros in [0, 5, 999_999, 1_000_000, 1_000_001, 86_400_000_000, 3, 0] {
            let t = UNIX_EPOCH + Duration::from_micros(base + micros);
            assert_eq!(run.format(t), Rfc3339::new(t).as_bytes(), "{micros}");
        }
        let before = UNIX_EPOCH - Duration::from_secs(5);
        assert_eq!(run.format(before), Rfc3339::new(before).as_bytes());
    }
}
