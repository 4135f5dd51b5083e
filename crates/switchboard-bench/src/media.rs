//! The `media` scenario: for each payload size, concurrent uploads (as documents), then
//! every upload downloaded back by its uploader and checked against the upload's answer
//! (length and SHA-256); the server's RSS sampled every 100 ms when `--server-pid` is
//! given, and a raw disk write of the same bytes for comparison.
//!
//! Payloads are PDFs by their signature (`%PDF-1.4\n`, then random bytes, then a tail
//! unique to the run and the upload), which the server accepts as documents up to
//! 100 MiB and stores as they are (no re-encoding, no thumbnail). One random base is
//! made per size and hashed once; each upload differs only in its 64-byte tail, so its
//! expected SHA-256 is the base's hasher state plus the tail (no re-hashing, and no
//! deduplication of identical blobs by the server skews the disk writes).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use switchboard_client::Client;
use tokio::sync::watch;

use crate::report::{self, Latency};
use crate::users::{self, CommonArgs};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// The server's document limit (the largest upload of any kind).
const MAX_SIZE: u64 = 100 * MIB;
const MIN_SIZE: u64 = KIB;
/// Bytes at the end of each payload that make it unique.
const TAIL: usize = 64;
const PDF_HEADER: &[u8] = b"%PDF-1.4\n";
/// At most this many uploads per size.
const MAX_COUNT: usize = 10_000;
/// At most this many bytes uploaded per size.
const MAX_TOTAL: u64 = 16 * 1024 * MIB;
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Downloads being hashed at once (each holds a whole payload in memory).
const VERIFY_SLOTS: usize = 4;

/// Options of `bench media`.
#[derive(clap::Args, Debug)]
pub struct MediaArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Payload sizes, comma separated: a number of bytes with an optional B, KiB, MiB or
    /// GiB (K, M, G) suffix; from 1 KiB to 100 MiB (the server's document limit).
    #[arg(long, value_delimiter = ',', default_value = "1MiB,50MiB", value_parser = parse_size)]
    sizes: Vec<u64>,
    /// Uploads (then downloads) in flight at once; capped per size by --inflight-mib.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Payload bytes in flight at once, in MiB: a size's concurrency is at most this
    /// divided by the size (at 400: 100 × 1 MiB, 8 × 50 MiB).
    #[arg(long, default_value_t = 400)]
    inflight_mib: u64,
    /// Uploads per size (default: twice that size's concurrency), at most 10000.
    #[arg(long)]
    count: Option<usize>,
    /// Stop starting new uploads (or downloads) after this many seconds per phase.
    #[arg(long, default_value_t = 120)]
    duration: u64,
    /// The server's process id: its VmRSS is sampled every 100 ms and its VmHWM read.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Skip the raw disk write comparison.
    #[arg(long)]
    no_disk: bool,
}

/// `"50MiB"` → bytes.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => KIB,
        "m" | "mib" | "mb" => MIB,
        "g" | "gib" | "gb" => 1024 * MIB,
        other => return Err(format!("unknown unit {other:?} in {s:?} (use B, KiB, MiB)")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 1MiB or 512KiB"))?;
    let bytes = (n * mult as f64).round();
    if !(MIN_SIZE as f64..=MAX_SIZE as f64).contains(&bytes) {
        return Err(format!(
            "{s:?} is outside 1KiB..=100MiB (the server's document limit)"
        ));
    }
    Ok(bytes as u64)
}

/// `1048576` → `"1MiB"`.
fn show_size(bytes: u64) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{}MiB", bytes / MIB)
    } else if bytes.is_multiple_of(KIB) {
        format!("{}KiB", bytes / KIB)
    } else {
        format!("{bytes}B")
    }
}

/// Whether the server is on loopback (127.x, localhost or [::1]).
fn server_is_loopback(server: &str) -> bool {
    let rest = server.strip_prefix("http://").unwrap_or(server);
    let authority = rest.split('/').next().unwrap_or("");
    if authority.starts_with("[::1]") {
        return true;
    }
    let host = authority.split(':').next().unwrap_or("");
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback())
}

