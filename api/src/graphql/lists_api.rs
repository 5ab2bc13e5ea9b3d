//! The organization's number lists over GraphQL: Do-Not-Call, Do-Not-Text
//! and invalid numbers — search, add, remove (with a reason; audited).
//! Supervisors and admins.

use async_graphql::connection::{Connection, EmptyFields};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::Principal;
use crate::domain::identity::{self, Role as DomainRole};
use crate::domain::phone;
use crate::store::{self, audit, lists};

use super::access::{self, require_role};
use super::campaign_api::RowResult;
use super::connection::{Cursor, connection, page_args};
use super::error::{ApiError, ApiResult};
use super::types::User;
use super::{actor, app};

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum NumberList {
    /// Never called again by any campaign of the organization.
    DoNotCall,
    /// Calls allowed; text-messaging tools must not text the number.
    DoNotText,
    /// Never called again: wrong or disconnected.
    Invalid,
}

impl From<NumberList> for lists::List {
    fn from(l: NumberList) -> Self {
        match l {
            NumberList::DoNotCall => lists::List::DoNotCall,
            NumberList::DoNotText => lists::List::DoNotText,
            NumberList::Invalid => lists::List::Invalid,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum InvalidReason {
    WrongNumber,
    Disconnected,
    Other,
}

impl InvalidReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            InvalidReason::WrongNumber => "WRONG_NUMBER",
            InvalidReason::Disconnected => "DISCONNECTED",
            InvalidReason::Other => "OTHER",
        }
    }
}

/// A number on one of the organization's lists.
pub struct ListEntry(lists::ListEntry);

#[Object]
impl ListEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn list(&self) -> NumberList {
        match self.0.list {
            lists::List::DoNotCall => NumberList::DoNotCall,
            lists::List::DoNotText => NumberList::DoNotText,
            lists::List::Invalid => NumberList::Invalid,
        }
    }
    /// E.164.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// WRAP_UP, MANUAL, IMPORT or API.
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// For invalid numbers.
    async fn invalid_reason(&self) -> Option<&str> {
        self.0.invalid_kind.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    /// Who added it (the agent for a wrap-up mark, the uploader for an
    /// import; none for API tokens).
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<User>> {
        let Some(id) = &self.0.created_by else {
            return Ok(None);
        };
        Ok(access::load_user(app(ctx), actor(ctx)?, id)
            .await
            .ok()
            .map(User))
    }
}

#[derive(InputObject)]
pub struct AddListEntriesInput {
    pub list: NumberList,
    /// Numbers in any common format; read in the organization's region
    /// when they have no country code (`defaultRegion`, default US).
    pub phones: Vec<String>,
    pub reason: String,
    /// For the INVALID list.
    pub invalid_reason: Option<InvalidReason>,
    /// Region for numbers without a country code (default US).
    pub default_region: Option<String>,
}

#[derive(SimpleObject)]
pub struct AddListEntriesPayload {
    pub added: i32,
    /// Numbers that were on the list already.
    pub already_listed: i32,
    pub rejected: Vec<RowResult>,
}

#[derive(InputObject)]
pub struct RemoveListEntryInput {
    pub list: NumberList,
    pub phone: String,
    /// Why it comes off (kept in the audit trail).
    pub reason: String,
}

pub const MAX_LIST_BATCH: usize = 10_000;

#[derive(Default)]
pub struct ListsQuery;

#[Object]
impl ListsQuery {
    /// Numbers on a list, newest first; `search` matches digits.
    async fn list_entries(
        &self,
        ctx: &Context<'_>,
        list: NumberList,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<Cursor, ListEntry, EmptyFields, EmptyFields>> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let args = page_args(ctx, first, after)?;
        let page = lists::search(
            &app.db,
            list.into(),
            &caller.organization_id,
            search.as_deref(),
            args.after.as_deref(),
            args.limit,
        )
        .await?;
        Ok(connection(ctx, &args, page, |e| e.id.clone(), ListEntry))
    }
}

#[derive(Default)]
pub struct ListsMutation;

#[Object]
impl ListsMutation {
    /// Put numbers on a list. DNC and invalid marks stop every campaign of
    /// the organization from calling them, at once.
    async fn add_list_entries(
        &self,
        ctx: &Context<'_>,
        input: AddListEntriesInput,
    ) -> ApiResult<AddListEntriesPayload> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        if input.phones.len() > MAX_LIST_BATCH {
            return Err(ApiError::validation(
                "phones",
                format!("at most {MAX_LIST_BATCH} per call"),
            ));
        }
        let reason = identity::normalize_name("reason", &input.reason)?;
        let region = identity::normalize_region(input.default_region.as_deref().unwrap_or("US"))
            .map_err(|_| ApiError::validation("defaultRegion", "must be a two-letter region"))?;
        let source = match caller.principal {
            Principal::User { .. } => "MANUAL",
            Principal::ApiToken { .. } => "API",
        };
        let list: lists::List = input.list.into();
        let (mut added, mut already, mut rejected) = (0, 0, Vec::new());
        for (i, raw) in input.phones.iter().enumerate() {
            let e164 = match phone::normalize(raw, &region) {
                Ok(p) => p,
                Err(e) => {
                    rejected.push(RowResult {
                        index: i32::try_from(i).unwrap_or(i32::MAX),
                        phone: raw.clone(),
                        code: "BAD_NUMBER".into(),
                        message: format!("phone {raw:?} {e}"),
                    });
                    continue;
                }
            };
            let entry = audit::entry(
                &caller.organization_id,
                Some(caller.audit_id()),
                "list.add",
                &e164,
                format!("{}: {reason}", list.as_str()),
            );
            let new = lists::NewEntry {
                organization_id: &caller.organization_id,
                phone: &e164,
                invalid_kind: input.invalid_reason.map(InvalidReason::as_str),
                source,
                reason: &reason,
                created_by: caller.user_id(),
            };
            if store::lists::add(&app.db, list, &new, entry).await? {
                added += 1;
            } else {
                already += 1;
            }
        }
        Ok(AddListEntriesPayload {
            added,
            already_listed: already,
            rejected,
        })
    }

    /// Take a number off a list, with a reason (audited). True when it was
    /// on the list.
    async fn remove_list_entry(
        &self,
        ctx: &Context<'_>,
        input: RemoveListEntryInput,
    ) -> ApiResult<bool> {
        let (app, caller) = (app(ctx), actor(ctx)?);
        require_role(caller, DomainRole::Supervisor)?;
        let reason = identity::normalize_name("reason", &input.reason)?;
        let e164 = phone::normalize(&input.phone, "US")
            .map_err(|e| ApiError::validation("phone", e.to_string()))?;
        let list: lists::List = input.list.into();
        let entry = audit::entry(
            &caller.organization_id,
            Some(caller.audit_id()),
            "list.remove",
            &e164,
            format!("{}: {reason}", list.as_str()),
        );
        Ok(store::lists::remove(&app.db, list, &caller.organization_id, &e164, entry).await?)
    }
}
