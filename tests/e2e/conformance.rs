//! Standard clients with their defaults against `pinline serve` as a user
//! runs it: npm `graphql-http`'s server audits (every MUST), the npm
//! `graphql-ws` client, and the graphql-transport-ws close codes
//! (`tests/conformance/run.mjs`; `./dev setup` installs its packages from
//! the npm registry).

use std::path::PathBuf;

use pinline_tests::serve::Served;

fn conformance_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/conformance"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_clients_with_their_defaults() {
    let dir = conformance_dir();
    assert!(
        dir.join("node_modules/graphql-http").is_dir()
            && dir.join("node_modules/graphql-ws").is_dir(),
        "the conformance packages are missing: run ./dev setup (npm ci in {})",
        dir.display()
    );
    let data = tempfile::tempdir().expect("temp dir");
    let served = Served::start(data.path(), None, &["--seed-demo"]).await;
    let password = served.password.clone().expect("demo password printed");
    let out = tokio::process::Command::new("node")
        .arg("run.mjs")
        .arg(&served.url)
        .arg("agent1@demo.pinline.test")
        .arg(&password)
        .current_dir(&dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "conformance failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("conformance: all checks held"), "{stdout}");
}
