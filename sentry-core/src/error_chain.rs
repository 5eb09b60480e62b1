//! Turning a `std::error::Error` and its `source()` chain into exception values.

use std::error::Error as StdError;

use crate::protocol::{Exception, Mechanism};

/// How deep a `source()` chain is followed (a cycle would otherwise never end).
const MAX_CHAIN: usize = 32;

/// The chain of `err`, innermost cause first and `err` itself last (Sentry's order), with
/// mechanism `generic`/handled on `err` and `chained` links pointing at their parent.
/// `type_name` is `std::any::type_name` of `err`'s static type.
pub(crate) fn exceptions_from_error(
    err: &(dyn StdError + 'static),
    type_name: &str,
) -> Vec<Exception> {
    let mut chain = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if chain.len() == MAX_CHAIN {
            break;
        }
        let (ty, module) = if chain.is_empty() && !type_name.starts_with("dyn ") {
            split_type_name(type_name)
        } else {
            guess_type(e)
        };
        let id = chain.len() as u32;
        let mut mechanism = if id == 0 {
            Mechanism {
                ty: "generic".into(),
                handled: Some(true),
                exception_id: Some(0),
                ..Default::default()
            }
        } else {
            Mechanism {
                ty: "chained".into(),
                source: Some("source".into()),
                exception_id: Some(id),
                parent_id: Some(id - 1),
                ..Default::default()
            }
        };
        io_error_data(e, &mut mechanism);
        chain.push(Exception {
            ty,
            value: Some(e.to_string()),
            module,
            mechanism: Some(mechanism),
            ..Default::default()
        });
        next = e.source();
    }
    chain.reverse();
    chain
}

/// `app::errors::ConfigError<T>` -> (`ConfigError<T>`, `app::errors`).
///
/// A type named just `Error` (`std::io::Error`, `serde_json::Error`, `reqwest::Error`) is
/// named with its module, as it is written in code: `std::io::error::Error` -> (`io::Error`,
/// `std::io`), where the private `error` module is left out.
pub(crate) fn split_type_name(full: &str) -> (String, Option<String>) {
    let base_end = full.find('<').unwrap_or(full.len());
    let Some(i) = full[..base_end].rfind("::") else {
        return (full.to_owned(), None);
    };
    let (module, name) = (&full[..i], &full[i + 2..]);
    if name == "Error" || name.starts_with("Error<") {
        let public = module.strip_suffix("::error").unwrap_or(module);
        let owner = public.rsplit("::").next().unwrap_or(public);
        return (format!("{owner}::{name}"), Some(public.to_owned()));
    }
    (name.to_owned(), Some(module.to_owned()))
}

/// What an `io::Error` knows beyond its message: its kind and the OS error number.
fn io_error_data(e: &(dyn StdError + 'static), mechanism: &mut Mechanism) {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        mechanism
            .data
            .insert("kind".into(), format!("{:?}", io.kind()).into());
        if let Some(code) = io.raw_os_error() {
            mechanism.data.insert("errno".into(), code.into());
        }
    }
}

/// A name for an error only known as `dyn Error`: a known standard type, else the leading
/// identifier of its `Debug` output (`ParseIntError { .. }` -> `ParseIntError`).
fn guess_type(e: &(dyn StdError + 'static)) -> (String, Option<String>) {
    macro_rules! known {
        ($($t:ty),*) => {
            $(if e.is::<$t>() { return split_type_name(std::any::type_name::<$t>()); })*
        };
    }
    known!(
        std::io::Error,
        std::num::ParseIntError,
        std::num::ParseFloatError,
        std::str::Utf8Error,
        std::string::FromUtf8Error,
        std::fmt::Error,
        std::num::TryFromIntError,
        std::str::ParseBoolError,
        std::env::VarError,
        std::time::SystemTimeError
    );
    let debug = format!("{e:?}");
    let ident: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if ident.is_empty() || ident.chars().next().is_some_and(|c| !c.is_alphabetic()) {
        ("Error".to_owned(), None)
    } else {
        split_type_name(&ident)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Outer(std::num::ParseIntError);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bad config")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chain_is_cause_first_with_types() {
        let err = Outer("x".parse::<u32>().unwrap_err());
        let ex = exceptions_from_error(&err, std::any::type_name::<Outer>());
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].ty, "ParseIntError");
        assert_eq!(ex[0].module.as_deref(), Some("core::num::error"));
        // Not `Error`: the chain of an `io::Error` names its type and says its kind.
        let io = std::io::Error::from_raw_os_error(2);
        let wrapped: Box<dyn StdError> = Box::new(io);
        let io_ex = exceptions_from_error(&*wrapped, "dyn core::error::Error");
        assert_eq!(io_ex[0].ty, "io::Error");
        assert_eq!(io_ex[0].module.as_deref(), Some("std::io"));
        let data = &io_ex[0].mechanism.as_ref().unwrap().data;
        assert_eq!(data["kind"], "NotFound");
        assert_eq!(data["errno"], 2);
        assert_eq!(
            split_type_name("serde_json::error::Error"),
            (
                "serde_json::Error".to_owned(),
                Some("serde_json".to_owned())
            )
        );
        assert_eq!(
            split_type_name("reqwest::Error"),
            ("reqwest::Error".to_owned(), Some("reqwest".to_owned()))
        );
        assert_eq!(
            ex[0].value.as_deref(),
            Some("invalid digit found in string")
        );
        assert_eq!(ex[0].mechanism.as_ref().unwrap().parent_id, Some(0));
        assert_eq!(ex[1].ty, "Outer");
        assert_eq!(ex[1].value.as_deref(), Some("bad config"));
        let m = ex[1].mechanism.as_ref().unwrap();
        assert_eq!((m.ty.as_str(), m.handled), ("generic", Some(true)));
    }

    #[test]
    fn dyn_error_falls_back_to_debug_name() {
        let err: Box<dyn StdError> = Box::new(Outer("x".parse::<u32>().unwrap_err()));
        let ex = exceptions_from_error(&*err, "dyn core::error::Error");
        assert_eq!(ex[1].ty, "Outer");
        assert_eq!(
            split_type_name("a::b::C<d::E>"),
            ("C<d::E>".to_owned(), Some("a::b".to_owned()))
        );
    }
}
