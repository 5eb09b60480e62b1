//! Where a 429 is handled: the server's rate limits, one deadline per data category plus one
//! for all (PROTOCOL.md §2).
//!
//! Read on every response: `X-Sentry-Rate-Limits` if present (even on 200), else on a 429
//! `Retry-After` (seconds or an HTTP date, at least 1 s), else 60 s for everything. Deadlines are `Instant`s
//! (monotonic); the longest deadline for a category wins.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::category::DataCategory;
use crate::client_report::{ClientReports, DiscardReason};
use crate::envelope::Envelope;

/// A bare 429 limits everything for this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// A 429 limits for at least this long, even when its `Retry-After` is `0` or a date already
/// past: a server that has just refused us is not sent the next envelope in the same instant.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(1);
/// No limit is kept longer than a day (as sentry-native caps it), whatever the server says.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The rate limits in force for one transport.
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    all: Option<Instant>,
    by_category: Vec<(DataCategory, Instant)>,
}

impl RateLimits {
    /// No limits.
    pub fn new() -> Self {
        RateLimits::default()
    }

    /// Updates the limits from one response: its status and its `X-Sentry-Rate-Limits` and
    /// `Retry-After` header values.
    pub fn update(
        &mut self,
        now: Instant,
        status: u16,
        rate_limits: Option<&str>,
        retry_after: Option<&str>,
    ) {
        if let Some(header) = rate_limits {
            for (secs, categories) in parse_rate_limits(header) {
                let until = now + secs;
                match categories {
                    None => self.limit_all(until),
                    Some(list) => list.into_iter().for_each(|c| self.limit(c, until)),
                }
            }
        } else if status == 429 {
            let secs = retry_after
                .and_then(|v| parse_retry_after(v, SystemTime::now()))
                .unwrap_or(DEFAULT_RETRY_AFTER);
            self.limit_all(now + secs.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER));
        }
    }

    fn limit_all(&mut self, until: Instant) {
        self.all = Some(self.all.map_or(until, |old| old.max(until)));
    }

    fn limit(&mut self, category: DataCategory, until: Instant) {
        match self.by_category.iter_mut().find(|(c, _)| *c == category) {
            Some((_, old)) => *old = (*old).max(until),
            None => self.by_category.push((category, until)),
        }
    }

    /// When `category` may be sent again; `None` if it may be sent now.
    pub fn limited_until(&self, category: DataCategory, now: Instant) -> Option<Instant> {
        if category == DataCategory::Internal {
            return None; // client reports are never rate limited
        }
        let own = self
            .by_category
            .iter()
            .find(|(c, _)| *c == category)
            .map(|(_, t)| *t);
        [self.all, own]
            .into_iter()
            .flatten()
            .filter(|t| *t > now)
            .max()
    }

    /// Whether `category` is limited now.
    pub fn is_limited(&self, category: DataCategory, now: Instant) -> bool {
        self.limited_until(category, now).is_some()
    }

    /// The latest deadline among the categories in `envelope`'s items, if any is limited.
    pub fn envelope_limited_until(&self, envelope: &Envelope, now: Instant) -> Option<Instant> {
        envelope
            .items()
            .iter()
            .filter_map(|i| self.limited_until(i.category(), now))
            .max()
    }

    /// Removes the items whose category is limited, counting them as `ratelimit_backoff`.
    /// Returns `None` when nothing worth sending is left: no items, or only client reports
    /// that were riding along with items now removed.
    pub fn filter(
        &self,
        mut envelope: Envelope,
        reports: &ClientReports,
        now: Instant,
    ) -> Option<Envelope> {
        let had_data = envelope
            .items()
            .iter()
            .any(|i| i.category() != DataCategory::Internal);
        // Attachments belong to the envelope's event (or feedback): when that is limited they
        // go with it, as an `attachment` limit drops only the attachments.
        let owner_limited = envelope.items().iter().any(|i| {
            matches!(i.item_type(), "event" | "transaction" | "feedback")
                && self.is_limited(i.category(), now)
        });
        envelope.retain_items(
            |item| {
                let orphaned = owner_limited && item.category() == DataCategory::Attachment;
                !orphaned && !self.is_limited(item.category(), now)
            },
            |item| reports.record_item(DiscardReason::RatelimitBackoff, &item),
        );
        let has_data = envelope
            .items()
            .iter()
            .any(|i| i.category() != DataCategory::Internal);
        let worth_sending = has_data || (!had_data && !envelope.is_empty());
        worth_sending.then_some(envelope)
    }
}

