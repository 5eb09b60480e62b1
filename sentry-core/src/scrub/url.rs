//! Credentials in URLs: the user info (`user:password@`) and the values of query parameters
//! whose names are on the denylist.

use std::borrow::Cow;

use super::{Scrubber, FILTERED};

/// `s` with its user info and denylisted query values replaced, if it looks like a URL
/// (`scheme://...`); borrowed when nothing changed (the common case costs one scan).
pub(crate) fn scrub_url<'a>(s: &'a str, scrubber: &Scrubber) -> Cow<'a, str> {
    let Some(scheme_end) = s.find("://") else {
        return Cow::Borrowed(s);
    };
    let scheme = &s[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Cow::Borrowed(s);
    }
    let rest = &s[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let after = &rest[authority_end..];
    let host = match authority.rfind('@') {
        Some(at) => {
            // Already filtered: leave it (scrubbing twice must change nothing).
            if &authority[..at] == "[Filtered]:[Filtered]" {
                None
            } else {
                Some(&authority[at + 1..])
            }
        }
        None => None,
    };
    let (path, query, fragment) = split_query(after);
    let scrubbed_query = query.map(|q| scrub_query(q, scrubber));
    let query_changed = matches!(scrubbed_query, Some(Cow::Owned(_)));
    if host.is_none() && !query_changed {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(scheme);
    out.push_str("://");
    match host {
        Some(host) => {
            out.push_str(FILTERED);
            out.push(':');
            out.push_str(FILTERED);
            out.push('@');
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(path);
    if let Some(query) = scrubbed_query {
        out.push('?');
        out.push_str(&query);
    }
    out.push_str(fragment);
    Cow::Owned(out)
}

/// `(path, query without '?', fragment with '#')` of what follows a URL's authority.
fn split_query(after: &str) -> (&str, Option<&str>, &str) {
    let fragment_at = after.find('#').unwrap_or(after.len());
    let (before_fragment, fragment) = after.split_at(fragment_at);
    match before_fragment.find('?') {
        Some(q) => (
            &before_fragment[..q],
            Some(&before_fragment[q + 1..]),
            fragment,
        ),
        None => (before_fragment, None, fragment),
    }
}

/// A query string (`a=1&token=x`) with the values of denylisted parameters replaced.
pub(crate) fn scrub_query<'a>(query: &'a str, scrubber: &Scrubber) -> Cow<'a, str> {
    let denied = |pair: &str| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        !value.is_empty() && value != FILTERED && scrubber.is_denied(&decode_name(name))
    };
    if !query.split('&').any(denied) {
        return Cow::Borrowed(query);
    }
    let parts: Vec<String> = query
        .split('&')
        .map(|pair| match denied(pair) {
            true => format!(
                "{}={FILTERED}",
                pair.split_once('=').map_or(pair, |(n, _)| n)
            ),
            false => pair.to_owned(),
        })
        .collect();
    Cow::Owned(parts.join("&"))
}

/// A parameter name with `+` and the common percent escapes of names undone.
fn decode_name(name: &str) -> Cow<'_, str> {
    if !name.contains(['%', '+']) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(
        name.replace('+', " ")
            .replace("%5F", "_")
            .replace("%5f", "_")
            .replace("%2D", "-")
            .replace("%2d", "-"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(s: &str) -> String {
        scrub_url(s, &Scrubber::new(&[], false)).into_owned()
    }

    #[test]
    fn user_info_and_secret_parameters_go() {
        assert_eq!(
            scrub("https://u:p@h.example/a?x=1#f"),
            "https://[Filtered]:[Filtered]@h.example/a?x=1#f"
        );
        assert_eq!(
            scrub("http://h/a?api_key=abc&x=1"),
            "http://h/a?api_key=[Filtered]&x=1"
        );
        assert_eq!(
            scrub("http://h/a?API%2DKEY=abc"),
            "http://h/a?API%2DKEY=[Filtered]"
        );
        assert_eq!(
            scrub("postgres://admin:pw@db:5432/app"),
            "postgres://[Filtered]:[Filtered]@db:5432/app"
        );
    }

    #[test]
    fn everything_else_is_borrowed_untouched() {
        for s in [
            "plain text",
            "https://h.example/a?page=2",
            "a://",
            "://x",
            "mailto:x@y",
            "http://h/?token=",
        ] {
            assert!(
                matches!(scrub_url(s, &Scrubber::new(&[], false)), Cow::Borrowed(_)),
                "{s}"
            );
        }
        let once = scrub("https://u:p@h/?token=1");
        assert_eq!(scrub(&once), once, "scrubbing twice changes nothing");
    }
}
