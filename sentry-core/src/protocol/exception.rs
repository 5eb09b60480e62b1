use serde::Serialize;

use super::{Map, Value};

/// One exception in an event's chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Exception {
    /// The type name (`std::io::Error`, `panic`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The message (the error's `Display` text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The module the type lives in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Where it was raised or captured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    /// How it was caught.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// The thread it happened on (matches `Thread::id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<u64>,
}

/// How an exception was caught.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Mechanism {
    /// `generic`, `panic`, ...
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether user code handled it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
    /// Set for exceptions the SDK made up (e.g. to carry a stack trace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<bool>,
    /// Extra data (a panic's location).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub data: Map<Value>,
    /// Position of this exception in the chain (0 = outermost).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<u32>,
    /// `exception_id` of the exception this one is the source of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u32>,
    /// Where in the parent it came from (`source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A stack trace, outermost (caller) frame first, crashing frame last.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stacktrace {
    /// The frames.
    pub frames: Vec<Frame>,
}

/// One stack frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Frame {
    /// Demangled function name without the hash suffix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The module path of the function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Source file as compiled (may be relative).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Absolute source path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    /// 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    /// Whether the frame is the application's own code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// The instruction address (`0x...`), for server-side symbolication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<String>,
    /// Source lines before `context_line` (usually 5).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pre_context: Vec<String>,
    /// The source line of `lineno`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    /// Source lines after `context_line` (usually 5).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub post_context: Vec<String>,
    /// Local values shown beside the code.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub vars: Map<Value>,
}
