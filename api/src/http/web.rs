//! The web app's files: the two single-page apps (agents', supervisors')
//! with their fallback page, precompressed copies (`.br`, `.gz`, made by
//! `scripts/web-build.sh`) when the browser takes them, hashed assets
//! cached for good, pages never cached, and the security headers on every
//! page: a Content-Security-Policy the app meets (its inline bootstrap
//! scripts allowed by hash), `nosniff`, no referrer, no framing.
//!
//! Paths that look like the API or like a file (`/graphql/x`, `/exports/…`,
//! `/app.js`) and are not there answer 404, never the app's page.

use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Path prefixes that belong to the server, never to the app.
const API_PREFIXES: &[&str] = &["graphql", "imports", "exports", "api", "recordings"];

/// The supervisors' app's top-level paths (`frontend/src/lib.rs`).
const SUPERVISOR_PATHS: &[&str] = &["floor", "campaigns", "leads", "reports", "lists", "admin"];

/// Headers for every HTML page the server sends.
#[derive(Clone)]
pub struct PageHeaders {
    csp: HeaderValue,
}

impl PageHeaders {
    /// The policy for pages in `dist`: inline scripts Trunk wrote are
    /// allowed by their hashes, read once at start.
    pub fn for_dist(dist: &Path) -> PageHeaders {
        let mut hashes = Vec::new();
        for page in [
            dist.join("index.html"),
            dist.join("supervisor").join("index.html"),
        ] {
            if let Ok(html) = std::fs::read_to_string(&page) {
                hashes.extend(inline_script_hashes(&html));
            }
        }
        hashes.sort();
        hashes.dedup();
        let scripts: String = hashes.iter().map(|h| format!(" '{h}'")).collect();
        let csp = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:{scripts}; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:; \
             object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        );
        PageHeaders {
            csp: HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
        }
    }

    fn apply(&self, response: &mut Response, csp: &HeaderValue) {
        let h = response.headers_mut();
        h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
}

/// GraphiQL's page loads pinned scripts (checked by SRI) from unpkg.
pub const GRAPHIQL_CSP: &str = "default-src 'self'; script-src 'self' https://unpkg.com; \
     style-src 'self' 'unsafe-inline' https://unpkg.com; font-src 'self' data: https://unpkg.com; \
     img-src 'self' data: https://unpkg.com; connect-src 'self' ws: wss:; object-src 'none'; \
     base-uri 'self'; frame-ancestors 'none'";

/// `'sha256-…'` of each `<script>` with a body and no `src`.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let tag = &rest[..open_end];
        let body_start = open_end + 1;
        let Some(close) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + close];
        if !tag.contains(" src=") && !body.trim().is_empty() {
            let digest = Sha256::digest(body.as_bytes());
            out.push(format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &rest[body_start + close..];
    }
    out
}

/// Whether a file name carries Trunk's content hash (`app-0123456789abcdef.js`).
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.split(['-', '_'])
        .any(|t| t.len() >= 16 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a path that is not a file should get an app's page.
pub fn is_app_route(path: &str) -> bool {
    let trimmed = path.trim_start_matches('/');
    let first = trimmed.split('/').next().unwrap_or("");
    if API_PREFIXES.contains(&first) {
        return false;
    }
    // `/campaigns/123` is a route; `/main.js`, `/favicon.ico` are files.
    let last = trimmed.rsplit('/').next().unwrap_or("");
    !last.contains('.')
}

/// The service for everything that is not an API route.
#[derive(Clone)]
pub struct Web {
    dist: PathBuf,
    agent: PathBuf,
    supervisor: PathBuf,
}

impl Web {
    pub fn new(dist: &Path) -> Web {
        Web {
            dist: dist.to_owned(),
            agent: dist.join("index.html"),
            supervisor: dist.join("supervisor").join("index.html"),
        }
    }

    fn page_for(&self, path: &str) -> &Path {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if (first == "supervisor" || SUPERVISOR_PATHS.contains(&first)) && self.supervisor.is_file()
        {
            &self.supervisor
        } else {
            &self.agent
        }
    }

    pub async fn serve(self, req: Request) -> Response {
        let path = req.uri().path().to_owned();
        let files = ServeDir::new(&self.dist)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(true);
        let response = match files.oneshot(req).await {
            Ok(r) => r.into_response(),
            Err(never) => match never {},
        };
        if response.status() != StatusCode::NOT_FOUND {
            return response;
        }
        if !is_app_route(&path) {
            return not_found();
        }
        let page = self.page_for(&path).to_owned();
        let req = Request::builder()
            .uri("/")
            .body(axum::body::Body::empty())
            .unwrap_or_default();
        match ServeFile::new(page).oneshot(req).await {
            Ok(r) => r.into_response(),
            Err(never) => match never {},
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        r#"{"errors":[{"message":"not found","extensions":{"code":"NOT_FOUND"}}]}"#,
    )
        .into_response()
}

/// Headers by what a response is: pages get the security headers and are
/// never cached; hashed assets are cached for good.
pub async fn cache_and_security(
    axum::extract::State(headers): axum::extract::State<PageHeaders>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let mut response = next.run(req).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        let csp = if path == "/graphql" {
            HeaderValue::from_static(GRAPHIQL_CSP)
        } else {
            headers.csp.clone()
        };
        headers.apply(&mut response, &csp);
    } else if response.status().is_success() && is_hashed(&path) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    } else if !response.headers().contains_key(header::CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_others_not() {
        let html = r#"<script type="module">import init from '/a.js'; init();</script>
            <script src="/b.js"></script><script>
</script>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let expect = base64::engine::general_purpose::STANDARD
            .encode(Sha256::digest(b"import init from '/a.js'; init();"));
        assert_eq!(hashes[0], format!("sha256-{expect}"));
    }

    #[test]
    fn routes_files_and_hashes_are_told_apart() {
        assert!(is_app_route("/"));
        assert!(is_app_route("/campaigns/0193-ab"));
        assert!(!is_app_route("/graphql/x"));
        assert!(!is_app_route("/exports/nothing.csv"));
        assert!(!is_app_route("/api"));
        assert!(!is_app_route("/main.js"));
        assert!(is_hashed("/pinline-web-4b1e9c0a2f3d5e6f.js"));
        assert!(is_hashed("/pinline-web-4b1e9c0a2f3d5e6f_bg.wasm"));
        assert!(is_hashed("/supervisor/app-0123456789abcdef.css"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/favicon.ico"));
    }
}