/// Parses `X-Sentry-Rate-Limits`: `retry_after:categories:scope[:reason[:namespaces]]`,
/// comma separated. `None` categories = all. Limits naming only unknown categories, or with an
/// unreadable `retry_after`, are left out.
pub fn parse_rate_limits(header: &str) -> Vec<(Duration, Option<Vec<DataCategory>>)> {
    let mut out = Vec::new();
    for limit in header.split(',') {
        let mut fields = limit.trim().split(':');
        let Some(secs) = fields.next().and_then(|s| s.trim().parse::<f64>().ok()) else {
            continue;
        };
        if !secs.is_finite() || secs < 0.0 {
            continue;
        }
        let secs = Duration::from_secs(secs.ceil() as u64).min(MAX_RETRY_AFTER);
        let names: Vec<&str> = fields
            .next()
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if names.is_empty() {
            out.push((secs, None));
            continue;
        }
        let known: Vec<DataCategory> = names
            .into_iter()
            .filter_map(DataCategory::from_name)
            .collect();
        if !known.is_empty() {
            out.push((secs, Some(known)));
        }
    }
    out
}

/// Parses `Retry-After`: delay seconds (integer or float, rounded up) or an HTTP date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`), relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs(secs.ceil() as u64));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers send.
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let rest = s.split_once(", ").map_or(s, |(_, r)| r);
    let mut parts = rest.split_whitespace();
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    // A four-digit year at most: larger ones overflowed the day arithmetic (found by
    // `proptests::retry_after_never_panics_on_absurd_values`).
    if parts.next()? != "GMT"
        || day == 0
        || day > 31
        || h > 23
        || m > 59
        || sec > 60
        || !(0..=9999).contains(&year)
    {
        return None;
    }
    let days = days_from_civil(year, month, day as i64);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Item;

    fn cats(header: &str) -> Vec<(u64, Option<Vec<&'static str>>)> {
        parse_rate_limits(header)
            .into_iter()
            .map(|(d, c)| {
                (
                    d.as_secs(),
                    c.map(|v| v.into_iter().map(DataCategory::as_str).collect()),
                )
            })
            .collect()
    }

    #[test]
    fn header_grammar() {
        assert_eq!(cats("60::organization"), vec![(60, None)]);
        assert_eq!(cats("60.5:error"), vec![(61, Some(vec!["error"]))]);
        assert_eq!(
            cats("60:transaction:key, 2700:default;error;security:organization"),
            vec![
                (60, Some(vec!["transaction"])),
                (2700, Some(vec!["default", "error", "security"]))
            ]
        );
        // Unknown categories are ignored; a limit with only unknown ones is dropped entirely.
        assert_eq!(cats("10:foobar;error:key"), vec![(10, Some(vec!["error"]))]);
        assert_eq!(cats("10:foobar:key"), vec![]);
        // Extra fields, spaces, empty entries and junk are tolerated.
        assert_eq!(
            cats(" 5 : log_item ; span : org : quota : ns , ,x:error"),
            vec![(5, Some(vec!["log_item", "span"]))]
        );
        assert_eq!(
            cats("2700:metric_bucket:organization:quota_exceeded:custom"),
            vec![]
        );
        assert_eq!(cats("-1:error, nan:error"), vec![]);
    }

    #[test]
    fn max_deadline_wins_and_all_covers_every_category() {
        let now = Instant::now();
        let mut limits = RateLimits::new();
        limits.update(now, 200, Some("100:error"), None);
        limits.update(now, 200, Some("10:error"), None);
        assert_eq!(
            limits.limited_until(DataCategory::Error, now),
            Some(now + Duration::from_secs(100))
        );
        assert!(!limits.is_limited(DataCategory::Transaction, now));
        limits.update(now, 429, Some("30::key"), None);
        assert!(limits.is_limited(DataCategory::Transaction, now));
        assert!(!limits.is_limited(DataCategory::Transaction, now + Duration::from_secs(31)));
        assert!(limits.is_limited(DataCategory::Error, now + Duration::from_secs(31)));
        assert!(
            !limits.is_limited(DataCategory::Internal, now),
            "client reports always go"
        );
    }

    #[test]
    fn absurd_http_date_years_are_ignored_not_overflowed() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for year in [
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999",
            "10000",
        ] {
            let value = format!("Wed, 21 Oct {year} 07:28:00 GMT");
            assert_eq!(parse_retry_after(&value, now), None, "{value}");
        }
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now).unwrap();
        assert!(far > Duration::from_secs(200 * 365 * 86_400));
        let mut limits = RateLimits::new();
        let at = Instant::now();
        limits.update(at, 429, None, Some("Fri, 31 Dec 9999 23:59:59 GMT"));
        assert_eq!(
            limits.limited_until(DataCategory::Error, at),
            Some(at + MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn retry_after_forms_and_bare_429() {
        let now = Instant::now();
        let mut limits = RateLimits::new();
        limits.update(now, 429, None, Some("7"));
        assert_eq!(
            limits.limited_until(DataCategory::Error, now),
            Some(now + Duration::from_secs(7))
        );
        let mut limits = RateLimits::new();
        limits.update(now, 429, None, None);
        assert_eq!(
            limits.limited_until(DataCategory::Session, now),
            Some(now + Duration::from_secs(60))
        );
        // `0` and a date already past still hold the next envelope back for a second.
        for value in ["0", "Wed, 21 Oct 2015 07:28:00 GMT"] {
            let mut limits = RateLimits::new();
            limits.update(now, 429, None, Some(value));
            assert_eq!(
                limits.limited_until(DataCategory::Error, now),
                Some(now + MIN_RETRY_AFTER),
                "{value}"
            );
        }
        let mut limits = RateLimits::new();
        limits.update(now, 503, None, Some("7"));
        assert!(
            !limits.is_limited(DataCategory::Error, now),
            "Retry-After only counts on 429"
        );

        let base = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21T07:28:00Z
        assert_eq!(parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), Some(base));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", base),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("1.2", base), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("soon", base), None);
    }

    #[test]
    fn filter_drops_limited_items_and_counts_them() {
        let now = Instant::now();
        let mut limits = RateLimits::new();
        limits.update(now, 200, Some("60:transaction"), None);
        let reports = ClientReports::new(true);
        let mut env = Envelope::new();
        env.add_item(Item::new("transaction", b"{}".to_vec()));
        env.add_item(Item::new("client_report", b"{}".to_vec()));
        assert!(
            limits.filter(env, &reports, now).is_none(),
            "only a client report left"
        );
        // A dropped transaction also counts its root span.
        assert_eq!(
            reports.take(),
            vec![
                (
                    DiscardReason::RatelimitBackoff,
                    DataCategory::Transaction,
                    1
                ),
                (DiscardReason::RatelimitBackoff, DataCategory::Span, 1)
            ]
        );

        let mut env = Envelope::new();
        env.add_item(Item::new("event", b"{}".to_vec()));
        env.add_item(Item::new("transaction", b"{}".to_vec()));
        let kept = limits.filter(env, &reports, now).unwrap();
        assert_eq!(kept.items().len(), 1);
        assert_eq!(kept.items()[0].item_type(), "event");

        // An `attachment` limit drops the attachments only; an `error` limit drops the
        // event's attachments with it (counted in bytes).
        reports.take(); // what the cases above counted
        let mut limits = RateLimits::new();
        limits.update(now, 200, Some("60:attachment"), None);
        let with_attachment = || {
            let mut env = Envelope::new();
            env.add_item(Item::new("event", b"{}".to_vec()));
            env.add_item(Item::new("attachment", vec![0; 1000]));
            env
        };
        let kept = limits.filter(with_attachment(), &reports, now).unwrap();
        assert_eq!(kept.items().len(), 1);
        assert_eq!(kept.items()[0].item_type(), "event");
        assert_eq!(
            reports.take(),
            vec![(
                DiscardReason::RatelimitBackoff,
                DataCategory::Attachment,
                1000
            )]
        );
        let mut limits = RateLimits::new();
        limits.update(now, 200, Some("60:error"), None);
        assert!(limits.filter(with_attachment(), &reports, now).is_none());
        let mut counted = reports.take();
        counted.sort_by_key(|(_, c, _)| *c);
        assert_eq!(
            counted,
            vec![
                (DiscardReason::RatelimitBackoff, DataCategory::Error, 1),
                (
                    DiscardReason::RatelimitBackoff,
                    DataCategory::Attachment,
                    1000
                )
            ]
        );

        let mut reports_only = Envelope::new();
        reports_only.add_item(Item::new("client_report", b"{}".to_vec()));
        assert!(
            limits.filter(reports_only, &reports, now).is_some(),
            "client reports alone go"
        );
    }
}
