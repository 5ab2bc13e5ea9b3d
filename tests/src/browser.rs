//! A small WebDriver client for the browser tests: Debian's Chromium,
//! headless, driven by its ChromeDriver over the W3C WebDriver protocol
//! (JSON over HTTP). Each [`Browser`] is one ChromeDriver process with one
//! session and its own throwaway profile.
//!
//! Waits poll every 100 ms and fail after [`WAIT`] with what the page showed,
//! so a failing browser test says what it was waiting for and what it saw.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// How long a wait lasts before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// The key of an element reference in WebDriver responses.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The browser's time zone.
pub const AGENT_ZONE: &str = "America/New_York";

/// WebDriver's code for the Alt key.
pub const ALT: &str = "\u{E00A}";

pub struct Browser {
    driver: tokio::process::Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

/// Where the Debian packages put them; `./dev setup` installs both.
fn find(name: &str, fallback: &str) -> PathBuf {
    let env = format!("PINLINE_{}", name.to_uppercase());
    if let Ok(p) = std::env::var(&env) {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(fallback);
    assert!(
        p.is_file(),
        "{fallback} is missing: the browser tests need Debian's chromium and chromium-driver \
         (`./dev setup` installs them; or set {env})"
    );
    p
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Start ChromeDriver and a headless Chromium with a `width`×`height`
    /// window.
    pub async fn start(width: u32, height: u32) -> Browser {
        Self::start_with(width, height, &[]).await
    }

    /// …with more Chromium flags (a fake microphone for the WebRTC tests).
    pub async fn start_with(width: u32, height: u32, flags: &[String]) -> Browser {
        let chromium = find("chromium", "/usr/bin/chromium");
        let chromedriver = find("chromedriver", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // The agent's own time zone, for the tests that read times.
            .env("TZ", AGENT_ZONE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", chromedriver.display()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not come up on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--disable-features=Translate,MediaRouter,OptimizationHints".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
            "--hide-scrollbars".into(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={width},{height}"),
        ];
        args.extend_from_slice(flags);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {"binary": chromium, "args": args, "prefs": {
                "download.default_directory": profile.path().join("downloads"),
                "download.prompt_for_download": false,
            }},
        }}});
        let mut b = Browser {
            driver,
            base,
            http,
            _profile: profile,
        };
        let session = b.call("POST", "/session", Some(caps)).await;
        let id = session["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {session}"))
            .to_owned();
        b.base = format!("{}/session/{id}", b.base);
        b.set_size(width, height).await;
        b
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .json(&body.unwrap_or_else(|| json!({}))),
        };
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let v: Value = resp.json().await.expect("WebDriver answers JSON");
        v["value"].clone()
    }

    /// A call whose answer may be an error (`value.error`).
    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Value> {
        let v = self.call(method, path, body).await;
        if v.get("error").is_some() {
            Err(v)
        } else {
            Ok(v)
        }
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({"url": url}))).await;
    }

    /// The inner size of the viewport is what the layout sees; the window
    /// is made this size (headless Chromium has no window chrome).
    pub async fn set_size(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Run `script` (a function body; `arguments` are `args`).
    pub async fn js(&self, script: &str, args: Value) -> Value {
        match self
            .try_call(
                "POST",
                "/execute/sync",
                Some(json!({"script": script, "args": args})),
            )
            .await
        {
            Ok(v) => v,
            Err(e) => panic!("script failed: {e}\n{script}"),
        }
    }

    async fn find_now(&self, css: &str) -> Option<String> {
        self.try_call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .await
        .ok()
        .and_then(|v| v[ELEMENT].as_str().map(str::to_owned))
    }

    /// Whether `css` matches something now.
    pub async fn exists(&self, css: &str) -> bool {
        self.find_now(css).await.is_some()
    }

    /// What the page shows, for failure messages.
    pub async fn page_text(&self) -> String {
        self.js(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_owned()
    }

    async fn fail(&self, what: &str) -> ! {
        let text = self.page_text().await;
        panic!("waited {WAIT:?} for {what}; the page shows:\n{text}");
    }

    /// Poll `check` (a JS expression on the page) until it is truthy;
    /// returns its value.
    pub async fn until(&self, what: &str, expression: &str) -> Value {
        let script = format!("try {{ return ({expression}); }} catch (e) {{ return null; }}");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let v = self.js(&script, json!([])).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            if tokio::time::Instant::now() > deadline {
                self.fail(what).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until `css` matches; returns the element reference.
    pub async fn wait(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(e) = self.find_now(css).await {
                return e;
            }
            if tokio::time::Instant::now() > deadline {
                self.fail(&format!("`{css}`")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until `css` matches nothing.
    pub async fn wait_gone(&self, css: &str) {
        let q = serde_json::to_string(css).expect("css");
        self.until(
            &format!("`{css}` to go"),
            &format!("document.querySelector({q}) === null"),
        )
        .await;
    }

    /// Wait until the text of `css` contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) {
        let q = serde_json::to_string(css).expect("css");
        let t = serde_json::to_string(text).expect("text");
        self.until(
            &format!("`{css}` to read {text:?}"),
            &format!("(document.querySelector({q})?.innerText ?? '').includes({t})"),
        )
        .await;
    }

    /// Wait until attribute `attr` of `css` equals `value`.
    pub async fn wait_attr(&self, css: &str, attr: &str, value: &str) {
        let q = serde_json::to_string(css).expect("css");
        let a = serde_json::to_string(attr).expect("attr");
        let v = serde_json::to_string(value).expect("value");
        self.until(
            &format!("`{css}` [{attr}={value:?}]"),
            &format!("document.querySelector({q})?.getAttribute({a}) === {v}"),
        )
        .await;
    }

    /// The text of `css` (waits for it).
    pub async fn text(&self, css: &str) -> String {
        let e = self.wait(css).await;
        self.call("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Attribute `attr` of `css` (waits for the element).
    pub async fn attr(&self, css: &str, attr: &str) -> Option<String> {
        let e = self.wait(css).await;
        self.call("GET", &format!("/element/{e}/attribute/{attr}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Whether `css` is enabled (waits for the element).
    pub async fn enabled(&self, css: &str) -> bool {
        let e = self.wait(css).await;
        self.call("GET", &format!("/element/{e}/enabled"), None)
            .await
            .as_bool()
            .unwrap_or(false)
    }

    /// Wait until `css` is there and enabled, then click it as a user does.
    pub async fn click(&self, css: &str) {
        let q = serde_json::to_string(css).expect("css");
        self.until(
            &format!("`{css}` to be enabled"),
            &format!("(e => e && !e.disabled)(document.querySelector({q}))"),
        )
        .await;
        let e = self.wait(css).await;
        if let Err(err) = self
            .try_call("POST", &format!("/element/{e}/click"), None)
            .await
        {
            panic!("click on `{css}` failed: {err}");
        }
    }

    /// Type `text` into `css` (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        let _ = self
            .try_call("POST", &format!("/element/{e}/clear"), None)
            .await;
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Pick `value` in the `<select>` `css` and fire `change`, as a click
    /// on the option would.
    pub async fn choose(&self, css: &str, value: &str) {
        self.wait(css).await;
        self.js(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
             s.dispatchEvent(new Event('change', {bubbles: true})); return null",
            json!([css, value]),
        )
        .await;
    }

    /// Set the value of `css` by script, as typing would, and fire `input`
    /// (for inputs whose typing is locale-dependent, like datetime-local).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.wait(css).await;
        self.js(
            "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
             e.dispatchEvent(new Event('input', {bubbles: true})); return null",
            json!([css, value]),
        )
        .await;
    }

    /// Press `key` with Alt held, on whatever has focus.
    pub async fn alt_key(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": ALT},
            {"type": "keyDown", "value": key},
            {"type": "keyUp", "value": key},
            {"type": "keyUp", "value": ALT},
        ]}]});
        self.call("POST", "/actions", Some(actions)).await;
        self.call("DELETE", "/actions", None).await;
    }

    /// Save a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or(""))
            .expect("a base64 PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    /// Sign in through the login form and wait for the first page to be
    /// live (the agent workspace, the supervisors' floor).
    pub async fn sign_in(&self, url: &str, email: &str, password: &str) {
        self.goto(url).await;
        self.type_into("#email", email).await;
        self.type_into("#password", password).await;
        self.click("button[type=submit]").await;
        // Agents and supervisors land on a live page, admins on theirs.
        self.wait("[data-link=open], #admin").await;
    }

    /// The contents of a file the page downloaded, once it is complete.
    pub async fn downloaded(&self, name: &str) -> String {
        let path = self._profile.path().join("downloads").join(name);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            // Chromium writes `name.crdownload`, then renames it.
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for the download {}",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// End the session; fails the test if the app crashed (a Rust panic in
    /// the page puts up `#app-crashed`; the console has the message).
    pub async fn close(mut self) {
        let crashed = self
            .try_call(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return document.getElementById('app-crashed') !== null", "args": []})),
            )
            .await;
        let _ = self.try_call("DELETE", "", None).await;
        let _ = self.driver.kill().await;
        if let Ok(v) = crashed {
            assert!(
                v.get("value") != Some(&Value::Bool(true)),
                "the web app panicked (see its console)"
            );
        }
    }
}

/// `docs/screenshots/NAME.png` in the repository.
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/screenshots")
        .join(format!("{name}.png"))
}

/// The web app build the tests serve (`scripts/web-build.sh`; `./dev test`
/// builds it first): the agents' app and the supervisors'.
pub fn web_dist() -> PathBuf {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    assert!(
        dist.join("index.html").is_file() && dist.join("supervisor/index.html").is_file(),
        "{} has no web app build: run `scripts/web-build.sh` first (./dev test does)",
        dist.display()
    );
    dist
}
