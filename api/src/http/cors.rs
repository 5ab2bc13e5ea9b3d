//! Cross-origin calls from a browser (a CRM page on another origin calling
//! the API): only the origins the operator lists with `--cors-origin`,
//! none by default. Bearer tokens travel in `Authorization`, so no
//! cookies or credentials mode are involved.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

#[derive(Debug, thiserror::Error)]
#[error("--cors-origin {origin:?}: {why}")]
pub struct OriginError {
    origin: String,
    why: &'static str,
}

/// `scheme://host[:port]`, exactly as browsers send it in `Origin`.
pub fn parse_origins(origins: &[String]) -> Result<Vec<HeaderValue>, OriginError> {
    origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let err = |why| OriginError {
                origin: o.to_owned(),
                why,
            };
            if o == "*" {
                return Err(err("list each origin; * is not accepted"));
            }
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"))
                .ok_or_else(|| err("must start with https:// or http://"))?;
            if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
                return Err(err("must be scheme://host[:port] with no path"));
            }
            HeaderValue::from_str(&o.to_ascii_lowercase())
                .map_err(|_| err("is not a valid header value"))
        })
        .collect()
}

/// The layer for the API routes; `None` when no origin is allowed (no CORS
/// headers at all: browsers refuse cross-origin calls).
pub fn layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("apollo-require-preflight"),
                HeaderName::from_static("x-apollo-operation-name"),
            ])
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        let ok = parse_origins(&[
            "https://crm.example.com".into(),
            "http://localhost:3000".into(),
        ])
        .expect("valid");
        assert_eq!(ok.len(), 2);
        for bad in [
            "*",
            "crm.example.com",
            "https://crm.example.com/app",
            "ftp://x",
            "https://",
        ] {
            assert!(parse_origins(&[bad.into()]).is_err(), "{bad}");
        }
    }
}
