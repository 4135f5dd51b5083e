//! `bench idle`: many idle WebSocket connections, spread over child processes, and the
//! server's memory per connection.
//!
//! The parent registers (or loads) users, writes their tokens to a file, and re-executes
//! this binary as `switchboard bench idle-child` P times. Each child opens its share of
//! connections (at most 9,000, well inside a 20,000 descriptor limit), waits for every
//! `synced`, prints one JSON line, and holds the connections until its standard input
//! closes. The parent reads the server's VmRSS before and after.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use switchboard_client::{ServerFrame, Session, SessionConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::report;
use crate::users::{self, CommonArgs, User};

/// Connections one child process holds at most.
const MAX_PER_PROCESS: usize = 9_000;

/// Options of `bench idle`.
#[derive(clap::Args, Debug)]
pub struct IdleArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Connections to open in total.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Child processes to spread them over (raised so none holds more than 9000).
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Distinct users (connections beyond this reuse users as extra devices' sockets).
    #[arg(long)]
    users: Option<usize>,
    /// The server's process id, to read its VmRSS from /proc before and after.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Reuse users saved by an earlier run (and save new ones there).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Seconds to hold the connections after all are up (RSS is read at the end).
    #[arg(long, default_value_t = 5)]
    hold: u64,
    /// Connection attempts in flight per process.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Give up on establishing connections after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// Options of the hidden `bench idle-child` (set by the parent).
#[derive(clap::Args, Debug)]
pub struct IdleChildArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long)]
    token_file: PathBuf,
    /// Index of this child's first connection (picks users and source addresses).
    #[arg(long)]
    first: usize,
    #[arg(long)]
    count: usize,
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// The line a child prints once its connections are up.
#[derive(Debug, Serialize, Deserialize)]
struct ChildReport {
    established: usize,
    failed: usize,
    elapsed_ms: u64,
    first_error: Option<String>,
}

#[derive(Serialize)]
struct IdleResults {
    scenario: &'static str,
    server: String,
    connections: usize,
    processes: usize,
    users: usize,
    established: usize,
    failed: usize,
    first_error: Option<String>,
    connect_seconds: f64,
    connections_per_s: f64,
    server_rss_before_kib: Option<u64>,
    server_rss_after_kib: Option<u64>,
    kib_per_connection: Option<f64>,
}

