//! Consent to be called over GraphQL: each number's log (consent given,
//! revoked) across the organization, what stands now, and recording either
//! by hand (supervisors, audited). Leads bring theirs with `addLeads` and
//! CSV imports; agents record a revocation at wrap-up.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::consent::{ConsentKind as DomainKind, Standing};
use crate::domain::identity::{self, Role as DomainRole};
use crate::domain::lead::{ConsentFields, NormalizedConsent, normalize_consent};
use crate::domain::phone;
use crate::store::{self, audit, consents, models};

use super::access::require_role;
use super::error::{ApiError, ApiResult};
use super::{actor, app};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::consent::ConsentKind")]
pub enum ConsentKind {
    None,
    /// Prior express consent.
    Express,
    /// Prior express written consent: signed (also electronically), naming
    /// the number and the automated calls.
    ExpressWritten,
}

/// What a campaign's predictive and progressive calls ask of consent.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::consent::ConsentPolicy")]
pub enum AutomatedConsent {
    /// What the called party's jurisdiction requires (written consent in
    /// Florida, Oklahoma and Maryland), nothing elsewhere. The default.
    Law,
    /// At least express consent everywhere.
    Express,
    /// Express written consent everywhere.
    ExpressWritten,
}

/// Whether an entry gives or revokes consent.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ConsentAction {
    Given,
    Revoked,
}

/// One entry of a number's consent log.
pub struct ConsentEntry(pub models::Consent);

#[Object]
impl ConsentEntry {
    async fn action(&self) -> ConsentAction {
        if self.0.kind == consents::REVOKED {
            ConsentAction::Revoked
        } else {
            ConsentAction::Given
        }
    }
    /// The kind given; null for a revocation.
    async fn kind(&self) -> Option<ConsentKind> {
        DomainKind::parse(&self.0.kind).map(Into::into)
    }
    /// When it was given or revoked.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at.and_utc()
    }
    async fn method(&self) -> &str {
        &self.0.method
    }
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The lead it came with, if any.
    async fn lead_id(&self) -> Option<ID> {
        self.0.lead_id.clone().map(ID)
    }
    /// The call it was said on (a revocation at wrap-up).
    async fn call_id(&self) -> Option<ID> {
        self.0.call_id.clone().map(ID)
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
}

