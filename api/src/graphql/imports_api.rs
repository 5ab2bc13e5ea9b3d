//! CSV import jobs over GraphQL: `importJob(id)`, and the shared loader
//! used by the `importProgress` subscription.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::auth::Actor;
use crate::domain::identity::Role;
use crate::store::{self, imports};

use super::access::require_role;
use super::campaign_api::{RowResult, load_campaign};
use super::error::{ApiError, ApiResult};
use super::{actor, app};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ImportState {
    Running,
    Done,
    Failed,
}

/// A CSV upload being imported, with its per-row report.
#[derive(Clone)]
pub struct ImportJob(pub imports::ImportJob);

#[Object]
impl ImportJob {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn campaign_id(&self) -> ID {
        ID(self.0.campaign_id.clone())
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn state(&self) -> ImportState {
        match self.0.state.as_str() {
            "DONE" => ImportState::Done,
            "FAILED" => ImportState::Failed,
            _ => ImportState::Running,
        }
    }
    /// Data rows in the file (blank lines not counted).
    async fn total_rows(&self) -> i32 {
        self.0.total_rows
    }
    async fn processed_rows(&self) -> i32 {
        self.0.processed_rows
    }
    /// 0–100.
    async fn percent(&self) -> f64 {
        if self.0.total_rows == 0 {
            100.0
        } else {
            (f64::from(self.0.processed_rows) * 100.0 / f64::from(self.0.total_rows)).min(100.0)
        }
    }
    async fn added(&self) -> i32 {
        self.0.added
    }
    async fn merged(&self) -> i32 {
        self.0.merged
    }
    async fn rejected(&self) -> i32 {
        self.0.rejected
    }
    async fn warned(&self) -> i32 {
        self.0.warned
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at.map(|t| t.and_utc())
    }
    /// Every refused or flagged row, by index (complete once the job is
    /// DONE). `index` counts data rows from 0.
    async fn report(&self, first: Option<i32>, offset: Option<i32>) -> ApiResult<Vec<RowResult>> {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&self.0.report).map_err(|_| ApiError::Internal)?;
        let skip = usize::try_from(offset.unwrap_or(0).max(0)).unwrap_or(0);
        let take = usize::try_from(first.unwrap_or(1_000).clamp(1, 10_000)).unwrap_or(1_000);
        Ok(rows
            .into_iter()
            .skip(skip)
            .take(take)
            .map(|r| RowResult {
                index: r["index"]
                    .as_i64()
                    .and_then(|i| i32::try_from(i).ok())
                    .unwrap_or(-1),
                phone: r["phone"].as_str().unwrap_or("").to_owned(),
                code: r["code"].as_str().unwrap_or("").to_owned(),
                message: r["message"].as_str().unwrap_or("").to_owned(),
            })
            .collect())
    }
}

/// The job, if the caller may see its campaign; otherwise `NOT_FOUND`.
pub async fn load_job(app: &App, actor: &Actor, id: &str) -> ApiResult<ImportJob> {
    require_role(actor, Role::Supervisor)?;
    let job = store::imports::get(&app.db, id)
        .await?
        .filter(|j| j.organization_id == actor.organization_id)
        .ok_or_else(|| ApiError::not_found("import job"))?;
    load_campaign(app, actor, &job.campaign_id)
        .await
        .map_err(|_| ApiError::not_found("import job"))?;
    Ok(ImportJob(job))
}

#[derive(Default)]
pub struct ImportsQuery;

#[Object]
impl ImportsQuery {
    /// A CSV import (start one with `POST /imports/leads`).
    async fn import_job(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ImportJob> {
        load_job(app(ctx), actor(ctx)?, &id).await
    }
}
