//! The `serve` and `admin` subcommands of the `switchboard` binary: flags and
//! environment parsed by clap, logging set up, signals wired to graceful shutdown.

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
    /// Remove media uploads never sent in a chat for 24 h (the server also does this
    /// hourly); works on the data directory directly.
    Gc {
        /// The server's data directory.
        #[arg(long, env = "SWITCHBOARD_DATA_DIR")]
        data_dir: PathBuf,
    },
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
    }
    crate::run(listener, config, shutdown_signal()).await?;
    Ok(())
}

pub async fn admin(args: AdminArgs) -> anyhow::Result<()> {
    match args.command {
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
            let token = std::env::var("SWITCHBOARD_ADMIN_TOKEN")
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
