//! Typed API errors: every error leaves the server with a machine-readable
//! `extensions.code`. Internal details are logged, never sent.
//!
//! `ApiError` deliberately does not implement `Display`, so the only way into
//! an `async_graphql::Error` is the `From` below, which sets the code.

use async_graphql::ErrorExtensions;

use crate::auth::AuthError;
use crate::domain::identity::FieldError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    Unauthenticated(String),
    Forbidden(String),
    /// Also the answer for ids of other organizations: no existence leak.
    NotFound(String),
    Validation {
        field: String,
        message: String,
    },
    Conflict(String),
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot take it now (full disk, read-only, gone);
    /// retrying after `retry_after_secs` may succeed.
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    Internal,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Validation { .. } => "VALIDATION",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::Unavailable { .. } => "UNAVAILABLE",
            ApiError::Internal => "INTERNAL",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m) => m.clone(),
            ApiError::Validation { field, message } => format!("{field} {message}"),
            ApiError::RateLimited { message, .. } | ApiError::Unavailable { message, .. } => {
                message.clone()
            }
            ApiError::Internal => "internal error: the server log has the details".to_owned(),
        }
    }

    pub fn validation(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::NotFound(format!("{what} not found"))
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        async_graphql::Error::new(e.message()).extend_with(|_, ext| {
            ext.set("code", e.code());
            match &e {
                ApiError::Validation { field, .. } => ext.set("field", field.as_str()),
                ApiError::RateLimited {
                    retry_after_secs, ..
                }
                | ApiError::Unavailable {
                    retry_after_secs, ..
                } => ext.set("retryAfterSeconds", *retry_after_secs),
                _ => {}
            }
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(what) => ApiError::Conflict(format!("{what} already exists")),
            // The center changed hands while this was under way: the new
            // owner has it in a moment.
            StoreError::LeaseLost(m) => {
                tracing::warn!("a write refused by the lease fence: {m}");
                ApiError::Unavailable {
                    message: "the contact center is moving to another server; try again shortly"
                        .into(),
                    retry_after_secs: 2,
                }
            }
            other if other.outage().is_some() => {
                let cause = other.outage().unwrap_or(crate::store::Outage::Gone);
                tracing::error!(error = %other, "the database is unavailable");
                ApiError::Unavailable {
                    message: format!("the database is unavailable ({cause}); try again shortly"),
                    retry_after_secs: cause.retry_after_secs(),
                }
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::Internal
            }
        }
    }
}

impl From<crate::dialer::engine::EngineError> for ApiError {
    fn from(e: crate::dialer::engine::EngineError) -> Self {
        use crate::dialer::engine::EngineError as E;
        match e {
            E::Conflict(m) => ApiError::Conflict(m),
            E::NotFound(what) => ApiError::not_found(what),
            E::Validation { field, message } => ApiError::Validation {
                field: field.to_owned(),
                message,
            },
            E::Store(s) => s.into(),
            E::Unavailable { cause, message } => ApiError::Unavailable {
                message,
                retry_after_secs: cause.retry_after_secs(),
            },
            E::NotHere { .. } => ApiError::Unavailable {
                message: "this contact center is run by another server just now; try again shortly"
                    .into(),
                retry_after_secs: 2,
            },
            E::Stopped => {
                tracing::error!("the dialer engine has stopped");
                ApiError::Internal
            }
        }
    }
}

impl From<crate::auth::password::PasswordError> for ApiError {
    fn from(e: crate::auth::password::PasswordError) -> Self {
        use crate::auth::password::PasswordError as P;
        match e {
            P::Busy(secs) => ApiError::Unavailable {
                message: format!("too many sign-ins at once: try again in {secs} s"),
                retry_after_secs: secs,
            },
            P::Hash(m) => {
                tracing::error!(error = %m, "hashing a password");
                ApiError::Internal
            }
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation {
            field: e.field.to_owned(),
            message: e.message,
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(m) => ApiError::Unauthenticated(m.to_owned()),
            AuthError::Store(s) => s.into(),
        }
    }
}

/// Errors that async-graphql raises itself (parse errors, depth and
/// complexity limits, bad variables) get a code too: `VALIDATION`.
pub fn code_untyped_errors(mut response: async_graphql::Response) -> async_graphql::Response {
    for err in &mut response.errors {
        let has_code = err
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            err.extensions
                .get_or_insert_with(Default::default)
                .set("code", "VALIDATION");
        }
    }
    response
}