/// `bench idle`.
pub async fn run(args: IdleArgs) -> anyhow::Result<()> {
    if args.connections == 0 || args.connections > 1_000_000 {
        bail!(
            "--connections must be 1 to 1000000, not {}",
            args.connections
        );
    }
    let processes = args
        .processes
        .max(1)
        .max(args.connections.div_ceil(MAX_PER_PROCESS));
    if processes != args.processes {
        eprintln!(
            "using {processes} processes so none holds more than {MAX_PER_PROCESS} connections"
        );
    }
    let user_count = args
        .users
        .unwrap_or(args.connections)
        .clamp(1, args.connections);
    let token_file = args.token_file.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "switchboard-bench-tokens-{}.json",
            std::process::id()
        ))
    });
    let users = users::ensure_users(&args.common, user_count, Some(&token_file)).await?;
    if args.token_file.is_none() {
        eprintln!(
            "tokens saved to {} (reuse with --token-file)",
            token_file.display()
        );
    }
    // The children read exactly the users this run uses.
    users::save_tokens(&token_file, &users)?;

    let rss_before = args.server_pid.map(read_rss_kib).transpose()?;
    let exe = std::env::current_exe()
        .context("cannot find this program's path to start child processes")?;
    let started = Instant::now();
    let mut children = Vec::with_capacity(processes);
    let per = args.connections.div_ceil(processes);
    for p in 0..processes {
        let first = p * per;
        let count = per.min(args.connections.saturating_sub(first));
        if count == 0 {
            break;
        }
        let mut cmd = tokio::process::Command::new(&exe);
        cmd.args(["bench", "idle-child", "--server", &args.common.server])
            .arg("--token-file")
            .arg(&token_file)
            .args(["--first", &first.to_string(), "--count", &count.to_string()])
            .args([
                "--connect-concurrency",
                &args.connect_concurrency.to_string(),
            ])
            .args(["--timeout", &args.timeout.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if args.common.no_spread {
            cmd.arg("--no-spread");
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start child process {}", exe.display()))?;
        children.push(child);
    }
    // Each child's one report line, all bounded by the timeout.
    let mut established = 0;
    let mut failed = 0;
    let mut first_error = None;
    let deadline = Duration::from_secs(args.timeout + 30);
    for child in &mut children {
        let stdout = child.stdout.take().context("child stdout is piped")?;
        let mut line = String::new();
        let read = tokio::time::timeout(deadline.saturating_sub(started.elapsed()), async {
            BufReader::new(stdout).read_line(&mut line).await
        })
        .await;
        match read {
            Ok(Ok(n)) if n > 0 => {
                let r: ChildReport = serde_json::from_str(line.trim())
                    .with_context(|| format!("a child process printed {line:?}"))?;
                established += r.established;
                failed += r.failed;
                if first_error.is_none() {
                    first_error = r.first_error;
                }
            }
            Ok(_) => bail!("a child process ended without reporting (see its errors above)"),
            Err(_) => bail!(
                "a child process did not report within {} s",
                deadline.as_secs()
            ),
        }
    }
    let connect_time = started.elapsed();
    eprintln!(
        "{established} connections up in {:.1} s; holding {} s …",
        connect_time.as_secs_f64(),
        args.hold
    );
    tokio::time::sleep(Duration::from_secs(args.hold)).await;
    let rss_after = args.server_pid.map(read_rss_kib).transpose()?;
    // Closing stdin tells each child to close its connections and exit.
    for child in &mut children {
        drop(child.stdin.take());
    }
    for child in &mut children {
        match tokio::time::timeout(Duration::from_secs(30), child.wait()).await {
            Ok(status) => {
                status.context("waiting for a child process")?;
            }
            Err(_) => {
                // Ours to end: it did not exit after its stdin closed.
                let _ = child.kill().await;
            }
        }
    }
    let per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if established > 0 => {
            Some(a.saturating_sub(b) as f64 / established as f64)
        }
        _ => None,
    };
    let r = IdleResults {
        scenario: "idle",
        server: args.common.server.clone(),
        connections: args.connections,
        processes,
        users: users.len(),
        established,
        failed,
        first_error,
        connect_seconds: connect_time.as_secs_f64(),
        connections_per_s: report::rate(established as u64, connect_time),
        server_rss_before_kib: rss_before,
        server_rss_after_kib: rss_after,
        kib_per_connection: per_conn,
    };
    let kib = |v: Option<u64>| {
        v.map(|k| format!("{k} KiB"))
            .unwrap_or_else(|| "(no --server-pid)".into())
    };
    report::print_table(
        &format!(
            "bench idle: {} connections over {processes} processes",
            args.connections
        ),
        &[
            ("established", format!("{established}")),
            (
                "failed",
                match &r.first_error {
                    Some(e) => format!("{failed} (first: {e})"),
                    None => failed.to_string(),
                },
            ),
            (
                "connect time",
                format!("{:.1} s ({:.0}/s)", r.connect_seconds, r.connections_per_s),
            ),
            ("server rss before", kib(rss_before)),
            ("server rss after", kib(rss_after)),
            (
                "per connection",
                per_conn
                    .map(|k| format!("{k:.1} KiB"))
                    .unwrap_or_else(|| "-".into()),
            ),
        ],
    );
    report::write_json(args.common.json_out.as_deref(), &r)
}

/// `bench idle-child`: open `count` connections, report, hold until stdin closes.
pub async fn child(args: IdleChildArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.token_file)
        .with_context(|| format!("cannot read the token file {}", args.token_file.display()))?;
    #[derive(Deserialize)]
    struct TokenFile {
        users: Vec<User>,
    }
    let users: Vec<User> = serde_json::from_str::<TokenFile>(&text)?.users;
    if users.is_empty() {
        bail!("the token file {} has no users", args.token_file.display());
    }
    if let Some(limit) = open_files_limit()
        && limit < args.count as u64 + 64
    {
        bail!(
            "this process may open {limit} files, too few for {} connections\nhint: raise `ulimit -n` or use more --processes",
            args.count
        );
    }
    let url = switchboard_client::Client::new(&args.common.server)?.ws_url();
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let (up_tx, mut up_rx) = tokio::sync::mpsc::channel::<Result<(), String>>(1024);
    let mut tasks = JoinSet::new();
    for j in 0..args.count {
        let index = args.first + j;
        let user = &users[index % users.len()];
        let config = SessionConfig {
            reconnect: false,
            local_addr: args.common.connection_addr(index),
            read_buffer_size: 4096,
            ..SessionConfig::default()
        };
        let (url, token, gate, up) = (url.clone(), user.token.clone(), gate.clone(), up_tx.clone());
        tasks.spawn(async move {
            let connected = async {
                let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                let mut s = Session::connect(url, token, 0, config)
                    .await
                    .map_err(|e| e.to_string())?;
                loop {
                    match s.next().await.map_err(|e| e.to_string())? {
                        ServerFrame::Synced { .. } => return Ok::<_, String>(s),
                        _ => continue,
                    }
                }
            }
            .await;
            match connected {
                Ok(mut s) => {
                    // The parent only listens for the first report; a full channel
                    // cannot happen (1024 slots, read continuously).
                    let _ = up.send(Ok(())).await;
                    // Stay idle but responsive (WebSocket pings are answered while reading).
                    while s.next().await.is_ok() {}
                }
                Err(e) => {
                    let _ = up.send(Err(e)).await;
                }
            }
        });
    }
    drop(up_tx);
    let mut report = ChildReport {
        established: 0,
        failed: 0,
        elapsed_ms: 0,
        first_error: None,
    };
    let timeout = tokio::time::sleep(Duration::from_secs(args.timeout));
    tokio::pin!(timeout);
    while report.established + report.failed < args.count {
        tokio::select! {
            r = up_rx.recv() => match r {
                Some(Ok(())) => report.established += 1,
                Some(Err(e)) => {
                    report.failed += 1;
                    report.first_error.get_or_insert(e);
                }
                None => break,
            },
            _ = &mut timeout => {
                report.failed = args.count - report.established;
                report.first_error.get_or_insert_with(|| format!("not connected within {} s", args.timeout));
                break;
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    println!("{}", serde_json::to_string(&report)?);
    // Hold until the parent closes our stdin (or goes away).
    let mut stdin = tokio::io::stdin();
    let mut buf = [0u8; 64];
    while let Ok(n) = stdin.read(&mut buf).await {
        if n == 0 {
            break;
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// VmRSS of a process in KiB, from /proc.
fn read_rss_kib(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| {
        format!("cannot read {path}\nhint: is --server-pid {pid} the server, on this machine?")
    })?;
    parse_vm_rss(&status).with_context(|| format!("no VmRSS line in {path}"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The soft limit of open files of this process, from /proc/self/limits.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_parsing() {
        let status = "Name:\tx\nVmPeak:\t  100 kB\nVmRSS:\t   12345 kB\nThreads: 3\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
        assert!(open_files_limit().is_some_and(|n| n > 0));
    }
}
