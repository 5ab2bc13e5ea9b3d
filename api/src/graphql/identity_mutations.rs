//! Identity mutations: log in and out, API tokens, and the admin's users,
//! contact centers and memberships.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::app::App;
use crate::auth::ratelimit::RetryAfter;
use crate::auth::token::{Claims, ISSUER, TokenKind};
use crate::auth::{Principal, password};
use crate::domain::identity::{self, Role as DomainRole};
use crate::events::{Event, EventKind, Revoked};
use crate::store::{self, audit, models};

use super::access::{self, require_role, require_user};
use super::error::{ApiError, ApiResult};
use super::types::{ApiToken, ContactCenter, Role, User};
use super::{actor, app, request};

#[derive(Default)]
pub struct Mutation;

#[derive(InputObject)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// Only when one email and password open accounts in several
    /// organizations (an email is unique within an organization): which.
    pub organization_id: Option<ID>,
}

#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Send as `Authorization: Bearer <token>` (HTTP) or as `token` in the
    /// websocket's `connection_init` payload.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    pub name: String,
    /// The token acts with this role in the whole organization.
    pub role: Role,
    /// No expiry when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The secret: shown once, never stored.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
    /// Contact centers the user joins at once.
    #[graphql(default)]
    pub contact_center_ids: Vec<ID>,
}

#[derive(InputObject)]
pub struct UpdateUserInput {
    pub id: ID,
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates: the user can no longer sign in and every token
    /// of theirs stops working at once.
    pub active: Option<bool>,
    /// A new password; ends the user's sessions.
    pub password: Option<String>,
}

#[derive(SimpleObject)]
pub struct UserPayload {
    pub user: User,
}

#[derive(InputObject)]
pub struct CreateContactCenterInput {
    pub name: String,
    #[graphql(default)]
    pub dialer_enabled: bool,
    /// ISO 3166 alpha-2; default US.
    pub default_region: Option<String>,
    /// IANA name; default America/New_York.
    pub time_zone: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateContactCenterInput {
    pub id: ID,
    pub name: Option<String>,
    pub dialer_enabled: Option<bool>,
    pub default_region: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(SimpleObject)]
pub struct ContactCenterPayload {
    pub contact_center: ContactCenter,
}

#[derive(InputObject)]
pub struct MembershipInput {
    pub contact_center_id: ID,
    pub user_id: ID,
}

#[derive(SimpleObject)]
pub struct MembershipPayload {
    pub contact_center: ContactCenter,
    pub user: User,
    /// False when the membership already was as asked.
    pub changed: bool,
}

/// Accounts checked for one email at log-in (each costs a password hash).
const MAX_ACCOUNTS_PER_EMAIL: i64 = 10;

fn publish(app: &App, organization_id: &str, kind: EventKind) {
    app.events.publish(Event {
        organization_id: organization_id.to_owned(),
        at: Utc::now(),
        kind,
    });
}

#[Object(name = "IdentityMutation")]
impl Mutation {
    /// Sign in. Failed attempts are limited per account and per client IP
    /// (`RATE_LIMITED`, with `retryAfterSeconds`).
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<LoginPayload> {
        let (app, req) = (app(ctx), request(ctx));
        let account = input.email.trim().to_lowercase();
        if let Err(RetryAfter(wait)) = app.login_limiter.begin(&account, &req.client_ip).await? {
            app.metrics.login("rate_limited");
            let secs = wait.as_secs().max(1);
            return Err(ApiError::RateLimited {
                message: format!("too many log-in attempts: try again in {secs} s"),
                retry_after_secs: secs,
            });
        }
        let accounts = match identity::normalize_email(&input.email) {
            Ok(email) => store::users::with_email(&app.db, &email, MAX_ACCOUNTS_PER_EMAIL).await?,
            Err(_) => Vec::new(),
        };
        // The password against each account with this email (a dummy hash
        // when there is none, so the answer takes as long).
        let mut opened = Vec::new();
        if accounts.is_empty() {
            password::verify_async(input.password.clone(), None).await?;
        }
        for account in accounts {
            let hash = Some(account.password_hash.clone());
            if password::verify_async(input.password.clone(), hash).await? {
                opened.push(account);
            }
        }
        if let Some(org) = &input.organization_id {
            opened.retain(|u| u.organization_id == org.as_str());
        }
        let user = match opened.len() {
            1 => opened.remove(0),
            0 => {
                app.login_limiter.failed(&account).await;
                app.metrics.login("bad_credentials");
                return Err(ApiError::Unauthenticated("wrong email or password".into()));
            }
            _ => {
                // Only someone holding the password of several accounts
                // learns there are several.
                app.metrics.login("ambiguous");
                return Err(ApiError::Validation {
                    field: "organizationId".into(),
                    message: "is needed: this email and password open accounts in several \
                              organizations"
                        .into(),
                });
            }
        };
        if !user.active {
            app.metrics.login("deactivated");
            return Err(ApiError::Unauthenticated(
                "this account is deactivated".into(),
            ));
        }
        app.login_limiter.succeeded(&account).await;
        let ttl =
            chrono::Duration::from_std(app.config.session_ttl).map_err(|_| ApiError::Internal)?;
        let (token, expires_at) =
            crate::auth::open_session(&app.db, &app.keys, &user, ttl, Some(req.client_ip.clone()))
                .await
                .map_err(|e| match e {
                    crate::auth::SessionError::Store(e) => ApiError::from(e),
                    crate::auth::SessionError::Token(_) => ApiError::Internal,
                })?;
        app.metrics.login("ok");
        Ok(LoginPayload {
            token,
            expires_at,
            user: User(user),
        })
    }