/// A fast, non-cryptographic generator (splitmix64) for incompressible payloads.
fn fill_random(buf: &mut [u8], mut seed: u64) {
    for chunk in buf.chunks_mut(8) {
        seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// One size's payloads: a shared base and its hasher state; upload `i` adds its tail.
struct Payloads {
    base: Vec<u8>,
    hashed_base: Sha256,
    run: u64,
}

impl Payloads {
    fn new(size: u64, run: u64) -> Payloads {
        let mut base = vec![0u8; size as usize - TAIL];
        base[..PDF_HEADER.len()].copy_from_slice(PDF_HEADER);
        fill_random(&mut base[PDF_HEADER.len()..], run ^ size);
        let mut hashed_base = Sha256::new();
        hashed_base.update(&base);
        Payloads {
            base,
            hashed_base,
            run,
        }
    }

    fn tail(&self, i: usize) -> [u8; TAIL] {
        let mut tail = [b' '; TAIL];
        let text = format!("\n%switchboard-bench {:016x} {i:08}", self.run);
        tail[..text.len()].copy_from_slice(text.as_bytes());
        tail[TAIL - 1] = b'\n';
        tail
    }

    /// Upload `i`'s bytes and their lowercase hex SHA-256.
    fn make(&self, i: usize) -> (Vec<u8>, String) {
        let tail = self.tail(i);
        let mut body = Vec::with_capacity(self.base.len() + TAIL);
        body.extend_from_slice(&self.base);
        body.extend_from_slice(&tail);
        let sha = hex::encode(self.hashed_base.clone().chain_update(tail).finalize());
        (body, sha)
    }
}

/// The server's memory over one size's run, in KiB.
#[derive(Debug, Serialize, Default, Clone)]
struct Rss {
    samples: u64,
    start_kib: u64,
    min_kib: u64,
    max_kib: u64,
    end_kib: u64,
    /// VmHWM after this size: the peak RSS over the server's whole life so far.
    vm_hwm_kib: u64,
}

/// `VmRSS` and `VmHWM` of a process in KiB, from /proc.
fn read_mem_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| {
        format!("cannot read {path}\nhint: is --server-pid {pid} the server, on this machine?")
    })?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(hwm)) => Ok((rss, hwm)),
        _ => bail!("no VmRSS/VmHWM lines in {path}"),
    }
}

/// Samples the server's RSS every 100 ms until `stop` changes.
async fn sample_rss(pid: u32, mut stop: watch::Receiver<bool>) -> Rss {
    let mut r = Rss::default();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {
                if let Ok((rss, hwm)) = read_mem_kib(pid) {
                    if r.samples == 0 {
                        r.start_kib = rss;
                        r.min_kib = rss;
                    }
                    r.samples += 1;
                    r.min_kib = r.min_kib.min(rss);
                    r.max_kib = r.max_kib.max(rss);
                    r.end_kib = rss;
                    r.vm_hwm_kib = hwm;
                }
            }
        }
    }
    if let Ok((rss, hwm)) = read_mem_kib(pid) {
        r.end_kib = rss;
        r.min_kib = if r.samples == 0 {
            rss
        } else {
            r.min_kib.min(rss)
        };
        r.max_kib = r.max_kib.max(rss);
        r.vm_hwm_kib = hwm;
        r.samples += 1;
    }
    r
}

#[derive(Debug, Serialize)]
struct Disk {
    dir: String,
    bytes: u64,
    seconds: f64,
    mib_per_s: f64,
}

