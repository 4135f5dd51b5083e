//! Test users: registration through the public API, token files, and the spreading of
//! load over loopback source addresses.
//!
//! Against a server on 127.x, each registration batch of `--registrations-per-addr`
//! users comes from its own 127.x.y.z address (the server limits registrations per
//! client address), and WebSocket connections use one address per 20,000 (each source
//! address has its own ephemeral port range, about 28,000 ports).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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

/// Loads users from `token_file` (when it exists) and registers the rest up to
/// `count`, then saves them all back to `token_file`.
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
    let fresh = register_many(common, have, count - have).await?;
    users.extend(fresh);
    if let Some(p) = token_file {
        save_tokens(p, &users)?;
    }
    Ok(users)
}

/// Writes users and their tokens (mode 0600: tokens are credentials).
pub fn save_tokens(path: &Path, users: &[User]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_string(&TokenFile {
        users: users.to_vec(),
    })?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the token file {}", path.display()))?;
    f.write_all(text.as_bytes())?;
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
    if count > 999_999 {
        bail!("at most 999999 users can be registered, not {count}");
    }
    let prefix = common.prefix();
    let per_addr = common.registrations_per_addr.max(1);
    // A different address range per run (and per 10 s), so a rerun within the hour
    // does not meet the previous run's per-address counts.
    let run_slot = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d.as_secs() / 10) % 10_000)
        .unwrap_or(0) as u32
        * 400;
    let spread = common.spread();
    let started = std::time::Instant::now();
    let done = AtomicUsize::new(0);
    // One HTTP client per source address, shared by the registrations from it.
    let slots = count.div_ceil(per_addr);
    let mut clients = Vec::with_capacity(slots);
    for s in 0..slots {
        let client = if spread {
            Client::with_local_addr(&common.server, loopback(run_slot + s as u32))?
        } else {
            Client::new(&common.server)?
        };
        clients.push(client);
    }
    eprintln!("registering {count} users ({prefix}…) …");
    let results: Vec<anyhow::Result<User>> = futures_util::stream::iter(0..count)
        .map(|i| {
            let client = &clients[i / per_addr];
            let phone = format!("{prefix}{:06}", first + i);
            let done = &done;
            async move {
                let user = register_one(client, &phone).await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(1000) {
                    eprintln!("  {n}/{count} registered");
                }
                user
            }
        })
        .buffer_unordered(common.register_concurrency.max(1))
        .collect()
        .await;
    let users = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "registered {count} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(users)
}

/// Register + verify with the dev code, retrying a few times when rate limited.
async fn register_one(client: &Client, phone: &str) -> anyhow::Result<User> {
    let mut delay = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = async {
            let reg = client.register(phone).await?;
            let code = reg.dev_code.ok_or_else(|| SdkError::Api {
                status: 200,
                code: "no_dev_code".into(),
                message: "the server did not return dev_code".into(),
            })?;
            client
                .verify(&reg.registration_id, &code, Some("bench"))
                .await
        }
        .await;
        match result {
            Ok(v) => {
                return Ok(User {
                    phone: phone.to_string(),
                    user_id: v.user_id,
                    token: v.token,
                });
            }
            Err(SdkError::Api { status: 429, .. }) if attempt <= 5 => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(SdkError::Api { code, .. }) if code == "no_dev_code" => bail!(
                "the server at {} is not in dev mode: registering {phone} gave no dev_code\nhint: start it with dev mode on, or pass --token-file with saved tokens",
                client.base_url()
            ),
            Err(e @ SdkError::Api { status: 429, .. }) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "registering {phone} was rate limited\nhint: lower --registrations-per-addr, or reuse tokens with --token-file"
                )));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!(
                    "registering {phone} at {} failed",
                    client.base_url()
                )));
            }
        }
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
}
