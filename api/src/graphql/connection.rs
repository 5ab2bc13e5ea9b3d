//! Relay-style connections: opaque cursors over keyset pages.

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use async_graphql::{Context, OutputType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::error::{ApiError, ApiResult};
use crate::store::Page;

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;

/// An opaque cursor: the row's id and a MAC binding it to the connection
/// it came from (the field, its arguments, the caller's organization), so a
/// forged cursor, or one from another list or organization, is refused
/// (`VALIDATION`) instead of paging from somewhere unexpected.
pub struct Cursor(pub String);

impl CursorType for Cursor {
    type Error = std::convert::Infallible;

    /// Not used to read cursors: [`page_args`] checks them.
    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        Ok(Cursor(s.to_owned()))
    }

    /// The cursor, already signed by [`connection`].
    fn encode_cursor(&self) -> String {
        self.0.clone()
    }
}

/// Bytes of the MAC a cursor carries.
const TAG: usize = 12;

/// What a cursor is bound to: the field and its arguments other than the
/// paging ones, and the caller's organization (not the path: a client may
/// page on with the same list reached another way).
fn scope(ctx: &Context<'_>) -> String {
    let field = ctx.field();
    let mut scope = field.name().to_owned();
    if let Ok(args) = field.arguments() {
        for (name, value) in args {
            if !matches!(name.as_str(), "first" | "after" | "last" | "before") {
                scope.push_str(&format!("|{name}={value}"));
            }
        }
    }
    if let Ok(actor) = super::actor(ctx) {
        scope.push_str(&format!("|org={}", actor.organization_id));
    }
    scope
}

fn mac(ctx: &Context<'_>, scope: &str, id: &str) -> Hmac<Sha256> {
    let key = &super::app(ctx).cursor_key;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(scope.as_bytes());
    mac.update(b"\n");
    mac.update(id.as_bytes());
    mac
}

fn sign(ctx: &Context<'_>, scope: &str, id: &str) -> String {
    let tag = mac(ctx, scope, id).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(id.as_bytes()),
        URL_SAFE_NO_PAD.encode(&tag[..TAG])
    )
}

/// The id in a cursor this connection gave out; `None` for anything else.
fn verify(ctx: &Context<'_>, scope: &str, cursor: &str) -> Option<String> {
    let (id, tag) = cursor.split_once('.')?;
    let id = String::from_utf8(URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if id.is_empty() || tag.len() != TAG {
        return None;
    }
    mac(ctx, scope, &id).verify_truncated_left(&tag).ok()?;
    Some(id)
}

/// Validated forward-paging arguments.
pub struct PageArgs {
    pub after: Option<String>,
    pub limit: usize,
    /// What the page's cursors are signed for.
    scope: String,
}

pub fn page_args(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<PageArgs> {
    let limit = match first {
        None => DEFAULT_PAGE,
        Some(n) if n >= 1 && n as usize <= MAX_PAGE => n as usize,
        Some(_) => {
            return Err(ApiError::validation(
                "first",
                format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
    };
    let scope = scope(ctx);
    let after = match after {
        None => None,
        Some(c) => match verify(ctx, &scope, &c) {
            Some(id) => Some(id),
            None => {
                return Err(ApiError::validation(
                    "after",
                    "is not a cursor this list gave out",
                ));
            }
        },
    };
    Ok(PageArgs {
        after,
        limit,
        scope,
    })
}

/// Build a connection from a page; `id` gives each row's id for its cursor.
pub fn connection<R, N: OutputType>(
    ctx: &Context<'_>,
    args: &PageArgs,
    page: Page<R>,
    id: impl Fn(&R) -> String,
    node: impl Fn(R) -> N,
) -> Connection<Cursor, N, EmptyFields, EmptyFields> {
    let mut conn = Connection::new(args.after.is_some(), page.has_next);
    conn.edges.extend(page.items.into_iter().map(|row| {
        let cursor = sign(ctx, &args.scope, &id(&row));
        Edge::new(Cursor(cursor), node(row))
    }));
    conn
}