/// Writes `total` bytes (from `chunk`, repeated) to a temp file, fsyncs, removes it.
fn disk_write(chunk: &[u8], total: u64) -> anyhow::Result<Disk> {
    let dir = std::env::temp_dir();
    let mut f = tempfile::NamedTempFile::new_in(&dir)
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))?;
    let piece = &chunk[..chunk.len().min(MIB as usize)];
    let started = Instant::now();
    let mut left = total;
    while left > 0 {
        let n = left.min(piece.len() as u64) as usize;
        f.write_all(&piece[..n])?;
        left -= n as u64;
    }
    f.as_file().sync_all()?;
    let elapsed = started.elapsed();
    Ok(Disk {
        dir: dir.display().to_string(),
        bytes: total,
        seconds: elapsed.as_secs_f64(),
        mib_per_s: report::rate(total, elapsed) / MIB as f64,
    })
}

#[derive(Debug, Serialize)]
struct SizeResult {
    size: String,
    size_bytes: u64,
    concurrency: usize,
    planned: usize,
    uploaded: u64,
    upload_failed: u64,
    /// Uploads whose answer had another length, SHA-256 or type than sent.
    upload_mismatched: u64,
    downloaded: u64,
    download_failed: u64,
    /// Downloads whose length or SHA-256 differ from the upload's answer.
    download_mismatched: u64,
    first_error: Option<String>,
    upload_phase_s: f64,
    /// From the first download's start to the last one's end (hashing not included).
    download_phase_s: f64,
    /// The download phase including the last SHA-256 check.
    download_and_verify_s: f64,
    uploads_per_s: f64,
    downloads_per_s: f64,
    upload_mib_per_s: f64,
    download_mib_per_s: f64,
    upload_latency: Latency,
    download_latency: Latency,
    server_rss: Option<Rss>,
    disk: Option<Disk>,
}

#[derive(Serialize)]
struct Results {
    scenario: &'static str,
    server: String,
    users: usize,
    server_pid: Option<u32>,
    server_vm_hwm_kib_before: Option<u64>,
    sizes: Vec<SizeResult>,
}

/// What one upload or download ended as.
enum Outcome<T> {
    Ok(T, Duration),
    Mismatch(String),
    Failed(String),
}

/// A stored upload: who uploaded it and what its answer said.
struct Stored {
    user: usize,
    media_id: String,
    size: u64,
    sha256: String,
}

