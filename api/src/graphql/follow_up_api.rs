//! Follow-up rules (supervisors, per campaign) and webhook endpoints with
//! their delivery history (admins).

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::access::require_role;
use super::campaign_api::load_campaign;
use super::campaign_types::DispositionCategory;
use super::error::{ApiError, ApiResult};
use super::{actor, app};
use crate::app::App;
use crate::auth::Actor;
use crate::dialer::engine::rule_of;
use crate::domain::follow_up::{self, ActionKind};
use crate::domain::identity::Role as DomainRole;
use crate::store::{self, audit, follow_ups::Endpoint, follow_ups::RuleRow, outbox};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::follow_up::ActionKind")]
pub enum FollowUpAction {
    /// Dial the lead again after `delayMinutes`.
    Retry,
    /// A callback (any agent) after `delayMinutes`, inside the lead's window.
    Callback,
    /// Move the lead to `targetCampaignId`.
    Move,
    /// Copy the lead to `targetCampaignId`.
    Copy,
    /// Send the wrap-up to `endpointId`.
    Webhook,
}

/// "When the disposition is X (or its category is Y) → do Z."
pub struct FollowUpRule(pub RuleRow);

#[Object]
impl FollowUpRule {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn campaign_id(&self) -> ID {
        ID(self.0.campaign_id.clone())
    }
    /// Rules are considered in this order.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Matches this disposition (null: any).
    async fn disposition_code(&self) -> Option<&str> {
        self.0.disposition_code.as_deref()
    }
    /// Matches dispositions of this category (null: any).
    async fn category(&self) -> Option<DispositionCategory> {
        self.0
            .category
            .as_deref()
            .and_then(crate::domain::campaign::DispositionCategory::parse)
            .map(Into::into)
    }
    async fn action(&self) -> Option<FollowUpAction> {
        ActionKind::parse(&self.0.action).map(Into::into)
    }
    async fn delay_minutes(&self) -> Option<i32> {
        self.0.delay_minutes
    }
    async fn target_campaign_id(&self) -> Option<ID> {
        self.0.target_campaign_id.clone().map(ID)
    }
    async fn endpoint_id(&self) -> Option<ID> {
        self.0.endpoint_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
}

/// Where webhooks go. The secret is shown once, when created or rotated.
pub struct WebhookEndpoint(pub Endpoint);

#[derive(SimpleObject)]
pub struct WebhookAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status (null: no answer).
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// One webhook owed: its id is the `Webhook-Id` header of every attempt.
pub struct WebhookMessage(pub outbox::OutboxRow);

#[Object]
impl WebhookMessage {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn event(&self) -> &str {
        &self.0.event
    }
    /// The JSON body, as sent.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at.map(|t| t.and_utc())
    }
    /// When the next attempt is due (null once delivered).
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        match self.0.delivered_at {
            Some(_) => None,
            None => Some(self.0.next_attempt_at.and_utc()),
        }
    }
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Every attempt, first first.
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookAttempt>> {
        Ok(outbox::deliveries_of(&app(ctx).db, &self.0.id)
            .await?
            .into_iter()
            .map(|d| WebhookAttempt {
                attempt: d.attempt,
                at: d.at.and_utc(),
                status_code: d.status_code,
                error: d.error,
                duration_ms: d.duration_ms,
            })
            .collect())
    }
}

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    /// The latest messages to this endpoint, newest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> ApiResult<Vec<WebhookMessage>> {
        let first = i64::from(first.clamp(1, 200));
        Ok(outbox::of_endpoint(&app(ctx).db, &self.0.id, first)
            .await?
            .into_iter()
            .map(WebhookMessage)
            .collect())
    }
}

#[derive(InputObject)]
pub struct AddFollowUpRuleInput {
    pub campaign_id: ID,
    /// Match this disposition code (omit: any).
    pub disposition_code: Option<String>,
    /// Match this category (omit: any).
    pub category: Option<DispositionCategory>,
    pub action: FollowUpAction,
    /// RETRY and CALLBACK: minutes after the wrap-up (1 – 43 200).
    pub delay_minutes: Option<i32>,
    /// MOVE and COPY: a campaign of the organization.
    pub target_campaign_id: Option<ID>,
    /// WEBHOOK: an endpoint of the organization.
    pub endpoint_id: Option<ID>,
}

