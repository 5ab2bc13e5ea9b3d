//! Talking to the GraphQL API over HTTP: one POST per operation, errors
//! turned into words a person understands.

use gloo_net::http::Request;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// What went wrong, for the person in front of the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The API's `extensions.code`, or `NETWORK`.
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn network(detail: impl std::fmt::Display) -> Self {
        ApiError {
            code: "NETWORK".into(),
            message: format!(
                "Cannot reach the Pinline server ({detail}). Check your connection and try again."
            ),
        }
    }

    /// A sentence to show.
    pub fn for_people(&self) -> String {
        match self.code.as_str() {
            "UNAUTHENTICATED" if self.message.contains("wrong email or password") => {
                "That email and password do not match. Check them and try again.".into()
            }
            "UNAUTHENTICATED" => format!("Please sign in again: {}.", self.message),
            "RATE_LIMITED" => format!("Too many attempts. {}", capitalize(&self.message)),
            "FORBIDDEN" => "Your role does not allow this.".into(),
            "NOT_FOUND" => "That no longer exists, or you cannot see it.".into(),
            "INTERNAL" => "Something went wrong on the server. Try again; if it keeps happening, tell your admin.".into(),
            _ => capitalize(&self.message),
        }
    }
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Run one operation; `T` is the shape of `data`.
pub async fn graphql<T: DeserializeOwned>(
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Result<T, ApiError> {
    let mut req = Request::post("/graphql").header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", &format!("Bearer {t}"));
    }
    let body = json!({ "query": query, "variables": variables });
    let resp = req
        .body(body.to_string())
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)?;
    let value: Value = resp.json().await.map_err(ApiError::network)?;
    if let Some(err) = value.get("errors").and_then(|e| e.get(0)) {
        return Err(ApiError {
            code: err["extensions"]["code"]
                .as_str()
                .unwrap_or("INTERNAL")
                .to_owned(),
            message: err["message"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned(),
        });
    }
    serde_json::from_value(value.get("data").cloned().unwrap_or(Value::Null)).map_err(|e| {
        ApiError {
            code: "INTERNAL".into(),
            message: format!("unexpected answer from the server: {e}"),
        }
    })
}

/// `POST url` with `file` as the body (a CSV upload to `/imports/…`): the
/// JSON answer, or the server's refusal in words.
pub async fn post_file(url: &str, token: &str, file: web_sys::File) -> Result<Value, String> {
    let sent = Request::post(url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(file);
    let resp = match sent {
        Ok(r) => r.send().await,
        Err(e) => Err(e),
    }
    .map_err(|e| format!("Cannot reach the Pinline server ({e})."))?;
    let ok = resp.ok();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if ok {
        Ok(body)
    } else {
        Err(capitalize(
            body["message"].as_str().unwrap_or("the upload was refused"),
        ))
    }
}

/// `GET url` with the token (a CSV from `/exports/…`), saved by the
/// browser as `file_name`. An anchor cannot send the token, so the file is
/// fetched, then handed over as a blob.
pub async fn download(url: &str, token: &str, file_name: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let resp = Request::get(url)
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|e| format!("Cannot reach the Pinline server ({e})."))?;
    if !resp.ok() {
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        return Err(capitalize(
            body["message"].as_str().unwrap_or("the export was refused"),
        ));
    }
    let bytes = resp
        .binary()
        .await
        .map_err(|e| format!("The export stopped ({e})."))?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/csv");
    let failed = |_| "The browser could not save the file.".to_owned();
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(failed)?;
    let href = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let document = leptos::prelude::document();
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(failed)?
        .unchecked_into();
    a.set_href(&href);
    a.set_download(file_name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&href);
    Ok(())
}
