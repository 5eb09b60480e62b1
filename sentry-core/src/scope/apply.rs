//! Merging a scope snapshot into an event (on the worker thread).
//!
//! Order: global, then isolation, then current, then what the event itself carries; the more
//! specific value wins. Breadcrumbs of all three are merged by time and capped at
//! `max_breadcrumbs`.

use crate::protocol::{Breadcrumb, Event, Map};

use super::{Scope, Snapshot};

/// Applies `snapshot` to `event`.
pub(crate) fn apply_scopes(event: &mut Event, snapshot: &Snapshot, max_breadcrumbs: usize) {
    apply_scopes_but_breadcrumbs(event, snapshot);
    if let Some(merged) = merged_breadcrumbs(&event.breadcrumbs, snapshot, max_breadcrumbs) {
        let owned: Vec<Breadcrumb> = merged.into_iter().cloned().collect();
        event.breadcrumbs = owned;
    }
}

/// Applies `snapshot` to `event`, all but the breadcrumbs: for an event nothing will see
/// before it is written, whose breadcrumbs are written from the snapshot by reference
/// ([`merged_breadcrumbs`]) rather than copied into it.
pub(crate) fn apply_scopes_but_breadcrumbs(event: &mut Event, snapshot: &Snapshot) {
    // Most specific first, for the "first one set wins" fields.
    let specific_first = || layers(snapshot).rev().map(|s| &*s.data);

    if let Some(level) = specific_first().find_map(|d| d.level) {
        event.level = level;
    }
    if event.user.is_none() {
        event.user = specific_first().find_map(|d| d.user.as_deref().cloned());
    }
    if event.request.is_none() {
        event.request =
            specific_first().find_map(|d| d.request.as_deref().map(|r| r.get().clone()));
    }
    if event.fingerprint.is_empty() {
        if let Some(fp) = specific_first().find_map(|d| d.fingerprint.clone()) {
            event.fingerprint = fp.to_vec();
        }
    }
    if event.transaction.is_none() {
        event.transaction =
            specific_first().find_map(|d| d.transaction.as_deref().map(str::to_owned));
    }
    merge_maps(&mut event.tags, layers(snapshot).map(|s| &*s.data.tags));
    merge_maps(&mut event.extra, layers(snapshot).map(|s| &*s.data.extra));
    merge_maps(
        &mut event.contexts,
        layers(snapshot).map(|s| &*s.data.contexts),
    );
}

/// The scopes' local values, more specific scopes winning, in name order.
pub(crate) fn local_values(snapshot: &Snapshot) -> Vec<(String, String)> {
    if layers(snapshot).all(|s| s.data.local_values.is_empty()) {
        return Vec::new(); // the common case, without building a map
    }
    let mut merged: Map<String> = Map::new();
    merge_maps(&mut merged, layers(snapshot).map(|s| &*s.data.local_values));
    merged.into_iter().collect()
}

/// The snapshot's attachments: the global scope's, then the isolation scope's, then the
/// current one's.
pub(crate) fn attachments(
    snapshot: &Snapshot,
) -> impl Iterator<Item = &crate::protocol::Attachment> {
    layers(snapshot).flat_map(|s| s.attachments().iter())
}

/// The snapshot's scopes, least specific first (no allocation: walked once per field).
fn layers(snapshot: &Snapshot) -> impl DoubleEndedIterator<Item = &Scope> {
    [
        Some(&snapshot.global),
        Some(&snapshot.isolation),
        snapshot.current.as_ref(),
    ]
    .into_iter()
    .flatten()
}

/// Fills `target` from `layers` (least specific first) without overwriting what it has.
fn merge_maps<'a, V: Clone + 'a>(target: &mut Map<V>, layers: impl Iterator<Item = &'a Map<V>>) {
    let mut merged = Map::new();
    for layer in layers {
        for (k, v) in layer {
            merged.insert(k.clone(), v.clone());
        }
    }
    if merged.is_empty() {
        return;
    }
    // The event's own entries win.
    merged.append(target);
    *target = merged;
}

/// The event's breadcrumbs (`own`) with the scopes' merged in, oldest first, capped at `max`;
/// `None` when no scope has any (the event's own stand as they are, uncapped).
pub(crate) fn merged_breadcrumbs<'a>(
    own: &'a [Breadcrumb],
    snapshot: &'a Snapshot,
    max: usize,
) -> Option<Vec<&'a Breadcrumb>> {
    let non_empty = layers(snapshot)
        .filter(|s| !s.breadcrumbs.is_empty())
        .count();
    if non_empty == 0 {
        return None;
    }
    let visible: usize = layers(snapshot).map(|s| s.breadcrumbs.len().min(max)).sum();
    let mut all: Vec<&Breadcrumb> = Vec::with_capacity(visible + own.len());
    for scope in layers(snapshot) {
        let start = all.len();
        all.extend(scope.breadcrumbs.iter_newest_first().take(max));
        all[start..].reverse();
    }
    all.extend(own);
    if non_empty > 1 || all.len() > max {
        // Stable: crumbs with the same timestamp keep their scope order.
        all.sort_by_key(|c| c.timestamp);
    }
    let skip = all.len().saturating_sub(max);
    all.drain(..skip);
    Some(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Level, User};
    use std::time::{Duration, SystemTime};

    fn crumb(msg: &str, secs: u64) -> Breadcrumb {
        Breadcrumb {
            message: Some(msg.into()),
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs),
            ..Default::default()
        }
    }

    #[test]
    fn specific_scopes_win_and_event_wins_over_all() {
        let mut global = Scope::new();
        global.set_tag("a", "global");
        global.set_tag("b", "global");
        global.set_user(Some(User {
            id: Some("g".into()),
            ..Default::default()
        }));
        global.set_level(Some(Level::Debug));
        let mut isolation = Scope::new();
        isolation.set_tag("b", "isolation");
        isolation.set_tag("c", "isolation");
        isolation.set_context("app", serde_json::json!({"x": 1}));
        let mut current = Scope::new();
        current.set_tag("c", "current");
        current.set_level(Some(Level::Warning));
        let snap = Snapshot {
            global,
            isolation,
            current: Some(current),
        };

        let mut event = Event::default();
        event.tags.insert("d".into(), "event".into());
        event.tags.insert("c".into(), "event".into());
        apply_scopes(&mut event, &snap, 100);
        assert_eq!(event.tags["a"], "global");
        assert_eq!(event.tags["b"], "isolation");
        assert_eq!(event.tags["c"], "event");
        assert_eq!(event.tags["d"], "event");
        assert_eq!(event.level, Level::Warning);
        assert_eq!(event.user.unwrap().id.as_deref(), Some("g"));
        assert_eq!(event.contexts["app"]["x"], 1);
    }

    #[test]
    fn breadcrumbs_merge_by_time_and_cap() {
        let mut global = Scope::new();
        global.push_breadcrumb(crumb("g1", 1), 10);
        global.push_breadcrumb(crumb("g4", 4), 10);
        let mut isolation = Scope::new();
        isolation.push_breadcrumb(crumb("i2", 2), 10);
        isolation.push_breadcrumb(crumb("i3", 3), 10);
        isolation.push_breadcrumb(crumb("i5", 5), 10);
        let snap = Snapshot {
            global,
            isolation,
            current: None,
        };
        let mut event = Event::default();
        apply_scopes(&mut event, &snap, 4);
        let got: Vec<_> = event
            .breadcrumbs
            .iter()
            .map(|c| c.message.clone().unwrap())
            .collect();
        assert_eq!(got, ["i2", "i3", "g4", "i5"]);
    }
}
