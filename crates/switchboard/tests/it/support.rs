//! Runs the real `switchboard` binary as a child process on an ephemeral port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use switchboard_client::Client;

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