    /// End the caller's session: its token stops working at once.
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        match &caller.principal {
            Principal::User {
                session_id,
                user_id,
            } => {
                store::sessions::end(&app.db, session_id, store::now()).await?;
                publish(
                    app,
                    &caller.organization_id,
                    EventKind::AccessRevoked(Revoked::Session {
                        session_id: session_id.clone(),
                    }),
                );
                // Pinned leg down, OFFLINE (a wrap-up owed stays owed).
                app.engine.session_ended(user_id).await?;
                Ok(true)
            }
            Principal::ApiToken { .. } => Err(ApiError::Forbidden(
                "API tokens have no session: revoke them with revokeApiToken".into(),
            )),
        }
    }

    /// Create an organization-scoped API token for an integrator (admins).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> ApiResult<CreateApiTokenPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        let creator = require_user(caller)?;
        require_role(caller, DomainRole::Admin)?;
        let name = identity::normalize_name("name", &input.name)?;
        let now = Utc::now();
        if input.expires_at.is_some_and(|e| e <= now) {
            return Err(ApiError::validation("expiresAt", "must be in the future"));
        }
        let role = DomainRole::from(input.role);
        let row = models::ApiToken {
            id: store::new_id(),
            organization_id: caller.organization_id.clone(),
            name,
            role: role.as_str().to_owned(),
            created_by: creator.to_owned(),
            created_at: now.naive_utc(),
            expires_at: input.expires_at.map(|e| e.naive_utc()),
            revoked_at: None,
        };
        let token = app
            .keys
            .issue(&Claims {
                sub: row.id.clone(),
                org: row.organization_id.clone(),
                kind: TokenKind::Api,
                sid: row.id.clone(),
                iat: now.timestamp(),
                exp: input.expires_at.map(|e| e.timestamp()),
                iss: ISSUER.into(),
            })
            .map_err(|_| ApiError::Internal)?;
        let entry = audit::entry(
            &caller.organization_id,
            Some(creator),
            "api_token.create",
            &row.id,
            format!("{:?} with role {role}", row.name),
        );
        let row = store::api_tokens::insert(&app.db, row, entry).await?;
        Ok(CreateApiTokenPayload {
            token,
            api_token: ApiToken(row),
        })
    }

    /// Revoke an API token: it stops working at once. True when it was
    /// active until now, false when it was already revoked.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiTokenInput,
    ) -> ApiResult<bool> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let token = store::api_tokens::get(&app.db, &input.id)
            .await?
            .filter(|t| t.organization_id == caller.organization_id)
            .ok_or_else(|| ApiError::not_found("API token"))?;
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "api_token.revoke",
            &token.id,
            format!("{:?}", token.name),
        );
        let revoked = store::api_tokens::revoke(&app.db, &token.id, store::now(), entry).await?;
        publish(
            app,
            &caller.organization_id,
            EventKind::AccessRevoked(Revoked::ApiToken { token_id: token.id }),
        );
        Ok(revoked)
    }

    /// Create a user in the caller's organization (admins).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> ApiResult<UserPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let email = identity::normalize_email(&input.email)?;
        let name = identity::normalize_name("name", &input.name)?;
        identity::check_password(&input.password)?;
        let mut centers = Vec::with_capacity(input.contact_center_ids.len());
        for id in &input.contact_center_ids {
            centers.push(access::load_contact_center(app, caller, id).await?.id);
        }
        let hash = password::hash_async(input.password).await?;
        let now = store::now();
        let role = DomainRole::from(input.role);
        let user = models::User {
            id: store::new_id(),
            organization_id: caller.organization_id.clone(),
            email,
            name,
            role: role.as_str().to_owned(),
            password_hash: hash,
            active: true,
            created_at: now,
            updated_at: now,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "user.create",
            &user.id,
            format!("{} as {role}", user.email),
        );
        let user = store::users::insert(&app.db, user, &centers, entry).await?;
        publish(
            app,
            &caller.organization_id,
            EventKind::UserChanged {
                user_id: user.id.clone(),
            },
        );
        Ok(UserPayload { user: User(user) })
    }

    /// Change a user's name, role, password or active flag (admins). Admins
    /// cannot deactivate or demote themselves (`CONFLICT`).
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        input: UpdateUserInput,
    ) -> ApiResult<UserPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let user = access::load_user(app, caller, &input.id).await?;
        let is_self = caller.user_id() == Some(user.id.as_str());
        let role = input.role.map(DomainRole::from);
        if is_self {
            identity::check_change_to_self(input.active, role)
                .map_err(|why| ApiError::Conflict(why.into()))?;
        }
        let name = input
            .name
            .as_deref()
            .map(|n| identity::normalize_name("name", n))
            .transpose()?;
        let password_hash = match input.password {
            Some(p) => {
                identity::check_password(&p)?;
                Some(password::hash_async(p).await?)
            }
            None => None,
        };
        let mut what = Vec::new();
        if let Some(n) = &name {
            what.push(format!("name={n:?}"));
        }
        if let Some(r) = role {
            what.push(format!("role={r}"));
        }
        if let Some(a) = input.active {
            what.push(format!("active={a}"));
        }
        if password_hash.is_some() {
            what.push("password changed".into());
        }
        let changes = store::users::UserChanges {
            name,
            role: role.map(|r| r.as_str().to_owned()),
            active: input.active,
            password_hash,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "user.update",
            &user.id,
            what.join(", "),
        );
        let ends_access = input.active == Some(false)
            || changes.password_hash.is_some()
            || changes.role.as_deref().is_some_and(|r| r != user.role);
        let user = store::users::update(&app.db, &user.id, changes, entry).await?;
        if ends_access {
            // Open websockets hold the old role or credentials: they close
            // and the client signs in (or reconnects) again.
            publish(
                app,
                &caller.organization_id,
                EventKind::AccessRevoked(Revoked::User {
                    user_id: user.id.clone(),
                }),
            );
        }
        publish(
            app,
            &caller.organization_id,
            EventKind::UserChanged {
                user_id: user.id.clone(),
            },
        );
        Ok(UserPayload { user: User(user) })
    }

    /// Create a contact center (admins).
    async fn create_contact_center(
        &self,
        ctx: &Context<'_>,
        input: CreateContactCenterInput,
    ) -> ApiResult<ContactCenterPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let now = store::now();
        let cc = models::ContactCenter {
            id: store::new_id(),
            organization_id: caller.organization_id.clone(),
            name: identity::normalize_name("name", &input.name)?,
            dialer_enabled: input.dialer_enabled,
            default_region: identity::normalize_region(
                input.default_region.as_deref().unwrap_or("US"),
            )?,
            time_zone: identity::normalize_time_zone(
                "timeZone",
                input.time_zone.as_deref().unwrap_or("America/New_York"),
            )?,
            created_at: now,
            updated_at: now,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "contact_center.create",
            &cc.id,
            format!("{:?} dialer_enabled={}", cc.name, cc.dialer_enabled),
        );
        let cc = store::contact_centers::insert(&app.db, cc, entry).await?;
        publish(
            app,
            &caller.organization_id,
            EventKind::ContactCenterChanged {
                contact_center_id: cc.id.clone(),
            },
        );
        Ok(ContactCenterPayload {
            contact_center: ContactCenter(cc),
        })
    }

    /// Rename a contact center, enable or disable its dialer, change its
    /// region or time zone (admins).
    async fn update_contact_center(
        &self,
        ctx: &Context<'_>,
        input: UpdateContactCenterInput,
    ) -> ApiResult<ContactCenterPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Admin)?;
        let cc = access::load_contact_center(app, caller, &input.id).await?;
        let changes = store::contact_centers::ContactCenterChanges {
            name: input
                .name
                .as_deref()
                .map(|n| identity::normalize_name("name", n))
                .transpose()?,
            dialer_enabled: input.dialer_enabled,
            default_region: input
                .default_region
                .as_deref()
                .map(identity::normalize_region)
                .transpose()?,
            time_zone: input
                .time_zone
                .as_deref()
                .map(|t| identity::normalize_time_zone("timeZone", t))
                .transpose()?,
        };
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "contact_center.update",
            &cc.id,
            format!("{changes:?}"),
        );
        let cc = store::contact_centers::update(&app.db, &cc.id, changes, entry).await?;
        publish(
            app,
            &caller.organization_id,
            EventKind::ContactCenterChanged {
                contact_center_id: cc.id.clone(),
            },
        );
        Ok(ContactCenterPayload {
            contact_center: ContactCenter(cc),
        })
    }

    /// Make a user a member of a contact center (admins).
    async fn add_contact_center_member(
        &self,
        ctx: &Context<'_>,
        input: MembershipInput,
    ) -> ApiResult<MembershipPayload> {
        set_membership(ctx, input, true).await
    }

    /// Remove a user from a contact center (admins).
    async fn remove_contact_center_member(
        &self,
        ctx: &Context<'_>,
        input: MembershipInput,
    ) -> ApiResult<MembershipPayload> {
        set_membership(ctx, input, false).await
    }
}

async fn set_membership(
    ctx: &Context<'_>,
    input: MembershipInput,
    member: bool,
) -> ApiResult<MembershipPayload> {
    let (app, caller) = (app(ctx), actor(ctx)?);
    require_role(caller, DomainRole::Admin)?;
    let cc = access::load_contact_center(app, caller, &input.contact_center_id).await?;
    let user = access::load_user(app, caller, &input.user_id).await?;
    let entry = audit::entry(
        &caller.organization_id,
        Some(caller.audit_id()),
        if member {
            "membership.add"
        } else {
            "membership.remove"
        },
        &user.id,
        format!("{} in {:?}", user.email, cc.name),
    );
    let changed = if member {
        store::contact_centers::add_member(&app.db, &cc.id, &user.id, entry).await?
    } else {
        store::contact_centers::remove_member(&app.db, &cc.id, &user.id, entry).await?
    };
    if changed {
        publish(
            app,
            &caller.organization_id,
            EventKind::MembershipChanged {
                contact_center_id: cc.id.clone(),
                user_id: user.id.clone(),
                member,
            },
        );
    }
    Ok(MembershipPayload {
        contact_center: ContactCenter(cc),
        user: User(user),
        changed,
    })
}
