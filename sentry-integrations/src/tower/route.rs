//! The route a request matched, when the web framework says (axum's `MatchedPath`): a
//! transaction named by it groups `GET /orders/7` and `GET /orders/8` together.

#[cfg(feature = "axum")]
mod imp {
    /// The route pattern, e.g. `/orders/{id}` (an `Arc<str>` inside: cloning is cheap).
    pub(crate) type Route = axum::extract::MatchedPath;

    /// The route axum's router matched, if this service runs after routing.
    pub(crate) fn of<B>(request: &http::Request<B>) -> Option<Route> {
        request.extensions().get::<Route>().cloned()
    }
}

#[cfg(not(feature = "axum"))]
mod imp {
    /// Without a framework that names routes there is never one.
    #[derive(Debug)]
    pub(crate) enum Route {}

    impl Route {
        pub(crate) fn as_str(&self) -> &str {
            match *self {}
        }
    }

    pub(crate) fn of<B>(_: &http::Request<B>) -> Option<Route> {
        None
    }
}

pub(crate) use imp::{of, Route};
