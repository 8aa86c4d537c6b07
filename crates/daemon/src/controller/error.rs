//! Why a northbound request failed, mapped onto gRPC status codes.

use crate::southbound::SouthboundError;

use super::programmer::ApplyError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
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
    /// Optimistic concurrency: the caller's revision is stale.
    #[error("{0}")]
    Aborted(String),
    /// A device could not be reached or refused; nothing was changed.
    #[error("{0}")]
    Device(String),
    /// The journal could not make the change durable; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
}

pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

pub fn not_found(field: impl Into<String>, what: impl Into<String>) -> ApiError {
    ApiError::NotFound {
        field: field.into(),
        what: what.into(),
    }
}

pub fn precondition(reason: impl Into<String>) -> ApiError {
    ApiError::Precondition(reason.into())
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

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> Self {
        let mut msg = format!(
            "programming {} failed, nothing was changed: {}",
            e.device, e.error
        );
        if !e.rollback_failed.is_empty() {
            msg.push_str(&format!(
                " (rollback also failed on {:?}; reconciliation will repair them)",
                e.rollback_failed
            ));
        }
        ApiError::Device(msg)
    }
}

impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> Self {
        let msg = e.to_string();
        match e {
            ApiError::Invalid { .. } => tonic::Status::invalid_argument(msg),
            ApiError::NotFound { .. } => tonic::Status::not_found(msg),
            ApiError::AlreadyExists(_) => tonic::Status::already_exists(msg),
            ApiError::Precondition(_) => tonic::Status::failed_precondition(msg),
            ApiError::Aborted(_) => tonic::Status::aborted(msg),
            ApiError::Device(_) | ApiError::Unavailable(_) => tonic::Status::unavailable(msg),
        }
    }
}

impl From<SouthboundError> for ApiError {
    fn from(e: SouthboundError) -> Self {
        ApiError::Device(e.to_string())
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
