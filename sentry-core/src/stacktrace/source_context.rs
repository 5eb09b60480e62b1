//! Source lines around a frame: 5 before, the line, 5 after, read on the worker thread.
//!
//! Only in-app frames with an absolute path that exists where the program runs get context.
//! Files are read once and cached (at most `MAX_FILES`, each at most `MAX_FILE_BYTES`); lines
//! are cut at `MAX_LINE_CHARS`. A file that cannot be read is remembered as such.

use std::collections::HashMap;
use std::sync::Arc;

use once_cell::sync::Lazy;
use sentry_sdk_transport::sync::Mutex;

use crate::protocol::Frame;

const CONTEXT_LINES: usize = 5;
const MAX_FILES: usize = 64;
const MAX_FILE_BYTES: u64 = 1024 * 1024;
const MAX_LINE_CHARS: usize = 200;

type Lines = Option<Arc<Vec<String>>>;

static FILES: Lazy<Mutex<HashMap<String, Lines>>> = Lazy::new(Default::default);

/// Adds `pre_context`, `context_line` and `post_context` to an in-app frame whose source is
/// readable.
pub(crate) fn add_source_context(frame: &mut Frame) {
    if frame.in_app != Some(true) || frame.context_line.is_some() {
        return;
    }
    let (Some(path), Some(lineno)) = (frame.abs_path.as_deref(), frame.lineno) else {
        return;
    };
    let Some(lines) = lines_of(path) else { return };
    let idx = lineno as usize;
    if idx == 0 || idx > lines.len() {
        return;
    }
    let line = idx - 1;
    let start = line.saturating_sub(CONTEXT_LINES);
    let end = (line + 1 + CONTEXT_LINES).min(lines.len());
    frame.pre_context = lines[start..line].to_vec();
    frame.context_line = Some(lines[line].clone());
    frame.post_context = lines[line + 1..end].to_vec();
}

fn lines_of(path: &str) -> Lines {
    if let Some(cached) = FILES.lock().get(path) {
        return cached.clone();
    }
    // Read outside the lock.
    let lines = read(path).map(Arc::new);
    let mut files = FILES.lock();
    if files.len() >= MAX_FILES {
        files.clear();
    }
    files.insert(path.to_owned(), lines.clone());
    lines
}

fn read(path: &str) -> Option<Vec<String>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(
        text.lines()
            .map(|l| cut(l.trim_end_matches('\r')))
            .collect(),
    )
}

fn cut(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_around_a_line_of_this_file() {
        let here = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/stacktrace/source_context.rs"
        );
        let mut frame = Frame {
            abs_path: Some(here.into()),
            lineno: Some(3),
            in_app: Some(true),
            ..Default::default()
        };
        add_source_context(&mut frame);
        let source = std::fs::read_to_string(here).unwrap();
        let lines: Vec<&str> = source.lines().collect();
        assert_eq!(frame.context_line.as_deref(), Some(lines[2]));
        assert_eq!(frame.pre_context, lines[0..2]);
        assert_eq!(frame.post_context, lines[3..8]);
    }

    #[test]
    fn no_context_for_library_frames_or_missing_files() {
        let mut lib = Frame {
            abs_path: Some(file!().into()),
            lineno: Some(1),
            in_app: Some(false),
            ..Default::default()
        };
        add_source_context(&mut lib);
        assert!(lib.context_line.is_none());
        let mut missing = Frame {
            abs_path: Some("/nonexistent/x.rs".into()),
            lineno: Some(1),
            in_app: Some(true),
            ..Default::default()
        };
        add_source_context(&mut missing);
        assert!(missing.context_line.is_none());
        assert_eq!(cut(&"x".repeat(300)).chars().count(), MAX_LINE_CHARS + 1);
    }
}
