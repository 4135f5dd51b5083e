//! The terminal client and demo mode, run as a person would: `serve --demo`, then
//! `switchboard chat …` commands against it with their own config file.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{ServerProcess, binary};

fn chat(config: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .arg("chat")
        .args(args)
        .env("SWITCHBOARD_CLI_CONFIG", config)
        .output()
        .expect("run switchboard chat");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn chat_json(config: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (ok, stdout, stderr) = chat(config, &all);
    assert!(ok, "chat {args:?} failed: {stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("chat {args:?}: {e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_and_the_terminal_client() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start_with(&tmp.path().join("data"), &["--demo"]).await;
    let url = format!("http://{}", server.addr);
    let ada = tmp.path().join("ada.toml");
    let bruno = tmp.path().join("bruno.toml");

    for (cfg, phone) in [(&ada, "+4915100000001"), (&bruno, "+4915100000002")] {
        let (ok, _, stderr) = chat(cfg, &["login", "--server", &url, "--phone", phone]);
        assert!(ok, "login failed: {stderr}");
    }
    // The demo seeded a direct chat and a group for Ada, with history.
    let chats = chat_json(&ada, &["chats"]);
    let chats = chats["chats"].as_array().expect("a chat list");
    assert_eq!(chats.len(), 2, "{chats:?}");
    assert!(chats.iter().all(|c| c["last_message"].is_object()));

    // A message sent from the CLI arrives in the other person's history.
    let (ok, _, stderr) = chat(
        &ada,
        &["send", "--to", "+4915100000002", "two pretzels please"],
    );
    assert!(ok, "send failed: {stderr}");
    let direct = chats
        .iter()
        .find(|c| c["kind"] == "direct")
        .expect("the demo direct chat");
    let chat_id = direct["chat_id"].as_str().unwrap();
    let history = chat_json(&bruno, &["history", chat_id]);
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"two pretzels please"), "{texts:?}");

    // Errors are clear and exit non-zero.
    let (ok, _, stderr) = chat(&ada, &["send", "--to", "+4915199999999", "hello?"]);
    assert!(!ok);
    assert!(
        stderr.contains("not on Switchboard") || stderr.contains("unknown_user"),
        "{stderr}"
    );
    let nobody = tmp.path().join("nobody.toml");
    let (ok, _, stderr) = chat(&nobody, &["chats"]);
    assert!(!ok);
    assert!(
        stderr.to_lowercase().contains("login") || stderr.contains("hint"),
        "{stderr}"
    );
}
