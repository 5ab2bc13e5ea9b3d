//! `pinline serve` as a separate process, as a user runs it: started on a
//! data dir (and a PostgreSQL URL), its URL read from the log line, its
//! demo password from the printed logins; stopped with SIGTERM or killed
//! with SIGKILL.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

use crate::pinline_bin;

/// POST a GraphQL request to the server (or balancer) at `url`.
pub async fn gql_at(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Value {
    let mut req = client
        .post(format!("{url}/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send()
        .await
        .expect("sent")
        .json::<Value>()
        .await
        .expect("json")
}

pub struct Served {
    pub child: Child,
    pub url: String,
    /// The demo password, when this start printed the demo logins.
    pub password: Option<String>,
    pub client: reqwest::Client,
}

impl Served {
    /// Start `pinline serve --listen 127.0.0.1:0` plus `args`, and wait
    /// until it says it is up (and, with `--seed-demo` on a fresh
    /// database, until it printed the logins).
    pub async fn start(data_dir: &Path, db_url: Option<&str>, args: &[&str]) -> Served {
        Self::start_at("127.0.0.1:0", data_dir, db_url, args).await
    }

    /// [`Served::start`] listening on `listen` (a restart on the same
    /// address, behind a load balancer that knows it).
    pub async fn start_at(
        listen: &str,
        data_dir: &Path,
        db_url: Option<&str>,
        args: &[&str],
    ) -> Served {
        let mut cmd = tokio::process::Command::new(pinline_bin());
        cmd.args(["serve", "--listen", listen])
            .args(args)
            .arg("--data-dir")
            .arg(data_dir)
            .env_remove("DATABASE_URL")
            .env_remove("PINLINE_JWT_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = db_url {
            cmd.args(["--database-url", url]);
        }
        let fresh_seed =
            args.contains(&"--seed-demo") && !data_dir.join("demo-logins.txt").exists();
        let mut child = cmd.spawn().expect("pinline serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut password = None;
        let mut url = None;
        let mut log = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while url.is_none() || (fresh_seed && password.is_none()) {
            tokio::select! {
                line = stdout.next_line() => {
                    let line = line.expect("read").unwrap_or_else(|| panic!("serve exited: {log:#?}"));
                    if line.contains("agent1@demo.pinline.test") {
                        password = line.rsplit(' ').next().map(str::to_owned);
                    }
                    log.push(line);
                }
                line = stderr.next_line() => {
                    let line = line.expect("read").unwrap_or_else(|| panic!("serve exited: {log:#?}"));
                    if let Some(rest) = line.split("Pinline is up: ").nth(1) {
                        url = rest.split_whitespace().next().map(str::to_owned);
                    }
                    log.push(line);
                }
                _ = tokio::time::sleep_until(deadline) => panic!("serve did not come up: {log:#?}"),
            }
        }
        // Keep reading so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
        Served {
            child,
            url: url.expect("url"),
            password,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        }
    }

    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        gql_at(&self.client, &self.url, token, query, variables).await
    }

    /// A request that must succeed: its `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "{body:#}\nquery: {query}");
        body["data"].clone()
    }

    /// The first contact center `token` sees.
    pub async fn first_contact_center(&self, token: &str) -> String {
        self.ok(
            Some(token),
            "{ contactCenters { edges { node { id } } } }",
            json!({}),
        )
        .await["contactCenters"]["edges"][0]["node"]["id"]
            .as_str()
            .expect("a contact center")
            .to_owned()
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        self.ok(
            None,
            "mutation($e:String!,$p:String!){login(input:{email:$e,password:$p}){token}}",
            json!({"e": email, "p": password}),
        )
        .await["login"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Send `signal` (`-STOP`, `-CONT`…) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGTERM; returns whether it exited cleanly.
    pub async fn stop(mut self) -> bool {
        self.signal("-TERM");
        tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("stops")
            .expect("status")
            .success()
    }

    /// SIGKILL: no shutdown of any kind.
    pub async fn kill(mut self) {
        self.signal("-KILL");
        let _ = self.child.wait().await;
    }
}
