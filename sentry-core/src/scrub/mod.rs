//! Where sensitive values are scrubbed before anything leaves the process (PROTOCOL.md §8.4):
//! the default denylist, the keys a user adds, URLs with credentials or secret query
//! parameters. Runs on the SDK's thread, after the event processors and before `before_send`
//! (as sentry-python does), and for transactions before `before_send_transaction`.
//!
//! # What is scrubbed
//! A value whose key is on the denylist (compared without case, `-` and `_` alike; see
//! [`DEFAULT_DENYLIST`] and, without `send_default_pii`, [`PII_DENYLIST`]) is replaced with
//! `"[Filtered]"` wherever it is found: `extra`, `contexts`, breadcrumb `data`, span `data`,
//! frame `vars`, the request's `data`, `env`, `headers` and query string, and objects nested in
//! any of them (to a depth of 16). URLs in the request and in breadcrumb data lose their user
//! info (`[Filtered]:[Filtered]@`) and the values of denylisted query parameters.
//!
//! # What is not
//! The user (`set_user`: what the program set explicitly about whom the event is about), tags,
//! messages and exception values: they are the program's words, and scrubbing them by guess
//! would hide what the event is about.

mod url;

use std::borrow::Cow;

use serde_json::Value;

use crate::protocol::{Event, Map};

pub(crate) use url::scrub_url;

/// What a scrubbed value is replaced with (here and by the web-framework integrations).
pub const FILTERED: &str = "[Filtered]";

/// Keys whose values are always scrubbed (normalised: lowercase, `-` as `_`).
pub const DEFAULT_DENYLIST: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "session",
    "csrftoken",
    "sessionid",
    "session_id",
    "x_csrftoken",
    "x_csrf_token",
    "set_cookie",
    "cookie",
    "authorization",
    "proxy_authorization",
    "x_api_key",
    "aiohttp_session",
    "connect.sid",
    "csrf_token",
    "csrf",
    "_csrf",
    "_csrf_token",
    "phpsessid",
    "_session",
    "symfony",
    "user_session",
    "_xsrf",
    "xsrf_token",
    "jwt",
    "bearer",
];

/// Keys that identify a person's machine, scrubbed unless `send_default_pii`.
pub const PII_DENYLIST: &[&str] = &[
    "x_forwarded_for",
    "x_real_ip",
    "ip_address",
    "remote_addr",
    "true_client_ip",
    "cf_connecting_ip",
];

/// How deep nested objects are searched.
const MAX_DEPTH: usize = 16;

/// The denylist in force for one client.
#[derive(Debug, Clone)]
pub(crate) struct Scrubber {
    /// Normalised keys.
    keys: Vec<String>,
}

/// `key` lowercased, with `-` as `_`, borrowed when it already is.
fn normalise(key: &str) -> Cow<'_, str> {
    if key.bytes().any(|b| b.is_ascii_uppercase() || b == b'-') {
        Cow::Owned(key.to_ascii_lowercase().replace('-', "_"))
    } else {
        Cow::Borrowed(key)
    }
}

