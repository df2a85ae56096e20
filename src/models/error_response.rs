//! The body of every error the Bank API sends.

use serde::{Deserialize, Serialize};

/// `{"status": 400, "error_message": "…", "message_code": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// HTTP status, repeated.
    pub status: u16,
    /// What went wrong, for people.
    pub error_message: String,
    /// A stable code for programs (`invalid_parameter`, `not_found`, …).
    pub message_code: String,
}
