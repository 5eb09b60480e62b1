//! Environment variables and release detection: what fills the options that code left unset.

use std::borrow::Cow;

use super::ClientOptions;

/// Where [`ClientOptions::apply_env`] looks for a release name, in order: Sentry's own
/// variable, then the commit id that CI systems and hosting platforms export (as
/// sentry-python does).
const RELEASE_VARIABLES: &[&str] = &[
    "SENTRY_RELEASE",
    "HEROKU_SLUG_COMMIT",
    "HEROKU_BUILD_COMMIT",
    "SOURCE_VERSION",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CIRCLE_SHA1",
    "GAE_DEPLOYMENT_ID",
    "K_REVISION",
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BITBUCKET_COMMIT",
    "VERCEL_GIT_COMMIT_SHA",
];

impl ClientOptions {
    /// Fills what code left unset from `SENTRY_DSN`, `SENTRY_RELEASE` (then a commit id from
    /// common CI variables), `SENTRY_ENVIRONMENT`, `SENTRY_DEBUG` and `SENTRY_SPOTLIGHT`. `init` calls this; call
    /// it yourself only when building a client by hand.
    pub fn apply_env(self) -> Self {
        self.apply_vars(|name| std::env::var(name).ok())
    }

    /// [`apply_env`](Self::apply_env) over `lookup` (tests pass a map).
    fn apply_vars(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if !self.set_in_code.dsn {
            if let Some(dsn) = var("SENTRY_DSN") {
                self = self.dsn(&dsn);
            }
        }
        if self.settings.release.is_none() {
            self.settings.release = RELEASE_VARIABLES
                .iter()
                .find_map(|name| var(name))
                .map(Cow::Owned);
        }
        if !self.set_in_code.environment {
            if let Some(environment) = var("SENTRY_ENVIRONMENT") {
                self.settings.environment = Cow::Owned(environment);
            }
        }
        if !self.set_in_code.spotlight {
            if let Some(value) = var("SENTRY_SPOTLIGHT") {
                let value = value.trim();
                self = match value.to_ascii_lowercase().as_str() {
                    "1" | "true" | "t" | "yes" | "y" | "on" => self.spotlight(true),
                    "0" | "false" | "f" | "no" | "n" | "off" => self,
                    _ => self.spotlight(value),
                };
            }
        }
        if !self.set_in_code.debug {
            if let Some(debug) = var("SENTRY_DEBUG") {
                self.settings.debug =
                    matches!(debug.trim(), "1" | "true" | "TRUE" | "True" | "yes");
            }
        }
        self
    }
}

/// The release name of the calling crate, `name@version` from its `Cargo.toml`.
///
/// ```
/// let release = sentry_sdk_core::release_name!();
/// assert_eq!(release, concat!("sentry-sdk-core@", env!("CARGO_PKG_VERSION")));
/// ```
#[macro_export]
macro_rules! release_name {
    () => {
        ::std::concat!(
            ::std::env!("CARGO_PKG_NAME"),
            "@",
            ::std::env!("CARGO_PKG_VERSION")
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn variables_fill_only_what_code_left_unset() {
        let env = vars(&[
            ("SENTRY_DSN", "https://k@127.0.0.1/3"),
            ("SENTRY_ENVIRONMENT", "staging"),
            ("SENTRY_DEBUG", "1"),
            ("GITHUB_SHA", "abc123"),
        ]);
        let from_env = ClientOptions::new().apply_vars(&env);
        let s = from_env.settings();
        assert_eq!(s.dsn.as_ref().map(|d| d.project_id()), Some("3"));
        assert_eq!(s.environment, "staging");
        assert!(s.debug);
        assert_eq!(s.release.as_deref(), Some("abc123"));

        let from_code = ClientOptions::new()
            .dsn("")
            .environment("dev")
            .debug(false)
            .release("r@1")
            .apply_vars(&env);
        let s = from_code.settings();
        assert!(
            s.dsn.is_none(),
            "an empty DSN in code disables, whatever SENTRY_DSN says"
        );
        assert_eq!(s.environment, "dev");
        assert!(!s.debug);
        assert_eq!(s.release.as_deref(), Some("r@1"));
    }

    #[test]
    fn sentry_spotlight_turns_it_on_with_the_default_or_a_url() {
        let url = |value: &'static str| {
            let value = value.to_owned();
            ClientOptions::new()
                .apply_vars(move |name| (name == "SENTRY_SPOTLIGHT").then(|| value.clone()))
                .settings()
                .spotlight
                .clone()
        };
        assert_eq!(url("1").as_deref(), Some(crate::SPOTLIGHT_URL));
        assert_eq!(url("true").as_deref(), Some(crate::SPOTLIGHT_URL));
        assert_eq!(url("off"), None);
        assert_eq!(
            url("http://127.0.0.1:9/stream").as_deref(),
            Some("http://127.0.0.1:9/stream")
        );
        let bad = ClientOptions::new().apply_vars(vars(&[("SENTRY_SPOTLIGHT", "ftp://x")]));
        assert!(bad.settings().spotlight.is_none());
        assert!(
            bad.problem().is_some(),
            "a bad URL is a configuration error"
        );
        // Set in code (even to off): the variable is ignored.
        let code = ClientOptions::new()
            .spotlight(false)
            .apply_vars(vars(&[("SENTRY_SPOTLIGHT", "1")]));
        assert_eq!(code.settings().spotlight, None);
    }

    #[test]
    fn sentry_release_wins_over_ci_commits() {
        let env = vars(&[
            ("GITHUB_SHA", "abc"),
            ("SENTRY_RELEASE", "app@2"),
            ("CIRCLE_SHA1", " "),
        ]);
        let o = ClientOptions::new().apply_vars(env);
        assert_eq!(o.settings().release.as_deref(), Some("app@2"));
    }
}
