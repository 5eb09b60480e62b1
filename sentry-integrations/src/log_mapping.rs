//! What a log record or a `tracing` event becomes: shared by the `log` and `tracing`
//! integrations.

/// What a record becomes; more than one may be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventMapping {
    /// A breadcrumb in the isolation scope.
    pub breadcrumb: bool,
    /// An event (with the capture site's stack).
    pub event: bool,
    /// A structured log (when logs are enabled).
    pub log: bool,
}

impl EventMapping {
    /// Nothing.
    pub const IGNORE: EventMapping = EventMapping {
        breadcrumb: false,
        event: false,
        log: false,
    };

    pub(crate) fn is_nothing(self) -> bool {
        !(self.breadcrumb || self.event || self.log)
    }
}
