//! Test users: registration through the public API, token files, and the spreading of
//! load over loopback source addresses.
//!
//! Against a server on 127.x, each registration batch of `--registrations-per-addr`
//! users comes from its own 127.x.y.z address (the server limits registrations per
//! client address), and WebSocket connections use one address per 20,000 (each source
//! address has its own ephemeral port range, about 28,000 ports).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use switchboard_client::{Client, Error as SdkError};

/// Options every scenario shares.
#[derive(clap::Args, Clone, Debug)]
pub struct CommonArgs {
    /// The server under test.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json_out: Option<PathBuf>,
    /// Phone numbers are this prefix plus a 6-digit index (default: +491 and a 4-digit
    /// tag from the clock, so each run gets fresh users with empty inboxes).
    #[arg(long)]
    pub phone_prefix: Option<String>,
    /// Use the default source address instead of spreading over 127.x.y.z.
    #[arg(long)]
    pub no_spread: bool,
    /// Registrations made from one source address (keep under the server's limit).
    #[arg(long, default_value_t = 90)]
    pub registrations_per_addr: usize,
    /// Registrations in flight at once.
    #[arg(long, default_value_t = 32)]
    pub register_concurrency: usize,
}

/// A registered test user and its device token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub phone: String,
    pub user_id: String,
    pub token: String,
}

#[derive(Serialize, Deserialize)]
struct TokenFile {
    users: Vec<User>,
}

/// Source addresses for connections start here (far from registration slots).
const CONNECTION_SLOT_BASE: u32 = 4_500_000;
/// Connections per source address (below the ~28,000 ephemeral ports of each).
pub const CONNECTIONS_PER_ADDR: usize = 20_000;

impl CommonArgs {
    /// Whether load is spread over loopback source addresses.
    pub fn spread(&self) -> bool {
        !self.no_spread && server_is_loopback_v4(&self.server)
    }

    /// The source address for the WebSocket connection number `index`.
    pub fn connection_addr(&self, index: usize) -> Option<IpAddr> {
        self.spread()
            .then(|| loopback(CONNECTION_SLOT_BASE + (index / CONNECTIONS_PER_ADDR) as u32))
    }

    fn prefix(&self) -> String {
        self.phone_prefix.clone().unwrap_or_else(|| {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            format!("+491{:04}", secs % 10_000)
        })
    }
}

/// `n` → a distinct address in 127.1.0.0–127.126.255.254 (host byte never 0 or 255).
pub fn loopback(n: u32) -> IpAddr {
    let host = (n % 254) as u8 + 1;
    let third = ((n / 254) % 256) as u8;
    let second = (1 + (n / (254 * 256)) % 126) as u8;
    IpAddr::V4(Ipv4Addr::new(127, second, third, host))
}

fn server_is_loopback_v4(server: &str) -> bool {
    let rest = server.strip_prefix("http://").unwrap_or(server);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
}

/// Attempts per user (the first try and its retries) before the whole run fails.
const REGISTER_ATTEMPTS: u32 = 6;
/// The wait before the first retry; it doubles after each one.
const RETRY_FIRST_DELAY: Duration = Duration::from_millis(500);
/// One register + verify attempt may take this long before it counts as failed.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// While registering, the token file is rewritten at least this often.
const SAVE_EVERY: Duration = Duration::from_secs(30);