impl Scrubber {
    /// The default denylist, the PII one unless `send_default_pii`, and `extra` keys.
    pub(crate) fn new(extra: &[Cow<'static, str>], send_default_pii: bool) -> Scrubber {
        let mut keys: Vec<String> = DEFAULT_DENYLIST.iter().map(|k| (*k).to_owned()).collect();
        if !send_default_pii {
            keys.extend(PII_DENYLIST.iter().map(|k| (*k).to_owned()));
        }
        keys.extend(extra.iter().map(|k| normalise(k).into_owned()));
        keys.sort();
        keys.dedup();
        Scrubber { keys }
    }

    /// Whether values under `key` are scrubbed.
    pub(crate) fn is_denied(&self, key: &str) -> bool {
        let key = normalise(key);
        self.keys.binary_search_by(|k| k.as_str().cmp(&key)).is_ok()
    }

    /// Scrubs `map` and what is nested in it.
    pub(crate) fn scrub_map(&self, map: &mut Map<Value>) {
        for (key, value) in map.iter_mut() {
            self.scrub_entry(key, value, 0);
        }
    }

    /// Scrubs a JSON object map (serde_json's own map type).
    fn scrub_object(&self, map: &mut serde_json::Map<String, Value>, depth: usize) {
        for (key, value) in map.iter_mut() {
            self.scrub_entry(key, value, depth);
        }
    }

    fn scrub_entry(&self, key: &str, value: &mut Value, depth: usize) {
        if self.is_denied(key) {
            if !value.is_null() {
                *value = Value::from(FILTERED);
            }
            return;
        }
        if let Value::String(s) = value {
            // URLs under any key lose their credentials.
            if let Cow::Owned(scrubbed) = scrub_url(s, self) {
                *s = scrubbed;
            }
            return;
        }
        self.scrub_value(value, depth + 1);
    }

    /// Scrubs the objects nested in `value`.
    pub(crate) fn scrub_value(&self, value: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => self.scrub_object(map, depth),
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| self.scrub_value(v, depth + 1)),
            _ => {}
        }
    }

    /// Whether `map` holds anything [`Scrubber::scrub_map`] would change (so that a map
    /// written by reference can be written as it is).
    pub(crate) fn needs_scrub(&self, map: &Map<Value>) -> bool {
        map.iter().any(|(k, v)| self.entry_needs_scrub(k, v, 0))
    }

    fn entry_needs_scrub(&self, key: &str, value: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        if self.is_denied(key) {
            return !value.is_null();
        }
        match value {
            Value::String(s) => matches!(scrub_url(s, self), Cow::Owned(_)),
            Value::Object(map) => map
                .iter()
                .any(|(k, v)| self.entry_needs_scrub(k, v, depth + 1)),
            Value::Array(items) => items
                .iter()
                .any(|v| self.entry_needs_scrub("", v, depth + 1)),
            _ => false,
        }
    }

    /// Scrubs an event (error or transaction) in place: see the module docs for where.
    pub(crate) fn scrub_event(&self, event: &mut Event) {
        self.scrub_map(&mut event.extra);
        self.scrub_map(&mut event.contexts);
        for crumb in &mut event.breadcrumbs {
            self.scrub_map(&mut crumb.data);
        }
        let frames = event.stacktraces_mut().flat_map(|s| s.frames.iter_mut());
        for frame in frames {
            self.scrub_map(&mut frame.vars);
        }
        if let Some(request) = &mut event.request {
            self.scrub_request(request);
        }
    }

    /// The request's URL, query string, headers, environment and data.
    pub(crate) fn scrub_request(&self, request: &mut crate::protocol::Request) {
        if let Some(url) = &mut request.url {
            if let Cow::Owned(scrubbed) = scrub_url(url, self) {
                *url = scrubbed;
            }
        }
        if let Some(query) = &mut request.query_string {
            if let Cow::Owned(scrubbed) = url::scrub_query(query, self) {
                *query = scrubbed;
            }
        }
        for map in [&mut request.headers, &mut request.env] {
            for (key, value) in map.iter_mut() {
                if self.is_denied(key) && value != FILTERED {
                    *value = FILTERED.to_owned();
                }
            }
        }
        if let Some(data) = &mut request.data {
            self.scrub_value(data, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scrubbed(value: Value, pii: bool) -> Value {
        let scrubber = Scrubber::new(&[Cow::Borrowed("Order-Secret")], pii);
        let mut map: Map<Value> = serde_json::from_value(value).unwrap();
        assert_eq!(scrubber.needs_scrub(&map), {
            let mut copy = map.clone();
            scrubber.scrub_map(&mut copy);
            copy != map
        });
        scrubber.scrub_map(&mut map);
        serde_json::to_value(map).unwrap()
    }

    #[test]
    fn denylisted_keys_anywhere_are_filtered() {
        let out = scrubbed(
            json!({
                "Password": "hunter2",
                "nested": {"api-key": "k", "list": [{"Authorization": "Bearer x"}], "fine": 1},
                "order_secret": "added by the user",
                "ip_address": "203.0.113.7",
                "empty_token": null,
                "callback": "https://user:pw@example.com/hook?token=abc&page=2",
                "title": "not a secret",
            }),
            false,
        );
        assert_eq!(
            out,
            json!({
                "Password": "[Filtered]",
                "nested": {"api-key": "[Filtered]", "list": [{"Authorization": "[Filtered]"}], "fine": 1},
                "order_secret": "[Filtered]",
                "ip_address": "[Filtered]",
                "empty_token": null,
                "callback": "https://[Filtered]:[Filtered]@example.com/hook?token=[Filtered]&page=2",
                "title": "not a secret",
            })
        );
    }

    #[test]
    fn addresses_are_kept_with_send_default_pii() {
        let out = scrubbed(json!({"ip_address": "203.0.113.7", "token": "t"}), true);
        assert_eq!(
            out,
            json!({"ip_address": "203.0.113.7", "token": "[Filtered]"})
        );
    }

    #[test]
    fn the_user_is_left_alone_and_the_request_is_scrubbed() {
        let scrubber = Scrubber::new(&[], false);
        let mut event = Event {
            user: Some(crate::protocol::User {
                ip_address: Some("203.0.113.7".into()),
                ..Default::default()
            }),
            request: Some(crate::protocol::Request {
                url: Some("https://a:b@shop.example/cart".into()),
                query_string: Some("session=abc&q=shoes".into()),
                data: Some(json!({"card": {"cvv": "1", "password": "p"}})),
                ..Default::default()
            }),
            ..Default::default()
        };
        event
            .request
            .as_mut()
            .unwrap()
            .headers
            .insert("X-Api-Key".into(), "k".into());
        scrubber.scrub_event(&mut event);
        let request = event.request.unwrap();
        assert_eq!(
            request.url.as_deref(),
            Some("https://[Filtered]:[Filtered]@shop.example/cart")
        );
        assert_eq!(
            request.query_string.as_deref(),
            Some("session=[Filtered]&q=shoes")
        );
        assert_eq!(request.headers["X-Api-Key"], "[Filtered]");
        assert_eq!(request.data.unwrap()["card"]["password"], "[Filtered]");
        assert_eq!(
            event.user.unwrap().ip_address.as_deref(),
            Some("203.0.113.7")
        );
    }
}
