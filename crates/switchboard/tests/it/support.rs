//! Runs the real `switchboard` binary as a child process on an ephemeral port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::collections::BTreeMap;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard_client::Client;
use tokio_tungstenite::tungstenite::Message;

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_switchboard")
}

pub struct ServerProcess {
    child: Child,
    pub addr: String,
}

impl ServerProcess {
    pub async fn start(data_dir: &Path) -> ServerProcess {
        Self::start_with(data_dir, &[]).await
    }

    pub async fn start_with(data_dir: &Path, extra: &[&str]) -> ServerProcess {
        let addr_file: PathBuf = data_dir.with_extension("addr");
        let _ = std::fs::remove_file(&addr_file);
        let child = Command::new(binary())
            .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .arg("--addr-file")
            .arg(&addr_file)
            .args(extra)
            .env("RUST_LOG", "warn")
            .env_remove("SWITCHBOARD_CONFIG")
            .stdout(Stdio::null())
            .spawn()
            .expect("start the switchboard binary");
        let mut addr = None;
        for _ in 0..500 {
            if let Ok(a) = std::fs::read_to_string(&addr_file) {
                addr = Some(a);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let addr = addr.expect("the server wrote its address");
        let server = ServerProcess { child, addr };
        let client = server.client();
        for _ in 0..500 {
            if client.healthz().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not become healthy");
    }

    pub fn client(&self) -> Client {
        Client::new(&format!("http://{}", self.addr)).expect("a valid url")
    }

    pub fn ws_url(&self, token: &str) -> String {
        format!("ws://{}/v1/ws?access_token={token}", self.addr)
    }

    pub fn sigkill(&mut self) {
        // std's Child::kill sends SIGKILL on Unix: no chance to flush anything.
        self.child.kill().expect("SIGKILL the server");
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Syncs from 0 at `url` and records every `message` frame (inbox_seq, id) until the
/// connection dies; the task returns them.
pub async fn record_stream(url: String) -> tokio::task::JoinHandle<Vec<(u64, String)>> {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("listener ws");
    let (mut tx, mut rx) = ws.split();
    tx.send(Message::Text(
        json!({"type":"sync","after":0}).to_string().into(),
    ))
    .await
    .expect("sync");
    tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(Ok(Message::Text(t))) = rx.next().await {
            let f: Value = serde_json::from_str(&t).expect("json");
            if f["type"] == "message" {
                seen.push((
                    f["inbox_seq"].as_u64().expect("inbox_seq"),
                    f["id"].as_str().expect("id").to_owned(),
                ));
            }
        }
        seen
    })
}

/// Checks that frames seen live were gapless from 1, resyncs at `url` from the last
/// of them, and returns everything seen (live and resynced) by inbox_seq, failing on
/// any duplicate.
pub async fn resume(url: String, seen: Vec<(u64, String)>) -> BTreeMap<u64, String> {
    let mut cursor = 0;
    for (seq, _) in &seen {
        assert_eq!(*seq, cursor + 1, "live frames were gapless");
        cursor = *seq;
    }
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("resume ws");
    let (mut tx, mut rx) = ws.split();
    tx.send(Message::Text(
        json!({"type":"sync","after":cursor}).to_string().into(),
    ))
    .await
    .expect("sync");
    let mut all: BTreeMap<u64, String> = seen.into_iter().collect();
    loop {
        let t = match tokio::time::timeout(Duration::from_secs(20), rx.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => t,
            other => panic!("the resumed stream ended early: {other:?}"),
        };
        let f: Value = serde_json::from_str(&t).expect("json");
        match f["type"].as_str() {
            Some("message") => {
                let seq = f["inbox_seq"].as_u64().expect("inbox_seq");
                let id = f["id"].as_str().expect("id").to_owned();
                assert!(all.insert(seq, id).is_none(), "duplicate {seq}");
            }
            Some("synced") => return all,
            _ => {}
        }
    }
}