/// Loads users from `token_file` (when it exists) and registers the rest up to
/// `count`, then saves them all back to `token_file`.
///
/// Progress is saved every [`SAVE_EVERY`] while registering, and the users registered
/// so far are saved when registration fails, so a rerun only registers the rest.
pub async fn ensure_users(
    common: &CommonArgs,
    count: usize,
    token_file: Option<&Path>,
) -> anyhow::Result<Vec<User>> {
    let mut users = match token_file {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the token file {}", p.display()))?;
            let file: TokenFile = serde_json::from_str(&text).with_context(|| {
                format!(
                    "the token file {} is not valid\nhint: delete it to register new users",
                    p.display()
                )
            })?;
            file.users
        }
        _ => Vec::new(),
    };
    if users.len() >= count {
        users.truncate(count);
        eprintln!("using {count} users from the token file");
        return Ok(users);
    }
    let have = users.len();
    if have > 0 {
        eprintln!(
            "using {have} users from the token file, registering {} more",
            count - have
        );
    }
    // Phone numbers already in the file are skipped (same --phone-prefix on a rerun).
    let taken: HashSet<&str> = users.iter().map(|u| u.phone.as_str()).collect();
    let phones = phone_numbers(&common.prefix(), have, count - have, &taken)?;
    drop(taken);

    let mut last_save = Instant::now();
    let result = register_phones(common, phones, |batch| {
        users.extend(batch);
        if let Some(p) = token_file
            && last_save.elapsed() >= SAVE_EVERY
        {
            save_tokens(p, &users)?;
            last_save = Instant::now();
        }
        Ok(())
    })
    .await;
    let saved = match token_file {
        Some(p) if result.is_ok() || users.len() > have => {
            save_tokens(p, &users)?;
            Some(p)
        }
        _ => None,
    };
    match result {
        Ok(()) => Ok(users),
        Err(e) => {
            let progress = match saved {
                Some(p) => format!(
                    "{} of {count} users are saved in {}; run again with the same --token-file to register the rest",
                    users.len(),
                    p.display()
                ),
                None => format!("{} of {count} users were registered", users.len()),
            };
            Err(e.context(progress))
        }
    }
}

/// `count` phone numbers `prefix` + 6-digit index, from index `first` on, skipping
/// numbers in `taken`.
fn phone_numbers(
    prefix: &str,
    first: usize,
    count: usize,
    taken: &HashSet<&str>,
) -> anyhow::Result<Vec<String>> {
    let mut phones = Vec::with_capacity(count);
    let mut index = first;
    while phones.len() < count {
        if index > 999_999 {
            bail!(
                "at most 999999 users can be registered with the prefix {prefix}, not {}",
                first + count
            );
        }
        let phone = format!("{prefix}{index:06}");
        if !taken.contains(phone.as_str()) {
            phones.push(phone);
        }
        index += 1;
    }
    Ok(phones)
}

/// Writes users and their tokens (mode 0600: tokens are credentials).
///
/// Writes a temporary file next to `path` and renames it, so an interrupted write
/// never leaves a truncated token file.
pub fn save_tokens(path: &Path, users: &[User]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_string(&TokenFile {
        users: users.to_vec(),
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write the token file {}", tmp.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the token file {}", tmp.display()))?;
    drop(f);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot write the token file {}", path.display()))?;
    Ok(())
}

/// Registers `count` users with indexes `first..first+count`, concurrently.
pub async fn register_many(
    common: &CommonArgs,
    first: usize,
    count: usize,
) -> anyhow::Result<Vec<User>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let phones = phone_numbers(&common.prefix(), first, count, &HashSet::new())?;
    let mut users = Vec::with_capacity(count);
    register_phones(common, phones, |batch| {
        users.extend(batch);
        Ok(())
    })
    .await?;
    Ok(users)
}

