//! Queries: the caller, their organization, users, contact centers, API
//! tokens and the audit trail.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, ID, InputObject, Object};

use crate::domain::identity::Role as DomainRole;
use crate::store;

use super::access::{self, require_role, require_user, sees_whole_organization};
use super::connection::{Cursor, connection, page_args};
use super::error::{ApiError, ApiResult};
use super::types::{ApiToken, AuditEntry, ContactCenter, Organization, Role, User, UserConnection};
use super::{actor, app};

#[derive(Default)]
pub struct Query;

#[derive(InputObject, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Case-insensitive part of the name or email.
    pub search: Option<String>,
}

#[Object(name = "IdentityQuery")]
impl Query {
    /// The signed-in user. API tokens have no user: use `organization`.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let user_id = require_user(caller)?;
        store::users::get(&app.db, user_id)
            .await?
            .map(User)
            .ok_or_else(|| ApiError::Unauthenticated("the account no longer exists".into()))
    }

    /// The caller's organization.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        store::organizations::get(&app.db, &caller.organization_id)
            .await?
            .map(Organization)
            .ok_or(ApiError::Internal)
    }

    /// Users the caller may see: all of the organization for admins and API
    /// tokens; supervisors see the members of their contact centers.
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<UserFilter>,
    ) -> ApiResult<UserConnection> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let args = page_args(ctx, first, after)?;
        let filter = filter.unwrap_or_default();
        let store_filter = store::users::UserFilter {
            role: filter.role.map(|r| DomainRole::from(r).as_str().to_owned()),
            active: filter.active,
            search: filter.search,
            sharing_contact_center_with: if sees_whole_organization(caller) {
                None
            } else {
                caller.user_id().map(str::to_owned)
            },
            contact_center_id: None,
        };
        let page = store::users::list(
            &app.db,
            &caller.organization_id,
            &store_filter,
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(ctx, &args, page, |u| u.id.clone(), User))
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        access::load_user(app, caller, &id).await.map(User)
    }

    /// Contact centers the caller may see (admins: all of the organization;
    /// others: those they belong to).
    async fn contact_centers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, ContactCenter, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let args = page_args(ctx, first, after)?;
        let member = if sees_whole_organization(caller) {
            None
        } else {
            caller.user_id()
        };
        let page = store::contact_centers::list(
            &app.db,
            &caller.organization_id,
            member,
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(
            ctx,
            &args,
            page,
            |c| c.id.clone(),
            ContactCenter,
        ))
    }

    async fn contact_center(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ContactCenter> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        access::load_contact_center(app, caller, &id)
            .await
            .map(ContactCenter)
    }

    /// The organization's API tokens (admins).
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, ApiToken, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let args = page_args(ctx, first, after)?;
        let page = store::api_tokens::list(
            &app.db,
            &caller.organization_id,
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(ctx, &args, page, |t| t.id.clone(), ApiToken))
    }

    /// The organization's audit trail, newest first (admins).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, AuditEntry, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let args = page_args(ctx, first, after)?;
        let page = store::audit::list(
            &app.db,
            &caller.organization_id,
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(ctx, &args, page, |e| e.id.clone(), AuditEntry))
    }
}
