//! The web app in a real browser: the stories in `tests/browser/*.mjs` (playwright-core
//! driving Debian's Chromium, headless) run against the real binary in dev mode.
//! Screenshots land in `target/browser-artifacts/`. Without node, the npm packages or
//! Chromium (see `scripts/setup`) this test says "skipped", unless `CI` is set: then
//! it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::ServerProcess;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether node, playwright-core and Chromium are here; panics in CI when not.
fn browser_ready() -> bool {
    let root = repo_root();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let playwright = root
        .join("tests/browser/node_modules/playwright-core/package.json")
        .exists();
    let chromium = Path::new("/usr/bin/chromium").exists();
    if node && playwright && chromium {
        return true;
    }
    let missing = format!("node: {node}, playwright-core: {playwright}, chromium: {chromium}");
    if std::env::var_os("CI").is_some() {
        panic!(
            "the browser tests need node, playwright-core and chromium in CI ({missing}): run scripts/setup"
        );
    }
    eprintln!("skipped: browser tests need scripts/setup ({missing})");
    false
}

/// The platform admin token of the stories' servers (a story sets up its own world).
const ADMIN_TOKEN: &str = "browser-story-admin-token-0123456789";

/// Runs one story against a fresh server; its output is shown when it fails.
async fn story(name: &str) {
    if !browser_ready() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, format!("admin_token = \"{ADMIN_TOKEN}\"\n"))
        .expect("write the config");
    let config = config.to_string_lossy().into_owned();
    let server = ServerProcess::start_with(&dir.path().join("data"), &["--config", &config]).await;
    let root = repo_root();
    let script = root.join("tests/browser").join(name);
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(&script)
            .current_dir(&root)
            .env("BASE_URL", format!("http://{}", server.addr))
            .env("ADMIN_TOKEN", ADMIN_TOKEN)
            .env(
                "ARTIFACTS_DIR",
                repo_root().join("target/browser-artifacts"),
            )
            .output()
            .map(|o| (o, server))
    })
    .await
    .expect("the story's task")
    .expect("run node");
    let (out, _server) = out;
    assert!(
        out.status.success(),
        "browser story {name} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn two_people_chat_in_the_browser() {
    story("chat.mjs").await;
}

#[tokio::test]
async fn the_bakery_story() {
    story("bakery.mjs").await;
}

#[tokio::test]
async fn business_settings_in_the_browser() {
    story("settings.mjs").await;
}

#[tokio::test]
async fn catalog_links_stats_and_broadcasts_in_the_browser() {
    story("shop.mjs").await;
}

#[tokio::test]
async fn the_admin_console_in_the_browser() {
    story("admin.mjs").await;
}