/// Registers a user for each of `phones`, handing each finished batch of users to
/// `on_batch` (called from this task, never concurrently).
///
/// The phones are split into batches of `--registrations-per-addr`; each batch gets
/// its own HTTP client (and source address when spreading), which is dropped as soon
/// as the batch is done, so its keep-alive connections close with it. At most
/// `--register-concurrency` registrations (and about as many connections) are open
/// at once, whatever the number of users.
///
/// When a user still fails after its retries, no new registrations start, the ones in
/// flight finish (their users still reach `on_batch`), and the first error is returned.
async fn register_phones(
    common: &CommonArgs,
    phones: Vec<String>,
    mut on_batch: impl FnMut(Vec<User>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let total = phones.len();
    if total == 0 {
        return Ok(());
    }
    let per_addr = common.registrations_per_addr.max(1);
    let concurrency = common.register_concurrency.max(1);
    let batches = total.div_ceil(per_addr);
    // Batches in flight at once, and registrations in flight within each batch.
    let batch_concurrency = concurrency.min(batches);
    let per_batch = concurrency.div_ceil(batch_concurrency);
    // A different address range per run (and per 10 s), so a rerun within the hour
    // does not meet the previous run's per-address counts.
    let run_slot = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 10) % 10_000)
        .unwrap_or(0) as u32
        * 400;
    let spread = common.spread();
    let started = Instant::now();
    let progress = Progress {
        total,
        started,
        done: AtomicUsize::new(0),
        retries: AtomicUsize::new(0),
    };
    let stop = AtomicBool::new(false);
    eprintln!("registering {total} users ({}…) …", phones[0]);

    let mut stream = futures_util::stream::iter(phones.chunks(per_addr).enumerate())
        .map(|(slot, chunk)| {
            let (progress, stop) = (&progress, &stop);
            async move {
                if stop.load(Ordering::Relaxed) {
                    return (Vec::new(), None);
                }
                // Lives only as long as this batch: dropping it closes its connections.
                let client = if spread {
                    Client::with_local_addr(&common.server, loopback(run_slot + slot as u32))
                } else {
                    Client::new(&common.server)
                };
                let client = match client {
                    Ok(c) => c,
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return (Vec::new(), Some(anyhow::Error::new(e)));
                    }
                };
                register_batch(&client, chunk, per_batch, progress, stop).await
            }
        })
        .buffer_unordered(batch_concurrency);

    let mut first_error = None;
    while let Some((users, error)) = stream.next().await {
        if !users.is_empty()
            && let Err(e) = on_batch(users)
        {
            stop.store(true, Ordering::Relaxed);
            first_error.get_or_insert(e);
        }
        if let Some(e) = error {
            first_error.get_or_insert(e);
        }
    }
    drop(stream);
    if let Some(e) = first_error {
        return Err(e);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "registered {total} users in {secs:.1} s ({:.0}/s)",
        total as f64 / secs.max(0.001)
    );
    Ok(())
}

/// Counters shared by the batches of one [`register_phones`] call.
struct Progress {
    total: usize,
    started: Instant,
    done: AtomicUsize,
    retries: AtomicUsize,
}

impl Progress {
    fn registered(&self) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(1000) {
            eprintln!(
                "  {n}/{} registered ({:.0} s)",
                self.total,
                self.started.elapsed().as_secs_f64()
            );
        }
    }

    /// Reports a retry: the first few, then every 100th.
    fn retrying(&self, phone: &str, attempt: u32, delay: Duration, error: &SdkError) {
        let n = self.retries.fetch_add(1, Ordering::Relaxed) + 1;
        if n <= 10 || n.is_multiple_of(100) {
            eprintln!(
                "  registering {phone} failed (attempt {attempt}/{REGISTER_ATTEMPTS}, {n} retries so far): {error}; retrying in {:.1} s",
                delay.as_secs_f64()
            );
        }
    }
}

/// Registers the users of one batch through `client`, `concurrency` at a time.
/// Returns the users registered and the first error, if any (which stops everything).
async fn register_batch(
    client: &Client,
    phones: &[String],
    concurrency: usize,
    progress: &Progress,
    stop: &AtomicBool,
) -> (Vec<User>, Option<anyhow::Error>) {
    let mut results = futures_util::stream::iter(phones)
        .map(|phone| async move {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let user = register_one(client, phone, progress).await;
            if user.is_ok() {
                progress.registered();
            } else {
                stop.store(true, Ordering::Relaxed);
            }
            Some(user)
        })
        .buffer_unordered(concurrency);
    let mut users = Vec::with_capacity(phones.len());
    let mut error = None;
    while let Some(result) = results.next().await {
        match result {
            Some(Ok(user)) => users.push(user),
            Some(Err(e)) => {
                error.get_or_insert(e);
            }
            None => {}
        }
    }
    (users, error)
}

