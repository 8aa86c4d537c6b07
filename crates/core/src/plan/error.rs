//! Why a plan cannot be made: what the caller asked is malformed, names
//! something that does not exist, clashes with what exists, cannot be met on
//! the fabric as it is, or races another change. The daemon maps these onto
//! gRPC status codes (and adds its own for devices and the disk).

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A field is malformed or out of range; `field` is its path in the request.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// A referenced object does not exist.
    #[error("{field}: {what} not found")]
    NotFound { field: String, what: String },
    #[error("{0}")]
    AlreadyExists(String),
    /// Valid, but cannot be met now (no path, no spectrum, bound, OSNR, in use).
    #[error("{0}")]
    Precondition(String),
    /// Another change of the same object is in progress, or the caller's
    /// revision is stale.
    #[error("{0}")]
    Aborted(String),
}

pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> PlanError {
    PlanError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

pub fn not_found(field: impl Into<String>, what: impl Into<String>) -> PlanError {
    PlanError::NotFound {
        field: field.into(),
        what: what.into(),
    }
}

pub fn precondition(reason: impl Into<String>) -> PlanError {
    PlanError::Precondition(reason.into())
}

/// How many characters of caller input an error message repeats: enough to
/// recognise the value, never enough to turn a 4 MB name into a 4 MB status.
pub const QUOTED_CHARS: usize = 48;

/// Quotes caller input for an error message: Debug-escaped, and cut after
/// [`QUOTED_CHARS`] characters with the full length said, so a hostile or
/// mistaken value cannot inflate the status (or the log line) it produces.
pub fn quote(value: &str) -> Quoted<'_> {
    Quoted(value)
}

pub struct Quoted<'a>(&'a str);

impl std::fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.char_indices().nth(QUOTED_CHARS) {
            None => write!(f, "{:?}", self.0),
            Some((cut, _)) => write!(f, "{:?}…({} bytes)", &self.0[..cut], self.0.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole() {
        assert_eq!(quote("pe1").to_string(), "\"pe1\"");
        assert_eq!(quote("a\"b\n").to_string(), "\"a\\\"b\\n\"");
    }

    #[test]
    fn long_input_is_cut_on_a_character_boundary_and_its_length_said() {
        let long = "é".repeat(10_000);
        let q = quote(&long).to_string();
        assert!(q.len() < 200, "{q}");
        assert!(q.ends_with("…(20000 bytes)"), "{q}");
        assert_eq!(q.matches('é').count(), QUOTED_CHARS);
    }
}
