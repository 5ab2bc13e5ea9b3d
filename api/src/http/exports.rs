//! CSV exports over plain HTTP (for spreadsheets and auditors), with the
//! same bearer-token auth and access rules as the GraphQL API.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::HttpState;
use super::graphql::caller_from_headers;
use crate::domain::identity::Role;
use crate::graphql::Caller;
use crate::graphql::campaign_api::load_campaign;
use crate::graphql::error::ApiError;
use crate::store;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailParams {
    campaign_id: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn error(e: ApiError) -> Response {
    let status = match e.code() {
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        axum::Json(serde_json::json!({"code": e.code(), "message": e.message()})),
    )
        .into_response()
}

/// `GET /exports/compliance-trail.csv?campaignId=…&from=…&to=…`
pub async fn compliance_trail_csv(
    State(state): State<HttpState>,
    headers: HeaderMap,
    Query(params): Query<TrailParams>,
) -> Response {
    match trail_csv(&state, &headers, &params).await {
        Ok((name, body)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response(),
        Err(e) => error(e),
    }
}

async fn trail_csv(
    state: &HttpState,
    headers: &HeaderMap,
    p: &TrailParams,
) -> Result<(String, Vec<u8>), ApiError> {
    let actor = match caller_from_headers(&state.app, headers).await {
        Caller::Actor(a) => a,
        Caller::Anonymous => return Err(ApiError::Unauthenticated("send a bearer token".into())),
        Caller::Refused(reason) => return Err(ApiError::Unauthenticated(reason)),
    };
    crate::graphql::access_require_role(&actor, Role::Supervisor)?;
    let campaign = load_campaign(&state.app, &actor, &p.campaign_id).await?;
    if p.to <= p.from {
        return Err(ApiError::validation("to", "must be after from"));
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let header = [
        "at",
        "campaign_id",
        "lead_id",
        "phone",
        "verdict",
        "allowed",
        "time_zone",
        "local_time",
        "attempts",
        "attempts_today",
        "dnc",
        "invalid",
        "facts",
    ];
    out.write_record(header).map_err(|_| ApiError::Internal)?;
    let mut after: Option<String> = None;
    loop {
        let page = store::trail::list(
            &state.app.db,
            &campaign.row.id,
            p.from.naive_utc(),
            p.to.naive_utc(),
            after.as_deref(),
            1_000,
        )
        .await?;
        for e in &page.items {
            let facts: serde_json::Value = serde_json::from_str(&e.facts).unwrap_or_default();
            let field = |k: &str| match &facts[k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.write_record([
                e.at.and_utc().to_rfc3339(),
                e.campaign_id.clone(),
                e.lead_id.clone(),
                e.phone.clone(),
                e.verdict.clone(),
                e.allowed.to_string(),
                field("timeZone"),
                field("localTime"),
                field("attempts"),
                field("attemptsToday"),
                field("dnc"),
                field("invalid"),
                e.facts.clone(),
            ])
            .map_err(|_| ApiError::Internal)?;
        }
        after = page.items.last().map(|e| e.id.clone());
        if !page.has_next {
            break;
        }
    }
    let body = out.into_inner().map_err(|_| ApiError::Internal)?;
    Ok((format!("compliance-trail-{}.csv", campaign.row.id), body))
}