/// Register + verify with the dev code, retrying with backoff when rate limited, on
/// server errors (5xx) and on transport failures and timeouts.
async fn register_one(client: &Client, phone: &str, progress: &Progress) -> anyhow::Result<User> {
    let mut delay = RETRY_FIRST_DELAY;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = tokio::time::timeout(ATTEMPT_TIMEOUT, async {
            let reg = client.register(phone).await?;
            let code = reg.dev_code.ok_or_else(|| SdkError::Api {
                status: 200,
                code: "no_dev_code".into(),
                message: "the server did not return dev_code".into(),
            })?;
            client
                .verify(&reg.registration_id, &code, Some("bench"))
                .await
        })
        .await
        .unwrap_or_else(|_| {
            Err(SdkError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()),
            )))
        });
        let e = match result {
            Ok(v) => {
                return Ok(User {
                    phone: phone.to_string(),
                    user_id: v.user_id,
                    token: v.token,
                });
            }
            Err(e) => e,
        };
        if e.code() == Some("no_dev_code") {
            bail!(
                "the server at {} is not in dev mode: registering {phone} gave no dev_code\nhint: start it with dev mode on, or pass --token-file with saved tokens",
                client.base_url()
            );
        }
        if retryable(&e) && attempt < REGISTER_ATTEMPTS {
            progress.retrying(phone, attempt, delay, &e);
            tokio::time::sleep(delay).await;
            delay *= 2;
            continue;
        }
        let hint = match &e {
            // The embedded store tracks at most 100,000 keys per limit and hour, so a
            // server that registered 100,000 phones in the last hour refuses new ones.
            SdkError::Api {
                status: 429,
                message,
                ..
            } if message.contains("phone number") => {
                "\nhint: the server refuses new phone numbers for now (its rate limiter holds at most 100,000 numbers per hour); restart the server or wait up to an hour, then rerun with the same --token-file"
            }
            SdkError::Api { status: 429, .. } => {
                "\nhint: lower --registrations-per-addr, or reuse tokens with --token-file"
            }
            _ => "",
        };
        return Err(anyhow::Error::new(e).context(format!(
            "registering {phone} at {} failed after {attempt} attempt(s){hint}",
            client.base_url()
        )));
    }
}

/// Whether a failed registration may succeed when tried again.
fn retryable(e: &SdkError) -> bool {
    match e {
        SdkError::Api { status, .. } => *status == 429 || *status >= 500,
        SdkError::Http(_) | SdkError::Io(_) | SdkError::Json(_) | SdkError::WebSocket(_) => true,
        SdkError::InvalidUrl { .. } | SdkError::NoToken | SdkError::Closed { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_distinct_and_valid() {
        let mut seen = std::collections::HashSet::new();
        for n in (0..200_000)
            .step_by(7)
            .chain([CONNECTION_SLOT_BASE, CONNECTION_SLOT_BASE + 99])
        {
            let IpAddr::V4(a) = loopback(n) else {
                panic!("v4 expected")
            };
            assert!(
                a.is_loopback() && a.octets()[3] != 0 && a.octets()[3] != 255,
                "{a}"
            );
            assert!(seen.insert(a), "{a} repeats");
        }
        assert!(server_is_loopback_v4("http://127.0.0.1:8080"));
        assert!(!server_is_loopback_v4("http://localhost:8080"));
        assert!(!server_is_loopback_v4("http://10.0.0.1:8080/x"));
    }

    #[test]
    fn phone_numbers_skip_the_ones_taken() {
        let taken: HashSet<&str> = ["+491000000002", "+491000000003"].into_iter().collect();
        let phones = phone_numbers("+491000", 1, 4, &taken).unwrap();
        assert_eq!(
            phones,
            [
                "+491000000001",
                "+491000000004",
                "+491000000005",
                "+491000000006"
            ]
        );
        assert!(phone_numbers("+491000", 999_999, 2, &HashSet::new()).is_err());
    }

    #[test]
    fn token_files_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let user = |i: usize| User {
            phone: format!("+491000{i:06}"),
            user_id: format!("u{i}"),
            token: format!("t{i}"),
        };
        save_tokens(&path, &[user(1)]).unwrap();
        save_tokens(&path, &[user(1), user(2)]).unwrap();
        let file: TokenFile =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(file.users.len(), 2);
        assert_eq!(file.users[1].token, "t2");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }
}
