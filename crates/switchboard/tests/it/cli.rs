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

fn biz_json(config: &Path, args: &[&str]) -> Value {
    let out = Command::new(binary())
        .arg("biz")
        .arg("--json")
        .args(args)
        .env("SWITCHBOARD_CLI_CONFIG", config)
        .env_remove("SWITCHBOARD_BUSINESS")
        .output()
        .expect("run switchboard biz");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "biz {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("biz {args:?}: {e}: {stdout}"))
}

/// The demo bakery run from the terminal by its owner: the seeded catalog and quick
/// replies, a new product, and a customer's message showing up in the shared inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_business_app_from_the_terminal() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let server = ServerProcess::start_with(&tmp.path().join("data"), &["--demo"]).await;
    let url = format!("http://{}", server.addr);
    let ada = tmp.path().join("ada.toml");
    let bruno = tmp.path().join("bruno.toml");
    for (cfg, phone) in [(&ada, "+4915100000001"), (&bruno, "+4915100000002")] {
        let (ok, _, stderr) = chat(cfg, &["login", "--server", &url, "--phone", phone]);
        assert!(ok, "login failed: {stderr}");
    }
    let mine = biz_json(&bruno, &["list"]);
    assert_eq!(mine["businesses"][0]["role"], "owner", "{mine}");
    assert_eq!(mine["businesses"][0]["verification"], "verified", "{mine}");

    let products = biz_json(&bruno, &["catalog", "list"]);
    let names: Vec<&str> = products["products"]
        .as_array()
        .expect("products")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(names.contains(&"Brezel"), "{names:?}");
    let added = biz_json(&bruno, &["catalog", "add", "Plum cake", "--price", "250"]);
    assert_eq!(added["price"]["amount_minor"], 250, "{added}");
    let replies = biz_json(&bruno, &["replies", "list", "--prefix", "/re"]);
    assert_eq!(replies["replies"][0]["shortcut"], "/ready", "{replies}");

    // Ada writes to the bakery: the conversation appears in the team inbox.
    let (ok, _, stderr) = chat(
        &ada,
        &["send", "--to", "+4915100000002", "Is there plum cake?"],
    );
    assert!(ok, "send failed: {stderr}");
    let mut found = Value::Null;
    for _ in 0..100 {
        let list = biz_json(&bruno, &["inbox", "list"]);
        if let Some(c) = list["conversations"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["customer"] == "4915100000001"))
        {
            found = c.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // (Its preview may be the away message already, depending on the hour in Berlin.)
    assert_eq!(found["status"], "open", "{found}");
    assert!(found["unread"].as_u64().is_some_and(|n| n >= 1), "{found}");
    let shown = biz_json(&bruno, &["inbox", "show", "4915100000001"]);
    assert!(shown.to_string().contains("Is there plum cake?"), "{shown}");
    let stats = biz_json(&bruno, &["stats"]);
    assert!(
        stats["days"].as_array().is_some_and(|d| !d.is_empty()),
        "{stats}"
    );
    drop(server);
}
