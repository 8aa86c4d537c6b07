//! What a rejected topology file reports, and the collector the checks share
//! so that one run reports every problem, not just the first.

use std::fmt;

use super::lines::Lines;

/// One problem in a topology file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the offending field, e.g. `links[3].a.node`; empty when the
    /// problem is not about one field (unreadable file, YAML syntax).
    pub field: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// Every problem found in one topology source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    /// The file path, or `<string>` for text parsed directly.
    pub source_name: String,
    pub errors: Vec<FieldError>,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// One line per error, compiler style: `file:line: field: message`.
impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errors.is_empty() {
            return write!(f, "{}: invalid topology", self.source_name);
        }
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.source_name)?;
            if let Some(line) = error.line {
                write!(f, ":{line}")?;
            }
            write!(f, ": {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TopologyError {}

/// Maps a native field path to the path of the same value in another format.
type Rename<'l> = Box<dyn Fn(&str) -> String + 'l>;

/// Collects errors, attaching the line of each field from the pre-pass.
pub(super) struct Sink<'l> {
    lines: &'l Lines,
    errors: Vec<FieldError>,
    /// Turns the paths the checks speak in (`nodes[3].router_id`) into where
    /// that value sits in a file of another format, so a containerlab file's
    /// errors name its own keys. `None` for native files.
    rename: Option<Rename<'l>>,
}

impl<'l> Sink<'l> {
    pub(super) fn new(lines: &'l Lines) -> Self {
        Sink {
            lines,
            errors: Vec::new(),
            rename: None,
        }
    }

    /// From now on, every path given to `error` and `place` goes through
    /// `rename` first (a decoder of another format installs it before the
    /// shared checks run).
    pub(super) fn rename_paths(&mut self, rename: impl Fn(&str) -> String + 'l) {
        self.rename = Some(Box::new(rename));
    }

    fn renamed(&self, path: &str) -> String {
        match &self.rename {
            Some(rename) => rename(path),
            None => path.to_string(),
        }
    }

    pub(super) fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = self.renamed(&field.into());
        self.errors.push(FieldError {
            line: self.lines.line_of(&field),
            field,
            message: message.into(),
        });
    }

    pub(super) fn error_count(&self) -> usize {
        self.errors.len()
    }

    pub(super) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Names another place in the file for messages like "already used by …".
    pub(super) fn place(&self, path: &str) -> String {
        let path = self.renamed(path);
        match self.lines.line_of(&path) {
            Some(line) => format!("{path} (line {line})"),
            None => path,
        }
    }

    /// The errors in file order; checks run pass by pass, readers read top
    /// to bottom. The sort is stable, so errors on one line keep check order.
    pub(super) fn into_errors(mut self) -> Vec<FieldError> {
        self.errors.sort_by_key(|e| e.line.unwrap_or(0));
        self.errors
    }
}
