//! The `serve` and `admin` subcommands of the `switchboard` binary: flags and
//! environment parsed by clap, logging set up, signals wired to graceful shutdown.
//! `admin business …`, `admin templates …`, `admin verifications …` and
//! `admin names …` mirror the admin API (`admin.rs`)
//! call for call over HTTP, with the admin token from `SWITCHBOARD_ADMIN_TOKEN`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "SWITCHBOARD_LISTEN")]
    pub listen: Option<String>,
    /// Directory of the embedded store [default: ./switchboard-data].
    #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of media blobs [default: <data_dir>/media]; shared by every node of
    /// a cluster unless blobs are in S3.
    #[arg(long, env = "SWITCHBOARD_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// Keep media blobs in this S3 bucket (a build with feature s3); overrides
    /// `[media] s3_bucket` in the config file; empty: the filesystem.
    #[arg(long, env = "SWITCHBOARD_MEDIA_S3_BUCKET")]
    pub media_s3_bucket: Option<String>,
    /// Prefix of the media object keys in the S3 bucket.
    #[arg(long, env = "SWITCHBOARD_MEDIA_S3_PREFIX")]
    pub media_s3_prefix: Option<String>,
    /// PostgreSQL connection string (scale-out); default: the embedded store.
    #[arg(long, env = "SWITCHBOARD_DATABASE")]
    pub database: Option<String>,
    /// NATS URL for fan-out between nodes (scale-out); default: in-process.
    #[arg(long, env = "SWITCHBOARD_BUS")]
    pub bus: Option<String>,
    /// A TOML configuration file (see config/switchboard.example.toml).
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Dev mode: verification codes are returned as `dev_code`.
    #[arg(long, env = "SWITCHBOARD_DEV")]
    pub dev: bool,
    /// Seed demo users and chats and print how to log in (implies --dev).
    #[arg(long, env = "SWITCHBOARD_DEMO")]
    pub demo: bool,
    /// Write the bound address to this file once listening (for supervisors and
    /// tests that start the server on port 0).
    #[arg(long)]
    pub addr_file: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

#[derive(Args, Debug)]
pub struct AdminArgs {
    /// The server's base URL.
    #[arg(
        long,
        env = "SWITCHBOARD_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,
    /// The server's admin token (prefer the environment variable: a flag shows in
    /// the process list and shell history).
    #[arg(long, env = "SWITCHBOARD_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Show a user and their devices (needs SWITCHBOARD_ADMIN_TOKEN).
    User {
        /// Phone number (+49…) or user id.
        phone: String,
    },
    /// Print a new random admin token to put in SWITCHBOARD_ADMIN_TOKEN.
    NewToken,
    /// Businesses of the Enterprise API (needs SWITCHBOARD_ADMIN_TOKEN).
    Business {
        #[command(subcommand)]
        command: BusinessCommand,
    },
    /// Template review (needs SWITCHBOARD_ADMIN_TOKEN).
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Verification applications (needs SWITCHBOARD_ADMIN_TOKEN); decide with
    /// `business verify`.
    Verifications {
        #[command(subcommand)]
        command: VerificationsCommand,
    },
    /// Business names held as look-alikes of verified ones (needs
    /// SWITCHBOARD_ADMIN_TOKEN).
    Names {
        #[command(subcommand)]
        command: NamesCommand,
    },
    /// Remove media uploads never sent in a chat for 24 h (the server also does this
    /// hourly); works on the data directory directly.
    Gc {
        /// The server's data directory.
        #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
        data_dir: PathBuf,
    },
}

