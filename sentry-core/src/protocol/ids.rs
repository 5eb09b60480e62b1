//! Trace and span ids: random, written as lowercase hex (32 and 16 digits).

use std::fmt;

use serde::{Serialize, Serializer};

/// A trace id: 16 random bytes, 32 hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceId(pub u128);

/// A span id: 8 random bytes, 16 hex digits on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpanId(pub u64);

impl TraceId {
    /// A new random trace id.
    pub fn random() -> Self {
        let hi = u128::from(crate::random::next_u64());
        TraceId(hi << 64 | u128::from(crate::random::next_u64()) | 1)
    }
}

impl SpanId {
    /// A new random span id.
    pub fn random() -> Self {
        SpanId(crate::random::next_u64() | 1)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl Serialize for TraceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_wire_width() {
        assert_eq!(TraceId::random().to_string().len(), 32);
        assert_eq!(SpanId::random().to_string().len(), 16);
        assert_eq!(SpanId(0xab).to_string(), "00000000000000ab");
        assert_ne!(TraceId::random(), TraceId::random());
    }
}
