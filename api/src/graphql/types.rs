//! The identity types of the schema: User, Organization, ContactCenter,
//! ApiToken, AuditEntry, and the Role enum.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::domain::identity;
use crate::store::{self, models};

use super::access::{self, sees_whole_organization};
use super::connection::{Cursor, connection, page_args};
use super::error::{ApiError, ApiResult};
use super::{actor, app};

/// A user's or API token's role; each includes the ones before it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::identity::Role")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub fn role_of(stored: &str) -> ApiResult<identity::Role> {
    identity::Role::parse(stored).ok_or_else(|| {
        tracing::error!(role = stored, "unknown role in the database");
        ApiError::Internal
    })
}

pub type UserConnection = Connection<Cursor, User, EmptyFields, EmptyFields>;

/// Someone who signs in: an agent, a supervisor or an admin.
#[derive(Clone, Debug)]
pub struct User(pub models::User);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> ApiResult<Role> {
        role_of(&self.0.role).map(Into::into)
    }
    /// Deactivated users cannot sign in and their tokens stop working.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        let app = app(ctx);
        store::organizations::get(&app.db, &self.0.organization_id)
            .await?
            .map(Organization)
            .ok_or(ApiError::Internal)
    }
    /// The contact centers this user belongs to (those the caller may see).
    async fn contact_centers(&self, ctx: &Context<'_>) -> ApiResult<Vec<ContactCenter>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = store::contact_centers::list(
                &app.db,
                &self.0.organization_id,
                Some(&self.0.id),
                after.as_deref(),
                200,
            )
            .await?;
            after = page.items.last().map(|c| c.id.clone());
            for cc in page.items {
                let visible = sees_whole_organization(caller)
                    || match caller.user_id() {
                        Some(me) if me == self.0.id => true,
                        Some(me) => store::contact_centers::is_member(&app.db, &cc.id, me).await?,
                        None => false,
                    };
                if visible {
                    out.push(ContactCenter(cc));
                }
            }
            if !page.has_next {
                break;
            }
        }
        Ok(out)
    }
}

/// The tenant: users, contact centers and everything else belong to one.
pub struct Organization(pub models::Organization);

#[Object]
impl Organization {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
}

/// A team of agents and supervisors; the dialer runs campaigns in those
/// with `dialerEnabled`.
pub struct ContactCenter(pub models::ContactCenter);

#[Object]
impl ContactCenter {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn dialer_enabled(&self) -> bool {
        self.0.dialer_enabled
    }
    /// Region (ISO 3166 alpha-2) for numbers given without a country code.
    async fn default_region(&self) -> &str {
        &self.0.default_region
    }
    /// The contact center's own IANA time zone (reports, schedules).
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// The server running this contact center's calls and agents now
    /// (supervisors): on PostgreSQL the one holding its lease, none for
    /// the moment it changes hands.
    async fn run_by(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::servers_api::ServerInstance>> {
        let app = app(ctx);
        super::access::require_role(
            super::actor(ctx)?,
            crate::domain::identity::Role::Supervisor,
        )?;
        super::servers_api::run_by(app, &self.0.id).await
    }
    /// The campaign running here now, if any (the agents' dialer banner).
    async fn running_campaign(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<super::campaign_types::Campaign>> {
        let page = store::campaigns::list(
            &app(ctx).db,
            &self.0.organization_id,
            Some(std::slice::from_ref(&self.0.id)),
            Some(&[crate::domain::campaign::CampaignState::Running
                .as_str()
                .to_owned()]),
            None,
            1,
        )
        .await?;
        page.items
            .into_iter()
            .next()
            .map(super::campaign_types::Campaign::from_row)
            .transpose()
    }
    /// Agents and supervisors of this contact center.
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        role: Option<Role>,
    ) -> ApiResult<UserConnection> {
        let app = app(ctx);
        let args = page_args(ctx, first, after)?;
        let filter = store::users::UserFilter {
            role: role.map(|r| identity::Role::from(r).as_str().to_owned()),
            contact_center_id: Some(self.0.id.clone()),
            ..Default::default()
        };
        let page = store::users::list(
            &app.db,
            &self.0.organization_id,
            &filter,
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(ctx, &args, page, |u| u.id.clone(), User))
    }
}

/// An integrator's token: organization-scoped, with a role, revocable.
pub struct ApiToken(pub models::ApiToken);

#[Object]
impl ApiToken {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> ApiResult<Role> {
        role_of(&self.0.role).map(Into::into)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at.map(utc)
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at.map(utc)
    }
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        Ok(access::load_user(app, caller, &self.0.created_by)
            .await
            .ok()
            .map(User))
    }
}

/// One change in the organization, as recorded in the audit trail.
pub struct AuditEntry(pub models::AuditEntry);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The user or API token that made the change (none for the CLI).
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.clone().map(ID)
    }
    /// What was done, e.g. `user.create`, `api_token.revoke`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn subject_id(&self) -> ID {
        ID(self.0.subject_id.clone())
    }
    async fn detail(&self) -> &str {
        &self.0.detail
    }
    async fn at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
}