/// `switchboard admin business …`: one subcommand per admin API call.
#[derive(Subcommand, Debug)]
pub enum BusinessCommand {
    /// Create a business: a messaging user with this phone number and a WABA.
    Create {
        /// The name customers see (1 to 100 characters).
        #[arg(long)]
        name: String,
        /// Its phone number in E.164 form, e.g. +4915112345678.
        #[arg(long)]
        phone: String,
        /// Cloud API vertical (RETAIL, TRAVEL, …) [default: OTHER].
        #[arg(long)]
        vertical: Option<String>,
    },
    /// List every business.
    List,
    /// Show one business: verification, throughput, tier, quality, webhook.
    Show { waba_id: String },
    /// Issue an access token for the business (printed once; store it safely).
    Token {
        waba_id: String,
        /// whatsapp_business_messaging or whatsapp_business_management (repeatable)
        /// [default: both].
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Days until the token expires (1 to 3650) [default: never].
        #[arg(long)]
        expires_in_days: Option<u64>,
    },
    /// Set the business verification.
    Verify {
        waba_id: String,
        /// verified or rejected.
        #[arg(long)]
        status: String,
        /// Why (required for rejected; at most 500 characters).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Set the messages per second the business may send.
    #[command(group(clap::ArgGroup::new("limit").required(true).args(["mps", "unlimited"])))]
    Throughput {
        waba_id: String,
        /// Messages per second (1 to 1000000).
        #[arg(long)]
        mps: Option<u32>,
        /// No throughput limit.
        #[arg(long)]
        unlimited: bool,
    },
    /// Set the messaging limit tier by hand (TIER_250 … TIER_UNLIMITED), or let
    /// policy decide again with --computed.
    Tier {
        waba_id: String,
        #[arg(
            long,
            conflicts_with = "computed",
            required_unless_present = "computed"
        )]
        tier: Option<String>,
        #[arg(long)]
        computed: bool,
    },
    /// Set the webhook endpoint; the server runs the hub.challenge handshake first.
    Webhook {
        waba_id: String,
        #[arg(long)]
        url: String,
        #[arg(long, env = "SWITCHBOARD_WEBHOOK_VERIFY_TOKEN", hide_env_values = true)]
        verify_token: String,
        /// The HMAC key events are signed with (8 to 256 characters); prefer the
        /// environment variable over the flag to keep it out of shell history.
        #[arg(long, env = "SWITCHBOARD_WEBHOOK_APP_SECRET", hide_env_values = true)]
        app_secret: String,
    },
    /// Billable usage by category and country.
    Usage {
        waba_id: String,
        /// First day, YYYY-MM-DD [default: the first of the current month].
        #[arg(long)]
        from: Option<String>,
        /// Day after the last, YYYY-MM-DD [default: a month after --from].
        #[arg(long)]
        to: Option<String>,
    },
    /// The monthly invoice.
    Invoice {
        waba_id: String,
        /// YYYY-MM.
        #[arg(long)]
        month: String,
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        /// Write it to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `switchboard admin templates …`.
#[derive(Subcommand, Debug)]
pub enum TemplatesCommand {
    /// Templates waiting for review, oldest first.
    Pending,
    /// Approve, reject, pause or disable a template (fires its status webhook).
    Review {
        template_id: String,
        /// APPROVED, REJECTED, PAUSED or DISABLED.
        #[arg(long)]
        status: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `switchboard admin verifications …`.
#[derive(Subcommand, Debug)]
pub enum VerificationsCommand {
    /// Applications with a status (pending, approved, rejected), oldest first.
    List {
        #[arg(long, default_value = "pending")]
        status: String,
    },
}

/// `switchboard admin names …`.
#[derive(Subcommand, Debug)]
pub enum NamesCommand {
    /// Name reviews with a status (held, approved, rejected), oldest first.
    List {
        #[arg(long, default_value = "held")]
        status: String,
    },
    /// Approve a held name (the business takes it) or reject it.
    Review {
        waba_id: String,
        /// approve or reject.
        #[arg(long)]
        decision: String,
        /// Why (shown to the business; at most 500 characters).
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Calls the admin API over HTTP with the admin token from the environment.
struct AdminClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl AdminClient {
    fn new(server: &str, token: Option<String>) -> anyhow::Result<AdminClient> {
        let token = token.context("set SWITCHBOARD_ADMIN_TOKEN to the server's admin token")?;
        Ok(AdminClient {
            base: server.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::new(),
        })
    }

    /// `base` + `path` (segments percent-encoded) + `query` (pairs with a value).
    fn url(&self, path: &[&str], query: &[(&str, Option<&str>)]) -> anyhow::Result<reqwest::Url> {
        let mut url = reqwest::Url::parse(&self.base)
            .with_context(|| format!("invalid --server {:?}", self.base))?;
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("invalid --server {:?}: not a base URL", self.base))?
            .pop_if_empty()
            .extend(path);
        let pairs: Vec<_> = query
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Ok(url)
    }

    /// Sends the request; the body on success, the server's error otherwise.
    async fn send(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<bytes::Bytes> {
        let mut req = self
            .http
            .request(method, url.clone())
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .with_context(|| format!("cannot read the answer of {url}"))?;
        if !status.is_success() {
            let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    let e = v.get("error")?;
                    Some(format!(
                        "{}: {}",
                        e.get("code")?.as_str()?,
                        e.get("message")?.as_str()?
                    ))
                })
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            anyhow::bail!("server answered {status}: {detail}");
        }
        Ok(bytes)
    }

    /// A JSON call whose answer is printed pretty.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &[&str],
        query: &[(&str, Option<&str>)],
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let bytes = self.send(method, self.url(path, query)?, body).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).context("the server's answer is not JSON")?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        Ok(())
    }
}

async fn business_command(c: &AdminClient, command: BusinessCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    use serde_json::json;
    const B: &str = "businesses";
    match command {
        BusinessCommand::Create {
            name,
            phone,
            vertical,
        } => {
            let mut body = json!({"name": name, "phone": phone});
            if let Some(v) = vertical {
                body["vertical"] = json!(v);
            }
            c.call(Method::POST, &["admin", "v1", B], &[], Some(body))
                .await
        }
        BusinessCommand::List => c.call(Method::GET, &["admin", "v1", B], &[], None).await,
        BusinessCommand::Show { waba_id } => {
            c.call(Method::GET, &["admin", "v1", B, &waba_id], &[], None)
                .await
        }
        BusinessCommand::Token {
            waba_id,
            scopes,
            expires_in_days,
        } => {
            let mut body = json!({});
            if !scopes.is_empty() {
                body["scopes"] = json!(scopes);
            }
            if let Some(d) = expires_in_days {
                body["expires_in_days"] = json!(d);
            }
            c.call(
                Method::POST,
                &["admin", "v1", B, &waba_id, "tokens"],
                &[],
                Some(body),
            )
            .await
        }
        BusinessCommand::Verify {
            waba_id,
            status,
            reason,
        } => {
            c.call(
                Method::POST,
                &["admin", "v1", B, &waba_id, "verification"],
                &[],
                Some(json!({"status": status, "reason": reason})),
            )
            .await
        }
        BusinessCommand::Throughput {
            waba_id,
            mps,
            unlimited,
        } => {
            let mps = if unlimited { None } else { mps };
            c.call(
                Method::PUT,
                &["admin", "v1", B, &waba_id, "throughput"],
                &[],
                Some(json!({ "mps": mps })),
            )
            .await
        }
        BusinessCommand::Tier {
            waba_id,
            tier,
            computed,
        } => {
            let tier = if computed { None } else { tier };
            c.call(
                Method::PUT,
                &["admin", "v1", B, &waba_id, "tier"],
                &[],
                Some(json!({ "tier": tier })),
            )
            .await
        }
        BusinessCommand::Webhook {
            waba_id,
            url,
            verify_token,
            app_secret,
        } => {
            c.call(
                Method::PUT,
                &["admin", "v1", B, &waba_id, "webhook"],
                &[],
                Some(json!({"url": url, "verify_token": verify_token, "app_secret": app_secret})),
            )
            .await
        }
        BusinessCommand::Usage { waba_id, from, to } => {
            c.call(
                Method::GET,
                &["admin", "v1", B, &waba_id, "usage"],
                &[("from", from.as_deref()), ("to", to.as_deref())],
                None,
            )
            .await
        }
        BusinessCommand::Invoice {
            waba_id,
            month,
            format,
            out,
        } => {
            let format = format.to_ascii_lowercase();
            if format != "json" && format != "csv" {
                anyhow::bail!("invalid --format {format:?}: use json or csv");
            }
            let url = c.url(
                &["admin", "v1", B, &waba_id, "invoices", &month],
                &[("format", Some(&format))],
            )?;
            let bytes = c.send(Method::GET, url, None).await?;
            let text = if format == "json" {
                let v: serde_json::Value =
                    serde_json::from_slice(&bytes).context("the server's answer is not JSON")?;
                format!("{}\n", serde_json::to_string_pretty(&v)?)
            } else {
                String::from_utf8(bytes.to_vec()).context("the invoice is not UTF-8")?
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}

async fn templates_command(c: &AdminClient, command: TemplatesCommand) -> anyhow::Result<()> {
    use reqwest::Method;
    match command {
        TemplatesCommand::Pending => {
            c.call(
                Method::GET,
                &["admin", "v1", "templates"],
                &[("status", Some("PENDING"))],
                None,
            )
            .await
        }
        TemplatesCommand::Review {
            template_id,
            status,
            reason,
        } => {
            c.call(
                Method::POST,
                &["admin", "v1", "templates", &template_id, "review"],
                &[],
                Some(serde_json::json!({"status": status, "reason": reason})),
            )
            .await
        }
    }
}

async fn verifications_command(
    c: &AdminClient,
    command: VerificationsCommand,
) -> anyhow::Result<()> {
    match command {
        VerificationsCommand::List { status } => {
            c.call(
                reqwest::Method::GET,
                &["admin", "v1", "verifications"],
                &[("status", Some(&status))],
                None,
            )
            .await
        }
    }
}

async fn names_command(c: &AdminClient, command: NamesCommand) -> anyhow::Result<()> {
    match command {
        NamesCommand::List { status } => {
            c.call(
                reqwest::Method::GET,
                &["admin", "v1", "names"],
                &[("status", Some(&status))],
                None,
            )
            .await
        }
        NamesCommand::Review {
            waba_id,
            decision,
            reason,
        } => {
            c.call(
                reqwest::Method::POST,
                &["admin", "v1", "businesses", &waba_id, "name-review"],
                &[],
                Some(serde_json::json!({"decision": decision, "reason": reason})),
            )
            .await
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.log_format != "text" && args.log_format != "json" {
        anyhow::bail!(
            "invalid --log-format {:?}: use text or json",
            args.log_format
        );
    }
    init_logging(&args.log_format);
    let mut config = Config::load(
        args.config.as_deref(),
        Overrides {
            listen: args.listen,
            database: args.database,
            bus: args.bus,
            data_dir: args.data_dir,
            media_dir: args.media_dir,
            media_s3_bucket: args.media_s3_bucket,
            media_s3_prefix: args.media_s3_prefix,
            dev: args.dev,
            demo: args.demo,
            admin_token: std::env::var("SWITCHBOARD_ADMIN_TOKEN").ok(),
        },
    )?;
    if config.admin_token.is_none() && config.dev {
        let token = crate::accounts::new_token();
        println!(
            "dev mode: generated admin token (set SWITCHBOARD_ADMIN_TOKEN to keep one): {token}"
        );
        config.admin_token = Some(token);
    }
    if !config.dev && config.sms_hook_url.is_none() {
        tracing::warn!(
            "no sms.hook_url configured: registrations cannot complete outside dev mode"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    if let Some(path) = &args.addr_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, addr.to_string())
            .and_then(|()| std::fs::rename(&tmp, path))
            .with_context(|| format!("cannot write --addr-file {}", path.display()))?;
    }
    println!(
        "switchboard listening on http://{addr} (data in {})",
        config.data_dir.display()
    );
    if config.demo {
        println!("demo data loaded. Log in as one of the demo people, e.g.:");
        for (id, name) in crate::demo::DEMO_USERS {
            println!("  switchboard chat login --server http://{addr} --phone +{id}    # {name}");
        }
        println!("then: switchboard chat chats | switchboard chat listen");
        println!(
            "web app: http://{addr}/app (sign in with a demo number; the code is shown in dev mode); Bruno (+{}) runs the bakery's inbox at http://{addr}/app/biz",
            crate::demo::DEMO_USERS[1].0
        );
        println!(
            "business API (Cloud API compatible): base URL http://{addr}/v21.0, phone number id {}, token {} (Bruno's bakery, verified; template order_ready)",
            crate::demo::DEMO_PHONE_NUMBER_ID,
            crate::demo::DEMO_BUSINESS_TOKEN
        );
    }
    crate::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

pub async fn admin(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
        AdminCommand::Business { command } => {
            business_command(&AdminClient::new(&args.server, args.admin_token)?, command).await
        }
        AdminCommand::Templates { command } => {
            templates_command(&AdminClient::new(&args.server, args.admin_token)?, command).await
        }
        AdminCommand::Verifications { command } => {
            verifications_command(&AdminClient::new(&args.server, args.admin_token)?, command).await
        }
        AdminCommand::Names { command } => {
            names_command(&AdminClient::new(&args.server, args.admin_token)?, command).await
        }
        AdminCommand::NewToken => {
            println!("{}", crate::accounts::new_token());
            Ok(())
        }
        AdminCommand::Gc { data_dir } => {
            let media = crate::media::open(&data_dir)
                .with_context(|| format!("cannot open media in {}", data_dir.display()))?;
            let r = media.gc(switchboard_media::now_ms()).await?;
            println!(
                "removed {} unreferenced uploads, {} blobs, {} stale staged files",
                r.media_removed, r.blobs_removed, r.staged_removed
            );
            Ok(())
        }
        AdminCommand::User { phone } => {
            let token = args
                .admin_token
                .context("set SWITCHBOARD_ADMIN_TOKEN to the server's admin token")?;
            let user_id = switchboard_core::phone::user_id_from_phone_or_id(&phone)?;
            let url = format!(
                "{}/v1/admin/users/{user_id}",
                args.server.trim_end_matches('/')
            );
            let resp = reqwest::Client::new()
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .with_context(|| format!("cannot reach {url}"))?;
            let status = resp.status();
            let body: serde_json::Value = resp
                .json()
                .await
                .context("the server's answer is not JSON")?;
            if !status.is_success() {
                anyhow::bail!("server answered {status}: {body}");
            }
            println!("{}", serde_json::to_string_pretty(&body)?);
            Ok(())
        }
    }
}
