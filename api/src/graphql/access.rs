//! Who may see and do what. Resources of another organization, and those
//! of one's own that one may not see, are answered as `NOT_FOUND`, so ids
//! never leak across tenants.

use crate::app::App;
use crate::auth::{Actor, Principal};
use crate::domain::identity::Role;
use crate::store::{self, models};

use super::error::{ApiError, ApiResult};

/// `FORBIDDEN` unless the actor's role includes `required`.
pub fn require_role(actor: &Actor, required: Role) -> ApiResult<()> {
    if actor.role.includes(required) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "this needs the {required} role; you are {}",
            actor.role
        )))
    }
}

/// Admins and integrators' tokens see the whole organization; agents and
/// supervisors see the contact centers they belong to.
pub fn sees_whole_organization(actor: &Actor) -> bool {
    actor.role == Role::Admin || matches!(actor.principal, Principal::ApiToken { .. })
}

/// The signed-in user's id, or `FORBIDDEN` for API tokens.
pub fn require_user(actor: &Actor) -> ApiResult<&str> {
    actor.user_id().ok_or_else(|| {
        ApiError::Forbidden("this needs a signed-in user; API tokens have none".into())
    })
}

pub async fn load_user(app: &App, actor: &Actor, id: &str) -> ApiResult<models::User> {
    let user = store::users::get(&app.db, id)
        .await?
        .filter(|u| u.organization_id == actor.organization_id)
        .ok_or_else(|| ApiError::not_found("user"))?;
    let visible = sees_whole_organization(actor)
        || match actor.user_id() {
            Some(me) if me == user.id => true,
            Some(me) => {
                store::contact_centers::share_a_contact_center(&app.db, me, &user.id).await?
            }
            None => false,
        };
    if visible {
        Ok(user)
    } else {
        Err(ApiError::not_found("user"))
    }
}

pub async fn load_contact_center(
    app: &App,
    actor: &Actor,
    id: &str,
) -> ApiResult<models::ContactCenter> {
    let cc = store::contact_centers::get(&app.db, id)
        .await?
        .filter(|c| c.organization_id == actor.organization_id)
        .ok_or_else(|| ApiError::not_found("contact center"))?;
    let visible = sees_whole_organization(actor)
        || match actor.user_id() {
            Some(me) => store::contact_centers::is_member(&app.db, &cc.id, me).await?,
            None => false,
        };
    if visible {
        Ok(cc)
    } else {
        Err(ApiError::not_found("contact center"))
    }
}
