//! Relay-style connections: opaque cursors over keyset pages.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::error::{ApiError, ApiResult};
use crate::store::Page;

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 200;

/// An opaque cursor: the row's id, base64url-encoded.
pub struct Cursor(pub String);

impl CursorType for Cursor {
    type Error = std::string::FromUtf8Error;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
        String::from_utf8(bytes).map(Cursor)
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }
}

/// Validated forward-paging arguments.
pub struct PageArgs {
    pub after: Option<String>,
    pub limit: usize,
}

pub fn page_args(first: Option<i32>, after: Option<String>) -> ApiResult<PageArgs> {
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
    let after = match after {
        None => None,
        Some(c) => match Cursor::decode_cursor(&c) {
            Ok(Cursor(id)) if !id.is_empty() => Some(id),
            _ => {
                return Err(ApiError::validation(
                    "after",
                    "is not a cursor from this API",
                ));
            }
        },
    };
    Ok(PageArgs { after, limit })
}

/// Build a connection from a page; `id` gives each row's id for its cursor.
pub fn connection<R, N: OutputType>(
    page: Page<R>,
    had_cursor: bool,
    id: impl Fn(&R) -> String,
    node: impl Fn(R) -> N,
) -> Connection<Cursor, N, EmptyFields, EmptyFields> {
    let mut conn = Connection::new(had_cursor, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(Cursor(id(&row)), node(row))),
    );
    conn
}