#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    pub name: String,
    /// http:// or https://
    pub url: String,
}

#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub id: ID,
    pub name: Option<String>,
    pub url: Option<String>,
    pub active: Option<bool>,
    /// Issue a new signing secret (returned once).
    #[graphql(default)]
    pub rotate_secret: bool,
}

#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    pub endpoint: WebhookEndpoint,
    /// The signing secret: only when created or rotated.
    pub secret: Option<String>,
}

async fn load_endpoint(app: &App, caller: &Actor, id: &str) -> ApiResult<Endpoint> {
    store::follow_ups::endpoint(&app.db, id)
        .await?
        .filter(|e| e.organization_id == caller.organization_id)
        .ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

fn check_url(url: &str) -> ApiResult<String> {
    let url = url.trim();
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2000
        && !url.contains(char::is_whitespace)
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty());
    if ok {
        Ok(url.to_owned())
    } else {
        Err(ApiError::validation(
            "url",
            "must be an http:// or https:// address",
        ))
    }
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

#[derive(Default)]
pub struct FollowUpQuery;

#[Object]
impl FollowUpQuery {
    /// A campaign's follow-up rules in order (supervisors).
    async fn follow_up_rules(
        &self,
        ctx: &Context<'_>,
        campaign_id: ID,
    ) -> ApiResult<Vec<FollowUpRule>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let c = load_campaign(app, caller, &campaign_id).await?;
        Ok(store::follow_ups::rules_of(&app.db, &c.row.id)
            .await?
            .into_iter()
            .map(FollowUpRule)
            .collect())
    }

    /// The organization's webhook endpoints with their messages (admins).
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        Ok(
            store::follow_ups::endpoints_of(&app.db, &caller.organization_id)
                .await?
                .into_iter()
                .map(WebhookEndpoint)
                .collect(),
        )
    }
}

#[derive(Default)]
pub struct FollowUpMutation;

