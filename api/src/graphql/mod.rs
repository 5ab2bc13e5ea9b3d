//! The GraphQL API: one schema for the web app and integrators. Queries,
//! mutations and subscriptions live in their own modules; this one builds
//! the schema and holds what every resolver needs (the caller, the app).

mod access;
mod call_types;
pub(crate) mod campaign_api;
mod campaign_types;
mod compliance_api;
mod connection;
mod consent_api;
pub(crate) mod dialer_api;
pub mod error;
mod follow_up_api;
mod identity_mutations;
mod imports_api;
pub mod limits;
mod lists_api;
mod live_api;
mod policy_api;
mod query;
mod recording_types;
pub mod report_api;
mod servers_api;
mod subscription;
mod types;

use async_graphql::{Context, Schema};

use crate::app::App;
use crate::auth::Actor;
use error::{ApiError, ApiResult};

/// All queries: identity, campaigns and leads.
#[derive(async_graphql::MergedObject, Default)]
pub struct Query(
    query::Query,
    campaign_api::CampaignQuery,
    compliance_api::ComplianceQuery,
    lists_api::ListsQuery,
    imports_api::ImportsQuery,
    dialer_api::DialerQuery,
    report_api::ReportQuery,
    follow_up_api::FollowUpQuery,
    policy_api::PolicyQuery,
    servers_api::ServersQuery,
);

/// All mutations.
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    identity_mutations::Mutation,
    campaign_api::CampaignMutation,
    lists_api::ListsMutation,
    dialer_api::DialerMutation,
    follow_up_api::FollowUpMutation,
    consent_api::ConsentMutation,
    policy_api::PolicyMutation,
);

/// All subscriptions.
#[derive(async_graphql::MergedSubscription, Default)]
pub struct Subscription(
    subscription::DirectorySubscription,
    live_api::LiveSubscription,
);

pub type PinlineSchema = Schema<Query, Mutation, Subscription>;

/// Who sent this request, as far as the transport could tell.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No token was sent.
    Anonymous,
    /// A token was sent and refused; the reason is given to the caller.
    Refused(String),
    Actor(Actor),
}

/// Per-request facts from the transport.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub caller: Caller,
    pub client_ip: String,
}

pub fn build_schema(app: Option<App>) -> PinlineSchema {
    let (depth, limits) = match &app {
        Some(app) => (app.config.max_query_depth, app.config.query_limits),
        None => {
            let d = crate::config::Config::default();
            (d.max_query_depth, d.query_limits)
        }
    };
    let mut builder = Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    // The size, selections, cost and strings are checked right after
    // parsing, before validation walks anything; depth after that.
    .extension(limits::Limits(limits))
    .limit_depth(depth)
    .limit_directives(8)
    // The library's own words for its scalars are not a description.
    .override_output_type_description::<chrono::DateTime<chrono::Utc>>(
        "A moment: an RFC 3339 string in UTC, e.g. `2026-12-06T17:22:00Z`.",
    )
    .override_output_type_description::<chrono::NaiveDate>(
        "A calendar date without a time zone: `YYYY-MM-DD` (ISO 8601), e.g. `2026-12-06`.",
    );
    if let Some(app) = app {
        builder = builder.data(app);
    }
    builder.finish()
}

/// The SDL, as committed in `schema.graphql`: what introspection of the
/// live schema shows, `@specifiedBy` on scalars and the `@deprecated`
/// directive included (the exporter leaves it out while nothing is
/// deprecated; introspection always lists it).
pub fn sdl() -> String {
    let sdl = build_schema(None)
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by());
    if sdl.contains("directive @deprecated") {
        return sdl;
    }
    let deprecated = "\"\"\"\nMarks an element of a GraphQL schema as no longer supported.\n\"\"\"\n\
        directive @deprecated(reason: String = \"No longer supported\") on FIELD_DEFINITION | \
        ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION | ENUM_VALUE\n";
    match sdl.find("\"\"\"\nDirects the executor to include") {
        Some(at) => format!("{}{deprecated}{}", &sdl[..at], &sdl[at..]),
        None => format!("{sdl}{deprecated}"),
    }
}

/// `FORBIDDEN` unless the actor's role includes `required` (for the HTTP
/// edge outside GraphQL).
pub(crate) fn access_require_role(
    actor: &Actor,
    required: crate::domain::identity::Role,
) -> ApiResult<()> {
    access::require_role(actor, required)
}

pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a App {
    ctx.data_unchecked::<App>()
}

pub(crate) fn request<'a>(ctx: &Context<'a>) -> &'a RequestInfo {
    static ANON: std::sync::OnceLock<RequestInfo> = std::sync::OnceLock::new();
    ctx.data_opt::<RequestInfo>().unwrap_or_else(|| {
        ANON.get_or_init(|| RequestInfo {
            caller: Caller::Anonymous,
            client_ip: "unknown".into(),
        })
    })
}

/// The authenticated caller, or `UNAUTHENTICATED`.
pub(crate) fn actor<'a>(ctx: &Context<'a>) -> ApiResult<&'a Actor> {
    match &request(ctx).caller {
        Caller::Actor(actor) => Ok(actor),
        Caller::Anonymous => Err(ApiError::Unauthenticated(
            "sign in first: send `Authorization: Bearer <token>`".into(),
        )),
        Caller::Refused(reason) => Err(ApiError::Unauthenticated(reason.clone())),
    }
}