/// `bench media`.
pub async fn run(args: MediaArgs) -> anyhow::Result<()> {
    if !server_is_loopback(&args.common.server) {
        bail!(
            "bench media runs against a server on loopback only, not {}\nhint: use --server http://127.0.0.1:PORT",
            args.common.server
        );
    }
    if args.sizes.is_empty() {
        bail!("--sizes is empty");
    }
    if args.concurrency == 0 || args.concurrency > 1000 {
        bail!("--concurrency must be 1 to 1000, not {}", args.concurrency);
    }
    if args.count.is_some_and(|c| c == 0 || c > MAX_COUNT) {
        bail!("--count must be 1 to {MAX_COUNT}");
    }
    // The plan per size: (size, concurrency, count).
    let mut plan = Vec::new();
    for &size in &args.sizes {
        let by_memory = ((args.inflight_mib * MIB) / size).max(1) as usize;
        let concurrency = args.concurrency.min(by_memory);
        let count = args.count.unwrap_or(2 * concurrency).min(MAX_COUNT);
        let concurrency = concurrency.min(count);
        if count as u64 * size > MAX_TOTAL {
            bail!(
                "{count} uploads of {} is more than 16 GiB\nhint: lower --count",
                show_size(size)
            );
        }
        plan.push((size, concurrency, count));
    }
    let hwm_before = match args.server_pid {
        Some(pid) => Some(read_mem_kib(pid)?.1),
        None => None,
    };
    let user_count = plan.iter().map(|p| p.1).max().unwrap_or(1);
    let users = users::register_many(&args.common, 0, user_count).await?;
    let clients = users
        .iter()
        .map(|u| Ok(Client::new(&args.common.server)?.with_token(u.token.clone())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let clients = Arc::new(clients);
    let run_id = nanos() ^ u64::from(std::process::id()).rotate_left(32);
    let mut results = Vec::new();
    for (size, concurrency, count) in plan {
        let r = run_size(&args, &clients, run_id, size, concurrency, count).await?;
        print_size(&r);
        results.push(r);
    }
    let out = Results {
        scenario: "media",
        server: args.common.server.clone(),
        users: user_count,
        server_pid: args.server_pid,
        server_vm_hwm_kib_before: hwm_before,
        sizes: results,
    };
    report::write_json(args.common.json_out.as_deref(), &out)
}

async fn run_size(
    args: &MediaArgs,
    clients: &Arc<Vec<Client>>,
    run_id: u64,
    size: u64,
    concurrency: usize,
    count: usize,
) -> anyhow::Result<SizeResult> {
    let label = show_size(size);
    eprintln!("{label}: preparing payloads …");
    let payloads =
        Arc::new(tokio::task::spawn_blocking(move || Payloads::new(size, run_id)).await?);
    let (stop_tx, stop_rx) = watch::channel(false);
    let sampler = args
        .server_pid
        .map(|pid| tokio::spawn(sample_rss(pid, stop_rx)));
    let mut first_error: Option<String> = None;
    let users = clients.len();

    // Uploads.
    eprintln!("{label}: {count} uploads, {concurrency} at once …");
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let outcomes: Vec<Outcome<Stored>> = futures_util::stream::iter(0..count)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .map(|i| {
            let payloads = payloads.clone();
            let clients = clients.clone();
            async move {
                let user = i % users;
                let (body, sha) = payloads.make(i);
                let at = Instant::now();
                match clients[user].upload_media(body, true).await {
                    Ok(info) => {
                        let took = at.elapsed();
                        if info.size != size || info.sha256 != sha {
                            Outcome::Mismatch(format!(
                                "upload {i}: answer says {} bytes, sha256 {}; sent {size}, {sha}",
                                info.size, info.sha256
                            ))
                        } else if info.kind != "document" {
                            Outcome::Mismatch(format!(
                                "upload {i}: stored as {} ({}), not as a document",
                                info.kind, info.mime_type
                            ))
                        } else {
                            let stored = Stored {
                                user,
                                media_id: info.media_id,
                                size: info.size,
                                sha256: info.sha256,
                            };
                            Outcome::Ok(stored, took)
                        }
                    }
                    Err(e) => Outcome::Failed(format!("upload {i}: {e}")),
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let upload_phase = started.elapsed();
    let mut up_hist = report::histogram();
    let (mut up_failed, mut up_mismatched) = (0, 0);
    let mut stored = Vec::new();
    for o in outcomes {
        match o {
            Outcome::Ok(s, took) => {
                report::record(&mut up_hist, took);
                stored.push(s);
            }
            Outcome::Mismatch(e) => {
                up_mismatched += 1;
                first_error.get_or_insert(e);
            }
            Outcome::Failed(e) => {
                up_failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let uploaded = stored.len() as u64;

    // Downloads, each by its uploader.
    eprintln!("{label}: {uploaded} downloads, {concurrency} at once …");
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    // Transfers hold the concurrency slots; hashing is a second stage on blocking
    // threads, so a slow hash (debug builds) does not hold up transfers or their times.
    let outcomes: Vec<Outcome<Instant>> = futures_util::stream::iter(stored)
        .take_while(|_| std::future::ready(Instant::now() < deadline))
        .map(|s| {
            let clients = clients.clone();
            async move { fetch(&clients[s.user], s).await }
        })
        .buffer_unordered(concurrency)
        .map(|fetched| async move {
            match fetched {
                Ok(f) => verify(f).await,
                Err(o) => o,
            }
        })
        .buffer_unordered(VERIFY_SLOTS)
        .collect()
        .await;
    let download_and_verify = started.elapsed();
    let mut down_hist = report::histogram();
    let (mut downloaded, mut down_failed, mut down_mismatched) = (0, 0, 0);
    let mut last_end = started;
    for o in outcomes {
        match o {
            Outcome::Ok(end, took) => {
                report::record(&mut down_hist, took);
                downloaded += 1;
                last_end = last_end.max(end);
            }
            Outcome::Mismatch(e) => {
                down_mismatched += 1;
                first_error.get_or_insert(e);
            }
            Outcome::Failed(e) => {
                down_failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let download_phase = last_end - started;
    // The sampler may be between ticks; a send error means it already ended.
    let _ = stop_tx.send(true);
    let server_rss = match sampler {
        Some(t) => Some(t.await.context("the RSS sampler panicked")?),
        None => None,
    };

    // The same bytes written straight to disk.
    let disk = if args.no_disk {
        None
    } else {
        eprintln!("{label}: raw disk write of {} MiB …", uploaded * size / MIB);
        let p = payloads.clone();
        let total = uploaded * size;
        Some(tokio::task::spawn_blocking(move || disk_write(&p.base, total)).await??)
    };

    let mib = |n: u64, d: Duration| report::rate(n * size, d) / MIB as f64;
    Ok(SizeResult {
        size: label,
        size_bytes: size,
        concurrency,
        planned: count,
        uploaded,
        upload_failed: up_failed,
        upload_mismatched: up_mismatched,
        downloaded,
        download_failed: down_failed,
        download_mismatched: down_mismatched,
        first_error,
        upload_phase_s: upload_phase.as_secs_f64(),
        download_phase_s: download_phase.as_secs_f64(),
        download_and_verify_s: download_and_verify.as_secs_f64(),
        uploads_per_s: report::rate(uploaded, upload_phase),
        downloads_per_s: report::rate(downloaded, download_phase),
        upload_mib_per_s: mib(uploaded, upload_phase),
        download_mib_per_s: mib(downloaded, download_phase),
        upload_latency: Latency::of(&up_hist),
        download_latency: Latency::of(&down_hist),
        server_rss,
        disk,
    })
}

/// A download received whole, not yet checked.
struct Fetched {
    stored: Stored,
    body: Vec<u8>,
    etag: Option<String>,
    took: Duration,
    end: Instant,
}

/// Downloads one upload whole; the latency is the transfer only.
async fn fetch(client: &Client, s: Stored) -> Result<Fetched, Outcome<Instant>> {
    let at = Instant::now();
    let mut d = client
        .download_media(&s.media_id, false, None)
        .await
        .map_err(|e| Outcome::Failed(format!("download {}: {e}", s.media_id)))?;
    let etag = d.etag().map(|e| e.trim_matches('"').to_owned());
    let mut body = Vec::with_capacity(s.size as usize);
    while let Some(c) = d
        .chunk()
        .await
        .map_err(|e| Outcome::Failed(format!("download {}: {e}", s.media_id)))?
    {
        body.extend_from_slice(&c);
    }
    Ok(Fetched {
        stored: s,
        body,
        etag,
        took: at.elapsed(),
        end: Instant::now(),
    })
}

/// Checks a download's length, SHA-256 and ETag against the upload's answer.
async fn verify(f: Fetched) -> Outcome<Instant> {
    let s = f.stored;
    if f.body.len() as u64 != s.size {
        return Outcome::Mismatch(format!(
            "download {}: {} bytes, the upload's answer said {}",
            s.media_id,
            f.body.len(),
            s.size
        ));
    }
    let body = f.body;
    let sha = match tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&body))).await {
        Ok(h) => h,
        Err(e) => return Outcome::Failed(format!("hashing {}: {e}", s.media_id)),
    };
    if sha != s.sha256 {
        return Outcome::Mismatch(format!(
            "download {}: sha256 {sha}, the upload's answer said {}",
            s.media_id, s.sha256
        ));
    }
    if let Some(e) = f.etag.filter(|e| *e != s.sha256) {
        return Outcome::Mismatch(format!(
            "download {}: ETag {e}, the upload's answer said {}",
            s.media_id, s.sha256
        ));
    }
    Outcome::Ok(f.end, f.took)
}

fn print_size(r: &SizeResult) {
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    let mut rows = vec![
        (
            "uploads ok / planned",
            format!(
                "{} / {} (failed {}, mismatched {})",
                r.uploaded, r.planned, r.upload_failed, r.upload_mismatched
            ),
        ),
        (
            "downloads verified",
            format!(
                "{} / {} (failed {}, mismatched {})",
                r.downloaded, r.uploaded, r.download_failed, r.download_mismatched
            ),
        ),
        (
            "upload phase",
            format!(
                "{:.2} s, {:.1} uploads/s, {:.1} MiB/s",
                r.upload_phase_s, r.uploads_per_s, r.upload_mib_per_s
            ),
        ),
        (
            "download phase",
            format!(
                "{:.2} s, {:.1} downloads/s, {:.1} MiB/s (verified by {:.2} s)",
                r.download_phase_s,
                r.downloads_per_s,
                r.download_mib_per_s,
                r.download_and_verify_s
            ),
        ),
    ];
    if let Some(rss) = &r.server_rss {
        rows.push((
            "server RSS (100 ms)",
            format!(
                "start {}, min {}, max {}, end {} ({} samples)",
                mib(rss.start_kib),
                mib(rss.min_kib),
                mib(rss.max_kib),
                mib(rss.end_kib),
                rss.samples
            ),
        ));
        rows.push(("server VmHWM", mib(rss.vm_hwm_kib)));
    }
    if let Some(d) = &r.disk {
        rows.push((
            "raw disk write",
            format!(
                "{:.1} MiB/s ({} MiB + fsync in {:.2} s, {})",
                d.mib_per_s,
                d.bytes / MIB,
                d.seconds,
                d.dir
            ),
        ));
    }
    if let Some(e) = &r.first_error {
        rows.push(("first error", e.clone()));
    }
    report::print_table(
        &format!(
            "bench media: {} × {}, {} at once",
            r.planned, r.size, r.concurrency
        ),
        &rows,
    );
    report::print_latencies(&[
        ("upload", &r.upload_latency),
        ("download", &r.download_latency),
    ]);
}

fn nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1MiB"), Ok(MIB));
        assert_eq!(parse_size("50MiB"), Ok(50 * MIB));
        assert_eq!(parse_size("512KiB"), Ok(512 * KIB));
        assert_eq!(parse_size("2048"), Ok(2048));
        assert_eq!(parse_size("1.5M"), Ok(3 * MIB / 2));
        assert!(parse_size("101MiB").is_err());
        assert!(parse_size("10B").is_err());
        assert!(parse_size("5 furlongs").is_err());
        assert_eq!(show_size(50 * MIB), "50MiB");
        assert_eq!(show_size(1536), "1536B");
        assert_eq!(show_size(512 * KIB), "512KiB");
    }

    #[test]
    fn loopback_only() {
        assert!(server_is_loopback("http://127.0.0.1:8080"));
        assert!(server_is_loopback("http://localhost:8080/"));
        assert!(server_is_loopback("http://[::1]:8080"));
        assert!(!server_is_loopback("http://10.0.0.1:8080"));
        assert!(!server_is_loopback("http://example.com"));
    }

    #[test]
    fn payloads_are_pdfs_unique_and_hashed_right() {
        let p = Payloads::new(4 * KIB, 42);
        let (a, sha_a) = p.make(0);
        let (b, sha_b) = p.make(1);
        assert_eq!(a.len() as u64, 4 * KIB);
        assert!(a.starts_with(PDF_HEADER));
        assert_ne!(a, b);
        assert_eq!(sha_a, hex::encode(Sha256::digest(&a)));
        assert_eq!(sha_b, hex::encode(Sha256::digest(&b)));
        assert_ne!(sha_a, sha_b);
    }

    #[test]
    fn disk_write_counts_bytes() {
        let d = disk_write(&[7u8; 4096], 10_000).expect("temp dir is writable");
        assert_eq!(d.bytes, 10_000);
    }
}
