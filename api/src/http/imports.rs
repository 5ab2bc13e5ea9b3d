//! CSV uploads of leads: `POST /imports/leads?campaignId=…` with the file
//! as the body. The caller is checked first; the body is then written to a
//! spool file as it arrives (bounded in size and pace, never whole in
//! memory), its header checked, and the file imported as a job in the
//! background, batch by batch; `importJob(id)` and the `importProgress`
//! subscription follow it. Lists (`/imports/list`) are read the same way.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::graphql::caller_from_headers;
use super::{HttpState, api_error};
use crate::domain::identity::Role;
use crate::graphql::Caller;
use crate::graphql::campaign_api::load_campaign;
use crate::graphql::error::ApiError;
use crate::import::{CsvMapping, LeadsCsv, Spooled};
use crate::store::{self, imports::ImportJob};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadParams {
    campaign_id: String,
    file_name: Option<String>,
    phone_column: Option<String>,
    first_name_column: Option<String>,
    last_name_column: Option<String>,
    time_zone_column: Option<String>,
    region_column: Option<String>,
}

fn json_error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"code": code, "message": message})),
    )
        .into_response()
}

fn too_large(limit: usize) -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "VALIDATION",
        format!(
            "the file is larger than the {} MB limit: split it into smaller files",
            limit / (1024 * 1024)
        ),
    )
}

/// Why an upload was not spooled.
enum SpoolError {
    TooLarge,
    TooSlow,
    Broken,
    Disk(std::io::Error),
}

/// Write `body` to a new spool file: at most `max` bytes (a larger
/// declared length is refused before reading), each chunk within `idle`.
async fn spool(app: &crate::app::App, body: Body, max: usize) -> Result<Spooled, SpoolError> {
    use http_body::Body as _;
    use tokio::io::AsyncWriteExt;
    if body.size_hint().lower() > max as u64 {
        return Err(SpoolError::TooLarge);
    }
    let spooled = Spooled::new_in(&app.config.data_dir).map_err(SpoolError::Disk)?;
    let mut file = tokio::fs::File::create(&spooled.path)
        .await
        .map_err(SpoolError::Disk)?;
    let idle = app.config.timeouts.body_read;
    let mut chunks = body.into_data_stream();
    let mut written = 0usize;
    loop {
        let chunk = match tokio::time::timeout(idle, futures::StreamExt::next(&mut chunks)).await {
            Err(_) => return Err(SpoolError::TooSlow),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(SpoolError::Broken),
            Ok(Some(Ok(c))) => c,
        };
        written += chunk.len();
        if written > max {
            return Err(SpoolError::TooLarge);
        }
        file.write_all(&chunk).await.map_err(SpoolError::Disk)?;
    }
    file.flush().await.map_err(SpoolError::Disk)?;
    Ok(spooled)
}

/// The answer to an upload not received whole; the connection closes
/// after it (what is left of the body is never read).
fn spool_error(e: SpoolError, limit: usize) -> Response {
    let mut r = spool_answer(e, limit);
    r.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    r
}

fn spool_answer(e: SpoolError, limit: usize) -> Response {
    match e {
        SpoolError::TooLarge => too_large(limit),
        SpoolError::TooSlow => json_error(
            StatusCode::REQUEST_TIMEOUT,
            "VALIDATION",
            "the upload stalled: no data arrived for too long".into(),
        ),
        SpoolError::Broken => json_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            "the upload was cut off".into(),
        ),
        SpoolError::Disk(e) => {
            tracing::error!(error = %e, "spooling an upload");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                format!("the server could not store the upload ({e}): try again later"),
            )
        }
    }
}

/// The caller, who must be a supervisor (or admin).
async fn supervisor(
    state: &HttpState,
    headers: &HeaderMap,
) -> Result<crate::auth::Actor, ApiError> {
    let actor = match caller_from_headers(&state.app, headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => return Err(ApiError::Unauthenticated("send a bearer token".into())),
        Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
    };
    crate::graphql::access_require_role(&actor, Role::Supervisor)?;
    Ok(actor)
}

/// An upload's caller (a supervisor, checked before a byte of the file is
/// stored) and its spooled body; the answer to send when refused.
async fn receive(
    state: &HttpState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(crate::auth::Actor, Spooled), Response> {
    let limit = state.app.config.max_upload_bytes;
    let actor = supervisor(state, headers).await.map_err(api_error)?;
    let spooled = spool(&state.app, body, limit)
        .await
        .map_err(|e| spool_error(e, limit))?;
    Ok((actor, spooled))
}

/// Open a spooled CSV for reading (its first pass runs here, off the async
/// threads).
async fn open_csv(
    spooled: &Spooled,
    mapping: CsvMapping,
) -> Result<LeadsCsv<std::io::BufReader<std::fs::File>>, ApiError> {
    let file = spooled.open().map_err(|e| {
        tracing::error!(error = %e, path = %spooled.path.display(), "reopening an upload");
        ApiError::Internal
    })?;
    tokio::task::spawn_blocking(move || LeadsCsv::open(std::io::BufReader::new(file), &mapping))
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(|e| ApiError::validation("file", e.to_string()))
}

pub async fn upload_leads(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<UploadParams>,
    body: Body,
) -> Response {
    let (actor, spooled) = match receive(&state, &headers, body).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    match start(&state, actor, params, spooled).await {
        Ok(job) => (
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"jobId": job.id, "totalRows": job.total_rows})),
        )
            .into_response(),
        Err(e) => api_error(e),
    }
}

