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

use crate::plan::error::PlanError;
pub use crate::plan::error::{quote, Quoted, QUOTED_CHARS};

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Invalid { field, reason } => ApiError::Invalid { field, reason },
            PlanError::NotFound { field, what } => ApiError::NotFound { field, what },
            PlanError::AlreadyExists(m) => ApiError::AlreadyExists(m),
            PlanError::Precondition(m) => ApiError::Precondition(m),
            PlanError::Aborted(m) => ApiError::Aborted(m),
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