#[Object]
impl FollowUpMutation {
    /// Add a rule after the campaign's last (supervisors; a WEBHOOK rule
    /// names an endpoint an admin created).
    async fn add_follow_up_rule(
        &self,
        ctx: &Context<'_>,
        input: AddFollowUpRuleInput,
    ) -> ApiResult<FollowUpRule> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let c = load_campaign(app, caller, &input.campaign_id).await?;
        let code = input
            .disposition_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(code) = code {
            c.settings
                .disposition(code)
                .map_err(|m| ApiError::validation("dispositionCode", m))?;
        }
        let kind = ActionKind::from(input.action);
        let need = |v: bool, field: &str, what: &str| {
            if v {
                Ok(())
            } else {
                Err(ApiError::validation(
                    field,
                    format!("is required for {what}"),
                ))
            }
        };
        match kind {
            ActionKind::Retry | ActionKind::Callback => {
                need(input.delay_minutes.is_some(), "delayMinutes", kind.as_str())?
            }
            ActionKind::Move | ActionKind::Copy => need(
                input.target_campaign_id.is_some(),
                "targetCampaignId",
                kind.as_str(),
            )?,
            ActionKind::Webhook => need(input.endpoint_id.is_some(), "endpointId", kind.as_str())?,
        }
        let target = match (&input.target_campaign_id, kind) {
            (Some(t), ActionKind::Move | ActionKind::Copy) => Some(
                load_campaign(app, caller, t)
                    .await
                    .map_err(|_| ApiError::validation("targetCampaignId", "no such campaign"))?
                    .row
                    .id,
            ),
            _ => None,
        };
        let endpoint = match (&input.endpoint_id, kind) {
            (Some(e), ActionKind::Webhook) => Some(
                load_endpoint(app, caller, e)
                    .await
                    .map_err(|_| ApiError::validation("endpointId", "no such webhook endpoint"))?
                    .id,
            ),
            _ => None,
        };
        let row = RuleRow {
            id: store::new_id(),
            organization_id: caller.organization_id.clone(),
            campaign_id: c.row.id.clone(),
            position: 0,
            disposition_code: code.map(str::to_owned),
            category: input.category.map(|k| {
                crate::domain::campaign::DispositionCategory::from(k)
                    .as_str()
                    .to_owned()
            }),
            action: kind.as_str().to_owned(),
            delay_minutes: match kind {
                ActionKind::Retry | ActionKind::Callback => input.delay_minutes,
                _ => None,
            },
            target_campaign_id: target,
            endpoint_id: endpoint,
            created_at: Utc::now().naive_utc(),
        };
        let rule = rule_of(&row).ok_or_else(|| {
            ApiError::validation("delayMinutes", "must be a whole number of minutes")
        })?;
        follow_up::validate(&rule, &c.row.id).map_err(|(f, m)| ApiError::validation(f, m))?;
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "follow_up.add",
            &row.id,
            format!("campaign {}: {}", c.row.id, row.action),
        );
        Ok(FollowUpRule(
            store::follow_ups::add_rule(&app.db, row, &entry).await?,
        ))
    }

    /// Remove a rule (supervisors).
    async fn remove_follow_up_rule(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let rule = store::follow_ups::get_rule(&app.db, &id)
            .await?
            .filter(|r| r.organization_id == caller.organization_id)
            .ok_or_else(|| ApiError::not_found("follow-up rule"))?;
        load_campaign(app, caller, &rule.campaign_id)
            .await
            .map_err(|_| ApiError::not_found("follow-up rule"))?;
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "follow_up.remove",
            &rule.id,
            format!("campaign {}: {}", rule.campaign_id, rule.action),
        );
        Ok(store::follow_ups::delete_rule(&app.db, &rule.id, &entry).await?)
    }

    /// A new webhook endpoint and its signing secret (admins).
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let now = Utc::now().naive_utc();
        let e = Endpoint {
            id: store::new_id(),
            organization_id: caller.organization_id.clone(),
            name: check_name(&input.name)?,
            url: check_url(&input.url)?,
            secret: crate::webhooks::new_secret(),
            active: true,
            created_at: now,
            updated_at: now,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "webhook.create",
            &e.id,
            e.url.clone(),
        );
        store::follow_ups::save_endpoint(&app.db, &e, &entry).await?;
        Ok(WebhookEndpointPayload {
            secret: Some(e.secret.clone()),
            endpoint: WebhookEndpoint(e),
        })
    }

    /// Rename, re-point, pause or resume an endpoint, or rotate its secret
    /// (admins).
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let mut e = load_endpoint(app, caller, &input.id).await?;
        if let Some(n) = &input.name {
            e.name = check_name(n)?;
        }
        if let Some(u) = &input.url {
            e.url = check_url(u)?;
        }
        if let Some(a) = input.active {
            e.active = a;
        }
        if input.rotate_secret {
            e.secret = crate::webhooks::new_secret();
        }
        e.updated_at = Utc::now().naive_utc();
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "webhook.update",
            &e.id,
            serde_json::json!({"url": e.url, "active": e.active, "rotated": input.rotate_secret})
                .to_string(),
        );
        store::follow_ups::save_endpoint(&app.db, &e, &entry).await?;
        if e.active && (input.active == Some(true) || input.url.is_some()) {
            outbox::wake_endpoint(&app.db, &e.id, Utc::now().naive_utc()).await?;
        }
        Ok(WebhookEndpointPayload {
            secret: input.rotate_secret.then(|| e.secret.clone()),
            endpoint: WebhookEndpoint(e),
        })
    }

    /// Send a message again now, delivered or not (admins).
    async fn redeliver_webhook(&self, ctx: &Context<'_>, message_id: ID) -> ApiResult<bool> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        outbox::get(&app.db, &message_id)
            .await?
            .filter(|m| m.organization_id == caller.organization_id)
            .ok_or_else(|| ApiError::not_found("webhook message"))?;
        Ok(outbox::redeliver(&app.db, &message_id, Utc::now().naive_utc()).await?)
    }
}
