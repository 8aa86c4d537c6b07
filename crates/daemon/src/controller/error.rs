//! Why a northbound request failed, mapped onto gRPC status codes.

use crate::southbound::SouthboundError;

use super::programmer::ApplyError;
use crate::plan::error::PlanError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be planned: malformed, unknown, clashing, not
    /// feasible now, or racing another change (the planning core's answer).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A device could not be reached or refused; nothing was changed.
    #[error("{0}")]
    Device(String),
    /// The journal could not make the change durable; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
}

pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
    crate::plan::error::invalid(field, reason).into()
}

pub fn not_found(field: impl Into<String>, what: impl Into<String>) -> ApiError {
    crate::plan::error::not_found(field, what).into()
}

pub fn precondition(reason: impl Into<String>) -> ApiError {
    crate::plan::error::precondition(reason).into()
}

/// Another change of the same object is in progress, or the caller's view is
/// stale: read again and retry.
pub fn aborted(reason: impl Into<String>) -> ApiError {
    PlanError::Aborted(reason.into()).into()
}

pub use crate::plan::error::{quote, Quoted, QUOTED_CHARS};

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
            ApiError::Plan(PlanError::Invalid { .. }) => tonic::Status::invalid_argument(msg),
            ApiError::Plan(PlanError::NotFound { .. }) => tonic::Status::not_found(msg),
            ApiError::Plan(PlanError::AlreadyExists(_)) => tonic::Status::already_exists(msg),
            ApiError::Plan(PlanError::Precondition(_)) => tonic::Status::failed_precondition(msg),
            ApiError::Plan(PlanError::Aborted(_)) => tonic::Status::aborted(msg),
            ApiError::Device(_) | ApiError::Unavailable(_) => tonic::Status::unavailable(msg),
        }
    }
}

impl From<SouthboundError> for ApiError {
    fn from(e: SouthboundError) -> Self {
        ApiError::Device(e.to_string())
    }
}
