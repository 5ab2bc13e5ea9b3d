//! `GET /recordings/{callId}`: a call's recording as 16-bit PCM WAV, with
//! byte ranges (an audio element seeks with them). Supervisors of the
//! call's contact center and admins (and API tokens) may listen; a call
//! of another organization, one the caller may not see, or one without a
//! recording is 404. Every listen (a request from the first byte) and
//! every download is written to the audit log.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::graphql::caller_from_headers;
use super::{HttpState, api_error};
use crate::domain::identity::Role;
use crate::graphql::Caller;
use crate::graphql::error::ApiError;
use crate::recording::blobs::{BlobError, served_range};
use crate::store;

/// At most this much is sent per request (a player asks again).
const MAX_CHUNK: u64 = 4 * 1024 * 1024;

/// A `Range: bytes=…` header over a file of `len` bytes: the one range
/// asked for, `Err` when it cannot be satisfied, `None` without one (or
/// one this server does not serve: several ranges, another unit — the
/// whole file is sent, as RFC 9110 allows).
fn range(headers: &HeaderMap, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = spec.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let parsed = match (a.is_empty(), b.is_empty()) {
        // The last `b` bytes.
        (true, false) => {
            let n: u64 = b.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            Ok((len.saturating_sub(n), len))
        }
        (false, _) => {
            let start: u64 = a.parse().ok()?;
            let end = if b.is_empty() {
                len
            } else {
                let last: u64 = b.parse().ok()?;
                if last < start {
                    return None;
                }
                last.saturating_add(1).min(len)
            };
            if start >= len {
                Err(())
            } else {
                Ok((start, end))
            }
        }
        (true, true) => return None,
    };
    Some(parsed)
}

pub async fn recording(
    State(state): State<HttpState>,
    Path(call_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let app = &state.app;
    let actor = match caller_from_headers(app, &headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => {
            return api_error(ApiError::Unauthenticated("send a bearer token".into()));
        }
        Caller::Refused(reason) => return api_error(ApiError::Unauthenticated(reason)),
    };
    if let Err(e) = crate::graphql::access_require_role(&actor, Role::Supervisor) {
        return api_error(e);
    }
    let call = match crate::graphql::dialer_api::load_call(app, &actor, &call_id).await {
        Ok(c) => c,
        Err(e) => return api_error(e),
    };
    let rec = match store::recordings::get(&app.db, &call.id).await {
        Ok(Some(r)) if r.state != "DELETED" => r,
        Ok(_) => return api_error(ApiError::not_found("recording")),
        Err(e) => return api_error(e.into()),
    };
    let blobs = app.recordings();
    // The served file's length first (a range is checked against it).
    let len = match served_range(blobs.as_ref(), &rec.blob_key, 0, 0).await {
        Ok((_, len)) => len,
        Err(BlobError::Missing(_)) => return api_error(ApiError::not_found("recording")),
        Err(e) => {
            tracing::error!(call = %call.id, "reading a recording: {e}");
            return api_error(ApiError::Internal);
        }
    };
    let asked = range(&headers, len);
    let (start, end, partial) = match asked {
        Some(Err(())) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
        Some(Ok((s, e))) => (s, e.min(s + MAX_CHUNK), true),
        None => (0, len, false),
    };
    if start == 0 {
        let what = if partial {
            "recording.listen"
        } else {
            "recording.download"
        };
        let entry = store::audit::entry(
            &actor.organization_id,
            Some(actor.audit_id()),
            what,
            &call.id,
            format!("{} bytes of {len}", end - start),
        );
        if let Err(e) = store::recordings::audit_access(&app.db, &entry).await {
            // Not audited, not served.
            return api_error(e.into());
        }
    }
    let bytes = match served_range(blobs.as_ref(), &rec.blob_key, start, end).await {
        Ok((b, _)) => b,
        Err(e) => {
            tracing::error!(call = %call.id, "reading a recording: {e}");
            return api_error(ApiError::Internal);
        }
    };
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if partial && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
        h.insert(header::CONTENT_RANGE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(v: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).expect("value"));
        range(&h, len)
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(range(&HeaderMap::new(), 100), None);
        assert_eq!(asked("bytes=0-9", 100), Some(Ok((0, 10))));
        assert_eq!(asked("bytes=90-", 100), Some(Ok((90, 100))));
        assert_eq!(asked("bytes=90-500", 100), Some(Ok((90, 100))));
        assert_eq!(asked("bytes=-10", 100), Some(Ok((90, 100))));
        assert_eq!(asked("bytes=-500", 100), Some(Ok((0, 100))));
        assert_eq!(asked("bytes=100-", 100), Some(Err(())));
        assert_eq!(asked("bytes=-0", 100), Some(Err(())));
        // Served whole: several ranges, another unit, nonsense.
        assert_eq!(asked("bytes=0-1,5-6", 100), None);
        assert_eq!(asked("items=0-1", 100), None);
        assert_eq!(asked("bytes=x-y", 100), None);
        assert_eq!(asked("bytes=9-3", 100), None);
        assert_eq!(asked("bytes=-", 100), None);
    }
}