async fn start(
    state: &HttpState,
    actor: crate::auth::Actor,
    p: UploadParams,
    spooled: Spooled,
) -> Result<ImportJob, ApiError> {
    let campaign = load_campaign(&state.app, &actor, &p.campaign_id).await?;
    crate::domain::campaign::check_open(campaign.state, "takes no new leads")
        .map_err(ApiError::Conflict)?;
    let cc = store::contact_centers::get(&state.app.db, &campaign.row.contact_center_id)
        .await?
        .ok_or(ApiError::Internal)?;
    let mapping = CsvMapping {
        phone: p.phone_column,
        first_name: p.first_name_column,
        last_name: p.last_name_column,
        time_zone: p.time_zone_column,
        region: p.region_column,
    };
    let csv = open_csv(&spooled, mapping.clone()).await?;
    let total = csv.total_rows;
    let job = ImportJob::running(
        &actor.organization_id,
        &campaign.row.id,
        actor.user_id(),
        p.file_name.as_deref().unwrap_or("upload.csv"),
        total,
    );
    store::imports::insert(&state.app.db, &job, &state.app.instance).await?;
    state.app.import_jobs().launch(
        job.clone(),
        campaign.row,
        cc.default_region,
        &mapping,
        csv,
        spooled,
    );
    Ok(job)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListUploadParams {
    /// DO_NOT_CALL, DO_NOT_TEXT or INVALID.
    list: String,
    /// Used for rows without a `reason` column value.
    reason: Option<String>,
    /// For INVALID: WRONG_NUMBER, DISCONNECTED or OTHER (default OTHER).
    invalid_reason: Option<String>,
    phone_column: Option<String>,
    default_region: Option<String>,
}

/// The `list` parameter of the list import and export, by its GraphQL name.
pub(super) fn list_param(name: &str) -> Result<crate::store::lists::List, ApiError> {
    use crate::store::lists::List;
    match name {
        "DO_NOT_CALL" => Ok(List::DoNotCall),
        "DO_NOT_TEXT" => Ok(List::DoNotText),
        "INVALID" => Ok(List::Invalid),
        _ => Err(ApiError::validation(
            "list",
            "must be DO_NOT_CALL, DO_NOT_TEXT or INVALID",
        )),
    }
}

/// `POST /imports/list?list=DO_NOT_CALL&reason=…` with a CSV body (a phone
/// column, optionally a reason column): every row gets a result.
pub async fn upload_list(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<ListUploadParams>,
    body: Body,
) -> Response {
    let (actor, spooled) = match receive(&state, &headers, body).await {
        Ok(r) => r,
        Err(refused) => return refused,
    };
    match import_list(&state, actor, params, spooled).await {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => api_error(e),
    }
}

async fn import_list(
    state: &HttpState,
    actor: crate::auth::Actor,
    p: ListUploadParams,
    spooled: Spooled,
) -> Result<serde_json::Value, ApiError> {
    use crate::domain::{identity, phone};
    use crate::store::lists;
    let list = list_param(&p.list)?;
    let invalid_kind = match p.invalid_reason.as_deref() {
        None => None,
        Some(k @ ("WRONG_NUMBER" | "DISCONNECTED" | "OTHER")) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::validation(
                "invalidReason",
                "must be WRONG_NUMBER, DISCONNECTED or OTHER",
            ));
        }
    };
    let region = identity::normalize_region(p.default_region.as_deref().unwrap_or("US"))?;
    let default_reason = p.reason.unwrap_or_else(|| "imported".into());
    let mapping = CsvMapping {
        phone: p.phone_column,
        ..Default::default()
    };
    let mut csv = Some(open_csv(&spooled, mapping).await?);
    let row = |index: usize, phone: &str, code: &str, message: String| serde_json::json!({"index": index, "phone": phone, "code": code, "message": message});
    let mut rejected: Vec<serde_json::Value> = Vec::new();
    let (mut added, mut already) = (0u64, 0u64);
    while let Some(reader) = csv.take() {
        let (reader, (rows, refused)) = tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            let batch = reader.next_batch(crate::import::CSV_BATCH);
            (reader, batch)
        })
        .await
        .map_err(|_| ApiError::Internal)?;
        if rows.is_empty() && refused.is_empty() {
            break;
        }
        csv = Some(reader);
        rejected.extend(
            refused
                .iter()
                .map(|r| row(r.index, &r.phone, r.code.as_str(), r.message.clone())),
        );
        for r in &rows {
            let e164 = match phone::normalize(&r.lead.phone, &region) {
                Ok(p) => p,
                Err(e) => {
                    rejected.push(row(
                        r.index,
                        &r.lead.phone,
                        "BAD_NUMBER",
                        format!("phone {e}"),
                    ));
                    continue;
                }
            };
            let reason = r
                .lead
                .custom_properties
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("reason"))
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default_reason.clone());
            let entry = store::audit::entry(
                &actor.organization_id,
                Some(actor.audit_id()),
                "list.add",
                &e164,
                format!("{} (import): {reason}", list.as_str()),
            );
            let new = lists::NewEntry {
                organization_id: &actor.organization_id,
                phone: &e164,
                invalid_kind: invalid_kind.as_deref(),
                source: "IMPORT",
                reason: &reason,
                created_by: actor.user_id(),
            };
            if lists::add(&state.app.db, list, &new, entry).await? {
                added += 1;
            } else {
                already += 1;
            }
        }
    }
    rejected.sort_by_key(|r| r["index"].as_u64());
    Ok(serde_json::json!({"added": added, "alreadyListed": already, "rejected": rejected}))
}