/// What stands for a number now: the strongest consent given after the
/// last revocation.
#[derive(SimpleObject)]
pub struct Consent {
    pub kind: ConsentKind,
    /// When the standing consent was given.
    pub given_at: Option<DateTime<Utc>>,
    pub method: Option<String>,
    pub source: Option<String>,
    /// The last revocation, if any (consent given after it stands).
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Consent {
    fn of((s, given): (Standing, Option<models::Consent>)) -> Consent {
        Consent {
            kind: s.kind.into(),
            given_at: s.given_at,
            method: given.as_ref().map(|g| g.method.clone()),
            source: given.map(|g| g.source),
            revoked_at: s.revoked_at,
        }
    }
}

/// What stands for `phone` in the caller's organization now.
pub(crate) async fn standing(
    ctx: &Context<'_>,
    organization_id: &str,
    phone: &str,
) -> ApiResult<Consent> {
    let now = app(ctx).engine.clock().now();
    Ok(Consent::of(
        consents::standing_of(&app(ctx).db, organization_id, phone, now).await?,
    ))
}

/// A number's log, newest first.
pub(crate) async fn history(
    ctx: &Context<'_>,
    organization_id: &str,
    phone: &str,
) -> ApiResult<Vec<ConsentEntry>> {
    Ok(consents::log(&app(ctx).db, organization_id, phone)
        .await?
        .into_iter()
        .map(ConsentEntry)
        .collect())
}

/// A consent as given with a lead or by hand.
#[derive(InputObject)]
pub struct ConsentInput {
    pub kind: ConsentKind,
    /// When it was given; now when left out. Never in the future.
    pub given_at: Option<DateTime<Utc>>,
    /// How: "web form", "signed paper" … (at most 1 000 characters).
    pub method: Option<String>,
    /// Where the record is: a form's address, a document's reference.
    pub source: Option<String>,
}

impl ConsentInput {
    pub(crate) fn fields(&self) -> ConsentFields {
        ConsentFields {
            kind: Some(DomainKind::from(self.kind).as_str().to_owned()),
            at: self.given_at.map(|t| t.to_rfc3339()),
            method: self.method.clone(),
            source: self.source.clone(),
        }
    }
}

#[derive(InputObject)]
pub struct RecordConsentInput {
    /// The number, E.164, or national in `defaultRegion`.
    pub phone: String,
    pub consent: ConsentInput,
    /// The region a number without a country code is read in (default US),
    /// as in `addListEntries`.
    pub default_region: Option<String>,
}

#[derive(InputObject)]
pub struct RevokeConsentInput {
    /// The number, E.164, or national in `defaultRegion`.
    pub phone: String,
    /// The region a number without a country code is read in (default US).
    pub default_region: Option<String>,
    /// When the called party revoked it; now when left out.
    pub revoked_at: Option<DateTime<Utc>>,
    /// How they said so: "email", "letter" … (at most 1 000 characters).
    pub method: String,
    pub source: Option<String>,
}

#[derive(SimpleObject)]
pub struct ConsentPayload {
    /// The number, E.164.
    pub phone: String,
    /// What stands for the number after the change.
    pub consent: Consent,
}

#[derive(Default)]
pub struct ConsentMutation;

fn e164(raw: &str, default_region: Option<&str>) -> ApiResult<String> {
    if raw.chars().count() > 64 {
        return Err(ApiError::validation("phone", "at most 64 characters"));
    }
    let region = identity::normalize_region(default_region.unwrap_or("US"))
        .map_err(|_| ApiError::validation("defaultRegion", "must be a two-letter region"))?;
    phone::normalize(raw, &region).map_err(|e| ApiError::validation("phone", e.to_string()))
}

/// Append one entry written by hand (`kind`: a given kind, or REVOKED) to
/// `phone`'s log with its audit entry; what stands after it.
async fn append(
    ctx: &Context<'_>,
    phone: String,
    kind: &str,
    checked: NormalizedConsent,
) -> ApiResult<ConsentPayload> {
    let (app, caller) = (app(ctx), actor(ctx)?);
    let now = app.engine.clock().now();
    let revoking = kind == consents::REVOKED;
    let row = models::Consent {
        id: store::new_id(),
        organization_id: caller.organization_id.clone(),
        phone: phone.clone(),
        kind: kind.to_owned(),
        at: checked.at.naive_utc(),
        method: checked.method,
        source: checked.source,
        lead_id: None,
        call_id: None,
        created_by: Some(caller.audit_id().to_owned()),
        created_at: now.naive_utc(),
    };
    let entry = audit::entry(
        &caller.organization_id,
        Some(caller.audit_id()),
        if revoking {
            "consent.revoke"
        } else {
            "consent.record"
        },
        &phone,
        if revoking {
            format!("revoked {}", checked.at.to_rfc3339())
        } else {
            format!("{kind} given {}", checked.at.to_rfc3339())
        },
    );
    consents::record(&app.db, std::slice::from_ref(&row), &entry).await?;
    Ok(ConsentPayload {
        consent: standing(ctx, &caller.organization_id, &phone).await?,
        phone,
    })
}

#[Object]
impl ConsentMutation {
    /// Record a consent to be called given for a number (supervisors;
    /// audited). It holds across the organization, whichever lead has the
    /// number; the log keeps every entry.
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let phone = e164(&input.phone, input.default_region.as_deref())?;
        let given = normalize_consent(&input.consent.fields(), app.engine.clock().now())
            .map_err(|issue| ApiError::validation("consent", issue.message))?
            .ok_or_else(|| {
                ApiError::validation(
                    "consent.kind",
                    "NONE records nothing: to withdraw a consent use revokeConsent",
                )
            })?;
        let kind = given.kind.as_str();
        append(ctx, phone, kind, given).await
    }

    /// Record that the called party revoked their consent (supervisors;
    /// audited): at once, across the organization, every consent given
    /// until then stops counting; campaigns that need consent stop dialing
    /// the number. To stop every call, put it on the Do-Not-Call list.
    async fn revoke_consent(
        &self,
        ctx: &Context<'_>,
        input: RevokeConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let phone = e164(&input.phone, input.default_region.as_deref())?;
        if input.method.trim().is_empty() {
            return Err(ApiError::validation(
                "method",
                "say how the called party revoked it",
            ));
        }
        // The same checks as a consent's fields (length, date, not future).
        let checked = normalize_consent(
            &ConsentFields {
                kind: Some(DomainKind::Express.as_str().into()),
                at: input.revoked_at.map(|t| t.to_rfc3339()),
                method: Some(input.method),
                source: input.source,
            },
            app.engine.clock().now(),
        )
        .map_err(|issue| ApiError::validation("revokedAt", issue.message))?
        .ok_or(ApiError::Internal)?;
        append(ctx, phone, consents::REVOKED, checked).await
    }
}
